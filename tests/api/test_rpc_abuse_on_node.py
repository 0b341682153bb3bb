"""Issue 13's RPC attacks against a real in-process Node at its default [rpc] limits.

The attacker is 127.0.0.2 (raw sockets and websockets, tests/rpc/raw_clients.py);
the wallet is 127.0.0.1. The fast test is the issue's "done when"; the slow one
also measures the figures in docs/RELIABILITY.md (printed, never asserted as
speeds: the machine is shared).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from api_helpers import ApiClient, running_node, write_home

sys.path.insert(0, str(Path(__file__).parents[1] / "rpc"))
from raw_clients import ATTACKER, connect, read_until_closed, session_from, stalled_body
from waiting import wait_for_async

from marketnode.node.config import RpcSection
from marketnode.node.rpc.state import RPC_STATE


async def subscribe_new_blocks(ws_url: str) -> str:
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "subscribe",
                                      "params": {"topic": "newBlocks"}}))
        return json.loads((await ws.receive(timeout=5)).data)["result"]


async def attack(attacker: aiohttp.ClientSession, api: ApiClient, port: int) -> tuple[list, list]:
    """300 stalled request bodies, then 64 websockets, all from the attacker; what it got to hold."""
    stalls = [await stalled_body(port) for _ in range(300)]
    sockets = []
    for _ in range(64):
        with contextlib.suppress(aiohttp.ClientError):  # refused: the attacker's share is used up
            sockets.append(await attacker.ws_connect(api.ws_url))
    return stalls, sockets


async def test_stalled_bodies_and_idle_websockets_from_one_client_leave_node_status_and_ws_to_others(tmp_path):
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api), session_from(ATTACKER) as attacker:
        stalls, sockets = await attack(attacker, api, node.rpc.port)
        async with asyncio.timeout(1.0):
            assert (await api.call("node_status"))["height"] >= 0
            assert await subscribe_new_blocks(api.ws_url)
        for ws in sockets:
            await ws.close()
        for _, writer in stalls:
            writer.close()


class LoopLag:
    """The longest the event loop went without running this task (includes OS scheduling on a busy host)."""

    def __init__(self) -> None:
        self.max_s, self._stop = 0.0, asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            started = loop.time()
            await asyncio.sleep(0.005)  # the probe itself: how late the loop wakes us is the lag measured
            self.max_s = max(self.max_s, loop.time() - started - 0.005)

    def stop(self) -> None:
        self._stop.set()


@pytest.mark.slow
async def test_figures_idle_connections_and_a_huge_batch(tmp_path):
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    limits = RpcSection()
    async with running_node(cfg, keys) as (node, api):
        idle = [await connect(node.rpc.port) for _ in range(2000)]
        started = time.monotonic()
        answers = await asyncio.gather(*(read_until_closed(reader, limits.idle_timeout_s + 10) for reader, _ in idle))
        refused = sum(1 for a in answers if a.startswith(b"HTTP/1.1 429"))
        assert refused == 2000 - limits.max_connections_per_client
        assert answers.count(b"") == limits.max_connections_per_client  # admitted, then closed for idling
        print(f"\n2000 idle connections: {2000 - refused} admitted, all closed within "
              f"{time.monotonic() - started:.1f} s")
        for _, writer in idle:
            writer.close()

        txs = [api.sign("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1, "memo": "x" * 60})
               for _ in range(60)]
        await api.call("tx_sendBatch", txs=[tx.encode().hex() for tx in txs])

        async def last_committed() -> bool:
            return (await api.call("tx_get", hash=txs[-1].hash.hex()))["status"] == "committed"

        await wait_for_async(last_committed, 10, "the 60 transfers to commit")
        height = (await api.call("node_status"))["height"]
        batch = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "chain_getBlock", "params": [height]}
                            for i in range(1000)])
        lag = LoopLag()
        watcher = asyncio.create_task(lag.run())

        async def huge() -> int:
            async with api.session.post(api.url, data=batch, headers={"Content-Type": "application/json"}) as r:
                return len(await r.read())

        floods = [asyncio.create_task(huge()) for _ in range(4)]
        slots = node.rpc.app[RPC_STATE].http_slots
        await wait_for_async(lambda: slots.of("127.0.0.1") >= 4, 10, "the four batches to be in the server")
        tx = api.sign("carol", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1, "memo": ""})
        started = time.monotonic()
        reply = await api.call("tx_send", tx=tx.encode().hex(), wait="commit", timeout_s=20)
        commit_s = time.monotonic() - started
        sizes = await asyncio.gather(*floods)
        lag.stop()
        await watcher
        assert reply["status"] == "committed"
        # The budget bounds the results; each call past it adds only its short -32005 answer.
        assert max(sizes) <= limits.max_batch_response_bytes + 1000 * 250
        print(f"batch of 1000 chain_getBlock: request {len(batch)} B, reply {max(sizes)} B "
              f"(x{max(sizes) / len(batch):.0f}); a commit during 4 of them {commit_s * 1000:.0f} ms; "
              f"longest event-loop stall {lag.max_s * 1000:.0f} ms")
