// Notifications for the unlocked account: a toast for a new order (to its seller), a shipment (to its
// buyer), a dispute (to the other party) and a new message, and the unread count on the Inbox link.
// Live over the websocket topics `account` and `messages`; re-read on reconnect, so nothing is missed.

import { live, rpc } from "./api.js";
import { el, replace } from "./format.js";
import { toHex } from "./proof.js";
import * as wallet from "./wallet.js";
import { t } from "./i18n.js";

const TOAST_MS = 8000;
let stopAll = [];

function toast(text, href) {
  const region = document.getElementById("toasts");
  if (!region) return;
  const item = el("div", { class: "toast", role: "status" }, href ? el("a", { href }, text) : text,
    el("button", { type: "button", class: "toast-close", "aria-label": t("Dismiss"), onclick: () => item.remove() }, "×"));
  region.append(item);
  setTimeout(() => item.remove(), TOAST_MS);
}

async function showUnread(address) {
  const badgeNode = document.getElementById("inbox-unread");
  if (!badgeNode) return;
  try {
    const { unread } = await rpc("message_inbox", { address, limit: 1 });
    replace(badgeNode, unread ? String(unread) : "");
    badgeNode.setAttribute("aria-label", t("{n} unread", { n: unread }));
  } catch {
    replace(badgeNode, "");
  }
}

// What an account event means to `me` (public key hex: event attrs name accounts by key), or null: [text, link].
export function orderNotice(event, me) {
  const a = event.attrs || {};
  const order = a.order;
  if (event.kind === "order_placed" && a.seller === me) return [t("New order #{id}", { id: order }), `#/order/${order}`];
  if (event.kind === "order_shipped" && a.buyer === me) return [t("Order #{id} shipped", { id: order }), `#/order/${order}`];
  if (event.kind === "order_disputed") {
    // The node sends a dispute to its parties and its arbiter (not named in the attrs).
    const party = a.buyer === me || a.seller === me;
    return [party ? t("Order #{id} disputed", { id: order }) : t("Order #{id} disputed: you arbitrate", { id: order }), `#/order/${order}`];
  }
  return null;
}

function watch(address) {
  for (const stop of stopAll.splice(0)) stop();
  const badgeNode = document.getElementById("inbox-unread");
  if (!address) {
    if (badgeNode) replace(badgeNode, "");
    return;
  }
  const publicKeyHex = toHex(wallet.current().publicKey);
  showUnread(address);
  stopAll.push(live.subscribe("account", { address }, (status) => {
    if (status.status !== "committed") return;
    for (const event of status.events || []) {
      if (status.sender === address && event.kind !== "order_placed") continue; // my own action
      const found = orderNotice(event, publicKeyHex);
      if (found) toast(...found);
    }
  }));
  stopAll.push(live.subscribe("messages", { address }, (note) => {
    if (note.event === "message" && note.sender !== address) {
      const about = note.about.kind === "order" ? t("order #{id}", { id: note.about.id }) : t("listing #{id}", { id: note.about.id });
      toast(t("New message about {what}", { what: about }), "#/inbox");
    }
    showUnread(address);
  }));
  stopAll.push(live.onState((state) => { if (state === "open") showUnread(address); }));
  const onRead = () => showUnread(address);
  document.addEventListener("marketnode:inbox-read", onRead);
  stopAll.push(() => document.removeEventListener("marketnode:inbox-read", onRead));
}

export function startNotifications() {
  let watching = null;
  const update = (now) => {
    const address = now.status === "unlocked" ? now.address : null;
    if (address === watching) return;
    watching = address;
    watch(address);
  };
  wallet.onWalletChange(update);
  update(wallet.state());
}
