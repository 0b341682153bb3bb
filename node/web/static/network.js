// The network page: this node's view of validators, peers, height, view and mempool, refreshed live.

import { follow, rpcBatch } from "./api.js";
import { accountLink, ago, badge, el, fields, heading, notice, replace, shortHex, table, time } from "./format.js";
import { liveIndicator } from "./explorer.js";
import { failure, route } from "./router.js";

function peerRows(peers, validators) {
  const names = new Map((validators || []).map((v) => [v.public_key, v.name]));
  return peers.map((p) => [
    names.get(p.pubkey) || "observer / wallet node",
    accountLink(p.address_mn),
    el("code", {}, p.address || "—"),
    p.direction || "—",
    String(p.score ?? "—"),
    `${p.msgs_in ?? 0} / ${p.msgs_out ?? 0}`,
  ]);
}

async function networkPage(page) {
  const { indicator, stop } = liveIndicator();
  page.onLeave(stop);
  const body = el("div", { id: "network-body" });
  replace(page.main, heading("Network ", indicator), body);
  let lastKey = "";
  async function refresh() {
    const [status, validators, peers] = await rpcBatch([["node_status"], ["chain_getValidators"], ["node_peers"]]);
    if (!page.current) return;
    if (status.error) { replace(body, failure(status.error)); return; }
    const s = status.result;
    // Redraw only on a change that matters, so keyboard focus is not lost to a mere clock tick.
    const key = JSON.stringify([s.height, s.view, s.mempool_size, s.peers, s.syncing, s.primary, peers.result?.map((p) => p.pubkey), peers.error?.code]);
    if (key === lastKey) return;
    lastKey = key;
    const primary = s.primary;
    replace(body,
      el("ul", { class: "stats", "aria-label": "Summary" },
        el("li", {}, el("span", {}, "Height"), el("strong", { id: "net-height" }, String(s.height))),
        el("li", {}, el("span", {}, "View"), el("strong", {}, String(s.view))),
        el("li", {}, el("span", {}, "Mempool"), el("strong", {}, String(s.mempool_size))),
        el("li", {}, el("span", {}, "Peers"), el("strong", {}, String(s.peers)))),
      fields([
        ["Chain", el("code", {}, s.chain_id)],
        ["This node", [s.moniker, " ", s.is_validator ? badge("validator", "ok") : badge("observer")]],
        ["Head", [el("code", {}, shortHex(s.head_hash)), " · ", time(s.head_time_ms), ` (${ago(s.head_time_ms)})`]],
        ["Sync", s.syncing ? badge(`syncing to ${s.sync_target}`, "warn") : badge("in sync", "ok")],
        ["Uptime", `${s.uptime_s} s`],
      ]),
      el("section", { "aria-labelledby": "vals" }, el("h2", { id: "vals" }, "Validators"),
        validators.error ? failure(validators.error) : table(["Name", "Address", "P2P", "Role"], validators.result.map((v) => [
          v.name, accountLink(v.address), el("code", {}, v.p2p_address),
          v.public_key === primary ? badge("primary for next block", "ok") : v.public_key === s.node_id ? badge("this node") : "",
        ]))),
      el("section", { "aria-labelledby": "peers" }, el("h2", { id: "peers" }, "Connected peers"),
        peers.error ? failure(peers.error) : peers.result.length ? table(["Name", "Address", "Endpoint", "Direction", "Score", "Messages in / out"], peerRows(peers.result, validators.result)) : notice("No peers connected.")));
  }
  const feed = follow("newBlocks", null, refresh, 3000);
  page.onLeave(feed.stop);
  await refresh();
}

route("/network", networkPage);
