"""content_put and GET /content/<hash> on a running node: errors, headers, thumbnails, retention by a real tx."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from content_samples import bomb_png, image, real_bomb_png
from PIL import Image
from waiting import wait_for_async

from marketnode.core.keys import PrivateKey
from marketnode.core.upload import authorise_upload, content_hash

pytestmark = pytest.mark.asyncio(loop_scope="module")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from api_helpers import CHAIN_ID, ApiClient, h, running_node, write_home  # noqa: E402

INVALID_INPUT, LIMIT_EXCEEDED, INVALID_PARAMS = -32000, -32005, -32602


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient]]:
    cfg, keys = write_home(tmp_path_factory.mktemp("content") / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        for name in ("alice", "bob"):
            await api.send(name, "register", {"name": name.title(), "commitment": h(name)})
        yield node, api


def params(key: PrivateKey, data: bytes, time_ms: int | None = None, **over: Any) -> dict[str, Any]:
    import time

    from marketnode.core.keys import address_from_pubkey

    auth = authorise_upload(key, CHAIN_ID, data, time.time_ns() // 1_000_000 if time_ms is None else time_ms)
    out = {"hash": auth.hash.hex(), "data": base64.b64encode(data).decode(),
           "uploader": address_from_pubkey(key.public_key), "time_ms": auth.time_ms, "signature": auth.sig.hex()}
    out.update(over)
    return out


async def get(api: ApiClient, path: str, **headers: str) -> tuple[int, Any, bytes]:
    base = api.url.rstrip("/").removesuffix("/rpc")
    async with api.session.get(base + path, headers=headers) as response:
        return response.status, response.headers.copy(), await response.read()


async def test_an_uploaded_image_is_served_byte_identical_with_immutable_typed_headers(world: Any) -> None:
    _, api = world
    data = image("JPEG", (400, 300))
    put = await api.call("content_put", **params(api.keys["alice"], data), kind="image")
    assert put["hash"] == content_hash(data).hex() and put["content_type"] == "image/jpeg" and not put["pinned"]
    status, headers, body = await get(api, put["url"])
    assert status == 200 and body == data
    assert headers["Content-Type"] == "image/jpeg" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["ETag"] == f'"{put["hash"]}"' and "immutable" in headers["Cache-Control"]
    again, _, empty = await get(api, put["url"], **{"If-None-Match": headers["ETag"]})
    assert again == 304 and empty == b""


async def test_a_thumbnail_is_at_most_the_asked_width(world: Any) -> None:
    _, api = world
    data = image("PNG", (1000, 500))
    put = await api.call("content_put", **params(api.keys["alice"], data))
    status, headers, body = await get(api, put["url"] + "?w=320")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(body)).size == (320, 160)
    for width in ("5000", "319", "321", "-1", "abc"):
        bad, _, text = await get(api, put["url"] + f"?w={width}")
        assert bad == 400 and b"160, 320, 640" in text, width
    for width, size in ((160, (160, 80)), (640, (640, 320))):
        status, _, body = await get(api, put["url"] + f"?w={width}")
        assert status == 200 and Image.open(io.BytesIO(body)).size == size


async def test_refusals_are_clear_errors(world: Any) -> None:
    _, api = world
    alice = api.keys["alice"]
    cases = {
        "not_image": params(alice, b"MZ\x90\x00 an exe", kind="image"),
        "too_large": params(alice, b"x" * (16 * 1024 + 1)),
        "too_many_pixels": params(alice, bomb_png(10_000, 5_000)),
        "wrong_hash": params(alice, b"one text", hash=content_hash(b"another").hex()),
        "not_registered": params(api.keys["carol"], b"anonymous"),
        "stale_time": params(alice, b"old", time_ms=1),
    }
    for reason, call in cases.items():
        error = await api.error("content_put", **call)
        assert error["code"] == INVALID_INPUT and error["data"]["reason"] == reason, (reason, error)
    error = await api.error("content_put", **{**params(alice, b"x"), "data": "not base64!"})
    assert error["code"] == INVALID_PARAMS


async def test_a_real_50_megapixel_bomb_is_refused_and_never_rendered(world: Any) -> None:
    _, api = world
    bomb = real_bomb_png(10_000, 5_000)
    assert len(bomb) < 2 * 1024 * 1024
    error = await api.error("content_put", **params(api.keys["alice"], bomb))
    assert error["data"]["reason"] == "too_many_pixels" and "decompression bomb" in error["message"]


async def test_unknown_and_malformed_content_addresses(world: Any) -> None:
    _, api = world
    status, _, body = await get(api, "/content/" + "ab" * 32)
    assert status == 404 and b"no such content" in body
    status, _, _ = await get(api, "/content/../../etc/passwd")
    assert status in (400, 404)
    status, _, _ = await get(api, "/content/" + "AB" * 32)
    assert status == 400


async def test_an_image_referenced_by_a_committed_listing_is_pinned(world: Any) -> None:

    node, api = world
    photo = image("WEBP", (120, 90))
    put = await api.call("content_put", **params(api.keys["bob"], photo, kind="image"))
    assert put["content_type"] == "image/webp" and not put["pinned"]
    shop = {"name": "Bob Wood", "description": "tables", "region": "DE", "accepted_assets": ["MKT"], "arbiters": []}
    shop_id = api.event(await api.send("bob", "shop_create", shop), "shop_created")["shop"]
    listing = {"shop": shop_id, "type": "physical", "title": "Oak table", "description": "oak", "category": "f",
               "tags": [], "price": 10, "asset": "MKT", "stock": 1, "regions": [], "images": [bytes.fromhex(put["hash"])]}
    await api.send("bob", "listing_create", listing)

    async def pinned() -> bool:
        return bool((await api.call("content_info", hash=put["hash"]))["pinned"])

    await wait_for_async(pinned, 10, "the listing's photo to be pinned", interval_s=0.05)
    assert node.content.store.account_usage(api.pub("bob")) == (0, 0)


async def test_one_client_may_hold_at_most_max_downloads_per_client_requests(world: Any, monkeypatch: Any) -> None:
    import asyncio
    import threading

    import marketnode.node.content.http as content_http

    node, api = world
    release = threading.Event()
    real = content_http.make_thumbnail

    def slow(*args: Any) -> Any:  # a render that takes as long as the test wants (the limit is under test)
        release.wait(10)
        return real(*args)

    monkeypatch.setattr(content_http, "make_thumbnail", slow)
    cap = node.cfg.content.max_downloads_per_client
    put = await api.call("content_put", **params(api.keys["alice"], image("PNG", (700, 350))))
    held = [asyncio.create_task(get(api, put["url"] + "?w=640")) for _ in range(cap)]
    try:
        await wait_for_async(lambda: node.content.downloads.held >= cap, 10, f"all {cap} downloads in flight")
        status, _, body = await get(api, put["url"] + "?w=640")
        assert status == 429 and b"from one client address" in body
    finally:
        release.set()
    assert all(status == 200 for status, _, _ in await asyncio.gather(*held))


async def test_a_failing_content_scan_never_stops_the_chain_and_catches_up(world: Any, monkeypatch: Any) -> None:

    node, api = world
    store = node.content.store
    real = store.scan_block

    def broken(*args: Any) -> Any:
        raise OSError("disk said no")

    monkeypatch.setattr(store, "scan_block", broken)
    before = store.scanned_height()
    result = await api.send("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1})
    assert result["status"] == "committed" and store.scanned_height() == before
    monkeypatch.setattr(store, "scan_block", real)
    result = await api.send("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1})
    await wait_for_async(lambda: store.scanned_height() >= result["height"], 10,
                         f"the content scan to catch up to height {result['height']}")
