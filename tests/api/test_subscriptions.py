"""subscribe / unsubscribe over a real websocket: newBlocks, tx, order and account notifications."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from api_helpers import ApiClient, h, running_node, write_home

pytestmark = pytest.mark.asyncio(loop_scope="module")


class WsClient:
    """One websocket: calls matched by id, notifications queued by subscription id."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.replies: dict[Any, asyncio.Future[Any]] = {}
        self.notes: dict[str, asyncio.Queue[Any]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.replies:
                self.replies.pop(data["id"]).set_result(data)
            elif data.get("method") == "subscription":
                params = data["params"]
                self.queue(params["subscription"]).put_nowait(params["result"])

    def queue(self, sub_id: str) -> asyncio.Queue[Any]:
        return self.notes.setdefault(sub_id, asyncio.Queue())

    async def reply(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        fut = self.replies[call_id] = asyncio.get_running_loop().create_future()
        await self.ws.send_str(json.dumps({"jsonrpc": "2.0", "id": call_id, "method": method, "params": params}))
        return await asyncio.wait_for(fut, 10)

    async def subscribe(self, topic: str, **filter: Any) -> str:
        reply = await self.reply("subscribe", topic=topic, **({"filter": filter} if filter else {}))
        assert "result" in reply, reply
        return reply["result"]

    async def next(self, sub_id: str, timeout_s: float = 10) -> Any:
        return await asyncio.wait_for(self.queue(sub_id).get(), timeout_s)

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def node_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient]]:
    cfg, keys = write_home(tmp_path_factory.mktemp("subs") / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        for name in ("alice", "bob", "dave"):
            await api.send(name, "register", {"name": name, "commitment": h(name)})
        yield node, api


@pytest_asyncio.fixture(loop_scope="module")
async def ws(node_api: Any) -> AsyncIterator[WsClient]:
    _, api = node_api
    client = WsClient(await api.session.ws_connect(api.ws_url))
    yield client
    await client.close()


async def test_new_blocks_deliver_header_summaries(node_api: Any, ws: WsClient) -> None:
    _, api = node_api
    sub = await ws.subscribe("newBlocks")
    sent = await api.send("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 5})
    note = await ws.next(sub)
    assert note["height"] == sent["height"] and note["tx_count"] == 1
    assert len(note["hash"]) == 64 and len(note["state_root"]) == 64 and note["time_ms"] > 0


async def test_tx_subscription_reports_commit_and_failure(node_api: Any, ws: WsClient) -> None:
    _, api = node_api
    good = api.sign("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1})
    bad = api.sign("bob", "transfer", {"to": api.pub("alice"), "asset": "NOPE", "amount": 1})
    good_sub = await ws.subscribe("tx", hash=good.hash.hex())
    bad_sub = await ws.subscribe("tx", hash=bad.hash.hex())
    for tx in (good, bad):
        await api.call("tx_send", tx=tx.encode().hex())
    committed, failed = await ws.next(good_sub), await ws.next(bad_sub)
    assert committed["status"] == "committed" and committed["hash"] == good.hash.hex()
    assert committed["events"][0]["kind"] == "transfer" and committed["kind"] == "transfer"
    assert failed["status"] == "failed" and failed["code"] == "not_found"
    assert ws.queue(good_sub).empty()


async def test_account_subscription_sees_txs_sent_and_received(node_api: Any, ws: WsClient) -> None:
    _, api = node_api
    sub = await ws.subscribe("account", address=api.address("dave"))
    await api.send("alice", "transfer", {"to": api.pub("dave"), "asset": "MKT", "amount": 7})  # dave receives
    received = await ws.next(sub)
    assert received["kind"] == "transfer" and received["events"][0]["attrs"]["to"] == api.pub("dave").hex()
    await api.send("dave", "arbiter_register", {"fee_fixed": 1, "fee_bps": 1, "description": "x"})  # dave sends
    sent = await ws.next(sub)
    assert sent["kind"] == "arbiter_register" and sent["sender"] == api.address("dave")
    await api.send("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1})  # not dave's
    with pytest.raises(TimeoutError):
        await ws.next(sub, timeout_s=0.3)


async def test_order_subscription_follows_one_order_through_escrow(node_api: Any, ws: WsClient) -> None:
    _, api = node_api
    shop = {"name": "S", "description": "", "region": "DE", "accepted_assets": ["MKT"], "arbiters": []}
    shop_id = api.event(await api.send("alice", "shop_create", shop), "shop_created")["shop"]
    body = {"shop": shop_id, "type": "physical", "title": "Cup", "description": "", "category": "kitchen",
            "tags": [], "price": 10, "asset": "MKT", "stock": 3, "regions": [], "images": []}
    listing = api.event(await api.send("alice", "listing_create", body), "listing_created")["listing"]
    place = {"listing": listing, "quantity": 1, "max_total": 10, "address_seller": b""}
    order = api.event(await api.send("bob", "order_place", place), "order_placed")["order"]
    sub = await ws.subscribe("order", order_id=order)
    other = api.event(await api.send("bob", "order_place", place), "order_placed")["order"]
    await api.send("alice", "order_accept", {"order": order})
    await api.send("alice", "order_decline", {"order": other, "reason": "sold out"})
    await api.send("alice", "order_ship", {"order": order})
    await api.send("bob", "order_confirm", {"order": order})
    events = [await ws.next(sub) for _ in range(3)]
    assert [e["event"] for e in events] == ["order_accepted", "order_shipped", "order_completed"]
    assert all(e["order"] == order and e["tx"] for e in events)
    heights = [e["height"] for e in events]
    assert heights == sorted(heights)
    assert ws.queue(sub).empty()
    timeline = (await api.call("order_get", order=order))["timeline"]
    assert [t["height"] for t in timeline[1:]] == heights


async def test_unsubscribe_stops_notifications(node_api: Any, ws: WsClient) -> None:
    _, api = node_api
    sub = await ws.subscribe("newBlocks")
    assert (await ws.reply("unsubscribe", subscription=sub))["result"] is True
    assert (await ws.reply("unsubscribe", subscription=sub))["result"] is False
    await api.send("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1})
    with pytest.raises(TimeoutError):
        await ws.next(sub, timeout_s=0.3)


async def test_subscribe_errors(node_api: Any, ws: WsClient) -> None:
    _, api = node_api
    assert (await ws.reply("subscribe", topic="weather"))["error"]["code"] == -32602
    assert (await ws.reply("subscribe", topic="tx"))["error"]["code"] == -32602
    assert (await ws.reply("subscribe", topic="tx", filter={"hash": "zz"}))["error"]["code"] == -32602
    assert (await ws.reply("subscribe", topic="account", filter={"address": "mn1x"}))["error"]["code"] == -32602
    assert (await ws.reply("subscribe", topic="newBlocks", filter={"x": 1}))["error"]["code"] == -32602
    over_http = await api.error("subscribe", topic="newBlocks")
    assert over_http["code"] == -32601  # websocket only


async def test_methods_answer_over_the_websocket_too(node_api: Any, ws: WsClient) -> None:
    _, api = node_api
    reply = await ws.reply("account_get", address=api.address("alice"))
    assert reply["result"]["registered"] is True
    assert (await ws.reply("order_get", order=999))["error"]["code"] == -32001
