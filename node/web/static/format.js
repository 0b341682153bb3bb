// Formatting and DOM helpers shared by every page: amounts in units, times in the viewer's locale,
// safe element building (text is never parsed as HTML).

import { locale, t } from "./i18n.js";

// In the chosen language (i18n.js), not only the browser's.
const dateTime = new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "medium" });
const relativeTime = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });

// el("a", {href: "#/x", class: "btn"}, "text", child, ...) -> HTMLElement
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function link(href, text, attrs = {}) {
  return el("a", { href, ...attrs }, text);
}

export function shortHex(hex, size = 8) {
  const text = String(hex ?? "");
  return text.length > 2 * size + 1 ? `${text.slice(0, size)}…${text.slice(-size)}` : text;
}

export function shortAddress(address) {
  const text = String(address ?? "");
  return text.length > 20 ? `${text.slice(0, 10)}…${text.slice(-6)}` : text;
}

// Account links show the short address at once and the account's display name once known.
let nameOf = null;
export function setNameResolver(resolve) {
  nameOf = resolve;
}

// The display name of an account, or null (resolves once the node answers).
export function displayName(address) {
  return nameOf ? nameOf(address).catch(() => null) : Promise.resolve(null);
}

export function accountLink(address, label) {
  if (!address) return el("span", { class: "muted" }, "—");
  const node = link(`#/account/${address}`, label || shortAddress(address), { class: label ? "" : "mono", title: address });
  if (!label && nameOf) {
    nameOf(address).then((name) => {
      if (name) { node.textContent = name; node.classList.remove("mono"); }
    }).catch(() => {});
  }
  return node;
}

export function hashLink(kind, hash) {
  return link(`#/${kind}/${hash}`, shortHex(hash), { class: "mono", title: hash });
}

// --- amounts -------------------------------------------------------------------------------

const assetInfo = new Map(); // asset id -> {decimals, name}

export function setAssets(list) {
  for (const item of list) assetInfo.set(item.asset ?? item.id, { decimals: Number(item.decimals ?? 0), name: item.name });
}

export function knownAssets() {
  return [...assetInfo.keys()].sort();
}

export function decimalsOf(asset) {
  return assetInfo.get(asset)?.decimals ?? 0;
}

// 123456n, 2 -> "1,234.56" (grouped in the viewer's locale, exact for any size).
export function formatUnits(value, decimals) {
  let units;
  try { units = BigInt(value); } catch { return String(value); }
  const negative = units < 0n;
  if (negative) units = -units;
  const scale = 10n ** BigInt(decimals);
  const whole = new Intl.NumberFormat(locale()).format(units / scale);
  let text = whole;
  if (decimals > 0) {
    // Up to 6 decimals are always shown in full (59.90 USDX); beyond that trailing zeros go.
    let fraction = (units % scale).toString().padStart(decimals, "0");
    if (decimals > 6) fraction = fraction.replace(/0+$/, "");
    const separator = new Intl.NumberFormat(locale()).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
    if (fraction) text += separator + fraction;
  }
  return (negative ? "-" : "") + text;
}

// "12.5" in units of `asset` -> smallest units as a BigInt (undefined when blank or not a number).
export function parseUnits(text, asset) {
  const match = String(text || "").trim().match(/^(\d+)(?:[.,](\d*))?$/);
  if (!match) return undefined;
  const decimals = decimalsOf(asset);
  const fraction = (match[2] || "").slice(0, decimals).padEnd(decimals, "0");
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction || "0");
}

// A count or measure in the chosen language's digits and grouping: formatNumber(1234.5, {maximumFractionDigits: 1}).
export function formatNumber(value, options = {}) {
  const n = Number(value);
  return Number.isFinite(n) ? new Intl.NumberFormat(locale(), options).format(n) : String(value ?? "—");
}

// Seconds as "3 h 25 min" / "3小时25分钟" (the largest two units).
export function formatDuration(seconds) {
  let rest = Math.max(0, Math.floor(Number(seconds) || 0));
  const parts = [];
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]]) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n || (unit === "second" && !parts.length)) parts.push(formatNumber(n, { style: "unit", unit, unitDisplay: "short" }));
  }
  return parts.slice(0, 2).join(" ");
}

// The chain keeps an arbiter's fixed fee as a count of the order's asset's smallest unit: what it is in each
// asset ("1.00 USDX / 100 MKT"), never the bare count.
export function fixedFee(units) {
  const assets = knownAssets();
  if (!assets.length) return formatUnits(units, 0);
  return assets.map((asset) => `${formatUnits(units, decimalsOf(asset))} ${asset}`).join(" / ");
}

export function amount(value, asset) {
  if (value === undefined || value === null) return el("span", { class: "muted" }, "—");
  return el("span", { class: "amount", title: t("{n} smallest units", { n: value }) },
    formatUnits(value, decimalsOf(asset)), " ", el("abbr", { class: "asset", title: assetInfo.get(asset)?.name || asset }, asset));
}

export function bps(value) {
  return `${formatUnits(value, 2)} %`;
}

// --- times ----------------------------------------------------------------------------------

// A block time (ms since 1970, a u64). Beyond JavaScript's dates (year 275760; the rules allow e.g. a KYC
// expiry of 2^64-1) it is shown as its exact number instead.
export function time(ms) {
  if (!ms) return el("span", { class: "muted" }, "—");
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) return el("time", { title: t("beyond any calendar date") }, t("{n} ms after 1970", { n: ms }));
  return el("time", { datetime: date.toISOString(), title: date.toISOString() }, dateTime.format(date));
}

export function ago(ms, now = Date.now()) {
  const seconds = Math.round((Number(ms) - now) / 1000);
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [Infinity, "day"]];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return relativeTime.format(value, unit);
    value = Math.round(value / size);
  }
  return "";
}

// --- common blocks of page ------------------------------------------------------------------

export function heading(text, ...extra) {
  return el("h1", { tabindex: "-1" }, text, ...extra);
}

export function table(headers, rows, caption) {
  return el("div", { class: "table-wrap" },
    el("table", {},
      caption ? el("caption", {}, caption) : null,
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c, i) => el("td", { "data-label": headers[i] }, c)))))));
}

export function fields(pairs) {
  return el("dl", { class: "fields" }, pairs.filter(Boolean).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

export function badge(text, kind = "") {
  return el("span", { class: `badge ${kind}` }, text);
}

export function notice(text, kind = "info") {
  return el("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function stars(value) {
  if (value === undefined || value === null) return el("span", { class: "muted" }, t("no ratings"));
  const n = Number(value);
  const rounded = Math.round(n);
  const shown = formatNumber(n, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return el("span", { class: "stars", "aria-label": t("{n} of 5 stars", { n: shown }) },
    "★".repeat(rounded) + "☆".repeat(Math.max(0, 5 - rounded)), ` ${shown}`);
}
