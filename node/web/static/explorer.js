// Explorer pages: latest blocks and txs (live), a block with its certificate's signers, a tx with
// its receipt and an in-browser inclusion check, an account, an order's escrow timeline.

import { follow, live, loadAssets, nativeAsset, rpc, rpcBatch } from "./api.js";
import {
  accountLink, ago, amount, badge, bps, el, fields, fixedFee, formatNumber, hashLink, heading, link, notice, replace, shortHex, stars, table, time,
} from "./format.js";
import { contentImage, contentText, loadContent } from "./content.js";
import { addressOf, headerHash, verifyCertificate, verifyInclusion, verifyReceiptProof } from "./proof.js";
import { listingCard, shopLink } from "./market.js";
import { failure, navigate, render, route } from "./router.js";
import { FINISHED, orderActions } from "./walletui.js";
import { t, tn } from "./i18n.js";
import { orderStatus, parties, role as roleLabel, txStatus } from "./labels.js";

const LATEST = 10;

let validatorCache = null;
export function validators() {
  validatorCache ??= rpc("chain_getValidators").catch((error) => { validatorCache = null; throw error; });
  return validatorCache;
}

async function validatorName(publicKey) {
  try {
    const found = (await validators()).find((v) => v.public_key === publicKey);
    return found ? found.name : null;
  } catch { return null; }
}

export function liveIndicator() {
  const indicator = el("span", { class: "live", role: "status" });
  const stop = live.onState((state) => replace(indicator, state === "open" ? badge(t("● live"), "ok") : badge(t("polling"), "warn")));
  return { indicator, stop };
}

// --- explorer home -------------------------------------------------------------------------

function blockRow(block, fresh) {
  const row = el("tr", { class: fresh ? "fresh" : "", dataset: { height: block.height } },
    el("td", { "data-label": t("Height") }, link(`#/block/${block.height}`, `#${block.height}`)),
    el("td", { "data-label": t("Hash") }, hashLink("block", block.hash)),
    el("td", { "data-label": t("Txs") }, String(block.tx_count)),
    el("td", { "data-label": t("View"), class: "opt" }, String(block.header.view)),
    el("td", { "data-label": t("Time") }, time(block.header.timestamp_ms)));
  return row;
}

function txRow(entry) {
  const tx = entry.tx || {};
  return el("tr", {},
    el("td", { "data-label": t("Tx") }, hashLink("tx", entry.hash)),
    el("td", { "data-label": t("Kind") }, tx.kind ? badge(tx.kind) : "—"),
    el("td", { "data-label": t("Sender"), class: "opt" }, accountLink(tx.sender)),
    el("td", { "data-label": t("Block") }, entry.height ? link(`#/block/${entry.height}`, `#${entry.height}`) : "—"),
    el("td", { "data-label": t("Status"), class: "opt" }, statusBadge(entry.status)));
}

function statusBadge(status) {
  return badge(status ? txStatus(status) : "?", { committed: "ok", failed: "warn", pending: "", unknown: "warn" }[status] ?? "");
}

// A table that stays a table on phones, where the columns in `optional` are hidden.
function tableShell(headers, caption, bodyId, optional = []) {
  return el("div", { class: "table-wrap" }, el("table", { class: "compact" },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: optional.includes(h) ? "opt" : null }, h)))),
    el("tbody", { id: bodyId })));
}

async function explorerHome(page) {
  await loadAssets();
  const { indicator, stop } = liveIndicator();
  page.onLeave(stop);
  const headline = el("p", { class: "headline", id: "head-line" });
  const search = el("form", { class: "inline-form", role: "search", "aria-label": t("Find a block, tx, account or order") },
    el("label", { for: "explore-q" }, t("Block height, tx hash, mn1 address or order:")),
    el("input", { id: "explore-q", name: "q", autocomplete: "off", placeholder: t("e.g. 12 or mn1…") }),
    el("button", { type: "submit" }, t("Go")));
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(explorerTarget(search.elements.q.value.trim()));
  });
  replace(page.main, heading(t("Explorer"), " ", indicator), headline, search,
    el("section", { "aria-labelledby": "latest-blocks" }, el("h2", { id: "latest-blocks" }, t("Latest blocks")),
      tableShell([t("Height"), t("Hash"), t("Txs"), t("View"), t("Time")], t("Newest first; new blocks appear as they are committed"), "blocks-body", [t("View")])),
    el("section", { "aria-labelledby": "latest-txs" }, el("h2", { id: "latest-txs" }, t("Latest transactions")),
      tableShell([t("Tx"), t("Kind"), t("Sender"), t("Block"), t("Status")], t("From the newest blocks"), "txs-body", [t("Sender"), t("Status")])));
  const shown = new Map(); // height -> block
  let first = true;
  async function refresh() {
    if (!page.current) return;
    try {
      const status = await rpc("node_status");
      replace(headline, t("Height"), " ", el("strong", { id: "head-height" }, String(status.height)), " · ",
        t("view {view} · {n} pending tx(s) · chain", { view: status.view, n: formatNumber(status.mempool_size) }), " ", el("code", {}, status.chain_id));
      const wanted = [];
      for (let h = status.height; h >= 1 && h > status.height - LATEST; h--) if (!shown.has(h)) wanted.push(h);
      if (!wanted.length) return;
      const answers = await rpcBatch(wanted.map((height) => ["chain_getBlock", { height, full: false }]));
      for (const answer of answers) if (answer.result) shown.set(answer.result.height, answer.result);
      const heights = [...shown.keys()].sort((a, b) => b - a);
      for (const h of heights.slice(LATEST)) shown.delete(h);
      const body = document.getElementById("blocks-body");
      if (!body) return;
      replace(body, heights.slice(0, LATEST).map((h) => blockRow(shown.get(h), !first && wanted.includes(h))));
      if (!heights.length) replace(body, el("tr", {}, el("td", { colspan: 5 }, t("No blocks yet: the chain has only its genesis."))));
      await refreshTxs(heights.slice(0, LATEST).map((h) => shown.get(h)));
      first = false;
    } catch (error) {
      replace(headline, failure(error));
    }
  }
  async function refreshTxs(blocks) {
    const latest = [];
    for (const block of blocks) {
      for (const hash of [...(block.tx_hashes || [])].reverse()) {
        if (latest.length < LATEST) latest.push(hash);
      }
    }
    const answers = await rpcBatch(latest.map((hash) => ["tx_get", { hash }]));
    const body = document.getElementById("txs-body");
    if (!body) return;
    replace(body, answers.map((a, i) => txRow(a.result || { hash: latest[i] })));
    if (!latest.length) replace(body, el("tr", {}, el("td", { colspan: 5 }, t("No transactions yet."))));
  }
  const feed = follow("newBlocks", null, refresh, 3000);
  page.onLeave(feed.stop);
  await feed.refresh();
}

export function explorerTarget(text) {
  if (/^\d+$/.test(text)) return `#/block/${text}`;
  if (/^order:?\s*\d+$/i.test(text)) return `#/order/${text.replace(/\D/g, "")}`;
  if (/^mn1/.test(text)) return `#/account/${text}`;
  if (/^[0-9a-f]{64}$/i.test(text)) return `#/tx/${text.toLowerCase()}`;
  return `#/search?q=${encodeURIComponent(text)}`;
}

// --- block -------------------------------------------------------------------------------------

async function blockPage(page) {
  await loadAssets();
  const ref = page.params.ref;
  const [block, { height: head }] = await Promise.all([
    rpc("chain_getBlock", /^\d+$/.test(ref) ? { height: Number(ref) } : { hash: ref }), rpc("node_status")]);
  if (!page.current) return;
  const header = block.header;
  const proposer = await validatorName(header.proposer);
  const signers = el("section", { "aria-labelledby": "cert-title" }, el("h2", { id: "cert-title" }, t("Commit certificate")));
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/explorer", t("Explorer")), " › ", t("block")),
    heading(t("Block #{height}", { height: block.height })),
    el("nav", { class: "pager", "aria-label": t("Neighbouring blocks") },
      block.height > 1 ? link(`#/block/${block.height - 1}`, t("« Previous block"), { class: "btn" }) : null,
      block.height < head ? link(`#/block/${block.height + 1}`, t("Next block »"), { class: "btn" }) : el("span", { class: "muted" }, t("the newest block"))),
    fields([
      [t("Hash"), el("code", { class: "wrap" }, block.hash)],
      [t("Time"), time(header.timestamp_ms)],
      [t("Proposer"), [proposer ? `${proposer} ` : "", el("code", { title: header.proposer }, shortHex(header.proposer))]],
      [t("View"), String(header.view)],
      [t("Transactions"), String(block.tx_count)],
      [t("Parent"), block.height > 1 ? link(`#/block/${block.height - 1}`, shortHex(header.parent_hash), { class: "mono" }) : el("code", {}, shortHex(header.parent_hash))],
      [t("Tx root"), el("code", { class: "wrap" }, header.tx_root)],
      [t("State root"), el("code", { class: "wrap" }, header.state_root)],
    ]),
    signers,
    el("section", { "aria-labelledby": "block-txs" }, el("h2", { id: "block-txs" }, t("Transactions")),
      block.txs.length ? table(["#", t("Tx"), t("Kind"), t("Sender"), t("Result"), t("Fee")], block.txs.map((tx, i) => {
        const receipt = block.receipts?.[i] || {};
        return [String(i), hashLink("tx", tx.hash), badge(tx.kind), accountLink(tx.sender),
          receipt.ok ? badge(t("ok"), "ok") : badge(receipt.code || t("failed"), "warn"), amount(tx.fee, nativeAsset())];
      })) : notice(t("This block holds no transactions."))));
  await renderCertificate(signers, block.certificate, header, block.hash);
}

async function renderCertificate(section, cert, header, blockHash) {
  if (!cert) {
    section.append(notice(t("The certificate of this block is not stored yet (it arrives with the next block).")));
    return;
  }
  const set = await validators();
  const keys = set.map((v) => v.public_key);
  const check = await verifyCertificate(cert, keys);
  const hashOk = (await headerHash(header)) === cert.block_hash && cert.block_hash === blockHash;
  const rows = check.signers.map((s) => {
    const v = set.find((x) => x.public_key === s.validator);
    const verdict = s.valid === null ? badge(t("not checked"), "") : s.valid ? badge(t("✓ signature valid"), "ok") : badge(t("✗ invalid"), "warn");
    return [v ? v.name : t("unknown"), el("code", { title: s.validator }, shortHex(s.validator)), v ? accountLink(v.address) : "—", verdict];
  });
  section.append(
    el("p", {}, t("{n} of {total} validators signed COMMIT in view {view} (quorum {quorum}).", { n: cert.signatures.length, total: keys.length, view: cert.view, quorum: check.quorum }), " ",
      hashOk ? badge(t("✓ header hash matches"), "ok") : badge(t("✗ header hash differs"), "warn"), " ",
      check.supported ? (check.quorumMet ? badge(t("✓ quorum of valid signatures"), "ok") : badge(t("✗ no valid quorum"), "warn")) : null),
    table([t("Validator"), t("Key"), t("Address"), t("Signature")], rows, t("Signers")),
    check.supported ? el("p", { class: "hint" }, t("Signatures were verified in this browser (ed25519, WebCrypto) against the validator set."))
      : notice(t("This browser has no Ed25519 in WebCrypto, so the signatures were not verified here; the header hash was."), "warn"));
}

// --- tx ------------------------------------------------------------------------------------------

async function txPage(page) {
  await loadAssets();
  const hash = page.params.hash;
  const status = await rpc("tx_get", { hash });
  if (!page.current) return;
  if (status.status === "unknown") { // the explorer's search box sends any 64-hex string here: a block hash?
    const block = await rpc("chain_getBlock", { hash, full: false }).catch(() => null);
    if (block && page.current) { navigate(`#/block/${block.height}`); return; }
  }
  const tx = status.tx || {};
  const receipt = status.receipt;
  const proofSection = el("section", { "aria-labelledby": "proof-title" }, el("h2", { id: "proof-title" }, t("Inclusion proof")));
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/explorer", t("Explorer")), " › ", t("transaction")),
    heading(t("Transaction")),
    el("p", {}, el("code", { class: "wrap" }, hash), " ", statusBadge(status.status)),
    status.status === "unknown" ? notice(t("This node has never seen a transaction with this hash."), "warn") : null,
    fields([
      [t("Kind"), tx.kind ? badge(tx.kind) : "—"],
      [t("Sender"), accountLink(tx.sender)],
      [t("Nonce"), tx.nonce ?? "—"],
      [t("Fee"), tx.fee !== undefined ? amount(tx.fee, nativeAsset()) : "—"],
      status.height ? [t("Block"), link(`#/block/${status.height}`, `#${status.height}`), ] : null,
      status.height ? [t("Position"), String(status.index)] : null,
    ]),
    tx.body ? el("details", { class: "body" }, el("summary", {}, t("Body")), el("pre", {}, JSON.stringify(tx.body, (k, v) => (typeof v === "bigint" ? v.toString() : v), 2))) : null,
    receipt ? receiptSection(receipt) : null,
    proofSection);
  if (status.status === "pending") {
    proofSection.append(notice(t("Pending: waiting to be committed in a block. This page updates when it is.")));
    page.onLeave(follow("tx", { hash }, async () => { if (page.current && (await rpc("tx_get", { hash })).status !== "pending") render(); }, 2000).stop);
    return;
  }
  if (status.inclusion) await renderInclusion(proofSection, status.inclusion);
  else proofSection.append(notice(t("No inclusion proof: the tx is not in a block.")));
  if (status.inclusion) await renderOutcome(page.main, status);
}

// The receipt proof (docs/PROTOCOL.md §7.3): the outcome shown above, checked here against a certified header.
async function renderOutcome(main, status) {
  const section = el("section", { "aria-labelledby": "outcome-title", id: "outcome-proof" },
    el("h2", { id: "outcome-title" }, t("Outcome proof")));
  main.append(section);
  if (!status.receipt_proof) {
    section.append(notice(t("Not provable yet: the next block commits the state after this tx's block.")));
    return;
  }
  const set = await validators();
  const result = await verifyReceiptProof(status, set.map((v) => v.public_key));
  const steps = el("ol", { class: "checks", id: "outcome-checks" });
  for (const c of result.checks) steps.append(el("li", { class: c.ok ? "ok" : "bad" }, c.ok ? "✓ " : "✗ ", c.text));
  if (!result.signaturesChecked) steps.append(el("li", { class: "skip" }, t("– The anchor certificate's ed25519 signatures were not checked: this browser has no Ed25519 in WebCrypto.")));
  section.append(steps);
  section.dataset.verified = String(result.verified);
}

function receiptSection(receipt) {
  return el("section", { "aria-labelledby": "receipt-title" }, el("h2", { id: "receipt-title" }, t("Receipt")),
    el("p", {}, receipt.ok ? badge(t("✓ ok"), "ok") : badge(`✗ ${receipt.code}`, "warn"), " ", receipt.message || "",
      " · ", t("fee paid"), " ", amount(receipt.fee_paid, nativeAsset())),
    (receipt.events || []).length ? table([t("Event"), t("Details")], receipt.events.map((e) => [badge(e.kind), eventDetails(e.attrs)])) : null);
}

export function eventDetails(attrs) {
  return el("ul", { class: "plain kv" }, Object.entries(attrs || {}).map(([key, value]) => el("li", {}, el("span", { class: "muted" }, `${key}: `), eventValue(key, value, attrs))));
}

// Event attributes that name an account (as a hex public key); node/api/notify.py keeps the same list.
const ACCOUNT_ATTRS = new Set(["account", "arbiter", "buyer", "by", "inviter", "issuer", "owner", "previous", "receiver", "seller", "sender", "to"]);

function accountFromKey(publicKeyHex) {
  const placeholder = el("code", { title: publicKeyHex }, shortHex(publicKeyHex));
  addressOf(publicKeyHex).then((address) => placeholder.replaceWith(accountLink(address))).catch(() => {});
  return placeholder;
}

function eventValue(key, value, attrs) {
  if (typeof value === "string" && value.startsWith("mn1")) return accountLink(value);
  if (ACCOUNT_ATTRS.has(key) && typeof value === "string" && /^[0-9a-f]{64}$/.test(value)) return accountFromKey(value);
  if (key === "role" && typeof value === "string") return roleLabel(value);
  if (key === "order") return link(`#/order/${value}`, `#${value}`);
  if (key === "listing") return link(`#/listing/${value}`, `#${value}`);
  if (key === "shop") return link(`#/shop/${value}`, `#${value}`);
  if (key === "record") return link(`#/record/${encodeURIComponent(value)}`, String(value));
  if (key === "certificate") return link(`#/cert/${value}`, `#${value}`);
  if (/amount|total|fee|reward/.test(key) && attrs.asset && typeof value !== "object") return amount(value, attrs.asset);
  if (/_ms$/.test(key) && value) return time(value);
  if (typeof value === "string" && value.length > 24) return el("code", { title: value }, shortHex(value));
  return typeof value === "object" ? JSON.stringify(value, (k, v) => (typeof v === "bigint" ? v.toString() : v)) : String(value);
}

async function renderInclusion(section, inclusion) {
  const header = inclusion.header;
  const steps = el("ol", { class: "checks", id: "proof-checks" });
  section.append(el("p", {}, t("Leaf {index} of {count}, path of {n} hash(es), against the tx root of block #{height}.",
    { index: inclusion.proof.index, count: header.tx_count, n: inclusion.proof.path.length, height: header.height })), steps);
  const step = (ok, text) => steps.append(el("li", { class: ok ? "ok" : "bad" }, ok ? "✓ " : "✗ ", text));
  const included = await verifyInclusion(header.tx_root, inclusion.tx_hash, inclusion.proof, header.tx_count);
  step(included, included ? t("The Merkle path leads from this tx hash to the header's tx root (SHA-256, checked here).") : t("The Merkle path does NOT lead to the header's tx root."));
  const hash = await headerHash(header);
  const hashOk = hash === inclusion.certificate.block_hash;
  step(hashOk, hashOk ? t("The header hashes to {hash}, the block the certificate signs.", { hash: shortHex(hash) }) : t("The header does not hash to the certified block hash."));
  const set = await validators();
  const check = await verifyCertificate(inclusion.certificate, set.map((v) => v.public_key));
  if (check.supported) {
    step(check.quorumMet, check.quorumMet ? t("{n} valid validator signatures (quorum {quorum}) commit that block (ed25519, checked here).", { n: check.signers.length, quorum: check.quorum })
      : t("The certificate lacks a quorum of valid validator signatures."));
  } else {
    steps.append(el("li", { class: "skip" }, t("– The certificate's ed25519 signatures were not checked: this browser has no Ed25519 in WebCrypto.")));
  }
  section.dataset.verified = String(included && hashOk && (!check.supported || check.quorumMet));
}

// --- account -------------------------------------------------------------------------------------

async function accountPage(page) {
  await loadAssets();
  const address = page.params.address;
  const account = await rpc("account_get", { address });
  if (!page.current) return;
  const orders = el("section", { "aria-labelledby": "acct-orders" }, el("h2", { id: "acct-orders" }, t("Orders")));
  const reviews = el("section", { "aria-labelledby": "acct-reviews" }, el("h2", { id: "acct-reviews" }, t("Reviews received as seller")));
  const recommended = el("section", { "aria-labelledby": "acct-rec" }, el("h2", { id: "acct-rec" }, t("Recommended for this account")));
  const balances = Object.entries(account.balances || {});
  const rating = account.seller_rating;
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/explorer", t("Explorer")), " › ", t("account")),
    heading(account.profile?.name || t("Account")),
    el("p", {}, el("code", { class: "wrap" }, address)),
    fields([
      [t("Registered"), account.registered ? [badge(t("yes"), "ok"), " ", time(account.profile?.registered_ms ?? account.profile?.created_ms)] : badge(t("no"), "warn")],
      [t("Roles"), (account.roles || []).length ? account.roles.map((r) => badge(roleLabel(r))) : t("none")],
      [t("KYC level"), account.kyc ? [String(account.kyc.level), account.kyc.expires_ms ? [" · ", t("until"), " ", time(account.kyc.expires_ms)] : ""] : "0"],
      account.arbiter ? [t("Arbiter"), [account.arbiter.active ? badge(t("active"), "ok") : badge(t("inactive"), "warn"), " ", t("fee"), " ", bps(account.arbiter.fee_bps), " + ", fixedFee(account.arbiter.fee_fixed ?? 0)]] : null,
      [t("Seller rating"), rating?.count ? [stars(rating.avg_x100.overall / 100), " ", t("from {n} rating(s)", { n: formatNumber(rating.count) })] : t("none yet")],
      [t("Next nonce"), String(account.nonce)],
    ]),
    el("section", { "aria-labelledby": "acct-bal" }, el("h2", { id: "acct-bal" }, t("Balances")),
      balances.length ? table([t("Asset"), t("Balance")], balances.map(([asset, value]) => [asset, amount(value, asset)])) : notice(t("No balances."))),
    orders, reviews, recommended);
  const [bought, sold, received, recommendations] = await rpcBatch([
    ["order_list", { buyer: address, limit: 20 }], ["order_list", { seller: address, limit: 20 }], ["review_list", { seller: address, limit: 20 }],
    ["listing_recommend", { address, limit: 8 }],
  ]);
  if (recommendations.error) recommended.append(failure(recommendations.error));
  else if ((recommendations.result.items || []).length) recommended.append(el("ul", { class: "cards" }, recommendations.result.items.map(listingCard)));
  else recommended.append(notice(t("Nothing to recommend yet.")));
  if (bought.error) orders.append(failure(bought.error));
  else {
    const rows = [...(bought.result.items || []).map((o) => ["buyer", o]), ...(sold.result?.items || []).map((o) => ["seller", o])];
    rows.sort(([, a], [, b]) => b.id - a.id);
    orders.append(rows.length ? table([t("Order"), t("Role"), t("Status"), t("Total"), t("Updated")], rows.map(([role, o]) => [
      link(`#/order/${o.id}`, `#${o.id}`), roleLabel(role), orderBadge(o.status), amount(o.total, o.asset), time(o.updated_ms ?? o.placed_ms),
    ])) : notice(t("No orders.")));
  }
  if (received.error) reviews.append(failure(received.error));
  else reviews.append((received.result.items || []).length ? table([t("Order"), t("Overall"), t("By"), t("When")], received.result.items.map((r) => [
    link(`#/order/${r.order}`, `#${r.order}`), stars(r.ratings?.overall), accountLink(r.reviewer), time(r.time_ms),
  ])) : notice(t("No reviews yet.")));
}

// --- order ---------------------------------------------------------------------------------------

const CLOSED = FINISHED;

function actionsSection(actions) {
  if (!actions) return null;
  return el("section", { "aria-labelledby": "actions-title" }, el("h2", { id: "actions-title" }, t("Your actions")), actions);
}

// The arbiter's fee is charged only when the order was disputed: say so rather than show it as paid.
function arbiterFeeLine(order) {
  const disputed = Boolean(order.dispute_by) || order.status === "disputed" || order.status === "resolved";
  if (disputed) return [t("fee"), " ", amount(order.arbiter_fee, order.asset)];
  if (CLOSED.has(order.status)) return t("no fee charged (no dispute)");
  return [t("fee"), " ", amount(order.arbiter_fee, order.asset), " ", t("if disputed")];
}
const NEXT_STEPS = { placed: ["accepted", "shipped", "completed"], accepted: ["shipped", "completed"], shipped: ["completed"], disputed: ["resolved"] };
const ALTERNATIVE = {
  placed: t("It may also be declined or cancelled."), accepted: t("It may also be disputed or declined."), shipped: t("It may also be disputed."),
};

function orderBadge(status) {
  return badge(orderStatus(status), { completed: "ok", resolved: "ok", disputed: "warn", declined: "warn", cancelled: "warn", refunded: "warn" }[status] ?? "");
}

// What each open state waits for; the node's `deadlines` says who may claim after it and what follows.
const WAITING = { placed: t("the seller to accept"), accepted: t("the seller to ship"), shipped: t("the buyer to confirm receipt"), disputed: t("the arbiter's ruling") };

// The escrow path: what happened (from the order's timeline, with block and tx), then what may come.
function timeline(order) {
  const happened = order.timeline?.length ? order.timeline : [{ status: "placed", time_ms: order.placed_ms }];
  const deadlines = order.deadlines || {};
  const items = happened.map((entry, i) => {
    const current = i === happened.length - 1 && !CLOSED.has(order.status);
    return el("li", { class: current ? "current" : "done", dataset: { step: entry.status }, "aria-current": current ? "step" : undefined },
      el("span", { class: "dot", "aria-hidden": "true" }),
      el("strong", {}, orderStatus(entry.status)), " ", time(entry.time_ms),
      el("span", { class: "meta" }, entry.height ? link(`#/block/${entry.height}`, t("block #{height}", { height: entry.height })) : null,
        entry.tx ? [" · ", link(`#/tx/${entry.tx}`, t("tx"))] : null, entry.by ? [" · ", t("by"), " ", accountLink(entry.by)] : null),
      current && deadlines.current_ms ? el("p", { class: "deadline" },
        tn("Waiting for {what} until {time} ({when}).", { what: WAITING[order.status] ?? t("the next step"), time: time(deadlines.current_ms), when: ago(deadlines.current_ms) }), " ",
        t("After that {who} may claim: the order becomes {next}.", { who: parties(deadlines.claimable_by), next: orderStatus(deadlines.on_claim) }),
        ALTERNATIVE[order.status] ? [" ", ALTERNATIVE[order.status]] : "") : null);
  });
  for (const step of NEXT_STEPS[order.status] || []) {
    items.push(el("li", { class: "todo", dataset: { step } }, el("span", { class: "dot", "aria-hidden": "true" }), el("strong", {}, orderStatus(step)), " ", el("span", { class: "muted" }, t("not yet"))));
  }
  return el("ol", { class: "timeline", id: "escrow-timeline", "aria-label": t("Escrow timeline") }, items);
}

// The dispute's statement, evidence and ruling, each checked against its on-chain hash.
function disputeSection(order) {
  if (!order.reason_hash) return null;
  return el("section", { id: "dispute", "aria-labelledby": "dispute-title" }, el("h2", { id: "dispute-title" }, t("Dispute")),
    el("p", { class: "meta" }, t("Opened by"), " ", accountLink(order.dispute_by), order.arbiter ? [" · ", t("arbiter"), " ", accountLink(order.arbiter)] : null),
    contentText(order.reason_hash, { label: t("Statement:"), what: t("dispute statement") }),
    order.evidence_hash ? contentImageOrText(order.evidence_hash) : null,
    order.response_hash ? contentText(order.response_hash, { label: t("Answer from the other party:"), what: t("answer") }) : null,
    order.response_evidence_hash ? contentImageOrText(order.response_evidence_hash) : null,
    order.ruling_hash ? contentText(order.ruling_hash, { label: t("Ruling:"), what: t("ruling") })
      : el("p", { class: "muted" }, order.status === "disputed" ? t("The arbiter has not ruled yet.") : t("No written ruling.")));
}

function contentImageOrText(hash) {
  const slot = el("div", { class: "evidence" }, el("strong", {}, t("Evidence:")));
  loadContent(hash).then((result) => slot.append(result.state === "ok" && !result.type.startsWith("image/")
    ? contentText(hash, { what: t("evidence") }) : contentImage(hash, { alt: t("Evidence attached to the dispute") })));
  return slot;
}

async function orderPage(page) {
  await loadAssets();
  const id = Number(page.params.id);
  const { indicator, stop } = liveIndicator();
  page.onLeave(stop);
  let lastKey = "";
  async function draw() {
    const order = await rpc("order_get", { order: id });
    if (!page.current) return;
    const key = `${order.status}:${order.updated_ms}:${order.review ? 1 : 0}`;
    if (key === lastKey) return;
    lastKey = key;
    const released = CLOSED.has(order.status);
    const listing = await rpc("listing_get", { listing: order.listing }).catch(() => null);
    if (!page.current) return;
    replace(page.main,
      el("p", { class: "crumbs" }, link("#/explorer", t("Explorer")), " › ", t("order")),
      heading(t("Order #{id}", { id }), " ", el("span", { id: "order-status", dataset: { status: order.status } }, orderBadge(order.status)), " ", indicator),
      fields([
        [t("Listing"), link(`#/listing/${order.listing}`, listing?.title || t("listing #{id}", { id: order.listing }))],
        [t("Shop"), order.shop ? shopLink(order.shop) : "—"],
        [t("Buyer"), accountLink(order.buyer)],
        [t("Seller"), accountLink(order.seller)],
        [t("Quantity"), formatNumber(order.quantity)],
        [released ? t("Escrow (released)") : t("In escrow"), amount(order.total, order.asset)],
        [t("Arbiter"), order.arbiter ? [accountLink(order.arbiter), " · ", arbiterFeeLine(order)] : t("none (no disputes possible)")],
        order.buyer_amount !== null && order.buyer_amount !== undefined ? [t("Refunded to buyer"), amount(order.buyer_amount, order.asset)] : null,
        order.review ? [t("Review"), [stars(order.review.ratings?.overall), " · ", time(order.review.time_ms)]] : null,
      ]),
      disputeSection(order),
      el("section", { "aria-labelledby": "timeline-title" }, el("h2", { id: "timeline-title" }, t("Escrow timeline")), timeline(order)),
      // A finished order leaves nothing to do (but its buyer's review): then no "Your actions" at all.
      actionsSection(orderActions(order)));
  }
  const feed = follow("order", { order_id: id }, draw, 2000);
  page.onLeave(feed.stop);
  await draw();
}

route("/explorer", explorerHome);
route("/block/:ref", blockPage);
route("/tx/:hash", txPage);
route("/account/:address", accountPage);
route("/order/:id", orderPage);
