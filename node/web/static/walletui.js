// Wallet pages and buttons: create, import, unlock the browser's key; buy a listing; act on an
// order (accept, ship, confirm, dispute, claim, review). Every action is a tx signed in wallet.js.

import { rpc } from "./api.js";
import { accountLink, amount, badge, displayName, el, fields, heading, link, parseUnits, replace, shortAddress } from "./format.js";
import { fromHex, publicKeyOf } from "./proof.js";
import { failure, navigate, render, route } from "./router.js";
import { deliveryProblem } from "./buyrules.js";
import { termsFields, termsOrder } from "./listingterms.js";
import { commerceActions } from "./commerceactions.js";
import { openKeyfile, sealKeyfile } from "./keyfile.js";
import * as wallet from "./wallet.js";
import { t, tn } from "./i18n.js";
import { orderStatus, ratingName, role as roleLabel } from "./labels.js";

function field(id, label, attrs = {}) {
  return el("div", { class: "field" }, el("label", { for: id }, label), el("input", { id, name: id, ...attrs }));
}

// A form whose submit runs `action(form)` with a busy state and a status line for the outcome.
export function actionForm(attrs, children, submitLabel, action) {
  const status = el("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const button = el("button", { type: "submit", class: "primary" }, submitLabel);
  const form = el("form", { class: "action-form", ...attrs }, children, button, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    replace(status, t("Working…"));
    try {
      const message = await action(form);
      replace(status, message || t("Done."));
    } catch (error) {
      replace(status, failure(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

const committedLine = (result) => t("Committed in block #{height}.", { height: result.height });

// --- the wallet page ----------------------------------------------------------------------------

async function walletPage(page) {
  const now = wallet.state();
  const body = [];
  if (now.status === "none") {
    body.push(
      el("p", {}, tn("Make a key here, or import one (a 64-hex seed, e.g. a testnet demo account from {file}).", { file: el("code", {}, "testnet/accounts/<name>.key") }), " ",
        t("It is stored in this browser only, encrypted with your passphrase; transactions are signed here.")),
      el("h2", {}, t("New key")),
      actionForm({ id: "wallet-create" }, [field("new-pass", t("Passphrase (8+ characters)"), { type: "password", autocomplete: "new-password", required: true })],
        t("Create key"), async (form) => { await wallet.create(form.elements["new-pass"].value); render(); }),
      el("h2", {}, t("Import a key")),
      actionForm({ id: "wallet-import" }, [
        field("import-seed", t("Seed (64 hex characters)"), { autocomplete: "off", spellcheck: "false", required: true }),
        field("import-pass", t("Passphrase (8+ characters)"), { type: "password", autocomplete: "new-password", required: true }),
      ], t("Import key"), async (form) => {
        const seed = form.elements["import-seed"].value.trim().toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(seed)) throw new Error(t("the seed is 64 hex characters"));
        await wallet.save(fromHex(seed), form.elements["import-pass"].value);
        render();
      }),
      el("h2", {}, t("Import a key file")),
      el("p", {}, tn("A key file from {command} (your command-line keystore) or from another browser.", { command: el("code", {}, "marketnode wallet export --out FILE") })),
      actionForm({ id: "wallet-import-file" }, [
        field("keyfile", t("Key file"), { type: "file", accept: ".json,application/json", required: true }),
        field("keyfile-pass", t("The key file's passphrase"), { type: "password", autocomplete: "off", required: true }),
        field("keyfile-new-pass", t("Passphrase for this browser (8+ characters)"), { type: "password", autocomplete: "new-password", required: true }),
      ], t("Import key file"), async (form) => {
        const file = form.elements.keyfile.files?.[0];
        if (!file) throw new Error(t("choose the key file"));
        if (file.size > 4096) throw new Error(t("that is not a key file (too large)"));
        let doc;
        try { doc = JSON.parse(await file.text()); } catch { throw new Error(t("that is not a key file (not JSON)")); }
        const { seed, address } = await openKeyfile(doc, form.elements["keyfile-pass"].value);
        const key = await wallet.keyFromSeed(seed);
        if (key.address !== address) throw new Error(t("the key file's address does not match its key"));
        await wallet.save(seed, form.elements["keyfile-new-pass"].value);
        seed.fill(0);
        render();
      }));
  } else if (now.status === "locked") {
    body.push(el("p", {}, tn("Key for {account} is stored here, locked.", { account: accountLink(now.address) })),
      actionForm({ id: "wallet-unlock" }, [field("unlock-pass", t("Passphrase"), { type: "password", autocomplete: "current-password", required: true })],
        t("Unlock"), async (form) => { await wallet.unlock(form.elements["unlock-pass"].value); render(); }),
      el("button", { type: "button", class: "danger", onclick: () => { if (confirm(t("Delete the key from this browser? Without a copy of the seed its funds are lost."))) { wallet.forget(); render(); } } }, t("Forget this key")));
  } else {
    body.push(...await unlockedView(now.address));
  }
  replace(page.main, heading(t("Wallet"), " ", badge(now.status === "unlocked" ? t("unlocked") : now.status === "locked" ? t("locked") : t("no key"), now.status === "unlocked" ? "ok" : "")), body);
  page.main.dataset.wallet = now.status; // "none" | "locked" | "unlocked", whatever the language
}

async function unlockedView(address) {
  const account = await rpc("account_get", { address });
  const balances = el("div", { id: "wallet-balances" });
  const showBalances = (found) => replace(balances, Object.entries(found.balances || {}).map(([asset, value]) => el("div", {}, amount(value, asset))));
  showBalances(account);
  const parts = [
    fields([
      [t("Address"), accountLink(address, address)],
      [t("Name"), account.profile?.name ?? t("not registered")],
      [t("Balances"), balances],
    ]),
    el("p", {}, el("button", { type: "button", onclick: () => { wallet.lock(); render(); } }, t("Lock"))),
  ];
  if (!account.registered) {
    parts.push(el("h2", {}, t("Register")), el("p", {}, t("A display name is needed before buying or selling.")),
      actionForm({ id: "wallet-register" }, [field("reg-name", t("Display name"), { required: true, maxlength: 64 })], t("Register"), async (form) => {
        const name = form.elements["reg-name"].value.trim();
        await wallet.send("register", { name, commitment: await wallet.textHash(`${crypto.randomUUID()}:${name}`) });
        render();
      }));
  }
  parts.push(el("h2", {}, t("Back up the key")),
    el("p", {}, t("Whoever has the seed controls the account. Write it down somewhere safe; this browser's copy goes if its storage is cleared.")),
    actionForm({ id: "wallet-backup" }, [field("backup-pass", t("Passphrase"), { type: "password", autocomplete: "current-password", required: true })],
      t("Show seed"), async (form) => el("code", { class: "wrap", id: "backup-seed" }, await wallet.revealSeed(form.elements["backup-pass"].value))),
    el("p", {}, tn("Or save it as a key file, sealed under a passphrase of its own, for another browser or the command line ({command}).",
      { command: el("code", {}, "marketnode wallet import FILE") })),
    actionForm({ id: "wallet-export" }, [
      field("export-pass", t("Wallet passphrase"), { type: "password", autocomplete: "current-password", required: true }),
      field("export-file-pass", t("Passphrase for the key file (8+ characters)"), { type: "password", autocomplete: "new-password", required: true }),
    ], t("Save key file"), async (form) => {
      const filePass = form.elements["export-file-pass"].value;
      if (filePass.length < 8) throw new Error(t("choose a key file passphrase of at least 8 characters"));
      const seed = fromHex(await wallet.revealSeed(form.elements["export-pass"].value));
      const doc = await sealKeyfile(seed, address, filePass);
      seed.fill(0);
      const blob = new Blob([JSON.stringify(doc, null, 2) + "\n"], { type: "application/json" });
      const save = el("a", { href: URL.createObjectURL(blob), download: `marketnode-key-${address.slice(0, 10)}.json`, id: "export-link" }, t("Download the key file"));
      save.click();
      return tn("Key file ready: {link}", { link: save });
    }));
  parts.push(el("h2", {}, t("Testnet funds")), actionForm({ id: "wallet-faucet" }, [], t("Ask the faucet"), async () => {
    const result = await rpc("dev_faucet", { address, wait: "commit" });
    showBalances(await rpc("account_get", { address }));
    return tn("Received {amount}.", { amount: amount(result.amount, result.asset) });
  }));
  return parts;
}

// --- actions on other pages -----------------------------------------------------------------------

// `sentence(link)` says what the link to the wallet is for ("{wallet} to buy from this browser.").
function unlockHint(sentence) {
  const now = wallet.state();
  return el("p", { class: "hint" }, now.status === "unlocked" ? null
    : sentence(link("#/wallet", now.status === "none" ? t("Set up a wallet") : t("Unlock your wallet"))));
}

// Buy form for a listing page (or a hint how to get one).
export function buyForm(listing) {
  const me = wallet.current();
  if (!listing.available) return null;
  if (!me) return unlockHint((wallet) => tn("{wallet} to buy from this browser.", { wallet }));
  if (me.address === listing.seller) return el("p", { class: "hint" }, t("This is your listing."));
  const arbiters = listing.shop_info?.arbiters ?? [];
  const select = el("select", { id: "buy-arbiter", name: "arbiter" },
    arbiters.map((a) => arbiterOption(a)), el("option", { value: "" }, t("no arbiter (no disputes)")));
  const physical = listing.type === "physical";
  const regions = listing.regions ?? [];
  const delivery = !physical ? [] : [
    regions.length ? el("div", { class: "field" }, el("label", { for: "buy-region" }, t("Your region (ships to {regions} only)", { regions: regions.join(", ") })),
      el("select", { id: "buy-region", name: "region", required: true }, el("option", { value: "" }, t("choose…")), regions.map((r) => el("option", { value: r }, r)))) : null,
    el("div", { class: "field" }, el("label", {},
      el("input", { type: "checkbox", id: "buy-address-agreed", name: "addressAgreed", required: true }),
      " ", tn("I have agreed the shipping address with the seller (the browser cannot seal an address yet; the command line can: {option})", { option: el("code", {}, "--address") }))),
  ];
  return actionForm({ id: "buy-form", "aria-label": t("Buy") }, [
    field("buy-quantity", t("Quantity"), { type: "number", min: 1, max: String(listing.stock), value: "1", required: true }),
    el("div", { class: "field" }, el("label", { for: "buy-arbiter" }, t("Arbiter for disputes")), select),
    ...delivery,
    ...termsFields(listing),
    el("p", { class: "hint" }, t("The total moves into escrow until you confirm receipt.")),
  ], t("Buy now"), async (form) => {
    const quantity = BigInt(form.elements["buy-quantity"].value || "1");
    const arbiter = form.elements.arbiter.value;
    const problem = deliveryProblem(listing, { region: form.elements.region?.value, addressAgreed: form.elements.addressAgreed?.checked });
    if (problem) throw new Error(problem);
    if (!arbiter && !confirm(t("No arbiter: this order can never be disputed, and nobody can rule if what arrives is wrong. Place it anyway?"))) {
      return t("Not placed: choose an arbiter for disputes.");
    }
    const result = await wallet.send("order_place", {
      listing: listing.id, quantity, max_total: BigInt(listing.price) * quantity,
      arbiter: arbiter ? await publicKeyOf(arbiter) : undefined, address_seller: new Uint8Array(0),
      ...(await termsOrder(listing, form, quantity)),
    });
    const placed = result.receipt.events.find((e) => e.kind === "order_placed");
    navigate(`#/order/${placed.attrs.order}`);
  });
}

function arbiterOption(address) {
  const option = el("option", { value: address }, shortAddress(address));
  displayName(address).then((name) => { if (name) option.textContent = `${name} (${shortAddress(address)})`; });
  return option;
}

const RATINGS = ["overall", "quality", "accuracy", "delivery", "service"];

export const FINISHED = new Set(["completed", "declined", "cancelled", "refunded", "resolved", "settled"]);

// What the unlocked account may do to this order now; null when nobody could do anything to it any more.
export function orderActions(order) {
  const me = wallet.current();
  const reviewable = order.status === "completed" && !order.review;
  if (FINISHED.has(order.status) && !reviewable && (!me || ![order.buyer, order.seller, order.arbiter].includes(me.address))) return null;
  if (!me) return unlockHint((wallet) => tn("{wallet} to act on your orders from this browser.", { wallet }));
  const role = me.address === order.buyer ? "buyer" : me.address === order.seller ? "seller" : me.address === order.arbiter ? "arbiter" : null;
  if (!role) return null;
  const before = !order.deadline_ms || Date.now() < order.deadline_ms;
  const id = order.id;
  const act = (label, kind, body = {}) => actionForm({ class: "inline-action" }, [], label, async () => committedLine(await wallet.send(kind, { order: id, ...body })));
  const items = [];
  const s = order.status;
  if (role === "seller" && s === "placed" && before) items.push(act(t("Accept order"), "order_accept"));
  if (role === "seller" && ["placed", "accepted"].includes(s)) items.push(act(t("Decline (refund)"), "order_decline"));
  if (role === "buyer" && s === "placed") items.push(act(t("Cancel (refund)"), "order_cancel"));
  if (role === "seller" && s === "accepted" && before && order.type !== "digital") items.push(act(t("Mark shipped"), "order_ship"));
  if (role === "seller" && s === "accepted" && order.type === "digital") {
    items.push(el("p", { class: "hint" }, t("Ship digital orders from the command line: the content key must be sealed to the buyer.")));
  }
  if (role === "arbiter" && s === "disputed" && before) items.push(resolveForm(order));
  if (role === "buyer" && s === "shipped") items.push(act(t("Confirm receipt (release escrow)"), "order_confirm"));
  if ((role === "buyer" || role === "seller") && ["accepted", "shipped"].includes(s) && before && order.arbiter) {
    items.push(actionForm({ class: "inline-action" }, [field(`dispute-${id}`, t("Why (stored by the nodes for the arbiter; its hash goes on chain)"), { required: true })], t("Open dispute"),
      async (form) => committedLine(await wallet.send("order_dispute", { order: id, reason_hash: await wallet.putText(form.elements[`dispute-${id}`].value) }))));
  }
  if ((role === "buyer" || role === "seller") && s === "disputed" && before && order.dispute_by !== me.address && !order.response_hash) {
    items.push(actionForm({ class: "inline-action" }, [field(`respond-${id}`, t("Your answer to the dispute (stored by the nodes; its hash goes on chain)"), { required: true })], t("Answer dispute"),
      async (form) => committedLine(await wallet.send("order_respond", { order: id, response_hash: await wallet.putText(form.elements[`respond-${id}`].value) }))));
  }
  if (!before && order.deadlines?.claimable_by?.includes(role)) items.push(act(t("Claim (order becomes {next})", { next: orderStatus(order.deadlines.on_claim) }), "order_claim"));
  if (role === "buyer" && s === "completed" && !order.review) items.push(reviewForm(id));
  items.push(...commerceActions(order, role, me.address, { actionForm, field, committedLine }));
  if (!items.length) return el("p", { class: "hint" }, t("You are the {role}; nothing for you to do now.", { role: roleLabel(role) }));
  return el("div", { class: "actions", id: "order-actions" }, el("p", {}, t("You are the {role}.", { role: roleLabel(role) })), items);
}

function resolveForm(order) {
  const input = `resolve-${order.id}`;
  return actionForm({ class: "resolve-form", "aria-label": t("Rule on the dispute") }, [
    field(input, t("Refund to the buyer, in {asset} (the seller gets the rest after your fee)", { asset: order.asset }), { inputmode: "decimal", required: true }),
    field(`ruling-${order.id}`, t("Your written ruling (optional; stored by every node, its hash on chain)")),
  ], t("Rule"), async (form) => {
    const buyerAmount = parseUnits(form.elements[input].value, order.asset);
    if (buyerAmount === undefined) throw new Error(t("enter an amount such as 12.50"));
    const ruling = form.elements[`ruling-${order.id}`].value;
    const body = { order: order.id, buyer_amount: buyerAmount, ...(ruling ? { ruling_hash: await wallet.putText(ruling) } : {}) };
    return committedLine(await wallet.send("order_resolve", body));
  });
}

function reviewForm(id) {
  const selects = RATINGS.map((name) => el("div", { class: "field" }, el("label", { for: `rate-${name}` }, ratingName(name)),
    el("select", { id: `rate-${name}`, name }, [5, 4, 3, 2, 1].map((n) => el("option", { value: n }, `${n} ★`)))));
  return actionForm({ class: "review-form", "aria-label": t("Review") }, [el("div", { class: "filter-grid" }, selects),
    field(`review-text-${id}`, t("Your review (stored by every node; its hash goes on chain)")),
    el("div", { class: "field" }, el("label", { for: `review-photo-${id}` }, t("A photo of what you received (optional; JPEG, PNG or WebP up to 2 MiB)")),
      el("input", { id: `review-photo-${id}`, name: `review-photo-${id}`, type: "file", accept: "image/jpeg,image/png,image/webp" }))], t("Post review"), async (form) => {
    const ratings = Object.fromEntries(RATINGS.map((name) => [name, Number(form.elements[name].value)]));
    const text = form.elements[`review-text-${id}`].value;
    const file = form.elements[`review-photo-${id}`].files?.[0];
    const photo = file ? await wallet.putContent(wallet.stripMetadata(new Uint8Array(await file.arrayBuffer())), "image") : undefined;
    const textHash = text ? await wallet.putText(text) : await wallet.textHash(text);
    return committedLine(await wallet.send("review", { order: id, ratings, text_hash: textHash, ...(photo ? { photo } : {}) }));
  });
}

route("/wallet", walletPage);
