// Who an order waits on, for the "My orders" page: the market's order table (docs/MARKET.md) from one
// party's side. No DOM (tested under Node.js); the page turns the answer into words with t().
//
// waitingOn(order, role, nowMs) -> { who: "you" | "buyer" | "seller" | "arbiter" | "either" | null, action, claim }
//   who     the party that may act now (before the deadline the state's actor, from it the claimant)
//   action  what that party does next ("accept", "ship", "confirm", "rule", "claim"), null when finished
//   claim   true when the deadline has passed and `who` may claim

const ACTOR = { placed: "seller", accepted: "seller", shipped: "buyer", disputed: "arbiter" };
const ACTION = { placed: "accept", accepted: "ship", shipped: "confirm", disputed: "rule" };
const CLAIMANT = { placed: "buyer", accepted: "buyer", shipped: "seller", disputed: "either" }; // either: buyer or seller

export const OPEN = Object.keys(ACTOR);

export function waitingOn(order, role, nowMs) {
  const status = order.status;
  if (!(status in ACTOR)) return { who: null, action: null, claim: false };
  const late = order.deadline_ms !== null && order.deadline_ms !== undefined && nowMs >= Number(order.deadline_ms);
  const party = late ? CLAIMANT[status] : ACTOR[status];
  const mine = party === role || (party === "either" && (role === "buyer" || role === "seller"));
  return { who: mine ? "you" : party, action: late ? "claim" : ACTION[status], claim: late };
}

// Per shop and asset: how many orders, how many completed, the completed sales' total, what is in escrow now.
export function salesByShop(orders) {
  const shops = new Map();
  for (const order of orders) {
    const key = `${order.shop}/${order.asset}`;
    const row = shops.get(key) || { shop: order.shop, asset: order.asset, orders: 0, completed: 0, sold: 0n, escrow: 0n };
    row.orders += 1;
    if (order.status === "completed") { row.completed += 1; row.sold += BigInt(order.total); }
    if (order.status in ACTOR) row.escrow += BigInt(order.total);
    shops.set(key, row);
  }
  return [...shops.values()].sort((a, b) => a.shop - b.shop || (a.asset < b.asset ? -1 : 1));
}
