"""The web app's language (i18n.js, messages-zh.js) under Node.js (issue 15.13): the browser's language by
default, English as the fallback for any text not translated yet, {names} filled in, and every text the
translated pages pass to t() has its zh-CN translation."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

# The pages whose every text goes through t() so far; the others still speak English only.
TRANSLATED = ("market.js", "router.js", "format.js", "app.js")

SCRIPT = """
const i18n = await import(process.argv[1] + "/i18n.js");
const input = JSON.parse(process.argv[2]);
const out = { browser: input.browsers.map((langs) => i18n.fromBrowser(langs)), default: i18n.locale() };
i18n.setLocale("zh-CN");
out.zh = input.texts.map(([text, vars]) => i18n.t(text, vars));
out.missing = i18n.untranslated("zh-CN", input.catalogue);
i18n.setLocale("en");
out.en = input.texts.map(([text, vars]) => i18n.t(text, vars));
console.log(JSON.stringify(out));
"""


def texts_of_translated_pages() -> list[str]:
    found = set()
    for name in TRANSLATED:
        source = (STATIC_DIR / name).read_text()
        found |= set(re.findall(r'\bt\("((?:[^"\\]|\\.)*)"', source))
    found |= set(re.findall(r"data-i18n>([^<]+)<", (STATIC_DIR / "index.html").read_text()))
    return sorted(found)


def run(browsers, texts, catalogue):
    payload = json.dumps({"browsers": browsers, "texts": texts, "catalogue": catalogue})
    out = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(STATIC_DIR), payload],
                         capture_output=True, text=True, timeout=30, check=True, env={"LANG": "C"})
    return json.loads(out.stdout)


def test_language_from_the_browser_fallback_to_english_and_placeholders():
    texts = [["{n} in stock", {"n": 3}], ["Marketplace", {}], ["a text nobody translated", {}], ["{n} sold", {}]]
    out = run([["zh-TW", "en"], ["en-GB"], ["fr", "zh-CN"], ["de"], []], texts, [])
    assert out["browser"] == ["zh-CN", "en", "zh-CN", "en", "en"]
    assert out["zh"] == ["库存 3 件", "市场", "a text nobody translated", "已售 {n} 件"]
    assert out["en"] == ["3 in stock", "Marketplace", "a text nobody translated", "{n} sold"]


def test_every_text_of_the_translated_pages_has_its_chinese():
    catalogue = texts_of_translated_pages()
    assert len(catalogue) > 60 and "Ships to" in catalogue and "Skip to content" in catalogue
    assert run([], [], catalogue)["missing"] == []
