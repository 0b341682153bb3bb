"""The web app's language (i18n.js, messages-en.js, messages-zh.js) under Node.js (issue 15.13): the browser's
language by default, {names} filled in, every text a page shows is a catalog key, and every catalog has every key.

The catalog checks read the modules' source with a small lexer (js_literals.py): a literal a person would read
(a phrase, a capitalised word, a word in a badge, notice, heading, error, dialog, visible attribute or an element's
children) must be the literal first argument of t()/tn(), which is a key of messages-en.js, which messages-zh.js
translates with the same {names}.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from js_literals import is_key, literals, reads_as_text

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

CATALOG_FILES = ("i18n.js", "messages-en.js", "messages-zh.js")
MODULES = sorted(p.name for p in STATIC_DIR.glob("*.js") if p.name not in CATALOG_FILES)

SCRIPT = """
const i18n = await import(process.argv[1] + "/i18n.js");
const { EN } = await import(process.argv[1] + "/messages-en.js");
const { ZH_CN } = await import(process.argv[1] + "/messages-zh.js");
const input = JSON.parse(process.argv[2]);
const out = { browser: input.browsers.map((langs) => i18n.fromBrowser(langs)), default: i18n.locale(), en_keys: Object.keys(EN),
  zh: Object.fromEntries(Object.keys(ZH_CN).map((k) => [k, ZH_CN[k]])), en: Object.fromEntries(Object.keys(EN).map((k) => [k, EN[k]])) };
i18n.setLocale("zh-CN");
out.zh_texts = input.texts.map(([text, vars]) => i18n.t(text, vars));
out.zh_parts = i18n.tn("Key for {account} is stored here, locked.", { account: { node: "link" } });
i18n.setLocale("en");
out.en_texts = input.texts.map(([text, vars]) => i18n.t(text, vars));
console.log(JSON.stringify(out));
"""


def run(browsers=(), texts=()):
    payload = json.dumps({"browsers": list(browsers), "texts": list(texts)})
    out = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(STATIC_DIR), payload],
                         capture_output=True, text=True, timeout=30, check=True, env={"LANG": "C"})
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def catalogs():
    return run()


def test_language_from_the_browser_and_placeholders_filled_in():
    texts = [["{n} in stock", {"n": 3}], ["Marketplace", {}], ["a text nobody translated", {}], ["{n} sold", {}]]
    out = run([["zh-TW", "en"], ["en-GB"], ["fr", "zh-CN"], ["de"], []], texts)
    assert out["browser"] == ["zh-CN", "en", "zh-CN", "en", "en"]
    assert out["zh_texts"] == ["库存 3 件", "市场", "a text nobody translated", "已售 {n} 件"]
    assert out["en_texts"] == ["3 in stock", "Marketplace", "a text nobody translated", "{n} sold"]
    # tn() keeps a node given for a {name} as a node, in the place the translation puts it
    assert out["zh_parts"] == [{"node": "link"}, " 的密钥保存在这里\uff0c已锁定。"]


def keys_used() -> dict[str, str]:
    """Every t()/tn() key in the modules and data-i18n text in index.html -> where it is used."""
    used = {}
    for name in MODULES:
        for lit in literals((STATIC_DIR / name).read_text()):
            if is_key(lit):
                used.setdefault(lit.text, f"{name}:{lit.line}")
    page = (STATIC_DIR / "index.html").read_text()
    for text in re.findall(r"data-i18n>([^<]+)<", page) + re.findall(r'aria-label="([^"]+)" data-i18n-label', page):
        used.setdefault(text, "index.html")
    return used


def test_no_page_shows_a_literal_that_is_not_a_catalog_key():
    shown = [f"{name}:{lit.line}: {lit.text!r}" for name in MODULES
             for lit in literals((STATIC_DIR / name).read_text()) if reads_as_text(lit)]
    assert shown == [], "texts a person reads must go through t() (node/web/static/i18n.js):\n" + "\n".join(shown)


def test_every_key_is_a_literal_and_in_the_english_catalog(catalogs):
    dynamic = [f"{name}:{n + 1}: {line.strip()}" for name in MODULES
               for n, line in enumerate((STATIC_DIR / name).read_text().splitlines())
               if re.search(r"(?<![\w.$])tn?\((?!\s*\")(?!\))", line) and "data-i18n" not in line]  # those: index.html
    assert dynamic == [], "a t() key must be a string literal, so this check can see it:\n" + "\n".join(dynamic)
    used = keys_used()
    assert len(used) > 500
    missing = {key: where for key, where in used.items() if key not in catalogs["en"]}
    assert missing == {}, "keys missing from messages-en.js"
    unused = set(catalogs["en"]) - set(used)
    assert unused == set(), "messages-en.js keys no page uses any more"


def test_the_chinese_catalog_has_every_english_key_with_the_same_placeholders(catalogs):
    en, zh = catalogs["en"], catalogs["zh"]
    assert sorted(set(en) - set(zh)) == [], "keys messages-zh.js lacks"
    assert sorted(set(zh) - set(en)) == [], "messages-zh.js keys that are not in messages-en.js"
    names = re.compile(r"\{(\w+)\}")
    differ = {key: (en[key], zh[key]) for key in en if sorted(names.findall(en[key])) != sorted(names.findall(zh[key]))
              or sorted(names.findall(key)) != sorted(names.findall(en[key]))}
    assert differ == {}
    # a translation, not a copy: texts with words in them read differently in Chinese (codes and names aside)
    copied = [key for key in en if re.search(r"[a-z]{3}", names.sub("", key)) and zh[key] == en[key]]
    assert copied == []


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.untagged: list[str] = []

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        for name in ("aria-label", "title", "alt", "placeholder"):  # words in an attribute: translated by app.js
            if re.search(r"[A-Za-z]{2,}", named.get(name) or "") and "data-i18n-label" not in named:
                self.untagged.append(f"{tag} {name}={named[name]}")
        marked = "data-i18n" in named or tag == "noscript" or any(m for _, m in self.stack)
        if tag not in ("img", "meta", "link", "br"):
            self.stack.append((tag, marked))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        inside = [t for t, _ in self.stack]
        marked = any(m for _, m in self.stack)
        if "body" in inside and re.search(r"[A-Za-z]{2,}", data) and not marked and data.strip() != "marketnode":
            self.untagged.append(data.strip())  # (the name reads the same in every language)


def test_every_text_of_the_page_frame_is_marked_for_translation():
    parser = _Texts()
    parser.feed((STATIC_DIR / "index.html").read_text())
    assert parser.untagged == []


# --- the checks themselves can fail ------------------------------------------------------------------------

SHOWN = """
el("th", {}, "Height");
badge("active", "ok");
notice(`Found ${n} items`);
el("option", { value: "order" }, "order");
fields([["Owner", x]]);
el("input", { placeholder: "e.g. art" });
throw new Error("wrong passphrase");
const REASONS = { popular: "Popular now" };
"""
NOT_SHOWN = """
import { t } from "./i18n.js";
el("th", {}, t("Height"));
el("div", { class: "card listing-card", id: "x" });
rpc("listing_get", { listing: 1 });
if (status === "completed") go(`#/order/${id}`);
document.querySelector("nav.site a");
el("code", {}, `marketnode order place ${id} --quantity 1`);
console.warn("refresh failed", error); // a comment with Words In It
const re = /"quoted" words/;
"""


def test_the_literal_check_tells_shown_texts_from_code():
    assert [lit.text for lit in literals(SHOWN) if reads_as_text(lit)] == [
        "Height", "active", "Found {} items", "order", "Owner", "e.g. art", "wrong passphrase", "Popular now"]
    assert [lit.text for lit in literals(NOT_SHOWN) if reads_as_text(lit)] == []
    assert [lit.text for lit in literals(NOT_SHOWN) if is_key(lit)] == ["Height"]


FORMAT_SCRIPT = """
class FakeNode {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; this.dataset = {}; }
  setAttribute(name, value) { this.attrs[name] = value; }
  append(...children) { this.children.push(...children); }
  addEventListener() {}
  get textContent() { return this.children.map((c) => (c instanceof FakeNode ? c.textContent : String(c))).join(""); }
}
globalThis.Node = FakeNode;
globalThis.document = { createElement: (tag) => new FakeNode(tag), documentElement: {} };
const i18n = await import(process.argv[1] + "/i18n.js");
i18n.setLocale(process.argv[2]);  // before format.js is loaded, as on a page (a switch reloads it)
const f = await import(process.argv[1] + "/format.js");
console.log(JSON.stringify({ time: f.time(Date.UTC(2026, 11, 2, 6, 40, 0)).textContent, units: f.formatUnits(123456789n, 2),
  duration: f.formatDuration(90061), ago: f.ago(Date.UTC(2026, 11, 2, 3), Date.UTC(2026, 11, 2, 6)),
  stars: f.stars(4.25).textContent, hint: f.amount(5n, "X").attrs.title }));
"""


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", {"time": "Dec 2, 2026, 6:40:00 AM", "units": "1,234,567.89", "duration": "1 day 1 hr", "ago": "3 hours ago",
            "stars": "★★★★☆ 4.3", "hint": "5 smallest units"}),
    ("zh-CN", {"time": "2026年12月2日 06:40:00", "units": "1,234,567.89", "duration": "1天 1小时", "ago": "3小时前",
               "stars": "★★★★☆ 4.3", "hint": "5 个最小单位"}),
])
def test_dates_amounts_and_durations_follow_the_chosen_language(lang, expected):
    out = subprocess.run(["node", "--input-type=module", "-e", FORMAT_SCRIPT, str(STATIC_DIR), lang],
                         capture_output=True, text=True, timeout=30, check=True, env={"LANG": "C", "TZ": "UTC"})
    assert json.loads(out.stdout) == expected
