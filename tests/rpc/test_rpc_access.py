"""Web pages the user visits must not be able to call their local node: Content-Type, Origin and Host rules.

A browser sends text/plain, forms and multipart cross-site without a CORS
preflight, opens websockets anywhere, and after DNS rebinding sends a foreign
name as Host. Each is refused before any method runs; the node's own pages,
wallets and curl (no Origin) are served as before.
"""

from __future__ import annotations

import json

import aiohttp
import pytest
from rpc_helpers import call

from marketnode.node.rpc.access import AccessPolicy

BUMP = json.dumps(call("demo_bump"))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
async def test_a_post_that_a_foreign_page_can_send_without_preflight_is_refused_unrun(client, node_context,
                                                                                       content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    resp = await client.post("/", data=BUMP.encode(), headers=headers,
                             skip_auto_headers=() if content_type else ("Content-Type",))
    assert resp.status == 415
    error = (await resp.json())["error"]
    assert error["code"] == -32600 and "Content-Type: application/json" in error["message"]
    assert node_context["bumps"] == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/json-rpc"])
async def test_json_content_types_are_served(client, node_context, content_type):
    resp = await client.post("/", data=BUMP, headers={"Content-Type": content_type})
    assert resp.status == 200 and (await resp.json())["result"] == 1


async def test_a_page_from_another_origin_is_refused_and_the_nodes_own_pages_are_served(client, node_context):
    own = f"http://127.0.0.1:{client.port}"
    for origin, status in (("http://evil.example", 403), ("null", 403), (f"http://127.0.0.1:{client.port + 1}", 403),
                           (own, 200)):
        resp = await client.post("/", data=BUMP, headers={"Content-Type": "application/json", "Origin": origin})
        assert resp.status == status, origin
        if status == 403:
            assert (await resp.json())["error"]["code"] == -32600
    assert node_context["bumps"] == 1  # only the node's own page's call ran


async def test_a_foreign_host_name_is_refused_against_dns_rebinding(client):
    for host, status in (("evil.example", 403), (f"rebind.evil.example:{client.port}", 403),
                         (f"localhost:{client.port}", 200), (f"127.0.0.1:{client.port}", 200),
                         (f"[::1]:{client.port}", 200), ("192.0.2.7", 200), ("app.localhost", 200)):
        resp = await client.post("/", data=json.dumps(call("demo_add", [1])),
                                 headers={"Content-Type": "application/json", "Host": host})
        assert resp.status == status, host
    resp = await client.get("/ws", headers={"Host": "evil.example"})
    assert resp.status == 403


async def test_allowed_hosts_and_origins_are_configurable(make_client):
    client = await make_client(access=AccessPolicy(allowed_hosts=("node.lan",),
                                                   allowed_origins=("https://wallet.example",)))
    headers = {"Content-Type": "application/json", "Host": "node.lan:8080", "Origin": "https://wallet.example"}
    resp = await client.post("/", data=json.dumps(call("demo_add", [1])), headers=headers)
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "https://wallet.example"
    preflight = await client.options("/", headers={"Origin": "https://wallet.example",
                                                   "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204 and "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    refused = await client.options("/", headers={"Origin": "https://other.example"})
    assert refused.status == 403
    big = "z" * (600 * 1024)  # a reply written in slices carries the header too
    resp = await client.post("/", data=json.dumps(call("demo_echo", {"value": big})), headers=headers)
    assert resp.headers["Access-Control-Allow-Origin"] == "https://wallet.example"
    assert (await resp.json())["result"] == big


async def test_a_websocket_from_a_foreign_page_is_refused(client):
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403
    async with client.ws_connect("/ws", headers={"Origin": f"http://127.0.0.1:{client.port}"}) as ws:
        await ws.send_str(json.dumps(call("demo_add", [3])))
        assert json.loads((await ws.receive(timeout=5)).data)["result"] == 3
