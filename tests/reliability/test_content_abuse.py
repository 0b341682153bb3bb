"""Issue 14's limits against real node processes: what was tried against the content store, and that the node
kept committing and serving meanwhile (docs/RELIABILITY.md "Content store abuse").

Oversized image and text, a non-image labelled as image, a 50-megapixel decompression bomb, a wrong hash, a
forged signature, an unregistered uploader, quota exhaustion; and a peer that answers content requests with
wrong bytes: it is penalised and the right bytes still arrive from an honest node.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from harness import RpcFailure, Testnet, wait_for
from PIL import Image
from waiting import wait_for_async

from marketnode.core.encoding import decode
from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx
from marketnode.core.upload import authorise_upload
from marketnode.node.content.fetch import chunk_reply
from marketnode.p2p.config import P2PConfig
from marketnode.p2p.host import P2PHost

sys.path.insert(0, str(Path(__file__).parents[1] / "content"))
from content_samples import padded_png, real_bomb_png

pytestmark = pytest.mark.integration

QUOTA_BLOBS = 8


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("content-abuse"), validators=4, timeout_ms=1000)
    for entry in testnet.entries.values():
        path = entry.home / "config.toml"
        text = path.read_text()
        assert "account_pending_blobs = 200" in text
        path.write_text(text.replace("account_pending_blobs = 200", f"account_pending_blobs = {QUOTA_BLOBS}"))
    testnet.start()
    for who in ("alice", "bob"):  # uploads are for registered accounts
        commit(testnet, who, "register", {"name": who.title(), "commitment": bytes(32)})
    yield testnet
    testnet.close()


def put(net: Testnet, via: str, who: str, data: bytes, kind: str | None = None, **over) -> dict:
    key = net.keys[who] if isinstance(who, str) else who
    auth = authorise_upload(key, net.chain_id, data, time.time_ns() // 1_000_000)
    params = {"hash": auth.hash.hex(), "data": base64.b64encode(data).decode(), "time_ms": auth.time_ms,
              "uploader": address_from_pubkey(key.public_key), "signature": auth.sig.hex(), **over}
    if kind:
        params["kind"] = kind
    return net.call(via, "content_put", timeout_s=30, **params)


def refusal(net: Testnet, via: str, who, data: bytes, kind: str | None = None, **over) -> dict:
    with pytest.raises(RpcFailure) as failed:
        put(net, via, who, data, kind, **over)
    return failed.value.error


def commit(net: Testnet, who: str, kind: str, body: dict, via: str = "validator-0") -> dict:
    key = net.keys[who]
    tx = Tx(net.chain_id, key.public_key, net.next_nonce(key, via), kind, body, 0).sign(key)
    result = net.send(tx, via=via, wait="commit")
    assert result["receipt"]["ok"], result
    return result


def fetch(net: Testnet, name: str, path: str) -> bytes | None:
    try:
        with urllib.request.urlopen(net.url(name).rstrip("/") + path, timeout=10) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def test_every_refusal_is_a_clear_error_and_the_node_keeps_working(net):
    v0 = "validator-0"
    figures = {}
    cases = {
        "too_large": (padded_png(2 * 1024 * 1024 + 1), "image"),
        "not_image": (b"%PDF-1.7 pretending to be a photo", "image"),
        "too_many_pixels": (real_bomb_png(10_000, 5_000), None),
        "not_text": (b"\x00\x01\x02 binary", None),
    }
    for reason, (data, kind) in cases.items():
        started = time.perf_counter()
        error = refusal(net, v0, "alice", data, kind)
        figures[reason] = (time.perf_counter() - started) * 1000
        assert error["code"] == -32000 and error["data"]["reason"] == reason, error
    assert refusal(net, v0, "alice", b"x" * (16 * 1024 + 1))["data"]["reason"] == "too_large"
    assert refusal(net, v0, "alice", b"one", hash=hashlib.sha256(b"two").hexdigest())["data"]["reason"] == "wrong_hash"
    assert refusal(net, v0, "alice", b"forged", signature="00" * 64)["data"]["reason"] == "bad_signature"
    assert refusal(net, v0, PrivateKey.generate(), b"anonymous")["data"]["reason"] == "not_registered"
    assert put(net, v0, "alice", padded_png(2 * 1024 * 1024), "image")["size"] == 2 * 1024 * 1024  # the edge fits
    assert put(net, v0, "alice", b"y" * (16 * 1024))["content_type"].startswith("text/plain")
    for i in range(QUOTA_BLOBS - 2):
        put(net, v0, "alice", b"quota filler %d" % i)
    quota = refusal(net, v0, "alice", b"one too many")
    assert quota["code"] == -32005 and quota["data"]["reason"] == "quota_blobs", quota
    print(f"\nrefusal latency (ms): { {k: round(v, 1) for k, v in figures.items()} }")
    # the bomb was never stored, and the node still commits and serves
    bomb_hash = hashlib.sha256(real_bomb_png(10_000, 5_000)).hexdigest()
    assert not net.call(v0, "content_info", hash=bomb_hash)["held"]
    commit(net, "alice", "transfer", {"to": net.keys["bob"].public_key, "asset": "MKT", "amount": 1})
    photo = io.BytesIO()
    Image.new("RGB", (1200, 900), (1, 2, 3)).save(photo, "JPEG")
    blob = put(net, v0, "bob", photo.getvalue(), "image")
    assert fetch(net, v0, blob["url"]) == photo.getvalue()
    started = time.perf_counter()
    thumb = fetch(net, v0, blob["url"] + "?w=320")
    print(f"first 320 px thumbnail of a 1200x900 JPEG: {(time.perf_counter() - started) * 1000:.1f} ms")
    assert Image.open(io.BytesIO(thumb)).size == (320, 240)


async def _rogue(net: Testnet, wrong: bytes, asked: list[bytes]) -> P2PHost:
    """A stranger peer that answers every content request with ``wrong``."""
    keys = [PrivateKey.load(net.entries[n].home / "node_key").public_key for n in net.validators]
    seeds = tuple(f"{k.hex()}@127.0.0.1:{net.p2p_port(n)}" for k, n in zip(keys, net.validators))

    async def answer(peer: bytes, topic: str, payload: bytes) -> bytes:
        asked.append(peer)
        return chunk_reply(wrong, decode(payload)["offset"])  # the protocol, spoken right, with wrong bytes

    host = P2PHost(P2PConfig(chain_id=net.chain_id, listen_port=0, seeds=seeds, pex=False), PrivateKey.generate(),
                   lambda peer, topic, payload: True, answer)
    await host.start()
    return host


def test_a_peer_serving_wrong_bytes_is_penalised_and_the_right_bytes_still_arrive(net):
    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(photo, "PNG")
    truth = photo.getvalue()
    truth_hash = hashlib.sha256(truth).hexdigest()
    asked: list[bytes] = []

    async def scenario() -> None:
        rogue = await _rogue(net, b"\x89PNG\r\n\x1a\n forged bytes", asked)
        try:
            await wait_for_async(lambda: len(rogue.peers()) >= 4, 30, "the rogue to connect to the four nodes",
                                 interval_s=0.05)
            # the chain names the photo before any node holds it: every node wants it and asks its peers
            shop = await asyncio.to_thread(commit, net, "alice", "shop_create", {
                "name": "Alice", "description": "", "region": "DE", "accepted_assets": ["MKT"], "arbiters": []})
            shop_id = next(e["attrs"]["shop"] for e in shop["receipt"]["events"] if e["kind"] == "shop_created")
            await asyncio.to_thread(commit, net, "alice", "listing_create", {
                "shop": shop_id, "type": "physical", "title": "Red print", "description": "", "category": "art",
                "tags": [], "price": 5, "asset": "MKT", "stock": 1, "regions": [], "images": [bytes.fromhex(truth_hash)]})
            await wait_for_async(lambda: all("sent wrong bytes for content" in net.log(n) for n in net.validators), 30,
                                 "every node to ask the rogue, get wrong bytes and penalise it", interval_s=0.05)
        finally:
            await rogue.stop()

    asyncio.run(scenario())
    assert len(set(asked)) == 4
    for name in net.validators:
        assert net.call(name, "content_info", hash=truth_hash)["wanted"], name  # wrong bytes were not kept
        content = net.status(name)["content"]
        assert content["wrong_bytes_from_peers"] >= 1 and content["wanted"] >= 1, (name, content)
    put(net, "validator-2", "alice", truth, "image")  # the honest upload, to one node
    for name in net.validators:
        assert wait_for(lambda n=name: fetch(net, n, f"/content/{truth_hash}"), 30, f"{name} to fetch it") == truth
