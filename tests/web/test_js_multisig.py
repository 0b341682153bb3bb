"""The web app's multi-signature signing (multisig.js) reproduces multisig.json byte for byte under Node.js:
the browser and the Python wallet make the same rotation and 2-of-2 txs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "test-vectors" / "multisig.json").read_text())

SCRIPT = """
const m = await import(process.argv[1] + "/multisig.js");
const { fromHex, toHex } = await import(process.argv[1] + "/proof.js");
const vectors = JSON.parse(process.argv[2]);
const PKCS8_ED25519 = "302e020100300506032b657004220420";
async function signer(seedHex) {
  const signingKey = await crypto.subtle.importKey("pkcs8", fromHex(PKCS8_ED25519 + seedHex), { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", signingKey);
  const publicKey = Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  return { publicKey, signingKey };
}
const out = [];
for (const c of vectors.valid) {
  const fields = c.fields;
  const unsigned = { ...fields, sender: fromHex(fields.sender) };
  if (unsigned.body.new_key) unsigned.body.new_key = fromHex(unsigned.body.new_key);
  if (unsigned.body.to) unsigned.body.to = fromHex(unsigned.body.to);
  const raw = await m.signWith(unsigned, await Promise.all(c.signer_seeds.map(signer)));
  out.push({ message: toHex(m.signingMessage(unsigned)), signed: toHex(raw) });
}
const own = await signer(vectors.valid[0].sender_seed);
const single = await m.signWith({ ...vectors.valid[1].fields, sender: own.publicKey, body: {} }, [own]);
out.push({ single_has_sig: toHex(single).includes("a3736967c440") });
console.log(JSON.stringify(out));
"""


def test_the_browser_signs_the_multisig_vectors_byte_for_byte() -> None:
    cases = [{**c, "fields": _fields(c)} for c in VECTORS["valid"]]
    done = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(STATIC_DIR), json.dumps({**VECTORS,
                          "valid": cases})], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for case, got in zip(VECTORS["valid"], out, strict=False):
        assert got == {"message": case["signing_message"], "signed": case["signed_canonical"]}, case["name"]
    assert out[-1] == {"single_has_sig": True}


def _fields(case: dict) -> dict:
    """The unsigned map as JSON the script rebuilds (bytes as hex, ints as numbers)."""
    from marketnode.core.encoding import decode

    fields = decode(bytes.fromhex(case["unsigned_canonical"]))
    body = {k: v.hex() if isinstance(v, bytes) else v for k, v in fields["body"].items()}
    return {**fields, "sender": fields["sender"].hex(), "body": body}
