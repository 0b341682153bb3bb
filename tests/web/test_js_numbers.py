"""The web app's JSON parsing and formatting keep u64 amounts exact (run under Node.js, no browser).

JSON numbers above 2^53 lose digits in a plain JSON.parse; api.js's
parseJson must return them as exact BigInts, with and without the engine's
reviver source access (Node 20 has it behind a flag, so both paths run), and
format.js must show them, and times beyond any JavaScript Date, without throwing.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

# A tiny DOM: format.js builds elements; the test reads their text back.
SCRIPT = """
class FakeNode {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; this.dataset = {}; }
  setAttribute(name, value) { this.attrs[name] = value; }
  append(...children) { this.children.push(...children); }
  addEventListener() {}
  get textContent() { return this.children.map((c) => (c instanceof FakeNode ? c.textContent : String(c))).join(""); }
}
globalThis.Node = FakeNode;
globalThis.document = { createElement: (tag) => new FakeNode(tag) };
const api = await import(process.argv[1] + "/api.js");
const format = await import(process.argv[1] + "/format.js");
const input = JSON.parse(process.argv[2]);
const show = (v) => (typeof v === "bigint" ? { big: v.toString() } : v);
const out = {
  parsed: input.texts.map((text) => JSON.parse(JSON.stringify(api.parseJson(text), (k, v) => show(v)))),
  units: input.units.map(([value, decimals]) => format.formatUnits(BigInt(value), decimals)),
  times: input.times.map((ms) => format.time(BigInt(ms)).textContent),
};
console.log(JSON.stringify(out));
"""

TEXTS = [
    '{"price": 18446744073709551615, "low": 9223372036854775807, "high": 9223372036854775808}',
    '[9007199254740991, 9007199254740992, -9223372036854775808, 1234567890123456]',
    # digits inside strings, decimals and exponents stay as they are
    '{"title": "item 18446744073709551615 \\"quoted 99999999999999999\\"", "x": 1.5e300, "y": 12345678901234567.5}',
    '{"t": "\\u0000int12345678901234567890", "n": 12345678901234567890}',  # a string that looks like the mark
    '{"ok": true, "items": [], "next": null, "small": 42}',
]
EXPECTED = [
    {"price": {"big": str(2**64 - 1)}, "low": {"big": str(2**63 - 1)}, "high": {"big": str(2**63)}},
    [2**53 - 1, {"big": str(2**53)}, {"big": str(-(2**63))}, 1234567890123456],
    {"title": 'item 18446744073709551615 "quoted 99999999999999999"', "x": 1.5e300, "y": 12345678901234568},
    {"t": "\x00int12345678901234567890", "n": {"big": "12345678901234567890"}},
    {"ok": True, "items": [], "next": None, "small": 42},
]


@pytest.mark.parametrize("flags", [[], ["--harmony-json-parse-with-source"]], ids=["fallback", "reviver-source"])
def test_parse_json_keeps_every_u64_exact_and_format_shows_it(flags: list[str]) -> None:
    given = {"texts": TEXTS, "units": [[str(2**64 - 1), 0], [str(2**64 - 1), 2], [str(2**63), 18]],
             "times": [str(2**64 - 1), "1700000000000"]}
    done = subprocess.run(["node", *flags, "--input-type=module", "-e", SCRIPT, STATIC_DIR.as_uri(),
                           json.dumps(given)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["parsed"] == EXPECTED
    digits = [u.replace(",", "").replace(".", "") for u in out["units"]]
    assert digits == [str(2**64 - 1), str(2**64 - 1), str(2**63)]
    assert out["units"][1].endswith(".15")
    assert out["times"][0] == f"{2**64 - 1} ms after 1970"
    assert "2023" in out["times"][1]
