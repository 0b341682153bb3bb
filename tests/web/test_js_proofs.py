"""The explorer's in-browser checks (node/web/static/proof.js) agree with core/smt.py and wallet/light.py (Node.js)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
VECTORS = Path(__file__).resolve().parents[2] / "docs" / "test-vectors" / "state.json"

SCRIPT = """
const { verifyStateProof, decodeCanonical, fromHex } = await import(process.argv[1] + "/proof.js");
const v = JSON.parse(process.argv[2]);
const out = [];
for (const c of v.proofs) {
  out.push({ kind: c.kind, ok: await verifyStateProof(v.root, c.key, c.value, c.proof),
             wrongValue: await verifyStateProof(v.root, c.key, c.value === null ? "00" : c.value + "00", c.proof),
             wrongRoot: await verifyStateProof("11".repeat(32), c.key, c.value, c.proof) });
}
const decoded = decodeCanonical(fromHex(process.argv[3]));
console.log(JSON.stringify({ out, decoded }, (k, x) => (typeof x === "bigint" ? x.toString() : x)));
"""


def run_node(script: str, *args: str) -> dict:
    done = subprocess.run(["node", "--input-type=module", "-e", script, str(STATIC_DIR), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_state_proofs_verify_in_javascript_exactly_as_the_vectors_say() -> None:
    from marketnode.core.encoding import encode

    vectors = json.loads(VECTORS.read_text())
    sample = {"code": "insufficient_funds", "events": [{"attrs": {"n": -3, "big": 2**63}, "kind": "x"}],
              "fee_paid": 300, "message": "é", "ok": False, "tx_hash": bytes(range(32))}
    result = run_node(SCRIPT, json.dumps(vectors), encode(sample).hex())
    assert [r["ok"] for r in result["out"]] == [True] * len(vectors["proofs"])
    assert not any(r["wrongValue"] or r["wrongRoot"] for r in result["out"])
    decoded = result["decoded"]
    assert decoded["code"] == "insufficient_funds" and decoded["ok"] is False and decoded["message"] == "é"
    assert decoded["tx_hash"] == bytes(range(32)).hex() and decoded["events"][0]["attrs"] == {"n": -3, "big": str(2**63)}
