// The key set page: which keys sign for an account, how many a tx needs, its guardians and any pending
// recovery (account_getAuthority); with the wallet unlocked, rotate its key here. Rules: docs/MARKET.md,
// walk-through: docs/WALLET.md. Every tx is signed in the browser (multisig.js).

import { chainParams, rpc } from "./api.js";
import { deliver } from "./delivery.js";
import { accountLink, decimalsOf, el, fields, formatUnits, heading, replace, time } from "./format.js";
import { t } from "./i18n.js";
import { signWith } from "./multisig.js";
import { publicKeyOf, toHex } from "./proof.js";
import { route } from "./router.js";
import * as wallet from "./wallet.js";
import { actionForm } from "./walletui.js";

function policyText(found, native) {
  if (found.kinds === null && found.above === null) return t("every transaction");
  const parts = [...(found.kinds || [])];
  if (found.above !== null) parts.push(t("moving more than {amount}", { amount: `${formatUnits(found.above, decimalsOf(native))} ${native}` }));
  return parts.length ? parts.join(", ") : t("only changes to the key set");
}

function keySetView(found, native) {
  const rows = [
    [t("Account"), accountLink(found.address, found.address)],
    [t("Key set"), found.default ? t("the address key alone (never changed)") : t("version {n}", { n: found.version })],
    [t("Signatures needed"), t("{k} of {n} keys for: {policy}", { k: found.threshold, n: found.keys.length, policy: policyText(found, native) })],
  ];
  const guard = found.guardians;
  rows.push([t("Guardians"), guard ? t("{k} of {n}, veto delay {s} s", { k: guard.threshold, n: guard.guardians.length, s: Math.floor(guard.delay_ms / 1000) }) : t("none")]);
  const parts = [fields(rows), el("h2", {}, t("Keys")),
    el("ul", { id: "key-list" }, ...found.keys.map((k) => el("li", {}, el("code", { class: "wrap" }, k.address))))];
  if (guard) parts.push(el("h2", {}, t("Guardians")), el("ul", {}, ...guard.guardians.map((g) => el("li", {}, accountLink(g)))));
  const pending = found.recovery;
  if (pending) {
    parts.push(el("h2", {}, t("Pending recovery")), fields([
      [t("Recovery"), `#${pending.id} (${pending.state})`],
      [t("Approvals"), String(pending.approvals.length)],
      [t("Deadline"), time(pending.ready_ms ?? pending.approve_by_ms)],
    ]));
  }
  return parts;
}

// Rotate the unlocked account's key to a fresh one made here: both keys sign (the chain wants proof the new
// key's holder has it); then this browser keeps the new key, for the same address.
async function rotate(passphrase) {
  const current = wallet.current();
  if (!current) throw new Error(t("unlock the wallet first"));
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const next = await wallet.keyFromSeed(seed);
  const [node, account] = await Promise.all([rpc("node_status"), rpc("account_get", { address: current.address })]);
  const sender = await publicKeyOf(current.address);
  const params = (await chainParams()) ?? {};
  const unsigned = { body: { new_key: next.publicKey, old_key: current.publicKey }, chain_id: node.chain_id,
    fee: (params.min_fee ?? 0) * 2, kind: "account_rotate", nonce: account.nonce, sender };
  const raw = await signWith(unsigned, [current, next]);
  const verdict = await rpc("tx_estimate", { tx: toHex(raw) });
  if (!verdict.ok) throw new Error(`${verdict.code}: ${verdict.message}`);
  const result = await deliver(rpc, toHex(raw), await wallet.txHash(raw));
  if (result.status === "failed") throw new Error(`${result.receipt?.code}: ${result.receipt?.message}`);
  await wallet.save(seed, passphrase, current.address);
  seed.fill(0);
  return t("Rotated in block #{height}: this browser now signs with {key}. Back up the new seed.", { height: result.height, key: next.address });
}

function rotateForm() {
  return actionForm({ id: "keys-rotate" }, [
    el("p", {}, t("Replace this account's key by a new one made in this browser. The address, balances, shop and reputation stay; the old key stops working.")),
    el("div", { class: "field" }, el("label", { for: "rotate-pass" }, t("Passphrase for the new key (8+ characters)")),
      el("input", { id: "rotate-pass", name: "rotate-pass", type: "password", autocomplete: "new-password", required: true })),
  ], t("Rotate key"), (form) => rotate(form.elements["rotate-pass"].value));
}

async function keysPage(page) {
  const address = page.params.address ?? wallet.state().address;
  if (!address) {
    replace(page.main, heading(t("Keys")), el("p", {}, t("Make or unlock a wallet first, or open #/keys/ADDRESS.")));
    return;
  }
  const [found, params] = await Promise.all([rpc("account_getAuthority", { address }), chainParams()]);
  if (!page.current) return;
  const parts = keySetView(found, params?.native_asset ?? "MKT");
  const mine = wallet.state();
  if (mine.status === "unlocked" && mine.address === found.address && found.keys.length === 1) {
    if (found.keys[0].address === wallet.current().keyAddress) parts.push(el("h2", {}, t("Rotate the key")), rotateForm());
  }
  replace(page.main, heading(t("Keys of {who}", { who: found.address.slice(0, 12) + "…" })), parts);
}

route("/keys", keysPage);
route("/keys/:address", keysPage);
