"""admin_* methods on a running node: refused without the configured token, effective with it."""

from __future__ import annotations

import logging

from api_helpers import running_node, write_home

from marketnode.core.keys import PrivateKey

TOKEN = "t" * 32  # write_home's admin token


async def admin_call(api, method: str, token: str | None, **params):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    async with api.session.post(api.url, json=body, headers=headers) as response:
        return await response.json()


async def test_admin_methods_need_the_token(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (_, api):
        for token in (None, "wrong" * 8):
            reply = await admin_call(api, "admin_setLogLevel", token, level="debug")
            assert reply["error"]["code"] == -32002, reply
        reply = await admin_call(api, "admin_setLogLevel", TOKEN, level="warning")
        assert reply["result"] == {"level": "warning"}
        assert logging.getLogger().level == logging.WARNING
        await admin_call(api, "admin_setLogLevel", TOKEN, level="info")


async def test_admin_ban_and_add_peer(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        stranger = PrivateKey.generate().public_key
        reply = await admin_call(api, "admin_banPeer", TOKEN, node_id=stranger.hex())
        assert reply["result"]["is_banned"] is True and node.p2p.is_banned(stranger)
        bad = await admin_call(api, "admin_addPeer", TOKEN, address="not an address")
        assert bad["error"]["code"] == -32000 and "host:port" in bad["error"]["message"]
        ok = await admin_call(api, "admin_addPeer", TOKEN, address="127.0.0.1:9")
        assert ok["result"] == {"dialing": "127.0.0.1:9"}
