// The network page: this node's view of validators, peers, height, view and mempool, refreshed live.

import { follow, rpcBatch } from "./api.js";
import { accountLink, ago, badge, el, fields, formatDuration, heading, notice, replace, shortHex, table, time } from "./format.js";
import { liveIndicator } from "./explorer.js";
import { failure, route } from "./router.js";
import { t } from "./i18n.js";

const DIRECTIONS = { inbound: t("inbound"), outbound: t("outbound"), in: t("in"), out: t("out") }; // node_peers: who dialled

function peerRows(peers, validators) {
  const names = new Map((validators || []).map((v) => [v.public_key, v.name]));
  return peers.map((p) => [
    names.get(p.pubkey) || t("observer / wallet node"),
    accountLink(p.address_mn),
    el("code", {}, p.address || "—"),
    DIRECTIONS[p.direction] ?? p.direction ?? "—",
    String(p.score ?? "—"),
    `${p.msgs_in ?? 0} / ${p.msgs_out ?? 0}`,
  ]);
}

async function networkPage(page) {
  const { indicator, stop } = liveIndicator();
  page.onLeave(stop);
  const body = el("div", { id: "network-body" });
  replace(page.main, heading(t("Network"), " ", indicator), body);
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
      el("ul", { class: "stats", "aria-label": t("Summary") },
        el("li", {}, el("span", {}, t("Height")), el("strong", { id: "net-height" }, String(s.height))),
        el("li", {}, el("span", {}, t("View")), el("strong", {}, String(s.view))),
        el("li", {}, el("span", {}, t("Mempool")), el("strong", {}, String(s.mempool_size))),
        el("li", {}, el("span", {}, t("Peers")), el("strong", {}, String(s.peers)))),
      fields([
        [t("Chain"), el("code", {}, s.chain_id)],
        [t("This node"), [s.moniker, " ", s.is_validator ? badge(t("validator"), "ok") : badge(t("observer"))]],
        [t("Head"), [el("code", {}, shortHex(s.head_hash)), " · ", time(s.head_time_ms), ` (${ago(s.head_time_ms)})`]],
        [t("Sync"), s.syncing ? badge(t("syncing to {height}", { height: s.sync_target }), "warn") : badge(t("in sync"), "ok")],
        [t("Uptime"), formatDuration(s.uptime_s)],
      ]),
      el("section", { "aria-labelledby": "vals" }, el("h2", { id: "vals" }, t("Validators")),
        validators.error ? failure(validators.error) : table([t("Name"), t("Address"), "P2P", t("Role")], validators.result.map((v) => [
          v.name, accountLink(v.address), el("code", {}, v.p2p_address),
          v.public_key === primary ? badge(t("primary for next block"), "ok") : v.public_key === s.node_id ? badge(t("this node")) : "",
        ]))),
      el("section", { "aria-labelledby": "peers" }, el("h2", { id: "peers" }, t("Connected peers")),
        peers.error ? failure(peers.error) : peers.result.length ? table([t("Name"), t("Address"), t("Endpoint"), t("Direction"), t("Score"), t("Messages in / out")], peerRows(peers.result, validators.result)) : notice(t("No peers connected."))));
  }
  const feed = follow("newBlocks", null, refresh, 3000);
  page.onLeave(feed.stop);
  await refresh();
}

route("/network", networkPage);
