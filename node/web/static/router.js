// Hash routing: "#/listing/12?sort=price" -> the page registered for "/listing/:id".
// Each page renders into <main>, gets its params and query, and registers clean-ups
// (subscriptions, timers) that run when the viewer leaves it.

import { el, heading, notice, replace } from "./format.js";
import { t, tn } from "./i18n.js";

const routes = [];
let cleanups = [];
let renderSeq = 0;

export function route(pattern, render) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => { names.push(name); return "([^/]+)"; });
  routes.push({ regex: new RegExp(`^${source}/?$`), names, render });
}

export function currentLocation() {
  const hash = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const [path, search = ""] = hash.split("?");
  return { path, query: new URLSearchParams(search) };
}

// Go to a route; the same route again renders afresh (a repeated search asks the node again).
export function navigate(target) {
  if (target === location.hash) render();
  else location.hash = target;
}

export function href(path, query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

// Shown in place of a page when it needs an RPC method this node does not have (yet).
export function failure(error) {
  if (error?.missingMethod) {
    return notice(t("This node does not offer the RPC method {method} yet, so this part cannot be shown. It appears once the node is upgraded; nothing is wrong with your request.", { method: error.method }), "warn");
  }
  if (error?.code === -32001) return notice(t("Not found: {what}", { what: error.message }), "warn");
  return notice(t("Could not load: {why}", { why: error?.message || error }), "error");
}

// On a route change focus moves to the new page's heading (screen readers announce it); on the
// first load it stays at the top, so Tab reaches the skip link and the menu first.
let firstRender = true;

export async function render() {
  const moveFocus = !firstRender;
  firstRender = false;
  for (const fn of cleanups.splice(0)) { try { fn(); } catch { /* page already gone */ } }
  const seq = ++renderSeq;
  const main = document.getElementById("main");
  const { path, query } = currentLocation();
  const top = `/${path.split("/")[1]}`; // "/listing/12" -> "/listing"
  for (const link of document.querySelectorAll("nav.site a")) {
    const current = (link.dataset.sections || "").split(" ").includes(top);
    if (current) link.setAttribute("aria-current", link.getAttribute("href") === `#${path}` ? "page" : "true");
    else link.removeAttribute("aria-current");
  }
  const match = routes.map((r) => ({ r, m: path.match(r.regex) })).find(({ m }) => m);
  if (!match) {
    replace(main, heading(t("Page not found")), el("p", {}, tn("No page at {path}.", { path: el("code", {}, path) }), " ", el("a", { href: "#/" }, t("Go to the marketplace"))));
    return;
  }
  const params = Object.fromEntries(match.r.names.map((name, i) => [name, decodeURIComponent(match.m[i + 1])]));
  replace(main, el("p", { class: "loading", role: "status" }, t("Loading…")));
  const page = {
    params,
    query,
    main,
    onLeave: (fn) => cleanups.push(fn),
    get current() { return seq === renderSeq; },
  };
  try {
    await match.r.render(page);
  } catch (error) {
    if (seq === renderSeq) replace(main, heading(t("Something went wrong")), failure(error));
    console.error(error);
  }
  if (moveFocus && seq === renderSeq && !main.contains(document.activeElement)) main.querySelector("h1")?.focus({ preventScroll: true });
}

// In-page anchors such as the skip link ("#main") are not routes: leave the page as it is.
const isRoute = () => !location.hash || location.hash.startsWith("#/");

export function start() {
  window.addEventListener("hashchange", () => { if (isRoute()) render(); });
  render();
}
