"""One load step on a running cluster: sign, offer at a rate, watch the blocks, measure.

Everything is timed on the bench's monotonic clock: latencies (sent → first
seen committed at any node), the goodput window and the block gaps (between
the times new heights were first seen, tools/bench/gaps.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marketnode.core.hashing import digest
from marketnode.tools.bench import machine
from marketnode.tools.bench.cluster import BenchError, Rpc
from marketnode.tools.bench.gaps import gap_fields, longest_pending_gap, ready_times
from marketnode.tools.bench.market_setup import BenchNet
from marketnode.tools.bench.offer import Offered, offer_open_loop
from marketnode.tools.bench.workload import sign_specs, steady_specs

Echo = Callable[[str], None]
POLL_S = 0.02
RECEIPT_SAMPLE = 200


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Blocks:
    """What the watcher saw, in monotonic s: per block (height, tx count, first seen); per tx hash."""

    start: tuple[int, float]  # the head before the load, and when the load began
    blocks: list[tuple[int, int, float]] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)  # tx hash -> monotonic s its block was first seen
    height_of: dict[str, int] = field(default_factory=dict)


async def watch_blocks(rpc: Rpc, urls: list[str], out: Blocks, stop: asyncio.Event) -> None:
    """Poll every node's height, each on its own; fetch each new block from a node that has it.

    A height counts as committed the first time any node reports it, so one
    validator that falls behind (and syncs) neither delays the latencies nor
    hides the network's progress. Each node is polled by its own task: an
    earlier version waited for all nodes' answers before looking at any, so
    one node slow to answer (its event loop busy) delayed every observation
    and showed a 5.1 s "gap" between two heights the logs had 0.9 s apart.
    """
    seen_at: dict[int, tuple[float, str]] = {}  # height -> (first reported, by which node)
    top = [out.start[0]]
    answered = asyncio.Event()
    failures: list[BaseException] = []

    async def poll(url: str) -> None:
        while not stop.is_set():
            try:
                status = await rpc.call(url, "node_status")
            except Exception as exc:
                failures.append(exc)
                await asyncio.sleep(POLL_S)
                continue
            now = time.monotonic()
            answered.set()
            for height in range(top[0] + 1, status["height"] + 1):
                seen_at[height] = (now, url)
            top[0] = max(top[0], status["height"])
            await asyncio.sleep(POLL_S)

    pollers = [asyncio.create_task(poll(u)) for u in urls]
    try:
        height = out.start[0]
        while not (stop.is_set() and height >= top[0]):
            if not answered.is_set() and len(failures) >= 50 * len(urls):
                raise BenchError(f"no node answers node_status: {failures[0]!r}")
            while height < top[0]:
                height += 1
                at, url = seen_at[height]
                block = await rpc.call(url, "chain_getBlock", height=height, full=False)
                for h in block["tx_hashes"]:
                    out.seen.setdefault(h, at)
                    out.height_of.setdefault(h, height)
                out.blocks.append((height, len(block["tx_hashes"]), at))
            await asyncio.sleep(POLL_S)
    finally:
        for task in pollers:
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)


def summarise(offered: Offered, seen: Blocks, duration_s: float, sig_bound: float, end: float,
              order: list[tuple[bytes, str]] | None = None) -> dict[str, Any]:
    """The figures of one step: counts, goodput in the window, latencies of accepted txs, the longest gap.

    ``order``: (sender, hash) of the offered txs, each sender's in nonce order; the gap counts a tx as
    pending once it and its sender's earlier txs were all accepted (tools/bench/gaps.py). None: from its own
    acknowledgement.
    """
    accepted = offered.acked
    ready = ready_times(order, accepted) if order is not None else accepted
    committed = [h for h in accepted if h in seen.seen]
    t0 = min(offered.first_sent.values()) if offered.first_sent else 0.0
    warmup = min(2.0, duration_s * 0.1)
    window = (t0 + warmup, t0 + duration_s)
    in_window = [h for h in committed if window[0] <= seen.seen[h] <= window[1]]
    goodput = len(in_window) / (window[1] - window[0])
    latencies = [(seen.seen[h] - offered.sent[h]) * 1000 for h in committed]
    from_offer = [(seen.seen[h] - offered.first_sent[h]) * 1000 for h in committed]
    window_blocks = [n for _, n, t in seen.blocks if window[0] <= t <= window[1]]
    span = max((seen.seen[h] for h in committed), default=t0) - t0
    gap = longest_pending_gap([(h, t * 1000) for h, t in [seen.start] + [(b[0], b[2]) for b in seen.blocks]],
                              [(ready[h] * 1000, seen.height_of.get(h)) for h in ready], end * 1000)
    return {
        **offered.fields(),
        "committed": len(committed),
        "tps": round(goodput, 1),
        "makespan_tps": round(len(committed) / span, 1) if span > 0 else 0.0,
        "sig_bound_tps": round(sig_bound, 1),
        "ratio": round(goodput / sig_bound, 3),
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p99_ms": round(percentile(latencies, 99), 1),
        "latency_from_first_offer_p99_ms": round(percentile(from_offer, 99), 1),
        **gap_fields(gap),
        "behind_unaccepted": len(accepted) - len(ready),
        "mean_block_txs": round(sum(window_blocks) / len(window_blocks), 1) if window_blocks else 0,
        "blocks_in_window": len(window_blocks),
    }


async def run_step(net: BenchNet, rate: float, duration_s: float, spread: str, drain_s: float) -> dict[str, Any]:
    """Offer ``rate`` tx/s of the steady mix for ``duration_s``; wait up to ``drain_s`` more for commits."""
    rpc, cluster, market, workers, echo = net.rpc, net.cluster, net.market, net.workers, net.echo
    count = max(1, int(rate * duration_s))
    echo(f"signing {count} steady-load txs in {workers} processes (not timed) ...")
    specs = steady_specs(market.chain_id, market.buyers, market.sellers, market.listings, market.ships(),
                         market.confirms(), count)
    raws = sign_specs(specs, workers)
    hashes = [digest("tx", raw).hex() for raw in raws]
    urls = cluster.live_urls
    head = await rpc.call(urls[0], "node_status")
    seen = Blocks((head["height"], time.monotonic()))
    cpu_before = {n: machine.cpu_seconds(p.pid) for n, p in cluster.procs.items()}
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_blocks(rpc, urls, seen, stop))
    try:
        echo(f"offering {rate:.0f} tx/s for {duration_s:g} s (spread {spread}) ...")
        deadline = time.monotonic() + duration_s + drain_s
        offered = await offer_open_loop(rpc, urls, raws, hashes, [spec[0] for spec in specs], spread, rate,
                                        deadline)
        while time.monotonic() < deadline and not watcher.done() and \
                any(h not in seen.seen for h in offered.acked):
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await watcher
    end = time.monotonic()
    cpu_after = {n: machine.cpu_seconds(p.pid) for n, p in cluster.procs.items()}
    result = summarise(offered, seen, duration_s, net.sig_bound, end, [(spec[0], h) for spec, h in zip(specs, hashes)])
    result["offered_rate"] = round(rate, 1)
    result["cpu_s_per_node"] = {n: round(cpu_after[n] - cpu_before[n], 2) for n in cpu_after}
    result.update(await check_receipts(rpc, urls[0], [h for h in hashes if h in seen.seen]))
    return result


async def check_receipts(rpc: Rpc, url: str, committed: list[str], sample: int = RECEIPT_SAMPLE) -> dict[str, Any]:
    """Receipts of up to ``sample`` committed txs, evenly spread: a failing mix would inflate goodput unseen."""
    picked = committed[::max(1, len(committed) // sample)][:sample]
    failed: list[str] = []
    for i in range(0, len(picked), 100):  # the RPC's batch limit
        results = await rpc.batch(url, [("tx_get", {"hash": h, "proof": False}) for h in picked[i:i + 100]])
        failed += [r["receipt"].get("message", "") for r in results if r and r.get("status") == "failed"]
    return {"receipts_checked": len(picked), "receipts_failed": len(failed),
            **({"receipt_failure_example": failed[0]} if failed else {})}
