// The order page's after-sales actions for the unlocked account: offer or accept a mutual refund, ask to
// return a completed order, and every step of a return (docs/MARKET.md's return table). walletui.js's
// orderActions adds them to its own; the forms and the status line are its helpers, passed in as `ui`.

import { decimalsOf, el, formatUnits, parseUnits } from "./format.js";
import { t } from "./i18n.js";
import * as wallet from "./wallet.js";

const REFUNDABLE = new Set(["accepted", "shipped", "disputed"]);

const units = (value, asset) => `${formatUnits(value, decimalsOf(asset))} ${asset}`;
const RETURN_STATUS = {
  requested: t("requested"), accepted: t("accepted"), disputed: t("disputed"), returning: t("on its way back"),
  owed: t("owed"), refunded: t("refunded"), rejected: t("rejected"), lapsed: t("lapsed"),
};
const returnStatus = (word) => RETURN_STATUS[word] ?? String(word ?? "");

export function commerceActions(order, role, me, ui) {
  const { actionForm, field, committedLine } = ui;
  const id = order.id;
  const send = async (kind, body) => committedLine(await wallet.send(kind, { order: id, ...body }));
  const button = (label, kind, body = {}) => actionForm({ class: "inline-action" }, [], label, () => send(kind, body));
  const items = [];
  const party = role === "buyer" || role === "seller";
  const offer = order.refund_offer;
  if (party && REFUNDABLE.has(order.status)) {
    if (offer && offer.status === order.status && offer.by !== me) {
      items.push(button(t("Accept the refund offer: {amount} back to the buyer", { amount: units(offer.buyer_amount, order.asset) }),
        "order_refund_accept", { buyer_amount: BigInt(offer.buyer_amount) }));
    }
    items.push(actionForm({ class: "inline-action", id: `refund-offer-${id}` }, [
      field(`refund-${id}`, t("Offer to settle: the amount back to the buyer, in {asset}", { asset: order.asset }), { inputmode: "decimal", required: true }),
    ], t("Offer refund"), async (form) => {
      const amount = parseUnits(form.elements[`refund-${id}`].value, order.asset);
      if (amount === undefined) throw new Error(t("enter an amount such as 12.50"));
      return send("order_refund_offer", { buyer_amount: amount });
    }));
  }
  const ret = order.return;
  const now = Date.now();
  if (!ret && role === "buyer" && order.status === "completed" && order.return_until_ms && now < Number(order.return_until_ms)) {
    items.push(actionForm({ class: "inline-action", id: `return-request-${id}` }, [
      field(`return-reason-${id}`, t("Why you return it (stored by the nodes; its hash goes on chain)"), { required: true }),
    ], t("Ask to return it"), async (form) => send("return_request", { reason_hash: await wallet.putText(form.elements[`return-reason-${id}`].value) })));
  }
  if (!ret) return items;
  items.unshift(el("p", { class: "return-status" }, t("Return: {status}; refund {refund}, paid {paid}, owed {owed}", {
    status: returnStatus(ret.status), refund: units(ret.refund, order.asset), paid: units(ret.paid, order.asset), owed: units(ret.owed, order.asset),
  })));
  const before = !ret.deadline_ms || now < Number(ret.deadline_ms);
  if (role === "seller" && ret.status === "requested" && before) {
    items.push(button(t("Accept the return"), "return_answer", { accept: true }), button(t("Refuse the return"), "return_answer", { accept: false }));
  }
  if (role === "arbiter" && ret.status === "disputed" && before) {
    items.push(button(t("Let the return go ahead"), "return_resolve", { accept: true }), button(t("Reject the return"), "return_resolve", { accept: false }));
  }
  if (role === "buyer" && ret.status === "accepted" && before) {
    items.push(actionForm({ class: "inline-action", id: `return-ship-${id}` }, [
      field(`return-tracking-${id}`, t("Tracking reference of the parcel back (only its hash goes on chain)"), { required: true }),
    ], t("Shipped back"), async (form) => send("return_ship", { tracking_hash: await wallet.textHash(form.elements[`return-tracking-${id}`].value) })));
  }
  if (role === "seller" && ret.status === "returning") items.push(button(t("The goods came back: pay the refund"), "return_receive"));
  if (role === "buyer" && ret.status === "owed") items.push(button(t("Collect what the shop owes"), "return_collect"));
  if (!before && ret.deadlines?.claimable_by === role) items.push(button(t("Claim the return (it becomes {next})", { next: returnStatus(ret.deadlines.on_claim) }), "return_claim"));
  return items;
}
