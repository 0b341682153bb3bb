// Explorer pages: latest blocks and txs (live), a block with its certificate's signers, a tx with
// its receipt and an in-browser inclusion check, an account, an order's escrow timeline.

import { follow, live, loadAssets, nativeAsset, rpc, rpcBatch } from "./api.js";
import {
  accountLink, ago, amount, badge, bps, el, fields, hashLink, heading, link, notice, replace, shortHex, stars, table, time,
} from "./format.js";
import { contentImage, contentText, loadContent } from "./content.js";
import { addressOf, headerHash, verifyCertificate, verifyInclusion, verifyReceiptProof } from "./proof.js";
import { listingCard, shopLink } from "./market.js";
import { failure, navigate, render, route } from "./router.js";
import { FINISHED, orderActions } from "./walletui.js";

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
  const stop = live.onState((state) => replace(indicator, state === "open" ? badge("● live", "ok") : badge("polling", "warn")));
  return { indicator, stop };
}

// --- explorer home -------------------------------------------------------------------------

function blockRow(block, fresh) {
  const row = el("tr", { class: fresh ? "fresh" : "", dataset: { height: block.height } },
    el("td", { "data-label": "Height" }, link(`#/block/${block.height}`, `#${block.height}`)),
    el("td", { "data-label": "Hash" }, hashLink("block", block.hash)),
    el("td", { "data-label": "Txs" }, String(block.tx_count)),
    el("td", { "data-label": "View", class: "opt" }, String(block.header.view)),
    el("td", { "data-label": "Time" }, time(block.header.timestamp_ms)));
  return row;
}

function txRow(entry) {
  const tx = entry.tx || {};
  return el("tr", {},
    el("td", { "data-label": "Tx" }, hashLink("tx", entry.hash)),
    el("td", { "data-label": "Kind" }, tx.kind ? badge(tx.kind) : "—"),
    el("td", { "data-label": "Sender", class: "opt" }, accountLink(tx.sender)),
    el("td", { "data-label": "Block" }, entry.height ? link(`#/block/${entry.height}`, `#${entry.height}`) : "—"),
    el("td", { "data-label": "Status", class: "opt" }, statusBadge(entry.status)));
}

function statusBadge(status) {
  return badge(status || "?", { committed: "ok", failed: "warn", pending: "", unknown: "warn" }[status] ?? "");
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
  const search = el("form", { class: "inline-form", role: "search", "aria-label": "Find a block, tx, account or order" },
    el("label", { for: "explore-q" }, "Block height, tx hash, mn1 address or order:"),
    el("input", { id: "explore-q", name: "q", autocomplete: "off", placeholder: "e.g. 12 or mn1…" }),
    el("button", { type: "submit" }, "Go"));
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(explorerTarget(search.elements.q.value.trim()));
  });
  replace(page.main, heading("Explorer ", indicator), headline, search,
    el("section", { "aria-labelledby": "latest-blocks" }, el("h2", { id: "latest-blocks" }, "Latest blocks"),
      tableShell(["Height", "Hash", "Txs", "View", "Time"], "Newest first; new blocks appear as they are committed", "blocks-body", ["View"])),
    el("section", { "aria-labelledby": "latest-txs" }, el("h2", { id: "latest-txs" }, "Latest transactions"),
      tableShell(["Tx", "Kind", "Sender", "Block", "Status"], "From the newest blocks", "txs-body", ["Sender", "Status"])));
  const shown = new Map(); // height -> block
  let first = true;
  async function refresh() {
    if (!page.current) return;
    try {
      const status = await rpc("node_status");
      replace(headline, "Height ", el("strong", { id: "head-height" }, String(status.height)), ` · view ${status.view} · ${status.mempool_size} pending tx(s) · chain `, el("code", {}, status.chain_id));
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
      if (!heights.length) replace(body, el("tr", {}, el("td", { colspan: 5 }, "No blocks yet: the chain has only its genesis.")));
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
    if (!latest.length) replace(body, el("tr", {}, el("td", { colspan: 5 }, "No transactions yet.")));
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
  const signers = el("section", { "aria-labelledby": "cert-title" }, el("h2", { id: "cert-title" }, "Commit certificate"));
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/explorer", "Explorer"), " › block"),
    heading(`Block #${block.height}`),
    el("nav", { class: "pager", "aria-label": "Neighbouring blocks" },
      block.height > 1 ? link(`#/block/${block.height - 1}`, "« Previous block", { class: "btn" }) : null,
      block.height < head ? link(`#/block/${block.height + 1}`, "Next block »", { class: "btn" }) : el("span", { class: "muted" }, "the newest block")),
    fields([
      ["Hash", el("code", { class: "wrap" }, block.hash)],
      ["Time", time(header.timestamp_ms)],
      ["Proposer", [proposer ? `${proposer} ` : "", el("code", { title: header.proposer }, shortHex(header.proposer))]],
      ["View", String(header.view)],
      ["Transactions", String(block.tx_count)],
      ["Parent", block.height > 1 ? link(`#/block/${block.height - 1}`, shortHex(header.parent_hash), { class: "mono" }) : el("code", {}, shortHex(header.parent_hash))],
      ["Tx root", el("code", { class: "wrap" }, header.tx_root)],
      ["State root", el("code", { class: "wrap" }, header.state_root)],
    ]),
    signers,
    el("section", { "aria-labelledby": "block-txs" }, el("h2", { id: "block-txs" }, "Transactions"),
      block.txs.length ? table(["#", "Tx", "Kind", "Sender", "Result", "Fee"], block.txs.map((tx, i) => {
        const receipt = block.receipts?.[i] || {};
        return [String(i), hashLink("tx", tx.hash), badge(tx.kind), accountLink(tx.sender),
          receipt.ok ? badge("ok", "ok") : badge(receipt.code || "failed", "warn"), String(tx.fee)];
      })) : notice("This block holds no transactions.")));
  await renderCertificate(signers, block.certificate, header, block.hash);
}

async function renderCertificate(section, cert, header, blockHash) {
  if (!cert) {
    section.append(notice("The certificate of this block is not stored yet (it arrives with the next block)."));
    return;
  }
  const set = await validators();
  const keys = set.map((v) => v.public_key);
  const check = await verifyCertificate(cert, keys);
  const hashOk = (await headerHash(header)) === cert.block_hash && cert.block_hash === blockHash;
  const rows = check.signers.map((s) => {
    const v = set.find((x) => x.public_key === s.validator);
    const verdict = s.valid === null ? badge("not checked", "") : s.valid ? badge("✓ signature valid", "ok") : badge("✗ invalid", "warn");
    return [v ? v.name : "unknown", el("code", { title: s.validator }, shortHex(s.validator)), v ? accountLink(v.address) : "—", verdict];
  });
  section.append(
    el("p", {}, `${cert.signatures.length} of ${keys.length} validators signed COMMIT in view ${cert.view} (quorum ${check.quorum}). `,
      hashOk ? badge("✓ header hash matches", "ok") : badge("✗ header hash differs", "warn"), " ",
      check.supported ? (check.quorumMet ? badge("✓ quorum of valid signatures", "ok") : badge("✗ no valid quorum", "warn")) : null),
    table(["Validator", "Key", "Address", "Signature"], rows, "Signers"),
    check.supported ? el("p", { class: "hint" }, "Signatures were verified in this browser (ed25519, WebCrypto) against the validator set.")
      : notice("This browser has no Ed25519 in WebCrypto, so the signatures were not verified here; the header hash was.", "warn"));
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
  const proofSection = el("section", { "aria-labelledby": "proof-title" }, el("h2", { id: "proof-title" }, "Inclusion proof"));
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/explorer", "Explorer"), " › transaction"),
    heading("Transaction"),
    el("p", {}, el("code", { class: "wrap" }, hash), " ", statusBadge(status.status)),
    status.status === "unknown" ? notice("This node has never seen a transaction with this hash.", "warn") : null,
    fields([
      ["Kind", tx.kind ? badge(tx.kind) : "—"],
      ["Sender", accountLink(tx.sender)],
      ["Nonce", tx.nonce ?? "—"],
      ["Fee", tx.fee !== undefined ? amount(tx.fee, nativeAsset()) : "—"],
      status.height ? ["Block", link(`#/block/${status.height}`, `#${status.height}`), ] : null,
      status.height ? ["Position", String(status.index)] : null,
    ]),
    tx.body ? el("details", { class: "body" }, el("summary", {}, "Body"), el("pre", {}, JSON.stringify(tx.body, (k, v) => (typeof v === "bigint" ? v.toString() : v), 2))) : null,
    receipt ? receiptSection(receipt) : null,
    proofSection);
  if (status.status === "pending") {
    proofSection.append(notice("Pending: waiting to be committed in a block. This page updates when it is."));
    page.onLeave(follow("tx", { hash }, async () => { if (page.current && (await rpc("tx_get", { hash })).status !== "pending") render(); }, 2000).stop);
    return;
  }
  if (status.inclusion) await renderInclusion(proofSection, status.inclusion);
  else proofSection.append(notice("No inclusion proof: the tx is not in a block."));
  if (status.inclusion) await renderOutcome(page.main, status);
}

// The receipt proof (docs/PROTOCOL.md §7.3): the outcome shown above, checked here against a certified header.
async function renderOutcome(main, status) {
  const section = el("section", { "aria-labelledby": "outcome-title", id: "outcome-proof" },
    el("h2", { id: "outcome-title" }, "Outcome proof"));
  main.append(section);
  if (!status.receipt_proof) {
    section.append(notice("Not provable yet: the next block commits the state after this tx's block."));
    return;
  }
  const set = await validators();
  const result = await verifyReceiptProof(status, set.map((v) => v.public_key));
  const steps = el("ol", { class: "checks", id: "outcome-checks" });
  for (const c of result.checks) steps.append(el("li", { class: c.ok ? "ok" : "bad" }, c.ok ? "✓ " : "✗ ", c.text));
  if (!result.signaturesChecked) steps.append(el("li", { class: "skip" }, "– The anchor certificate's ed25519 signatures were not checked: this browser has no Ed25519 in WebCrypto."));
  section.append(steps);
  section.dataset.verified = String(result.verified);
}

function receiptSection(receipt) {
  return el("section", { "aria-labelledby": "receipt-title" }, el("h2", { id: "receipt-title" }, "Receipt"),
    el("p", {}, receipt.ok ? badge("✓ ok", "ok") : badge(`✗ ${receipt.code}`, "warn"), " ", receipt.message || "",
      " · fee paid ", amount(receipt.fee_paid, nativeAsset())),
    (receipt.events || []).length ? table(["Event", "Details"], receipt.events.map((e) => [badge(e.kind), eventDetails(e.attrs)])) : null);
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
  section.append(el("p", {}, `Leaf ${inclusion.proof.index} of ${header.tx_count}, path of ${inclusion.proof.path.length} hash(es), against the tx root of block #${header.height}.`), steps);
  const step = (ok, text) => steps.append(el("li", { class: ok ? "ok" : "bad" }, ok ? "✓ " : "✗ ", text));
  const included = await verifyInclusion(header.tx_root, inclusion.tx_hash, inclusion.proof, header.tx_count);
  step(included, included ? "The Merkle path leads from this tx hash to the header's tx root (SHA-256, checked here)." : "The Merkle path does NOT lead to the header's tx root.");
  const hash = await headerHash(header);
  const hashOk = hash === inclusion.certificate.block_hash;
  step(hashOk, hashOk ? `The header hashes to ${shortHex(hash)}, the block the certificate signs.` : "The header does not hash to the certified block hash.");
  const set = await validators();
  const check = await verifyCertificate(inclusion.certificate, set.map((v) => v.public_key));
  if (check.supported) {
    step(check.quorumMet, check.quorumMet ? `${check.signers.length} valid validator signatures (quorum ${check.quorum}) commit that block (ed25519, checked here).`
      : "The certificate lacks a quorum of valid validator signatures.");
  } else {
    steps.append(el("li", { class: "skip" }, "– The certificate's ed25519 signatures were not checked: this browser has no Ed25519 in WebCrypto."));
  }
  section.dataset.verified = String(included && hashOk && (!check.supported || check.quorumMet));
}

// --- account -------------------------------------------------------------------------------------

async function accountPage(page) {
  await loadAssets();
  const address = page.params.address;
  const account = await rpc("account_get", { address });
  if (!page.current) return;
  const orders = el("section", { "aria-labelledby": "acct-orders" }, el("h2", { id: "acct-orders" }, "Orders"));
  const reviews = el("section", { "aria-labelledby": "acct-reviews" }, el("h2", { id: "acct-reviews" }, "Reviews received as seller"));
  const recommended = el("section", { "aria-labelledby": "acct-rec" }, el("h2", { id: "acct-rec" }, "Recommended for this account"));
  const balances = Object.entries(account.balances || {});
  const rating = account.seller_rating;
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/explorer", "Explorer"), " › account"),
    heading(account.profile?.name || "Account"),
    el("p", {}, el("code", { class: "wrap" }, address)),
    fields([
      ["Registered", account.registered ? [badge("yes", "ok"), " ", time(account.profile?.registered_ms ?? account.profile?.created_ms)] : badge("no", "warn")],
      ["Roles", (account.roles || []).length ? account.roles.map((r) => badge(r)) : "none"],
      ["KYC level", account.kyc ? [String(account.kyc.level), account.kyc.expires_ms ? [" · until ", time(account.kyc.expires_ms)] : ""] : "0"],
      account.arbiter ? ["Arbiter", [account.arbiter.active ? badge("active", "ok") : badge("inactive", "warn"), " fee ", bps(account.arbiter.fee_bps), ` + ${account.arbiter.fee_fixed}`]] : null,
      ["Seller rating", rating?.count ? [stars(rating.avg_x100.overall / 100), ` from ${rating.count}`] : "none yet"],
      ["Next nonce", String(account.nonce)],
    ]),
    el("section", { "aria-labelledby": "acct-bal" }, el("h2", { id: "acct-bal" }, "Balances"),
      balances.length ? table(["Asset", "Balance"], balances.map(([asset, value]) => [asset, amount(value, asset)])) : notice("No balances.")),
    orders, reviews, recommended);
  const [bought, sold, received, recommendations] = await rpcBatch([
    ["order_list", { buyer: address, limit: 20 }], ["order_list", { seller: address, limit: 20 }], ["review_list", { seller: address, limit: 20 }],
    ["listing_recommend", { address, limit: 8 }],
  ]);
  if (recommendations.error) recommended.append(failure(recommendations.error));
  else if ((recommendations.result.items || []).length) recommended.append(el("ul", { class: "cards" }, recommendations.result.items.map(listingCard)));
  else recommended.append(notice("Nothing to recommend yet."));
  if (bought.error) orders.append(failure(bought.error));
  else {
    const rows = [...(bought.result.items || []).map((o) => ["buyer", o]), ...(sold.result?.items || []).map((o) => ["seller", o])];
    rows.sort(([, a], [, b]) => b.id - a.id);
    orders.append(rows.length ? table(["Order", "Role", "Status", "Total", "Updated"], rows.map(([role, o]) => [
      link(`#/order/${o.id}`, `#${o.id}`), role, orderBadge(o.status), amount(o.total, o.asset), time(o.updated_ms ?? o.placed_ms),
    ])) : notice("No orders."));
  }
  if (received.error) reviews.append(failure(received.error));
  else reviews.append((received.result.items || []).length ? table(["Order", "Overall", "By", "When"], received.result.items.map((r) => [
    link(`#/order/${r.order}`, `#${r.order}`), stars(r.ratings?.overall), accountLink(r.reviewer), time(r.time_ms),
  ])) : notice("No reviews yet."));
}

// --- order ---------------------------------------------------------------------------------------

const CLOSED = FINISHED;

function actionsSection(actions) {
  if (!actions) return null;
  return el("section", { "aria-labelledby": "actions-title" }, el("h2", { id: "actions-title" }, "Your actions"), actions);
}

// The arbiter's fee is charged only when the order was disputed: say so rather than show it as paid.
function arbiterFeeLine(order) {
  const disputed = Boolean(order.dispute_by) || order.status === "disputed" || order.status === "resolved";
  if (disputed) return ["fee ", amount(order.arbiter_fee, order.asset)];
  if (CLOSED.has(order.status)) return "no fee charged (no dispute)";
  return ["fee ", amount(order.arbiter_fee, order.asset), " if disputed"];
}
const NEXT_STEPS = { placed: ["accepted", "shipped", "completed"], accepted: ["shipped", "completed"], shipped: ["completed"], disputed: ["resolved"] };
const ALTERNATIVE = { placed: "declined or cancelled", accepted: "disputed or declined", shipped: "disputed" };

function orderBadge(status) {
  return badge(status, { completed: "ok", resolved: "ok", disputed: "warn", declined: "warn", cancelled: "warn", refunded: "warn" }[status] ?? "");
}

// What each open state waits for; the node's `deadlines` says who may claim after it and what follows.
const WAITING = { placed: "the seller to accept", accepted: "the seller to ship", shipped: "the buyer to confirm receipt", disputed: "the arbiter's ruling" };

// The escrow path: what happened (from the order's timeline, with block and tx), then what may come.
function timeline(order) {
  const happened = order.timeline?.length ? order.timeline : [{ status: "placed", time_ms: order.placed_ms }];
  const deadlines = order.deadlines || {};
  const items = happened.map((entry, i) => {
    const current = i === happened.length - 1 && !CLOSED.has(order.status);
    return el("li", { class: current ? "current" : "done", dataset: { step: entry.status }, "aria-current": current ? "step" : undefined },
      el("span", { class: "dot", "aria-hidden": "true" }),
      el("strong", {}, entry.status), " ", time(entry.time_ms),
      el("span", { class: "meta" }, entry.height ? link(`#/block/${entry.height}`, `block #${entry.height}`) : null,
        entry.tx ? [" · ", link(`#/tx/${entry.tx}`, "tx")] : null, entry.by ? [" · by ", accountLink(entry.by)] : null),
      current && deadlines.current_ms ? el("p", { class: "deadline" },
        `Waiting for ${WAITING[order.status] ?? "the next step"} until `, time(deadlines.current_ms), ` (${ago(deadlines.current_ms)}). `,
        `After that the ${deadlines.claimable_by} may claim: the order becomes ${deadlines.on_claim}.`,
        ALTERNATIVE[order.status] ? ` It may also be ${ALTERNATIVE[order.status]}.` : "") : null);
  });
  for (const step of NEXT_STEPS[order.status] || []) {
    items.push(el("li", { class: "todo", dataset: { step } }, el("span", { class: "dot", "aria-hidden": "true" }), el("strong", {}, step), " ", el("span", { class: "muted" }, "not yet")));
  }
  return el("ol", { class: "timeline", id: "escrow-timeline", "aria-label": "Escrow timeline" }, items);
}

// The dispute's statement, evidence and ruling, each checked against its on-chain hash.
function disputeSection(order) {
  if (!order.reason_hash) return null;
  return el("section", { id: "dispute", "aria-labelledby": "dispute-title" }, el("h2", { id: "dispute-title" }, "Dispute"),
    el("p", { class: "meta" }, "Opened by ", accountLink(order.dispute_by), order.arbiter ? [" · arbiter ", accountLink(order.arbiter)] : null),
    contentText(order.reason_hash, { label: "Statement:", what: "dispute statement" }),
    order.evidence_hash ? contentImageOrText(order.evidence_hash) : null,
    order.response_hash ? contentText(order.response_hash, { label: "Answer from the other party:", what: "answer" }) : null,
    order.response_evidence_hash ? contentImageOrText(order.response_evidence_hash) : null,
    order.ruling_hash ? contentText(order.ruling_hash, { label: "Ruling:", what: "ruling" })
      : el("p", { class: "muted" }, order.status === "disputed" ? "The arbiter has not ruled yet." : "No written ruling."));
}

function contentImageOrText(hash) {
  const slot = el("div", { class: "evidence" }, el("strong", {}, "Evidence:"));
  loadContent(hash).then((result) => slot.append(result.state === "ok" && !result.type.startsWith("image/")
    ? contentText(hash, { what: "evidence" }) : contentImage(hash, { alt: "Evidence attached to the dispute" })));
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
      el("p", { class: "crumbs" }, link("#/explorer", "Explorer"), " › order"),
      heading(`Order #${id} `, el("span", { id: "order-status" }, orderBadge(order.status)), " ", indicator),
      fields([
        ["Listing", link(`#/listing/${order.listing}`, listing?.title || `listing ${order.listing}`)],
        ["Shop", order.shop ? shopLink(order.shop) : "—"],
        ["Buyer", accountLink(order.buyer)],
        ["Seller", accountLink(order.seller)],
        ["Quantity", String(order.quantity)],
        [released ? "Escrow (released)" : "In escrow", amount(order.total, order.asset)],
        ["Arbiter", order.arbiter ? [accountLink(order.arbiter), " · ", arbiterFeeLine(order)] : "none (no disputes possible)"],
        order.buyer_amount !== null && order.buyer_amount !== undefined ? ["Refunded to buyer", amount(order.buyer_amount, order.asset)] : null,
        order.review ? ["Review", [stars(order.review.ratings?.overall), " · ", time(order.review.time_ms)]] : null,
      ]),
      disputeSection(order),
      el("section", { "aria-labelledby": "timeline-title" }, el("h2", { id: "timeline-title" }, "Escrow timeline"), timeline(order)),
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
