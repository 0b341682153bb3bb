"""``GET /content/<hex sha256>[?w=320]`` on the RPC port: stored blobs as immutable, typed, unsniffable responses.

The bytes are the ones whose sha256 is in the URL, so every response is
cacheable forever (``immutable``) under its hash as ETag. Thumbnails come
from node/content/thumbs.py; a blob this node lacks is a 404 that says whether
it is being fetched from peers.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from marketnode.node.content.kinds import IMAGE_TYPES, ContentRefused
from marketnode.node.content.service import ContentService
from marketnode.node.content.thumbs import THUMB_WIDTHS, ServedCache, make_thumbnail
from marketnode.node.rpc.clients import ClientSlots, client_key

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",  # a blob is never a page that runs anything
    "Cross-Origin-Resource-Policy": "same-site",
}
THUMB_JOBS = 2  # thumbnails rendered at once, off the event loop


def _error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type="text/plain",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


def add_content_routes(app: web.Application, content: ContentService) -> None:
    cache: ServedCache = content.served
    jobs = asyncio.Semaphore(THUMB_JOBS)
    slots: ClientSlots = content.downloads

    async def get_content(request: web.Request) -> web.StreamResponse:
        client = client_key(request.remote)
        refused = slots.take(client)
        if refused is not None:
            return _error(refused.http_status, f"limit exceeded: {refused.reason}; try again shortly")
        try:
            return await serve(request)
        finally:
            slots.give_back(client)

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["hash"]
        if not _HASH_RE.match(name):
            return _error(400, "a content address is a sha256 in 64 lowercase hex characters")
        blob_hash = bytes.fromhex(name)
        store = content.store
        info = store.info(blob_hash)
        if info is None:
            why = ("it is referenced on chain and being fetched from peers" if store.is_wanted(blob_hash) else
                   f"refused: {store.refused(blob_hash)}" if store.refused(blob_hash) else "no such content")
            return _error(404, f"content {name} is not on this node: {why}")
        width_text = request.query.get("w")
        width = 0
        if width_text is not None:
            if info.content_type not in IMAGE_TYPES:
                return _error(400, "thumbnails (?w=) are made of images only")
            if not width_text.isdigit() or int(width_text) not in THUMB_WIDTHS:
                return _error(400, f"w must be one of {', '.join(map(str, THUMB_WIDTHS))}")
            width = int(width_text)
        etag = f'"{name}"' if not width else f'"{name}-w{width}"'
        headers = {**HEADERS, "ETag": etag}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        key = (blob_hash, width)  # width 0: the original, as checked when first read
        item = cache.get(key)
        if item is None:
            data = content.read(blob_hash)  # hashed on first read: damaged bytes are never served
            if data is None:
                return _error(404, f"content {name} is not on this node: its file was damaged; fetching it again")
            item = (data, info.content_type)
            if width:
                try:
                    async with jobs:
                        item = await asyncio.to_thread(make_thumbnail, data, info.content_type, width,
                                                       content.limits.kinds)
                except ContentRefused as exc:
                    return _error(422, f"no thumbnail: {exc}")
                except Exception as exc:  # a stored image Pillow cannot render is a clear error, not a crash
                    return _error(422, f"no thumbnail: the image cannot be decoded ({type(exc).__name__}: {exc})")
            cache.put(key, item)
        body, content_type = item
        return web.Response(body=body, headers={**headers, "Content-Type": content_type})

    app.router.add_get("/content/{hash}", get_content, allow_head=True)
