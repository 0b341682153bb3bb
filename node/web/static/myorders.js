// "My orders" (#/my-orders): the wallet owner's orders as buyer and as seller, what each waits on and until
// when, and the sales of the owner's shops. Read-only: acting on an order happens on its page (#/order/N).

import { rpcBatch } from "./api.js";
import { amount, el, heading, link, notice, replace, table, time } from "./format.js";
import { t } from "./i18n.js";
import { orderStatus, parties, role as roleLabel } from "./labels.js";
import { salesByShop, waitingOn } from "./myorders-rules.js";
import { failure, route } from "./router.js";
import * as wallet from "./wallet.js";

const PAGE = 100;

const ACTION_TEXT = {
  accept: () => t("accept or decline"), ship: () => t("ship"), confirm: () => t("confirm receipt or dispute"),
  rule: () => t("rule on the dispute"), claim: () => t("claim (the deadline passed)"),
};
const who = (party) => (party === "you" ? t("you") : parties(party === "either" ? ["buyer", "seller"] : party));

function waitingCell(order, role, nowMs) {
  const wait = waitingOn(order, role, nowMs);
  if (!wait.who) return el("span", { class: "muted" }, t("nothing: {status}", { status: orderStatus(order.status) }));
  const text = t("{who}: {action}", { who: who(wait.who), action: ACTION_TEXT[wait.action]() });
  return wait.who === "you" ? el("strong", {}, text) : text;
}

function orderRows(orders, role, nowMs) {
  return orders.map((o) => [link(`#/order/${o.id}`, `#${o.id}`), orderStatus(o.status), amount(o.total, o.asset),
    waitingCell(o, role, nowMs), time(o.deadline_ms)]);
}

async function myOrdersPage(page) {
  const me = wallet.state();
  if (me.status === "none") {
    replace(page.main, heading(t("My orders")), notice(t("Create or import a key on the wallet page to see your orders."), "info"),
      el("p", {}, link("#/wallet", t("Go to the wallet"))));
    return;
  }
  const [bought, sold, shops, status] = await rpcBatch([
    ["order_list", { buyer: me.address, limit: PAGE }], ["order_list", { seller: me.address, limit: PAGE }],
    ["shop_list", { owner: me.address, include_closed: true, limit: 50 }], ["node_status"],
  ]);
  if (!page.current) return;
  const nowMs = status.result ? Number(status.result.head_time_ms) : Date.now();
  const sections = [heading(t("My orders")), el("p", { class: "muted" }, t("As the chain sees them at its latest block; open an order to act on it."))];
  const asBuyer = bought.result?.items || [];
  const asSeller = sold.result?.items || [];
  const mine = [...asBuyer.map((o) => [o, "buyer"]), ...asSeller.map((o) => [o, "seller"])]
    .filter(([o, role]) => waitingOn(o, role, nowMs).who === "you");
  sections.push(el("h2", {}, t("Waiting on you")), mine.length
    ? table([t("Order"), t("Role"), t("Next step"), t("Deadline")], mine.map(([o, role]) => [
      link(`#/order/${o.id}`, `#${o.id}`), roleLabel(role), waitingCell(o, role, nowMs), time(o.deadline_ms)]))
    : notice(t("Nothing waits on you.")));
  const headers = [t("Order"), t("Status"), t("Total"), t("Waiting on"), t("Deadline")];
  for (const [title, answer, role] of [[t("As buyer"), bought, "buyer"], [t("As seller"), sold, "seller"]]) {
    sections.push(el("h2", {}, title));
    if (answer.error) sections.push(failure(answer.error));
    else if (!answer.result.items.length) sections.push(notice(t("No orders.")));
    else {
      sections.push(table(headers, orderRows(answer.result.items, role, nowMs)));
      if (answer.result.next_cursor) sections.push(notice(t("Showing the newest {n}.", { n: PAGE })));
    }
  }
  sections.push(el("h2", {}, t("My shops' sales")));
  const myShops = shops.result?.items || [];
  if (shops.error) sections.push(failure(shops.error));
  else if (!myShops.length) sections.push(notice(t("You have no shop.")));
  else {
    const names = new Map(myShops.map((s) => [s.id, s.name]));
    const rows = salesByShop(asSeller.filter((o) => names.has(o.shop)));
    sections.push(rows.length ? table([t("Shop"), t("Orders"), t("Completed"), t("Sold"), t("In escrow")], rows.map((r) => [
      link(`#/shop/${r.shop}`, names.get(r.shop)), String(r.orders), String(r.completed), amount(r.sold.toString(), r.asset),
      amount(r.escrow.toString(), r.asset)])) : notice(t("No sales yet.")));
  }
  replace(page.main, ...sections);
}

route("/my-orders", myOrdersPage);
