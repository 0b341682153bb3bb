"""The key set page (keys.js): every text it shows goes through t() and has its zh-CN translation, and the
catalog merge keeps the main catalog's texts (run under Node.js, no browser)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

SCRIPT = """
const i18n = await import(process.argv[1] + "/i18n.js");
const texts = JSON.parse(process.argv[2]);
i18n.setLocale("zh-CN");
console.log(JSON.stringify({ missing: i18n.untranslated("zh-CN", texts), market: i18n.t("Market"),
  filled: i18n.t("{k} of {n} keys for: {policy}", { k: 2, n: 3, policy: "x" }) }));
"""


def test_every_text_of_the_keys_page_has_its_chinese() -> None:
    texts = sorted(set(re.findall(r'\bt\("((?:[^"\\]|\\.)*)"', (STATIC_DIR / "keys.js").read_text())))
    assert len(texts) > 15 and "Rotate key" in texts
    done = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(STATIC_DIR), json.dumps(texts)],
                          capture_output=True, text=True, timeout=30, check=True, env={"LANG": "C"})
    out = json.loads(done.stdout)
    assert out == {"missing": [], "market": "市场", "filled": "3 把密钥中需 2 把，适用于：x"}  # noqa: RUF001


def test_the_keys_page_shows_no_untranslated_literal_text() -> None:
    """Text nodes are t(...) calls: a bare English string literal passed to el() would stay English."""
    source = (STATIC_DIR / "keys.js").read_text()
    bare = re.findall(r'el\("(?:p|h2|button|label|li)", \{[^}]*\}, "([^"]+)"', source)
    assert bare == []
