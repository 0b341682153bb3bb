"""JSON-RPC 2.0 rules and every error code, against a running node over real HTTP and websocket.

The framework's own tests (tests/rpc) use a demo registry; these check the node as wallets see it.
"""

from __future__ import annotations

import json

from api_helpers import running_node, write_home

from marketnode.core.types import Tx


def call(method: str, id_: object = 1, **params: object) -> dict:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


async def test_batches_notifications_ids_and_error_codes_over_http(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        async with api.session.post(api.url, data=b"{not json", headers={"Content-Type": "application/json"}) as response:
            assert (await response.json())["error"]["code"] == -32700
        async with api.session.post(api.url, data=b"{not json") as response:  # not even said to be JSON
            assert response.status == 415 and (await response.json())["error"]["code"] == -32600
        assert (await api.raw([]))["error"]["code"] == -32600
        assert (await api.raw({"jsonrpc": "1.0", "id": 1, "method": "node_status"}))["error"]["code"] == -32600
        notification = {"jsonrpc": "2.0", "method": "node_status"}
        assert await api.raw(notification) is None
        assert await api.raw([notification, notification]) is None
        replies = await api.raw([call("node_status", "a"), notification, call("node_health", 7), call("nope", None)])
        by_id = {r["id"]: r for r in replies}
        assert len(replies) == 3 and set(by_id) == {"a", 7, None}
        assert by_id["a"]["result"]["chain_id"] == node.chain_id and by_id[None]["error"]["code"] == -32601
        assert (await api.error("chain_getBlock", height="one"))["code"] == -32602
        assert (await api.error("order_get", order=999_999))["code"] == -32001
        assert (await api.error("tx_send", tx="00ff"))["code"] == -32000
        forged = Tx(node.chain_id, api.pub("alice"), 0, "transfer", {"amount": 1, "asset": "MKT", "to": api.pub("bob")},
                    0, b"\x00" * 64)
        rejected = await api.error("tx_send", tx=forged.encode().hex())
        assert rejected["code"] == -32003 and rejected["data"]["code"] == "signature"
        too_long = await api.raw([call("node_status", i) for i in range(cfg.rpc.max_batch + 1)])
        assert too_long["error"]["code"] == -32005


async def test_the_same_rules_over_the_websocket(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (_, api), api.session.ws_connect(api.ws_url) as ws:
        await ws.send_str("{not json")
        assert json.loads((await ws.receive()).data)["error"]["code"] == -32700
        await ws.send_str(json.dumps({"jsonrpc": "2.0", "method": "node_status"}))  # a notification: no answer
        await ws.send_str(json.dumps([call("node_status", "x"), call("nope", 2)]))
        replies = {r["id"]: r for r in json.loads((await ws.receive()).data)}
        assert replies["x"]["result"]["height"] >= 0 and replies[2]["error"]["code"] == -32601
