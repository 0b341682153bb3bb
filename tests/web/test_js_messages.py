"""The web app's message crypto (messages.js) reproduces messages.json byte for byte and opens every vector
(run under Node.js's WebCrypto, no browser): the browser and the Python wallet speak one format."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "test-vectors" / "messages.json").read_text())

SCRIPT = """
const m = await import(process.argv[1] + "/messages.js");
const { fromHex, toHex } = await import(process.argv[1] + "/proof.js");
const vectors = JSON.parse(process.argv[2]);
const PKCS8_ED25519 = "302e020100300506032b657004220420";
async function account(seedHex) {
  const seed = fromHex(seedHex);
  const signingKey = await crypto.subtle.importKey("pkcs8", fromHex(PKCS8_ED25519 + seedHex), { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", signingKey);
  const publicKey = Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  return { seed, signingKey, publicKey, boxKey: await m.boxKeyFromSeed(seed) };
}
const out = { envelopes: [], marker: null, tampered: null, x25519: [] };
for (const c of vectors.envelopes) {
  const sender = await account(c.sender_seed);
  const to = await Promise.all(c.to_seeds.map(account));
  for (const r of c.readers) out.x25519.push([toHex(m.edToX25519(fromHex(r.account))), r.x25519]);
  const raw = await m.sealEnvelope(sender, vectors.chain_id, to.map((a) => a.publicKey), c.about, c.text, c.sent_ms,
    { ephemeralSecret: fromHex(c.ephemeral_secret), contentKey: fromHex(c.content_key), nonce: fromHex(c.nonce) });
  const opened = [];
  for (const reader of [sender, ...to]) opened.push((await m.openEnvelope(fromHex(c.envelope), reader, vectors.chain_id)).text);
  out.envelopes.push({ envelope: toHex(raw), id: await m.messageId(raw), opened });
}
const first = vectors.envelopes[0];
const bytes = fromHex(first.envelope);
bytes[bytes.length - 80] ^= 1;
try { await m.verifyEnvelope(bytes, vectors.chain_id); out.tampered = "accepted"; } catch (e) { out.tampered = e.message; }
const reader = await account(vectors.read_marker.reader_seed);
out.marker = toHex(await m.readMarker(reader, vectors.chain_id, vectors.read_marker.ids, vectors.read_marker.time_ms));
console.log(JSON.stringify(out));
"""


def test_browser_crypto_matches_the_message_vectors() -> None:
    done = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, STATIC_DIR.as_uri(), json.dumps(VECTORS)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for mine, expected in out["x25519"]:
        assert mine == expected
    for got, case in zip(out["envelopes"], VECTORS["envelopes"], strict=True):
        assert got["envelope"] == case["envelope"]
        assert got["id"] == case["id"]
        assert got["opened"] == [case["text"]] * (1 + len(case["to_seeds"]))
    assert out["tampered"] != "accepted"
    assert out["marker"] == VECTORS["read_marker"]["canonical"]
