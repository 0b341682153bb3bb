"""Serve the web app's static files on the RPC port; never touches chain state.

Only files that ship in ``static/`` are served (no directory listings, no
paths outside it); JSON-RPC keeps ``POST /`` and ``/rpc``, the websocket ``/ws``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
INDEX_FILE = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}
# Everything is local: no CDN, no inline scripts; the pages talk only to this node.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
                               "style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def static_file(name: str, root: Path = STATIC_DIR) -> Path | None:
    """The shipped file at relative path ``name``, or None when it is not one (or escapes ``root``)."""
    if not name or "\\" in name or name.startswith("/") or not name.isprintable():
        return None  # control characters (a NUL makes the OS calls raise) are never in a shipped name
    try:
        path = (root / name).resolve()
        base = root.resolve()
        if base not in path.parents or not path.is_file() or path.suffix not in CONTENT_TYPES:
            return None
    except (OSError, ValueError):  # a name the file system refuses (too long, a loop) is not a shipped file
        return None
    return path


def _file_response(request: web.Request, path: Path) -> web.Response:
    """The file, or 304 when the browser's copy (its ETag, a content hash) is current."""
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**SECURITY_HEADERS, "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": CONTENT_TYPES[path.suffix]})


async def _index(request: web.Request) -> web.Response:
    path = static_file(INDEX_FILE)
    if path is None:
        raise web.HTTPNotFound(text="the web pages are not installed with this node")
    return _file_response(request, path)


async def _static(request: web.Request) -> web.Response:
    path = static_file(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound(text="no such file")
    return _file_response(request, path)


def add_web_routes(app: web.Application) -> None:
    """Mount ``GET /`` and ``GET /static/{name}`` on ``app`` (the RPC app, before it starts)."""
    app.router.add_get("/", _index, allow_head=True)
    app.router.add_get("/static/{name:.+}", _static, allow_head=True)
