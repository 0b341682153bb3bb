"""The web routes on the RPC app: the shell and its files are served, nothing else is, JSON-RPC is untouched."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from marketnode.node.rpc.registry import Registry
from marketnode.node.rpc.server import build_rpc_app
from marketnode.node.web import STATIC_DIR, add_web_routes
from marketnode.node.web.routes import static_file

ROOT = Path(__file__).parents[2]


@pytest.fixture
async def c() -> AsyncIterator[TestClient]:
    """A client of an RPC app (one method, ping) with the web routes mounted."""
    registry = Registry()

    @registry.method("ping", summary="Answer pong.")
    async def ping(ctx: object) -> str:
        return "pong"

    app: web.Application = build_rpc_app(registry, context=None)
    add_web_routes(app)
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def test_get_root_serves_the_app_shell_and_post_root_stays_json_rpc(c):
    page = await c.get("/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script type="module" src="/static/app.js">' in await page.text()
    rpc = await c.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert (await rpc.json())["result"] == "pong"


async def test_every_module_is_served_as_javascript(c):
    modules = sorted(p.name for p in STATIC_DIR.glob("*.js"))
    assert {"app.js", "api.js", "router.js", "format.js", "market.js", "explorer.js", "network.js"} <= set(modules)
    for name in modules:
        response = await c.get(f"/static/{name}")
        assert response.status == 200, name
        assert response.headers["Content-Type"].startswith("text/javascript"), name
    assert (await c.get("/static/style.css")).headers["Content-Type"].startswith("text/css")


async def test_an_unchanged_file_is_answered_304_by_its_etag(c):
    first = await c.get("/static/app.js")
    etag = first.headers["ETag"]
    again = await c.get("/static/app.js", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    other = await c.get("/static/app.js", headers={"If-None-Match": '"stale"'})
    assert other.status == 200 and await other.text() == await first.text()


async def test_paths_outside_static_and_unknown_files_are_404(c):
    for path in ("/static/../routes.py", "/static/%2e%2e/routes.py", "/static/nope.js", "/static/",
                 "/static/..%2F__init__.py"):
        assert (await c.get(path)).status == 404, path


@pytest.mark.parametrize("path", ["/static/%00", "/static/app%00.js", "/static/%01app.js",
                                  "/static/" + "a" * 5000 + ".js"])
async def test_control_characters_and_overlong_names_in_a_static_path_are_404_not_500(c, path):
    response = await c.get(path)
    assert response.status == 404
    assert "Traceback" not in await response.text()


def test_static_file_refuses_escapes_and_unknown_types(tmp_path):
    (tmp_path / "ok.js").write_text("1")
    (tmp_path / "secret.key").write_text("x")
    assert static_file("ok.js", tmp_path) == (tmp_path / "ok.js").resolve()
    for name in ("../ok.js", "/etc/passwd", "secret.key", "", "a\\b.js"):
        assert static_file(name, tmp_path) is None, name


def test_pages_load_nothing_from_other_hosts():
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text()
            assert not re.search(r"(src|href)=\"(https?:)?//", text), path
            assert not re.search(r"url\((https?:)?//|import .* from \"(https?:)?//", text), path


def test_package_data_ships_every_static_file():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            relative = path.relative_to(STATIC_DIR.parent).as_posix()
            assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
