"""Messages through a running node: send, inbox paging, read markers, live delivery, the CLI, and refusals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import CHAIN_ID, ApiClient, Market, build_market, running_node, write_home
from click.testing import CliRunner
from test_subscriptions import WsClient

from marketnode.cli.main import main
from marketnode.core.message import ReadMarker, seal_message
from marketnode.wallet.client import RpcClient
from marketnode.wallet.messages import Messenger, open_item

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def market_node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient, Market]]:
    cfg, keys = write_home(tmp_path_factory.mktemp("msgs") / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        yield node, api, await build_market(api)


def now_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


def sealed(api: ApiClient, sender: str, to: list[str], about: tuple[str, int], text: str) -> str:
    env = seal_message(api.keys[sender], CHAIN_ID, [api.pub(n) for n in to], about, text, now_ms())
    return env.encode().hex()


async def test_buyer_message_reaches_seller_live_and_in_the_inbox(market_node):
    _, api, m = market_node
    client = WsClient(await api.session.ws_connect(api.ws_url))
    try:
        sub = await client.subscribe("messages", address=api.address("alice"))
        sent = await api.call("message_send", envelope=sealed(api, "bob", ["alice"], ("order", m.open_order),
                                                             "Could you ship it before Friday?"))
        assert sent["new"] is True
        note = await client.next(sub)
        assert note["event"] == "message" and note["id"] == sent["id"]
        assert note["sender"] == api.address("bob")
    finally:
        await client.close()
    inbox = await api.call("message_inbox", address=api.address("alice"))
    item = next(i for i in inbox["items"] if i["id"] == sent["id"])
    assert item["direction"] == "in" and item["read"] is False and inbox["unread"] >= 1
    opened = open_item(api.keys["alice"], item, CHAIN_ID)
    assert opened.text == "Could you ship it before Friday?" and opened.problem is None
    marker = ReadMarker(CHAIN_ID, api.pub("alice"), (bytes.fromhex(sent["id"]),), now_ms()).sign(api.keys["alice"])
    marked = await api.call("message_markRead", marker=marker.encode().hex())
    assert marked["marked"] == 1
    again = await api.call("message_inbox", address=api.address("alice"))
    assert next(i for i in again["items"] if i["id"] == sent["id"])["read"] is True
    assert again["unread"] == inbox["unread"] - 1


async def test_inbox_pages_by_seq_for_catch_up(market_node):
    _, api, m = market_node
    ids = []
    for n in range(5):
        ids.append((await api.call("message_send", envelope=sealed(api, "alice", ["carol"], ("listing", m.chair),
                                                                    f"page {n}")))["id"])
    first = await api.call("message_inbox", address=api.address("carol"), limit=2)
    assert first["next_after"] is not None and len(first["items"]) == 2
    rest = await api.call("message_inbox", address=api.address("carol"), after=first["next_after"], limit=100)
    got = [i["id"] for i in first["items"] + rest["items"]]
    assert got[-5:] == ids and rest["next_after"] is None


async def test_refusals_name_their_reason(market_node):
    _, api, m = market_node
    stranger = await api.error("message_send", envelope=sealed(api, "grace", ["alice"], ("order", m.open_order), "x"))
    assert stranger["code"] == -32000 and stranger["data"]["code"] == "unauthorised"
    arbiter_early = await api.error("message_send", envelope=sealed(api, "dave", ["bob"], ("order", m.open_order), "x"))
    assert arbiter_early["data"]["code"] == "unauthorised"
    in_dispute = await api.call("message_send", envelope=sealed(api, "dave", ["alice", "carol"],
                                                                ("order", m.disputed_order), "Ruling: 300 back"))
    assert in_dispute["new"]
    junk = await api.error("message_send", envelope="81a0c0")
    assert junk["code"] == -32000 and junk["data"]["code"] == "malformed"
    stats = await api.call("message_stats")
    assert stats["refused"]["unauthorised"] >= 2 and stats["refused"]["malformed"] >= 1
    assert stats["envelopes"] >= 1 and stats["accounts"] >= 2
    too_big = await api.error("message_send", envelope="00" * 9000)
    assert too_big["code"] == -32602  # over the param's byte limit: refused before it is read


async def test_cli_send_and_inbox_open_the_text(market_node, tmp_path):
    node, api, m = market_node
    bob_key, alice_key = tmp_path / "bob.key", tmp_path / "alice.key"
    api.keys["bob"].save(bob_key)
    api.keys["alice"].save(alice_key)

    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    sent = await asyncio.to_thread(cli, "message", "send", "--listing", str(m.table), "Does it fold?",
                                   "--key-file", str(bob_key), "--rpc", node.rpc.url)
    assert sent.exit_code == 0, sent.output
    assert "sent to" in sent.output
    shown = await asyncio.to_thread(cli, "message", "inbox", "--mark-read", "--key-file", str(alice_key),
                                    "--rpc", node.rpc.url)
    assert shown.exit_code == 0, shown.output
    assert "Does it fold?" in shown.output and "marked read" in shown.output
    about_order = await asyncio.to_thread(cli, "message", "send", "--order", str(m.completed_order), "--json",
                                          "Arrived, thanks", "--key-file", str(bob_key), "--rpc", node.rpc.url)
    assert about_order.exit_code == 0, about_order.output
    assert json.loads(about_order.output)["to"] == [api.address("alice")]  # the order's other party; no dispute
    refused = await asyncio.to_thread(cli, "message", "send", "hello", "--key-file", str(bob_key), "--rpc",
                                      node.rpc.url)
    assert refused.exit_code != 0 and "exactly one of --order N or --listing N" in refused.output


async def test_messenger_reads_back_its_sent_copy(market_node):
    node, api, m = market_node
    client = RpcClient(node.rpc.url)
    bob = Messenger(api.keys["bob"], client, CHAIN_ID)
    sent = await asyncio.to_thread(bob.send, [api.address("alice")], ("order", m.completed_order), "Thanks!")
    messages, _ = await asyncio.to_thread(bob.inbox)
    mine = next(x for x in messages if x.id == sent["id"])
    assert mine.direction == "out" and mine.text == "Thanks!"


async def test_the_arbiter_hears_of_a_dispute_on_its_account_topic(market_node):
    _, api, m = market_node
    client = WsClient(await api.session.ws_connect(api.ws_url))
    try:
        sub = await client.subscribe("account", address=api.address("dave"))
        body = {"listing": m.table, "quantity": 1, "max_total": 2000, "address_seller": b"", "arbiter": api.pub("dave")}
        order = api.event(await api.send("carol", "order_place", body), "order_placed")["order"]
        await api.send("alice", "order_accept", {"order": order})
        await api.send("carol", "order_dispute", {"order": order, "reason_hash": b"\x01" * 32})
        for _ in range(10):
            note = await client.next(sub)
            kinds = [e["kind"] for e in note["events"]]
            if "order_disputed" in kinds:
                break
        else:
            raise AssertionError("the arbiter was not told of the dispute")
        assert note["sender"] == api.address("carol")
    finally:
        await client.close()
