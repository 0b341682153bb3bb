// The web app's language: message catalogs and `t()`. The English text is the key: messages-en.js lists every
// key the pages use (and its English), messages-zh.js the same keys in Chinese; tests/web/test_js_i18n.py fails
// when a page shows a literal that is not a key, or a catalog lacks one.
// The language is the browser's by default and remembered once chosen (localStorage "marketnode.lang").
// No DOM here beyond <html lang> (tested under Node.js); dates and numbers take `locale()` (format.js).

import { EN } from "./messages-en.js";
import { ZH_CN } from "./messages-zh.js";

export const LANGUAGES = [["en", "English"], ["zh-CN", "中文"]];
const CATALOGS = { en: EN, "zh-CN": ZH_CN };
const STORE_KEY = "marketnode.lang";

let current = null;

// "zh-CN" or "en": the remembered choice, else the first of the browser's languages we have.
export function locale() {
  if (current) return current;
  let saved = null;
  try { saved = globalThis.localStorage?.getItem(STORE_KEY); } catch { /* storage blocked */ }
  current = CATALOGS[saved] ? saved : fromBrowser(globalThis.navigator?.languages ?? [globalThis.navigator?.language]);
  return current;
}

export function fromBrowser(languages) {
  for (const tag of languages || []) {
    const lower = String(tag || "").toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

// Remember `lang` and use it from now on (the caller re-renders).
export function setLocale(lang) {
  if (!CATALOGS[lang]) throw new Error(`no catalog for ${lang}`);
  current = lang;
  try { globalThis.localStorage?.setItem(STORE_KEY, lang); } catch { /* storage blocked: this page only */ }
  if (globalThis.document) document.documentElement.lang = lang;
}

// t("{n} in stock", {n: 3}) -> "3 in stock" / "库存 3 件": the text in the current language, {name}s filled in.
export function t(text, vars = {}) {
  return tn(text, vars).join("");
}

// Like t(), but a {name} may be a DOM node (a link, a <code>): returns the parts, strings and nodes, for el().
// tn("Import one from {file}.", {file: el("code", {}, "x.key")}) keeps the sentence whole for the translator.
export function tn(text, vars = {}) {
  const translated = CATALOGS[locale()][text] ?? EN[text] ?? text;
  return translated.split(/(\{\w+\})/).filter((part) => part !== "").map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (!name || !(name in vars)) return part;
    const value = vars[name];
    return typeof value === "object" && value !== null ? value : String(value);
  });
}
