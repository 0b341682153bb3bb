// Images and texts the chain references by sha256, fetched from this node and checked in the browser before
// they are shown: what is displayed is exactly the bytes the on-chain hash names, or a visible warning.

import { rpc } from "./api.js";
import { el, replace, shortHex } from "./format.js";
import { t } from "./i18n.js";

const checked = new Map(); // hash -> Promise<{state: "ok"|"missing"|"mismatch"|"error", ...}>

function toHex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function fetchChecked(hash) {
  let response;
  try {
    // Ask first whether the node holds it (a JSON answer, not a 404 the console would report as an error).
    const info = await rpc("content_info", { hash });
    if (!info.held) return { state: "missing", message: info.refused ? `refused: ${info.refused}` : info.wanted ? t("being fetched from peers") : t("not known here") };
    response = await fetch(`/content/${hash}`);
  } catch (error) {
    return { state: "error", message: String(error) };
  }
  if (response.status === 404) return { state: "missing", message: (await response.text()).trim() };
  if (!response.ok) return { state: "error", message: `HTTP ${response.status}` };
  const bytes = await response.arrayBuffer();
  const actual = toHex(await crypto.subtle.digest("SHA-256", bytes));
  if (actual !== hash) return { state: "mismatch", actual };
  return { state: "ok", bytes, type: response.headers.get("Content-Type") || "application/octet-stream" };
}

// The checked content of `hash` (one fetch per hash while it is held; a missing one is asked for again later).
export function loadContent(hash) {
  if (!checked.has(hash)) {
    const promise = fetchChecked(hash);
    checked.set(hash, promise);
    promise.then((result) => { if (result.state !== "ok" && result.state !== "mismatch") checked.delete(hash); });
  }
  return checked.get(hash);
}

function problem(result, hash, what) {
  if (result.state === "mismatch") {
    return el("span", { class: "content-problem bad", role: "alert" },
      t("⚠ Mismatch: this node served a {what} that does not hash to its on-chain hash {hash}; it is not shown.", { what, hash: shortHex(hash) }));
  }
  if (result.state === "missing") {
    return el("span", { class: "content-problem muted" }, t("The {what} (hash {hash}) is not on this node ({why}).", { what, hash: shortHex(hash), why: result.message }));
  }
  return el("span", { class: "content-problem muted" }, t("The {what} could not be loaded ({why}).", { what, why: result.message }));
}

function mark(node, hash, state) {
  node.dataset.content = state;
  node.dataset.hash = hash;
  return node;
}

// A text (review, reply, dispute statement, ruling) as a paragraph, or a warning in its place.
export function contentText(hash, { label = null, what = "text" } = {}) {
  const body = el("span", { class: "muted" }, t("loading…"));
  const node = mark(el("p", { class: "content-text" }, label ? el("strong", {}, label, " ") : null, body), hash, "pending");
  loadContent(hash).then((result) => {
    if (result.state === "ok") {
      replace(body, new TextDecoder("utf-8").decode(result.bytes));
      body.className = "";
    } else {
      replace(body, problem(result, hash, what));
    }
    mark(node, hash, result.state);
  });
  return node;
}

// An image shown from its checked bytes (a blob: URL of exactly those bytes), or a warning in its place.
export function contentImage(hash, { alt = "", className = "content-image" } = {}) {
  const node = mark(el("figure", { class: className }, el("span", { class: "muted" }, t("loading image…"))), hash, "pending");
  loadContent(hash).then((result) => {
    if (result.state === "ok" && result.type.startsWith("image/")) {
      const url = URL.createObjectURL(new Blob([result.bytes], { type: result.type }));
      replace(node, el("img", { src: url, alt, decoding: "async" }));
    } else {
      replace(node, problem(result.state === "ok" ? { state: "error", message: t("not an image") } : result, hash, "image"));
    }
    mark(node, hash, result.state);
  });
  return node;
}

// A card's thumbnail: the node's ?w=320 rendering for speed, shown only once the original image it was made
// from has been fetched and checked against the hash (a mismatch replaces it with a warning).
export function contentThumb(hash, alt = "") {
  const node = mark(el("div", { class: "thumb" }), hash, "pending");
  loadContent(hash).then((result) => {
    if (result.state === "ok") replace(node, el("img", { src: `/content/${hash}?w=320`, alt, loading: "lazy", decoding: "async" }));
    else replace(node, problem(result, hash, "image"));
    mark(node, hash, result.state);
  });
  return node;
}

// A listing's photos: the first large, every one selectable; each checked against its hash.
export function gallery(hashes, title) {
  if (!hashes?.length) return null;
  const main = el("div", { class: "gallery-main" }, contentImage(hashes[0], { alt: t("{title}, photo {n}", { title, n: 1 }) }));
  const strip = hashes.length > 1 ? el("ul", { class: "gallery-strip", "aria-label": t("Photos") }, hashes.map((hash, i) =>
    el("li", {}, el("button", {
      type: "button", class: "gallery-pick", "aria-label": t("Show photo {n}", { n: i + 1 }),
      onclick: () => replace(main, contentImage(hash, { alt: t("{title}, photo {n}", { title, n: i + 1 }) })),
    }, contentThumb(hash, t("{title}, photo {n}", { title, n: i + 1 })))))) : null;
  return el("section", { class: "gallery", "aria-label": t("Photos of the item"), dataset: { count: String(hashes.length) } }, main, strip);
}
