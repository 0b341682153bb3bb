"""JSON-RPC over the websocket at /ws: calls, batches, subscriptions, limits, admin login."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import WSMsgType
from rpc_helpers import ADMIN_TOKEN, call, note
from waiting import wait_for_async

from marketnode.core.keys import PrivateKey
from marketnode.node.rpc import RPC_HUB, RpcLimits


async def ask(ws: Any, payload: Any) -> Any:
    await ws.send_str(json.dumps(payload))
    return await receive(ws)


async def receive(ws: Any, timeout: float = 2.0) -> Any:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def nothing_arrives(ws: Any, within: float = 0.1) -> bool:
    try:
        await ws.receive(timeout=within)
    except TimeoutError:
        return True
    return False


async def subscribe(ws: Any, topic: str, filter: dict[str, Any] | None = None, rid: int = 1) -> str:
    params: dict[str, Any] = {"topic": topic}
    if filter is not None:
        params["filter"] = filter
    reply = await ask(ws, call("subscribe", params, id=rid))
    assert "result" in reply, reply
    return reply["result"]


async def test_call_and_id_echo_over_ws(client):
    async with client.ws_connect("/ws") as ws:
        for rid in ["a", 3, None]:
            assert await ask(ws, call("demo_add", [1, 1], id=rid)) == {"jsonrpc": "2.0", "result": 2, "id": rid}


async def test_ws_errors_match_http(client):
    async with client.ws_connect("/ws") as ws:
        await ws.send_str("{not json")
        assert (await receive(ws))["error"]["code"] == -32700
        assert (await ask(ws, []))["error"]["code"] == -32600
        assert (await ask(ws, call("demo_reject", {"code": "r1"})))["error"]["data"] == {"code": "r1"}


async def test_ws_batch_and_notifications(client, node_context):
    async with client.ws_connect("/ws") as ws:
        await ws.send_str(json.dumps([note("demo_bump"), note("demo_bump")]))
        await ws.send_str(json.dumps(note("demo_bump")))
        assert await nothing_arrives(ws)
        reply = await ask(ws, [call("demo_add", [1], id=1), note("demo_bump"), call("demo_add", [2], id=2)])
        assert sorted((r["id"], r["result"]) for r in reply) == [(1, 1), (2, 2)]
    assert node_context["bumps"] == 4


async def test_slow_call_does_not_hold_up_the_next_one(client, node_context):
    node_context["gate"] = asyncio.Event()  # the slow call lasts until the fast one is answered, however slow the host
    async with client.ws_connect("/ws") as ws:
        await ws.send_str(json.dumps(call("demo_wait", id="slow")))
        await ws.send_str(json.dumps(call("demo_add", [5], id="fast")))
        assert (await receive(ws))["id"] == "fast"
        assert node_context["waiting"] == 1
        node_context["gate"].set()
        assert (await receive(ws))["id"] == "slow"


async def test_new_blocks_subscription_delivers_then_stops_after_unsubscribe(client):
    hub = client.app[RPC_HUB]
    async with client.ws_connect("/ws") as ws:
        sub = await subscribe(ws, "newBlocks")
        assert hub.publish("newBlocks", {"height": 1, "hash": b"\xaa" * 32}) == 1
        assert await receive(ws) == {
            "jsonrpc": "2.0", "method": "subscription",
            "params": {"subscription": sub, "result": {"height": 1, "hash": "aa" * 32}},
        }
        assert (await ask(ws, call("unsubscribe", {"subscription": sub}, id=2)))["result"] is True
        assert (await ask(ws, call("unsubscribe", [sub], id=3)))["result"] is False
        assert hub.publish("newBlocks", {"height": 2}) == 0
        assert await nothing_arrives(ws)


async def test_tx_subscription_gets_only_its_hash_in_either_spelling(client):
    hub = client.app[RPC_HUB]
    mine, other = b"\x01" * 32, b"\x02" * 32
    async with client.ws_connect("/ws") as ws:
        sub = await subscribe(ws, "tx", {"hash": mine.hex()})
        assert hub.publish("tx", {"status": "committed"}, match=other) == 0
        assert hub.publish("tx", {"status": "pending"}, match=mine) == 1
        assert hub.publish("tx", {"status": "committed"}, match=mine.hex()) == 1
        got = [await receive(ws), await receive(ws)]
        assert [m["params"]["result"]["status"] for m in got] == ["pending", "committed"]
        assert {m["params"]["subscription"] for m in got} == {sub}


async def test_account_subscription_matches_any_account_an_event_touches(client):
    hub = client.app[RPC_HUB]
    alice, bob, carol = (PrivateKey(bytes([i]) * 32) for i in (1, 2, 3))
    async with client.ws_connect("/ws") as ws_alice, client.ws_connect("/ws") as ws_carol:
        await subscribe(ws_alice, "account", {"address": alice.address})
        await subscribe(ws_carol, "account", {"address": carol.address})
        assert hub.publish("account", {"kind": "transfer"}, match=[alice.public_key, bob.public_key]) == 1
        assert (await receive(ws_alice))["params"]["result"] == {"kind": "transfer"}
        assert await nothing_arrives(ws_carol)


async def test_order_subscription(client):
    hub = client.app[RPC_HUB]
    async with client.ws_connect("/ws") as ws:
        await subscribe(ws, "order", {"order_id": 17})
        assert hub.publish("order", {"event": "placed"}, match=18) == 0
        assert hub.publish("order", {"event": "shipped"}, match=17) == 1
        assert (await receive(ws))["params"]["result"] == {"event": "shipped"}


@pytest.mark.parametrize(
    "params",
    [
        {"topic": "weather"},
        {"topic": "tx"},
        {"topic": "tx", "filter": {"hash": "zz"}},
        {"topic": "account", "filter": {"address": "mn1nope"}},
        {"topic": "newBlocks", "filter": {"hash": "00" * 32}},
        {"topic": "order", "filter": {"order_id": 1, "extra": 1}},
        {"topic": "order", "filter": {"order_id": "o-17"}},
        {"topic": "order", "filter": {"order_id": -1}},
    ],
)
async def test_bad_topic_or_filter_is_invalid_params(client, params):
    async with client.ws_connect("/ws") as ws:
        assert (await ask(ws, call("subscribe", params)))["error"]["code"] == -32602


async def test_subscription_limit_per_connection(make_client):
    client = await make_client(RpcLimits(max_ws_subscriptions=2))
    async with client.ws_connect("/ws") as ws:
        await subscribe(ws, "newBlocks", rid=1)
        await subscribe(ws, "newBlocks", rid=2)
        reply = await ask(ws, call("subscribe", {"topic": "newBlocks"}, id=3))
        assert reply["error"]["code"] == -32005


async def test_closing_the_socket_forgets_its_subscriptions(client):
    hub = client.app[RPC_HUB]
    async with client.ws_connect("/ws") as ws:
        await subscribe(ws, "newBlocks")
        assert hub.count() == 1
    await wait_for_async(lambda: hub.count() == 0, 5, "the closed socket's subscription to be forgotten")


async def test_slow_consumer_is_dropped_with_a_reason_and_the_node_is_not_blocked(make_client):
    client = await make_client(RpcLimits(ws_queue_messages=4))
    hub = client.app[RPC_HUB]
    async with client.ws_connect("/ws") as slow, client.ws_connect("/ws") as fine:
        await subscribe(slow, "newBlocks")
        # Publishing never awaits; 10 events in one go overflow the queue of 4.
        sent = [hub.publish("newBlocks", {"height": h}) for h in range(10)]
        assert sent[:4] == [1] * 4 and sent[4] == 0
        close = None
        for _ in range(10):
            msg = await slow.receive(timeout=2)
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                close = msg
                break
        assert close is not None and slow.close_code == 1008
        assert "slow consumer" in (close.extra or "")
        assert hub.count() == 0
        assert (await ask(fine, call("demo_add", [1])))["result"] == 1


async def test_over_limit_message_is_refused_and_the_connection_stays(make_client):
    client = await make_client(RpcLimits(max_body_bytes=100))
    async with client.ws_connect("/ws") as ws:
        reply = await ask(ws, call("demo_echo", {"value": "x" * 200}))
        assert reply["error"]["code"] == -32005
        assert (await ask(ws, call("demo_add", [1])))["result"] == 1


async def test_binary_frames_get_a_parse_error(client):
    async with client.ws_connect("/ws") as ws:
        await ws.send_bytes(b"{}")
        assert (await receive(ws))["error"]["code"] == -32700


async def test_websocket_connection_limit(make_client):
    client = await make_client(RpcLimits(max_ws_connections=1))
    async with client.ws_connect("/ws") as ws:
        assert (await ask(ws, call("demo_add", [1])))["result"] == 1
        resp = await client.get("/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "x" * 24})
        assert resp.status == 503 and (await resp.json())["error"]["code"] == -32005


async def test_admin_over_ws_by_upgrade_header(client):
    async with client.ws_connect("/ws", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as ws:
        assert (await ask(ws, call("demo_admin")))["result"] == "yes, admin"


async def test_admin_over_ws_by_rpc_authenticate(client):
    async with client.ws_connect("/ws") as ws:
        assert (await ask(ws, call("demo_admin")))["error"]["code"] == -32002
        wrong = await ask(ws, call("rpc_authenticate", {"token": "not-the-token-at-all"}))
        assert wrong["error"]["code"] == -32002
        assert (await ask(ws, call("demo_admin")))["error"]["code"] == -32002
        assert (await ask(ws, call("rpc_authenticate", {"token": ADMIN_TOKEN})))["result"] is True
        assert (await ask(ws, call("demo_admin")))["result"] == "yes, admin"
