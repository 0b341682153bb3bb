"""`marketnode bench tps`: committed tx/s and commit latency of a local testnet under steady load.

Phases: start N validators; set up actors, shops, listings and orders (not
timed); sign the steady load in worker processes; then submit it at a steady
rate in tx_sendBatch chunks spread over every node while a watcher records
when each tx's block appears at node 0. Reported beside the signature bound:
ed25519 verifications/s per core * cores / N.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from node.bench import machine
from node.bench.cluster import BenchError, Cluster, Rpc
from node.bench.workload import (
    Actor,
    listing_body,
    make_actors,
    order_body,
    register_body,
    shop_body,
    sign_specs,
    steady_specs,
)
from node.testnet_load import demo_keys

Echo = Callable[[str], None]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _phase(rpc: Rpc, urls: list[str], specs: list, echo: Echo, label: str, workers: int,
                 timeout_s: float = 300) -> dict[str, dict]:
    raws = sign_specs(specs, workers)
    refused = await rpc.send_all(urls, raws)
    if refused:
        raise BenchError(f"setup {label}: {refused} txs refused")
    from core.hashing import digest

    hashes = [digest("tx", raw).hex() for raw in raws]
    results = await rpc.wait_receipts(urls[0], hashes, timeout_s)
    failed = [r for r in results.values() if r["status"] != "committed"]
    if failed:
        raise BenchError(f"setup {label}: {len(failed)} txs failed, e.g. {failed[0]['receipt']['message']}")
    echo(f"  setup {label}: {len(raws)} txs committed")
    return {h: results[h] for h in hashes}


def _event(result: dict, kind: str, attr: str) -> Any:
    for event in result["receipt"]["events"]:
        if event["kind"] == kind:
            return event["attrs"][attr]
    raise BenchError(f"no {kind} event in receipt")


async def setup_market(rpc: Rpc, cluster: Cluster, chain_id: str, steady_count: int, workers: int,
                       echo: Echo) -> tuple[list[Actor], list[Actor], dict[bytes, int], list, list]:
    urls = cluster.urls
    n_buyers, n_sellers = 64, 16
    buyers, sellers = make_actors("bench-buyer", n_buyers), make_actors("bench-seller", n_sellers)
    funders = [Actor(k) for k in demo_keys(cluster.dir).values()]
    for funder in funders:
        funder.nonce = (await rpc.call(urls[0], "account_get", address=funder.key.address))["nonce"]
    actors = buyers + sellers
    fund = [funders[i % len(funders)].spec(chain_id, "transfer", {"amount": 10**10, "asset": "MKT", "to": a.pub})
            for i, a in enumerate(actors)]
    await _phase(rpc, urls, fund, echo, "funding", workers)
    specs = [a.spec(chain_id, "register", register_body(f"bench{i}")) for i, a in enumerate(actors)]
    shop_specs = [s.spec(chain_id, "shop_create", shop_body(f"shop {i}")) for i, s in enumerate(sellers)]
    results = await _phase(rpc, urls, specs + shop_specs, echo, "registration and shops", workers)
    shop_hashes = list(results)[len(specs):]
    shops = {s.pub: _event(results[h], "shop_created", "shop") for s, h in zip(sellers, shop_hashes)}
    results = await _phase(rpc, urls, [s.spec(chain_id, "listing_create", listing_body(shops[s.pub], i))
                                       for i, s in enumerate(sellers)], echo, "listings", workers)
    listings = {s.pub: _event(r, "listing_created", "listing") for s, r in zip(sellers, results.values())}
    per_group = int(steady_count * 0.15) + 1
    seller_of = {listing: pub for pub, listing in listings.items()}
    listing_ids = list(listings.values())
    place = [buyers[i % n_buyers].spec(chain_id, "order_place", order_body(listing_ids[i % len(listing_ids)]))
             for i in range(2 * per_group)]
    results = await _phase(rpc, urls, place, echo, "orders to ship and confirm", workers)
    orders = []
    for (buyer_seed, *_rest), result in zip(place, results.values()):
        order_id = _event(result, "order_placed", "order")
        orders.append((buyer_seed, order_id, seller_of[place[len(orders)][4]["listing"]]))
    by_seed = {a.key.seed: a for a in buyers}
    seller_by_pub = {s.pub: s for s in sellers}
    accept = [seller_by_pub[seller].spec(chain_id, "order_accept", {"order": oid}) for _, oid, seller in orders]
    await _phase(rpc, urls, accept, echo, "accepts", workers)
    group_ship, group_confirm = orders[:per_group], orders[per_group:]
    ship = [seller_by_pub[seller].spec(chain_id, "order_ship", {"order": oid}) for _, oid, seller in group_confirm]
    await _phase(rpc, urls, ship, echo, "ships", workers)
    to_ship = [(seller, oid) for _, oid, seller in group_ship]
    to_confirm = [(by_seed[seed].pub, oid) for seed, oid, _ in group_confirm]
    return buyers, sellers, listings, to_ship, to_confirm


async def _watch_blocks(rpc: Rpc, url: str, start_height: int, seen: dict[str, float], blocks: list[tuple[float, int]],
                        stop: asyncio.Event) -> None:
    height = start_height
    while not stop.is_set():
        status = await rpc.call(url, "node_status")
        now = time.monotonic()
        while height < status["height"]:
            height += 1
            block = await rpc.call(url, "chain_getBlock", height=height, full=False)
            for h in block["tx_hashes"]:
                seen.setdefault(h, now)
            blocks.append((now, len(block["tx_hashes"])))
        await asyncio.sleep(0.02)


async def run_tps_async(validators: int, duration_s: float, rate: int, echo: Echo, observers: int = 0,
                        base_port: int = 24600, keep_dir: bool = False) -> dict[str, Any]:
    echo(f"measuring the signature bound on {machine.cores()} cores ...")
    sig_bound, per_core = machine.signature_bound_tps(validators)
    echo(f"  {per_core:,.0f} verifications/s per core -> bound {sig_bound:,.0f} tx/s for {validators} validators")
    cluster = Cluster(validators, observers, base_port, keep=keep_dir)
    cluster.tune(requests_per_s=1_000_000)  # the bench client is one IP sending everything
    workers = machine.cores()
    try:
        echo(f"starting {validators} validators{f' + {observers} observers' if observers else ''} in {cluster.dir} ...")
        cluster.start()
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            rpc = Rpc(session)
            chain_id = (await rpc.call(cluster.urls[0], "node_status"))["chain_id"]
            steady_count = int(rate * duration_s)
            echo("setting up the market (not timed) ...")
            buyers, sellers, listings, to_ship, to_confirm = await setup_market(
                rpc, cluster, chain_id, steady_count, workers, echo)
            echo(f"signing {steady_count} steady-load txs in {workers} processes (not timed) ...")
            specs = steady_specs(chain_id, buyers, sellers, listings, to_ship, to_confirm, steady_count)
            raws = sign_specs(specs, workers)
            from core.hashing import digest

            hashes = [digest("tx", raw).hex() for raw in raws]
            start_height = (await rpc.call(cluster.urls[0], "node_status"))["height"]
            cpu_before = {n: machine.cpu_seconds(p.pid) for n, p in cluster.procs.items()}
            seen: dict[str, float] = {}
            blocks: list[tuple[float, int]] = []
            stop = asyncio.Event()
            watcher = asyncio.create_task(_watch_blocks(rpc, cluster.urls[0], start_height, seen, blocks, stop))
            echo(f"submitting at {rate} tx/s for {duration_s:.0f} s ...")
            submitted, refused = await _submit_steady(rpc, cluster.urls, raws, hashes, rate)
            t0 = min(submitted.values())
            t_end = t0 + duration_s
            drain_deadline = time.monotonic() + 30
            while len(seen) < len(submitted) and time.monotonic() < drain_deadline:
                await asyncio.sleep(0.1)
            stop.set()
            await watcher
            cpu_after = {n: machine.cpu_seconds(p.pid) for n, p in cluster.procs.items()}
    finally:
        cluster.close()
    warmup = min(2.0, duration_s * 0.1)
    window = (t0 + warmup, t_end)
    in_window = [t for h, t in seen.items() if h in submitted and window[0] <= t <= window[1]]
    tps = len(in_window) / (window[1] - window[0])
    latencies = [(seen[h] - submitted[h]) * 1000 for h in submitted if h in seen]
    window_blocks = [n for t, n in blocks if window[0] <= t <= window[1]]
    return {
        "mode": "tps",
        "validators": validators,
        "observers": observers,
        "duration_s": duration_s,
        "offered_rate": rate,
        "submitted": len(submitted),
        "refused": refused,
        "committed": len([h for h in submitted if h in seen]),
        "tps": round(tps, 1),
        "sig_bound_tps": round(sig_bound, 1),
        "ratio": round(tps / sig_bound, 3),
        "verifications_per_s_per_core": round(per_core),
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p99_ms": round(percentile(latencies, 99), 1),
        "mean_block_txs": round(sum(window_blocks) / len(window_blocks), 1) if window_blocks else 0,
        "blocks_in_window": len(window_blocks),
        "cpu_s_per_node": {n: round(cpu_after[n] - cpu_before[n], 2) for n in cpu_after},
        "machine": machine.describe(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


async def _submit_steady(rpc: Rpc, urls: list[str], raws: list[bytes], hashes: list[str],
                         rate: int) -> tuple[dict[str, float], int]:
    """Open-loop submission: every TICK seconds send rate*TICK txs, spread over the nodes."""
    tick = 0.05
    per_tick = max(1, round(rate * tick))
    submitted: dict[str, float] = {}
    refused = 0
    started = time.monotonic()
    inflight: set[asyncio.Task] = set()

    async def send(url: str, part: list[bytes], part_hashes: list[str]) -> None:
        nonlocal refused
        sent_at = time.monotonic()
        results = await rpc.call(url, "tx_sendBatch", txs=[r.hex() for r in part])
        for h, result in zip(part_hashes, results):
            if "error" in result:
                refused += 1
            else:
                submitted[h] = sent_at

    for k, i in enumerate(range(0, len(raws), per_tick)):
        target = started + k * tick
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(urls[k % len(urls)], raws[i:i + per_tick], hashes[i:i + per_tick]))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
    if inflight:
        await asyncio.gather(*inflight)
    return submitted, refused


def run_tps(validators: int, duration_s: float, rate: int, echo: Echo, observers: int = 0,
            base_port: int = 24600, keep_dir: bool = False) -> dict[str, Any]:
    return asyncio.run(run_tps_async(validators, duration_s, rate, echo, observers, base_port, keep_dir))
