"""One client must not deny the RPC to others: stalled bodies, idle sockets and websockets, huge replies.

Every test runs the real aiohttp server on a real port (RpcServer) and
attacks it from 127.0.0.2 over raw sockets, while the test's own client on
127.0.0.1 must still be served. Waits are on conditions with deadlines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from raw_clients import (
    ATTACKER,
    BYSTANDER,
    connect,
    post_head,
    read_until_closed,
    session_from,
    stalled_body,
)
from rpc_helpers import call, demo_registry
from waiting import wait_for_async

from marketnode.node.rpc import RPC_HUB, CallContext, Param, RpcLimits, RpcServer
from marketnode.node.rpc.state import RPC_STATE

Serve = Callable[..., Any]


@pytest.fixture
async def serve(node_context: dict[str, Any]) -> AsyncIterator[Serve]:
    """``await serve(RpcLimits(...))`` → a started RpcServer on a free port of 127.0.0.1."""
    servers: list[RpcServer] = []

    async def start(limits: RpcLimits | None = None) -> RpcServer:
        registry = demo_registry()

        @registry.method("demo_ticks", summary="How often the ticker task has run so far.")
        async def ticks(ctx: CallContext) -> int:
            return ctx.node["ticks"]

        @registry.method("demo_blob", summary="n bytes of reply for a few bytes of request.",
                         params=[Param("n", "integer", "Size.", maximum=64 * 1024 * 1024)])
        async def blob(ctx: CallContext, n: int) -> str:
            return "b" * n

        server = RpcServer(registry, node_context, port=0, limits=limits)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


async def ask(session: aiohttp.ClientSession, server: RpcServer, payload: Any) -> tuple[int, Any]:
    async with session.post(server.url, json=payload) as resp:
        return resp.status, await resp.json(content_type=None)


async def subscribe_over_ws(session: aiohttp.ClientSession, server: RpcServer) -> str:
    async with session.ws_connect(server.ws_url) as ws:
        await ws.send_str(json.dumps(call("subscribe", {"topic": "newBlocks"})))
        reply = json.loads((await ws.receive(timeout=5)).data)
        return reply["result"]


def in_flight(server: RpcServer, client: str) -> int:
    return server.app[RPC_STATE].http_slots.of(client)


# --- the attack from the issue, at the default limits ----------------------------------------


async def test_stalled_bodies_and_idle_websockets_from_one_client_do_not_lock_out_another(serve):
    server = await serve()
    stalls = [await stalled_body(server.port) for _ in range(300)]
    async with session_from(ATTACKER) as attacker, aiohttp.ClientSession() as victim:
        sockets = []
        for _ in range(64):
            try:
                sockets.append(await attacker.ws_connect(server.ws_url))
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status in (429, 503)
            except aiohttp.ClientConnectionError:
                pass  # refused at the door: the attacker's connections are used up
        async with asyncio.timeout(1.0):
            status, reply = await ask(victim, server, call("demo_add", [2]))
            assert status == 200 and reply["result"] == 2
            assert await subscribe_over_ws(victim, server)
        for ws in sockets:
            await ws.close()
    for _, writer in stalls:
        writer.close()


# --- timeouts ---------------------------------------------------------------------------------


async def test_a_stalled_body_gets_408_and_its_connection_is_closed(serve):
    server = await serve(RpcLimits(body_timeout_s=0.2))
    reader, writer = await stalled_body(server.port)
    answer = await read_until_closed(reader, timeout_s=5)
    assert answer.startswith(b"HTTP/1.1 408")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == -32005 and "within 0.2 s" in body["error"]["message"]
    await wait_for_async(lambda: in_flight(server, ATTACKER) == 0, 5, "the stalled request's slot to be given back")
    writer.close()


@pytest.mark.parametrize("sent", [b"", b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"],
                         ids=["nothing", "half a request head"])
async def test_a_connection_that_sends_no_complete_request_head_is_closed(serve, sent):
    server = await serve(RpcLimits(idle_timeout_s=0.2))
    reader, writer = await connect(server.port)
    writer.write(sent)
    assert await read_until_closed(reader, timeout_s=5) == b""
    await wait_for_async(lambda: server.connections.of(ATTACKER) == 0, 5, "the idle connection's slot to be given back")
    writer.close()


async def test_a_websocket_with_no_subscription_is_closed_when_idle_and_one_with_a_subscription_stays(serve):
    server = await serve(RpcLimits(ws_idle_timeout_s=0.2))
    async with aiohttp.ClientSession() as session:
        idle = await session.ws_connect(server.ws_url)
        busy = await session.ws_connect(server.ws_url)
        await busy.send_str(json.dumps(call("subscribe", {"topic": "newBlocks"})))
        assert "result" in json.loads((await busy.receive(timeout=5)).data)
        closing = await idle.receive(timeout=5)
        assert closing.type is aiohttp.WSMsgType.CLOSE and "idle" in (closing.extra or "")
        assert server.hub.publish("newBlocks", {"height": 1}) == 1  # still subscribed, still open
        assert json.loads((await busy.receive(timeout=5)).data)["params"]["result"] == {"height": 1}
        await busy.send_str(json.dumps(call("demo_add", [7])))  # the server's reads timed out meanwhile
        assert json.loads((await busy.receive(timeout=5)).data)["result"] == 7
        await idle.close()
        await busy.close()


# --- per-client caps at the edge --------------------------------------------------------------


async def test_tcp_connections_per_client_at_the_edge(serve):
    server = await serve(RpcLimits(max_connections_per_client=3))
    held = [await connect(server.port) for _ in range(3)]
    await wait_for_async(lambda: server.connections.of(ATTACKER) == 3, 5, "three connections from the attacker")
    reader, writer = await connect(server.port)
    answer = await read_until_closed(reader, timeout_s=5)
    assert answer.startswith(b"HTTP/1.1 429") and b"from one client address" in answer
    writer.close()
    async with aiohttp.ClientSession() as victim:
        assert (await ask(victim, server, call("demo_add", [1])))[1]["result"] == 1
    for _, w in held:
        w.close()
    await wait_for_async(lambda: server.connections.of(ATTACKER) == 0, 5, "the attacker's slots to be given back")


async def test_when_every_connection_is_taken_the_biggest_holder_gives_one_up(serve):
    server = await serve(RpcLimits(max_connections_per_client=3, max_open_connections=4))
    held = [await connect(server.port) for _ in range(3)] + [await connect(server.port, BYSTANDER)]
    await wait_for_async(lambda: server.connections.held == 4, 5, "every connection taken")
    async with aiohttp.ClientSession() as victim:  # holds none: the attacker, holding 3, gives one up
        assert (await ask(victim, server, call("demo_add", [1])))[1]["result"] == 1
        await wait_for_async(lambda: server.connections.of(ATTACKER) == 2, 5, "one attacker connection closed")
        assert server.connections.of(BYSTANDER) == 1
    for _, w in held:
        w.close()


async def test_when_nobody_holds_two_more_than_a_newcomer_it_is_refused(serve):
    server = await serve(RpcLimits(max_connections_per_client=3, max_open_connections=2))
    held = [await connect(server.port), await connect(server.port, BYSTANDER)]
    await wait_for_async(lambda: server.connections.held == 2, 5, "every connection taken")
    reader, writer = await connect(server.port, "127.0.0.4")
    answer = await read_until_closed(reader, timeout_s=5)
    assert answer.startswith(b"HTTP/1.1 503") and b"connections at once" in answer
    assert server.connections.of(ATTACKER) == 1 and server.connections.of(BYSTANDER) == 1
    for _, w in [*held, (reader, writer)]:
        w.close()


async def test_stalled_bodies_from_many_addresses_give_way_to_a_newcomer(serve):
    server = await serve(RpcLimits(max_connections=6, max_requests_per_client=3))
    stalls = [await stalled_body(server.port, source) for source in (ATTACKER, BYSTANDER) for _ in range(3)]
    await wait_for_async(lambda: server.app[RPC_STATE].http_slots.held == 6, 5, "every request slot held by a stall")
    async with aiohttp.ClientSession() as victim:
        status, reply = await ask(victim, server, call("demo_add", [5]))
    assert status == 200 and reply["result"] == 5
    assert server.app[RPC_STATE].http_slots.evicted == 1
    for _, w in stalls:
        w.close()


async def test_requests_in_flight_per_client_at_the_edge(serve):
    server = await serve(RpcLimits(max_requests_per_client=2))
    stalls = [await stalled_body(server.port) for _ in range(2)]
    await wait_for_async(lambda: in_flight(server, ATTACKER) == 2, 5, "two stalled requests in flight")
    reader, writer = await stalled_body(server.port)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 429")
    async with aiohttp.ClientSession() as victim:
        assert (await ask(victim, server, call("demo_add", [1])))[1]["result"] == 1
    for _, w in [*stalls, (reader, writer)]:
        w.close()


async def test_calls_over_websockets_count_against_the_same_per_client_cap(serve, node_context):
    server = await serve(RpcLimits(max_requests_per_client=1))
    node_context["gate"] = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.ws_url)
        await ws.send_str(json.dumps(call("demo_wait", id=1)))
        await wait_for_async(lambda: node_context.get("waiting") == 1, 5, "the websocket call to hold the slot")
        status, reply = await ask(session, server, call("demo_add", [1]))
        assert status == 429 and reply["error"]["code"] == -32005
        await ws.send_str(json.dumps(call("demo_add", [1], id=2)))
        refused = json.loads((await ws.receive(timeout=5)).data)
        assert refused["error"]["code"] == -32005 and "from one client address" in refused["error"]["message"]
        node_context["gate"].set()
        assert json.loads((await ws.receive(timeout=5)).data)["result"] == "through"
        assert (await ask(session, server, call("demo_add", [1])))[1]["result"] == 1
        await ws.close()


async def test_websockets_per_client_at_the_edge(serve):
    server = await serve(RpcLimits(max_ws_per_client=2))
    async with session_from(ATTACKER) as attacker, aiohttp.ClientSession() as victim:
        held = [await attacker.ws_connect(server.ws_url) for _ in range(2)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await attacker.ws_connect(server.ws_url)
        assert refused.value.status == 429
        assert await subscribe_over_ws(victim, server)
        for ws in held:
            await ws.close()


async def test_subscriptions_per_client_at_the_edge(serve):
    server = await serve(RpcLimits(max_ws_subscriptions=2, max_subscriptions_per_client=3))
    async with aiohttp.ClientSession() as session:
        first, second = await session.ws_connect(server.ws_url), await session.ws_connect(server.ws_url)
        replies = []
        for ws in (first, first, second, second):
            await ws.send_str(json.dumps(call("subscribe", {"topic": "newBlocks"})))
            replies.append(json.loads((await ws.receive(timeout=5)).data))
        assert all("result" in r for r in replies[:3])
        assert replies[3]["error"]["code"] == -32005 and "per client address" in replies[3]["error"]["message"]
        await first.close()
        await second.close()


# --- reply sizes and the event loop ---------------------------------------------------------------


def echo_reply_size(value: str, rid: int = 1) -> int:
    return len(json.dumps({"jsonrpc": "2.0", "result": value, "id": rid}, separators=(",", ":")))


async def test_one_response_over_the_size_budget_is_a_clear_error(serve):
    limit = 1000
    server = await serve(RpcLimits(max_response_bytes=limit))
    fits = "x" * (1000 - echo_reply_size(""))
    async with aiohttp.ClientSession() as session:
        _, reply = await ask(session, server, call("demo_echo", {"value": fits}))
        assert reply["result"] == fits
        _, reply = await ask(session, server, call("demo_echo", {"value": fits + "x"}))
        assert reply["error"]["code"] == -32005 and reply["error"]["data"]["max"] == limit
        assert "1001 bytes" in reply["error"]["message"]


async def test_a_batch_past_its_response_budget_answers_the_rest_with_errors_and_runs_none_of_them(
        serve, node_context):
    value = "x" * 100
    size = echo_reply_size(value)
    budget = 2 + 3 * (size + 1)  # brackets, and three replies with their commas
    server = await serve(RpcLimits(max_batch_response_bytes=budget))
    batch = [call("demo_echo", {"value": value}, id=i) for i in range(3)]
    batch += [call("demo_echo", {"value": value}, id=3), call("demo_bump", id=4), call("demo_bump", id=5)]
    async with aiohttp.ClientSession() as session:
        _, replies = await ask(session, server, batch)
    assert [r["id"] for r in replies] == [0, 1, 2, 3, 4, 5]
    assert all(r["result"] == value for r in replies[:3])
    assert [r["error"]["data"]["ran"] for r in replies[3:]] == [True, False, False]
    assert all(r["error"]["code"] == -32005 for r in replies[3:])
    assert node_context["bumps"] == 0  # the calls past the budget did not run


async def test_a_batch_lets_other_tasks_run_between_its_calls(serve, node_context):
    server = await serve()
    node_context["ticks"] = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            node_context["ticks"] += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    async with aiohttp.ClientSession() as session:
        _, replies = await ask(session, server, [call("demo_ticks", id=i) for i in range(5)])
    stop.set()
    await task
    seen = [r["result"] for r in replies]
    assert seen == sorted(set(seen)), f"the batch held the event loop: ticks {seen}"


async def test_batches_beyond_batches_at_once_wait_their_turn(serve, node_context):
    server = await serve(RpcLimits(batches_at_once=1))
    node_context["gate"] = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        first = asyncio.create_task(ask(session, server, [call("demo_wait", id=1)]))
        await wait_for_async(lambda: node_context.get("waiting") == 1, 5, "the first batch to be running")
        second = asyncio.create_task(ask(session, server, [call("demo_bump", id=2)]))
        _, single = await ask(session, server, call("demo_bump", id=3))  # single calls do not queue
        assert single["result"] == 1
        await wait_for_async(lambda: in_flight(server, "127.0.0.1") == 2, 5, "the second batch to be in the server")
        assert node_context["bumps"] == 1 and not second.done()  # it waits for the first batch
        node_context["gate"].set()
        assert (await first)[1][0]["result"] == "through"
        assert (await second)[1][0]["result"] == 2


async def test_a_client_that_stops_reading_a_large_reply_is_let_go(serve):
    server = await serve(RpcLimits(send_timeout_s=0.3, max_response_bytes=32 * 1024 * 1024))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((ATTACKER, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    _, writer = await asyncio.open_connection(sock=sock)
    request = json.dumps(call("demo_blob", {"n": 24 * 1024 * 1024})).encode()
    writer.write(post_head(len(request)) + request)  # and never read the 24 MB answer
    await wait_for_async(lambda: in_flight(server, ATTACKER) == 1, 5, "the request to be served")
    await wait_for_async(lambda: in_flight(server, ATTACKER) == 0, 10, "the server to give up on the reader")
    await wait_for_async(lambda: server.connections.of(ATTACKER) == 0, 5, "the connection to be closed")
    writer.close()


async def test_a_reply_larger_than_one_write_arrives_whole(serve):
    server = await serve()
    big = "y" * (900 * 1024)  # several slices of the streamed reply
    async with aiohttp.ClientSession() as session:
        status, reply = await ask(session, server, call("demo_echo", {"value": big}))
    assert status == 200 and reply["result"] == big


async def test_a_websocket_whose_unsent_replies_pass_the_byte_budget_is_dropped(serve):
    server = await serve(RpcLimits(ws_queue_bytes=1500))
    hub = server.app[RPC_HUB]
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.ws_url)
        await ws.send_str(json.dumps(call("subscribe", {"topic": "newBlocks"})))
        assert "result" in json.loads((await ws.receive(timeout=5)).data)
        # publish() never awaits, so nothing is sent between these: 2 x 1 KB do not fit in 1.5 KB.
        assert [hub.publish("newBlocks", {"pad": "x" * 1000}) for _ in range(2)] == [1, 0]
        messages = [await ws.receive(timeout=5) for _ in range(2)]
        assert messages[-1].type is aiohttp.WSMsgType.CLOSE and "slow consumer" in (messages[-1].extra or "")
        await ws.close()


# --- logging ----------------------------------------------------------------------------------------


async def test_clients_dropping_stalled_requests_log_one_line_without_traceback(serve, caplog):
    server = await serve()
    caplog.set_level(logging.INFO)
    stalls = [await stalled_body(server.port) for _ in range(20)]
    await wait_for_async(lambda: in_flight(server, ATTACKER) == 20, 5, "20 stalled requests in flight")
    for _, writer in stalls:
        writer.close()
    await wait_for_async(lambda: in_flight(server, ATTACKER) == 0, 5, "the dropped requests to end")
    assert not [r for r in caplog.records if r.exc_info], "a client's fault logged a traceback"
    lines = [r for r in caplog.records if "connection lost while sending" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
