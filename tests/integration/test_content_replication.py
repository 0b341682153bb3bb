"""Issue 14's acceptance test for content: real processes on a 4-validator testnet.

An image put through node A with `marketnode content put` and referenced by a
listing is served byte-identical by node D — D was offline when the listing
committed and fetches the image after its restart — and still after A is
SIGKILLed; an image uploaded afterwards to B reaches D from B.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from harness import Testnet, wait_for
from PIL import Image

from marketnode.core.types import Tx

pytestmark = pytest.mark.integration


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(out, "PNG")
    return out.getvalue()


def fetch(net: Testnet, name: str, blob_hash: str) -> tuple[bytes, str] | None:
    url = net.url(name).rstrip("/") + f"/content/{blob_hash}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def cli_put(net: Testnet, via: str, path: str, account: str) -> str:
    key_file = net.dir / net.manifest["accounts"][account]
    done = subprocess.run([sys.executable, "-m", "marketnode.cli.main", "content", "put", path, "--kind", "image",
                           "--key-file", str(key_file), "--rpc", net.url(via)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def commit(net: Testnet, account: str, kind: str, body: dict, via: str) -> dict:
    key = net.keys[account]
    tx = Tx(net.chain_id, key.public_key, net.next_nonce(key, via), kind, body, 0).sign(key)
    result = net.send(tx, via=via, wait="commit")
    assert result["receipt"]["ok"], result
    return result


def event(result: dict, kind: str) -> dict:
    return next(e["attrs"] for e in result["receipt"]["events"] if e["kind"] == kind)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("content-net"), validators=4, observers=1, timeout_ms=1000)
    testnet.start()
    yield testnet
    testnet.close()


def test_an_image_put_through_a_is_served_by_d_after_d_restarts_and_after_a_is_killed(net, tmp_path):
    a, b, c, d = net.validators
    commit(net, "alice", "register", {"name": "Alice", "commitment": bytes(32)}, via=a)
    net.stop(d)  # D is offline while the listing commits

    photo = png((180, 90, 30))
    path = tmp_path / "lamp.png"
    path.write_bytes(photo)
    blob_hash = cli_put(net, a, str(path), "alice")
    assert blob_hash == hashlib.sha256(photo).hexdigest()
    shop = event(commit(net, "alice", "shop_create", {"name": "Alice", "description": "", "region": "DE",
                                                      "accepted_assets": ["MKT"], "arbiters": []}, via=a), "shop_created")
    listing = {"shop": shop["shop"], "type": "physical", "title": "Brass lamp", "description": "", "category": "home",
               "tags": [], "price": 100, "asset": "MKT", "stock": 1, "regions": [], "images": [bytes.fromhex(blob_hash)]}
    listing_id = event(commit(net, "alice", "listing_create", listing, via=a), "listing_created")["listing"]
    for name in (b, c):
        wait_for(lambda n=name: fetch(net, n, blob_hash), 30, f"{name} to fetch the image")

    net.start(d)
    served = wait_for(lambda: fetch(net, d, blob_hash), 60, "the restarted D to fetch the image")
    assert served == (photo, "image/png")
    assert wait_for(lambda: fetch(net, "observer-0", blob_hash), 30, "the observer to fetch it") == (photo, "image/png")

    net.kill(a)
    assert fetch(net, d, blob_hash) == (photo, "image/png")
    assert fetch(net, b, blob_hash) == (photo, "image/png")

    second = png((20, 120, 200))
    path2 = tmp_path / "lamp-side.png"
    path2.write_bytes(second)
    second_hash = cli_put(net, b, str(path2), "alice")
    commit(net, "alice", "listing_update", {"listing": listing_id, "images": [bytes.fromhex(blob_hash),
                                                                              bytes.fromhex(second_hash)]}, via=b)
    assert wait_for(lambda: fetch(net, d, second_hash), 30, "D to fetch the image uploaded to B") == \
        (second, "image/png")
    info = net.call(d, "content_info", hash=second_hash)
    assert info["pinned"] and not info["wanted"]
