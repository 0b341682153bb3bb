// The inbox: the unlocked account's messages, opened in this browser and grouped by listing or order,
// with replies and new questions sealed here; the node only stores and forwards ciphertext.
// "Mark as read" (or a reply) signs a read marker that every node applies; the counts follow live.

import { follow, rpc } from "./api.js";
import { accountLink, badge, el, formatNumber, heading, link, notice, replace, time } from "./format.js";
import { fromHex, publicKeyOf } from "./proof.js";
import { openEnvelope, readMarker, sealEnvelope } from "./messages.js";
import { failure, route } from "./router.js";
import * as wallet from "./wallet.js";
import { t } from "./i18n.js";

const PAGE = 100;

// Every message of `address` on this node, oldest first, and the unread count.
export async function fetchInbox(address) {
  const items = [];
  let after = 0;
  let unread = 0;
  for (let pages = 0; pages < 50; pages++) {
    const page = await rpc("message_inbox", { address, after, limit: PAGE });
    items.push(...page.items);
    unread = page.unread;
    if (page.next_after === null || page.next_after === undefined) break;
    after = page.next_after;
  }
  return { items, unread };
}

async function openAll(items, key, chainId) {
  return Promise.all(items.map(async (item) => {
    try {
      const { text } = await openEnvelope(fromHex(item.envelope), key, chainId);
      return { ...item, text };
    } catch (error) {
      return { ...item, text: null, problem: error.message };
    }
  }));
}

function threadKey(item) {
  return `${item.about.kind}:${item.about.id}`;
}

function aboutLink(about) {
  return about.kind === "order" ? link(`#/order/${about.id}`, t("Order #{id}", { id: about.id })) : link(`#/listing/${about.id}`, t("Listing #{id}", { id: about.id }));
}

// Who a reply goes to: everyone in the thread but me.
function replyTo(thread, me) {
  const people = new Set();
  for (const m of thread) for (const a of [m.sender, ...m.to]) if (a !== me) people.add(a);
  return [...people];
}

async function send(key, chainId, to, about, text) {
  const keys = await Promise.all(to.map(publicKeyOf));
  const raw = await sealEnvelope(key, chainId, keys, [about.kind, about.id], text, Date.now());
  return rpc("message_send", { envelope: Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("") });
}

function messageView(m, me) {
  const mine = m.sender === me;
  const unread = !mine && !m.read;
  return el("li", { class: `message${mine ? " mine" : ""}${unread ? " unread" : ""}`, dataset: { id: m.id } },
    el("div", { class: "message-meta" }, mine ? t("You") : accountLink(m.sender), " · ", time(m.sent_ms),
      unread ? badge(t("new"), "warn") : null),
    m.text !== null ? el("p", { class: "message-text" }, m.text)
      : notice(t("This message cannot be read: {why}", { why: m.problem }), "error"));
}

function composer(id, label, onSend) {
  const status = el("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const box = el("textarea", { id, name: id, rows: 2, maxlength: 4096, required: true });
  const button = el("button", { type: "submit", class: "primary" }, t("Send"));
  const form = el("form", { class: "action-form composer" }, el("label", { for: id }, label), box, button, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    replace(status, t("Encrypting and sending…"));
    try {
      await onSend(box.value);
      box.value = "";
      replace(status, t("Sent, encrypted to its readers."));
    } catch (error) {
      replace(status, failure(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

async function inboxPage(page) {
  const now = wallet.state();
  const key = wallet.current();
  if (now.status !== "unlocked" || !key) {
    replace(page.main, heading(t("Inbox")), notice(t("Messages are encrypted to your key: unlock your wallet to read them."), "info"),
      el("p", {}, link("#/wallet", t("Go to the wallet"))));
    return;
  }
  const chainId = (await rpc("node_status")).chain_id;
  const me = key.address;
  const summary = el("p", { id: "inbox-summary", role: "status" });
  const threads = el("div", { id: "inbox-threads" });
  const ask = composer("new-message", t("New message (about an order or a listing)"), async (text) => {
    const kind = page.main.querySelector("#new-kind").value;
    const id = Number(page.main.querySelector("#new-id").value);
    if (!Number.isSafeInteger(id) || id < 1) throw new Error(t("give the number of the order or listing"));
    let to;
    if (kind === "listing") to = [(await rpc("listing_get", { listing: id })).seller];
    else {
      const order = await rpc("order_get", { order: id });
      to = [order.buyer, order.seller, order.dispute_by ? order.arbiter : null].filter((a) => a && a !== me);
    }
    await send(key, chainId, to, { kind, id }, text);
    await refresh();
  });
  ask.id = "write-form";
  ask.prepend(el("div", { class: "field-row" },
    el("label", { for: "new-kind" }, t("About")),
    el("select", { id: "new-kind" }, el("option", { value: "order" }, t("order")), el("option", { value: "listing" }, t("listing"))),
    el("label", { for: "new-id" }, t("number")), el("input", { id: "new-id", type: "number", min: 1, required: true })));
  replace(page.main, heading(t("Inbox")), summary, threads, el("h2", { id: "write" }, t("Write")), ask);
  const wanted = page.query.get("about");
  if (wanted === "listing" || wanted === "order") { // "Ask the seller" on a listing, "Message" on an order
    page.main.querySelector("#new-kind").value = wanted;
    page.main.querySelector("#new-id").value = page.query.get("id") || "";
  }

  async function refresh() {
    const { items, unread } = await fetchInbox(me);
    if (!page.current) return;
    const opened = await openAll(items, key, chainId);
    const groups = new Map();
    for (const m of opened) {
      if (!groups.has(threadKey(m))) groups.set(threadKey(m), []);
      groups.get(threadKey(m)).push(m);
    }
    const ordered = [...groups.values()].sort((a, b) => b.at(-1).seq - a.at(-1).seq);
    const messages = opened.length === 1 ? t("1 message") : t("{n} messages", { n: formatNumber(opened.length) });
    const conversations = ordered.length === 1 ? t("1 conversation") : t("{n} conversations", { n: formatNumber(ordered.length) });
    replace(summary, opened.length ? [t("{messages} in {conversations}", { messages, conversations }), " · "] : [t("No messages yet."), " "],
      el("strong", { id: "inbox-unread-count", dataset: { unread } }, t("{n} unread", { n: formatNumber(unread) })));
    replace(threads, ordered.map((thread) => {
      const about = thread[0].about;
      const unreadHere = thread.filter((m) => m.sender !== me && !m.read).length;
      const to = replyTo(thread, me);
      return el("section", { class: "thread", dataset: { about: threadKey(thread[0]) } },
        el("h2", {}, aboutLink(about), unreadHere ? badge(t("{n} unread", { n: formatNumber(unreadHere) }), "warn") : null,
          unreadHere ? el("button", { type: "button", class: "mark-read", onclick: () => markRead(thread).then(refresh) }, t("Mark as read")) : null),
        el("ul", { class: "messages" }, thread.map((m) => messageView(m, me))),
        to.length ? composer(`reply-${threadKey(thread[0]).replace(":", "-")}`, t("Reply"), async (text) => {
          await send(key, chainId, to, about, text);
          await markRead(thread);
          await refresh();
        }) : null);
    }));
  }

  async function markRead(thread) {
    const fresh = thread.filter((m) => m.sender !== me && !m.read).map((m) => m.id);
    if (!fresh.length) return;
    const marker = await readMarker(key, chainId, fresh, Date.now());
    await rpc("message_markRead", { marker: Array.from(marker, (b) => b.toString(16).padStart(2, "0")).join("") });
    document.dispatchEvent(new CustomEvent("marketnode:inbox-read"));
  }

  const live = follow("messages", { address: me }, refresh, 5000);
  page.onLeave(live.stop);
  try {
    await live.refresh();
  } catch (error) {
    replace(threads, failure(error));
  }
}

route("/inbox", inboxPage);
