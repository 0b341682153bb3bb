// The web app's language: message catalogs and `t()`. English is the source text and the key, so a string
// nobody has translated yet shows in English; a catalog (messages-zh.js) maps English to another language.
// The language is the browser's by default and remembered once chosen (localStorage "marketnode.lang").
// No DOM here beyond <html lang> (tested under Node.js); dates and numbers take `locale()` (format.js).

import { ZH_CN } from "./messages-zh.js";
import { ZH_CN_KEYS } from "./messages-zh-keys.js";

export const LANGUAGES = [["en", "English"], ["zh-CN", "中文"]];
const CATALOGS = { en: {}, "zh-CN": { ...ZH_CN, ...ZH_CN_KEYS } };
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
  const translated = CATALOGS[locale()][text] ?? text;
  return translated.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// For tests and the screenshot tool: every English text that has no translation in `lang`.
export function untranslated(lang, texts) {
  return texts.filter((text) => !(text in CATALOGS[lang]));
}
