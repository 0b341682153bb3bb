"""Load: an RPC flood above capacity is refused quickly while consensus goes on; a full mempool refuses clearly.

validator-1's RPC allows 200 calls/s per IP and 32 requests at once; the
flood sends far more for a bounded time from many concurrent clients. Every
node's mempool holds at most 300 txs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter

import aiohttp
import pytest
from chaos_net import closing_with_logs
from harness import RpcFailure, Testnet, wait_for
from waiting import wait_for_async

from marketnode.node.rpc.errors import LIMIT_EXCEEDED

pytestmark = pytest.mark.integration

FLOODED = "validator-1"
RATE_PER_S = 200
MAX_INFLIGHT = 32
MEMPOOL_MAX_TXS = 300
FLOOD_S = 8.0
CLIENTS = 48


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("load"), validators=4, timeout_ms=1000)
    for name, entry in testnet.entries.items():
        path = entry.home / "config.toml"
        text = path.read_text().replace("max_txs = 50000", f"max_txs = {MEMPOOL_MAX_TXS}")
        if name == FLOODED:
            text = text.replace("requests_per_s = 2000", f"requests_per_s = {RATE_PER_S}")
            text = text.replace("max_connections = 256", f"max_connections = {MAX_INFLIGHT}")
        path.write_text(text)
    with closing_with_logs(testnet):
        testnet.start()
        yield testnet


async def flood(url: str, seconds: float, clients: int, outcomes: Counter[str]) -> tuple[Counter[str], list[float]]:
    """``clients`` loops posting node_status as fast as they can for ``seconds``; outcome counts and refusal latencies."""
    refusal_latencies: list[float] = []
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "node_status", "params": {}})
    end = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                    reply = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError):
                outcomes["transport error"] += 1
                continue
            if "error" in reply:
                assert reply["error"]["code"] == LIMIT_EXCEEDED, reply
                assert "limit exceeded" in reply["error"]["message"]
                outcomes["limit exceeded"] += 1
                refusal_latencies.append(time.monotonic() - started)
            else:
                outcomes["ok"] += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return outcomes, refusal_latencies


def test_rpc_flood_is_refused_quickly_consensus_goes_on_and_the_node_recovers(net):
    before = net.height("validator-0")
    (outcomes, latencies), commit_s = asyncio.run(_flood_while_committing(net))
    assert outcomes["limit exceeded"] > outcomes["ok"], outcomes
    assert outcomes["ok"] <= RATE_PER_S * (FLOOD_S + 2) + 1000, "the rate limit let far too much through"
    p99 = statistics.quantiles(latencies, n=100)[98]
    assert p99 < 1.0, f"refusals took up to {p99:.2f} s (p99)"
    # Consensus went on during the flood: txs sent one after another kept committing, each within seconds.
    assert len(commit_s) >= 3 and max(commit_s) < 5.0, commit_s
    top = net.height("validator-0")
    assert top >= before + len(commit_s)
    # The flood is over: the flooded node answers again at once and stands at the head.
    wait_for(lambda: net.height(FLOODED) >= top, 10, "the flooded validator to answer at the head")
    print(f"\nflood: {dict(outcomes)}; refusal p99 {p99 * 1000:.0f} ms; commits during it {commit_s}")


async def _flood_while_committing(net: Testnet):  # type: ignore[no-untyped-def]
    outcomes: Counter[str] = Counter()
    flood_task = asyncio.create_task(flood(net.url(FLOODED), FLOOD_S, CLIENTS, outcomes))
    # the flood is above capacity before the first tx goes in
    await wait_for_async(lambda: outcomes["limit exceeded"] >= 100, FLOOD_S / 2,
                         f"the flood to be refused (so far {outcomes})", interval_s=0.05)
    commit_s: list[float] = []
    while not flood_task.done() and len(commit_s) < 20:
        started = time.monotonic()
        tx = net.transfer("alice", "bob", 1, via="validator-0")
        reply = await asyncio.to_thread(net.send, tx, "validator-0", "commit")
        assert reply["status"] == "committed", reply
        commit_s.append(round(time.monotonic() - started, 2))
    return await flood_task, commit_s


def test_a_full_mempool_refuses_with_a_clear_error_and_does_not_grow(net):
    via = "validator-2"
    first = net.transfer("carol", "dave", 1, via=via)  # held back: its nonce is the gap the others wait on
    gapped = [net.transfer("carol", "dave", 1, via=via) for _ in range(MEMPOOL_MAX_TXS + 50)]
    results = []
    for i in range(0, len(gapped), 100):
        results += net.send_batch(gapped[i:i + 100], via)
    refused = [r["error"] for r in results if "error" in r]
    assert len(refused) >= 50, "the mempool took more than its limit"
    assert all(e["code"] == LIMIT_EXCEEDED and e["data"]["code"] == "full" for e in refused), refused[:3]
    assert "mempool holds its limit" in refused[0]["message"]
    assert net.status(via)["mempool_size"] <= MEMPOOL_MAX_TXS
    net.transfer("erin", "frank", 1, via=via)  # skip erin's next nonce: the tx below waits behind a gap
    with pytest.raises(RpcFailure) as refusal:  # so it is refused too, with the same clear error
        net.send(net.transfer("erin", "frank", 1, via=via), via)
    assert refusal.value.error["code"] == LIMIT_EXCEEDED
    net._nonces.pop(net.keys["erin"].public_key)
    # The full pool still takes the tx that fills the gap (evicting gapped txs if it must): the held
    # txs become executable, commit, the pool drains and new txs get in.
    net.send(first, via, wait="commit")
    accepted = [g for g, r in zip(gapped, results) if "error" not in r]
    wait_for(lambda: net.status(via)["mempool_size"] == 0, 60, "the held txs to commit and the pool to drain")
    # At most one held tx (the furthest behind the gap) made room for the filler; all the others committed.
    assert sum(net.committed(via, tx.hash) for tx in accepted) >= len(accepted) - 1
    assert net.send(net.transfer("erin", "frank", 1, via=via), via, wait="commit")["status"] == "committed"
