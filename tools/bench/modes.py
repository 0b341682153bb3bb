"""The other bench modes: scale, sync, query, memory (tps lives in tps.py)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from marketnode.tools.bench import machine
from marketnode.tools.bench.bulk import bulk_submit
from marketnode.tools.bench.cluster import BenchError, Cluster, Rpc
from marketnode.tools.bench.step import percentile
from marketnode.tools.bench.tps import run_tps_async
from marketnode.tools.bench.workload import (
    Actor,
    listing_body,
    make_actors,
    order_body,
    register_body,
    shop_body,
    sign_specs,
)
from marketnode.tools.testnet.load import demo_keys

Echo = Callable[[str], None]
SENDERS = 100


def _stamp() -> dict[str, Any]:
    return {"machine": machine.describe(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


async def _funded_actors(rpc: Rpc, cluster: Cluster, chain_id: str, count: int, prefix: str, echo: Echo) -> list[Actor]:
    actors = make_actors(prefix, count)
    funders = [Actor(k) for k in demo_keys(cluster.dir).values()]
    for funder in funders:
        funder.nonce = (await rpc.call(cluster.urls[0], "account_get", address=funder.key.address))["nonce"]
    specs = [funders[i % len(funders)].spec(chain_id, "transfer", {"amount": 10**11, "asset": "MKT", "to": a.pub})
             for i, a in enumerate(actors)]
    await bulk_submit(rpc, cluster.live_urls, sign_specs(specs, machine.cores()), echo, "funding")
    return actors


def _transfers(chain_id: str, actors: list[Actor], count: int) -> list:
    return [actors[i % len(actors)].spec(chain_id, "transfer",
                                         {"amount": 1, "asset": "MKT", "to": actors[(i + 1) % len(actors)].pub})
            for i in range(count)]


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300))


SYNC_MODES = ("replay", "snapshot")
RESTORED = re.compile(r"restored height (\d+) \((\d+) entries, (\d+) bytes\) in ([0-9.]+) s")


async def sync_async(txs: int, echo: Echo, base_port: int, modes: tuple[str, ...] = ("replay",),
                     snapshot_interval: int = 10) -> dict[str, Any]:
    """Commit ``txs`` transfers, then time a fresh observer per mode from spawn to the chain's height.

    ``snapshot`` joins by state sync (validators offer the state every
    ``snapshot_interval`` blocks); ``replay`` executes every block. Both
    observers join the same chain, one after the other, the first stopped
    before the second starts.
    """
    _, per_core = machine.signature_bound_tps(1)
    bound = per_core * machine.cores()
    cluster = Cluster(4, len(modes), base_port)
    cluster.tune_for_one_client()
    cluster.tune(snapshot_interval=snapshot_interval)
    observers = [e for e in cluster.entries if e.role == "observer"]
    for entry, mode in zip(observers, modes):
        path = entry.home / "config.toml"
        path.write_text(path.read_text().replace('mode = "replay"', f'mode = "{mode}"', 1))
    runs: dict[str, dict[str, Any]] = {}
    try:
        cluster.start([e.name for e in cluster.entries if e.role == "validator"])
        async with await _session() as session:
            rpc = Rpc(session)
            chain_id = (await rpc.call(cluster.urls[0], "node_status"))["chain_id"]
            actors = await _funded_actors(rpc, cluster, chain_id, SENDERS, "sync", echo)
            echo(f"committing {txs} transfers for the observer to catch up on ...")
            await bulk_submit(rpc, cluster.live_urls, sign_specs(_transfers(chain_id, actors, txs), machine.cores()),
                              echo, "load")
            status = await rpc.call(cluster.urls[0], "node_status")
            target = status["height"]
            for entry, mode in zip(observers, modes):
                echo(f"chain at height {target}; starting a fresh observer ({mode}) ...")
                url = cluster.urls[cluster.entries.index(entry)]
                started = time.monotonic()  # from process spawn: includes ~1 s of interpreter start
                cluster.start([entry.name])
                while (await rpc.call(url, "node_status"))["height"] < target:
                    await asyncio.sleep(0.05)
                seconds = time.monotonic() - started
                final = await rpc.call(url, "node_status")
                if final["state_root"] != (await rpc.call(cluster.urls[0], "node_status"))["state_root"]:
                    raise BenchError(f"the {mode} observer reached height {target} with another state root")
                runs[mode] = _sync_run(entry, mode, txs, target, seconds, bound)
                echo(f"  {mode}: {runs[mode]}")
                cluster.stop(entry.name)
    finally:
        cluster.close()
    return {"mode": "sync", "txs": txs, "blocks": target, "snapshot_interval": snapshot_interval, "runs": runs,
            **runs.get("replay", {}), **_stamp()}  # replay's fields also at the top, as before --mode existed


def _sync_run(entry: Any, mode: str, txs: int, target: int, seconds: float, bound: float) -> dict[str, Any]:
    out: dict[str, Any] = {"seconds": round(seconds, 2)}
    if mode == "replay":
        rate = txs / seconds
        return {**out, "tx_per_s": round(rate, 1), "sig_bound_one_node": round(bound, 1),
                "ratio": round(rate / bound, 3)}
    found = RESTORED.search(entry.log_file.read_text(errors="replace"))
    if found is None:
        raise BenchError(f"the snapshot observer caught up without restoring a snapshot (see {entry.log_file})")
    height, entries, size, restore_s = found.groups()
    return {**out, "snapshot_height": int(height), "state_entries": int(entries), "snapshot_bytes": int(size),
            "fetch_and_restore_s": float(restore_s), "blocks_replayed_after": target - int(height),
            "phases_s": _phases(entry.log_file.read_text(errors="replace"))}


PHASES = (("node up", " up: chain "), ("snapshot chosen", "state sync: snapshot of height"),
          ("restored", "restored the state after block"), ("caught up", "sync: caught up at height"))


def _phases(log: str) -> dict[str, float]:
    """Seconds from the node's first log line to the first line of each phase (plain log format)."""
    def stamp(line: str) -> float | None:
        try:
            return time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + int(line[20:23]) / 1000
        except ValueError:
            return None

    lines = log.splitlines()
    first = next((t for t in map(stamp, lines) if t is not None), None)
    out: dict[str, float] = {}
    for name, marker in PHASES:
        at = next((stamp(line) for line in lines if marker in line), None)
        if first is not None and at is not None:
            out[name] = round(at - first, 3)
    return out


async def memory_async(milestones: list[int], echo: Echo, base_port: int) -> dict[str, Any]:
    cluster = Cluster(4, 0, base_port)
    cluster.tune_for_one_client()
    samples = []
    try:
        cluster.start()
        pid = cluster.pid("validator-0")
        async with await _session() as session:
            rpc = Rpc(session)
            chain_id = (await rpc.call(cluster.urls[0], "node_status"))["chain_id"]
            actors = await _funded_actors(rpc, cluster, chain_id, SENDERS, "memory", echo)
            samples.append({"txs": 0, "rss_mb": round(machine.rss_bytes(pid) / 2**20, 1)})
            done = 0
            for milestone in milestones:
                specs = _transfers(chain_id, actors, milestone - done)
                await bulk_submit(rpc, cluster.urls, sign_specs(specs, machine.cores()), echo, f"to {milestone}")
                done = milestone
                sample = {"txs": milestone, "rss_mb": round(machine.rss_bytes(pid) / 2**20, 1),
                          "peak_rss_mb": round(machine.peak_rss_bytes(pid) / 2**20, 1)}
                samples.append(sample)
                echo(f"  {sample}")
    finally:
        cluster.close()
    growth = None
    if len(samples) >= 3 and samples[1]["txs"]:
        first = samples[1]["rss_mb"] - samples[0]["rss_mb"]
        last = samples[-1]["rss_mb"] - samples[-2]["rss_mb"]
        span_first = samples[1]["txs"]
        span_last = samples[-1]["txs"] - samples[-2]["txs"]
        growth = {"mb_per_100k_first": round(first / span_first * 1e5, 2), "mb_per_100k_last": round(last / span_last * 1e5, 2)}
    return {"mode": "memory", "validator": "validator-0", "samples": samples, "growth": growth, **_stamp()}


async def query_async(listings: int, orders: int, calls: int, echo: Echo, base_port: int) -> dict[str, Any]:
    cluster = Cluster(1, 0, base_port)
    cluster.tune_for_one_client()
    try:
        cluster.start()
        async with await _session() as session:
            rpc = Rpc(session)
            url = cluster.urls[0]
            chain_id = (await rpc.call(url, "node_status"))["chain_id"]
            sellers = await _funded_actors(rpc, cluster, chain_id, 50, "q-seller", echo)
            buyers = await _funded_actors(rpc, cluster, chain_id, 50, "q-buyer", echo)
            setup = [a.spec(chain_id, "register", register_body(f"q{i}")) for i, a in enumerate(sellers + buyers)]
            setup += [s.spec(chain_id, "shop_create", shop_body(f"shop {i}")) for i, s in enumerate(sellers)]
            await bulk_submit(rpc, [url], sign_specs(setup, machine.cores()), echo, "accounts and shops")
            shops = {}
            for s in sellers:
                account = await rpc.call(url, "shop_list", owner=s.key.address, limit=1)
                shops[s.pub] = account["items"][0]["id"]
            words = ["walnut", "linen", "ceramic", "vintage", "handmade", "oak", "silver", "wool", "glass", "cotton"]
            specs = []
            for i in range(listings):
                seller = sellers[i % len(sellers)]
                body = listing_body(shops[seller.pub], i)
                body["title"] = f"{words[i % 10]} {words[(i // 10) % 10]} item {i}"
                body["category"] = ["art", "home", "fashion", "food"][i % 4]
                body["price"] = 100 + i % 900
                specs.append(seller.spec(chain_id, "listing_create", body))
            echo(f"creating {listings} listings ...")
            await bulk_submit(rpc, [url], sign_specs(specs, machine.cores()), echo, "listings")
            echo(f"placing {orders} orders ...")
            first = (await rpc.call(url, "listing_search", limit=1, sort="newest"))["items"]
            top = first[0]["id"] if first else listings
            specs = []
            for i in range(orders):
                listing = max(1, top - (i % listings))
                body = order_body(listing)
                body["max_total"] = 10_000
                specs.append(buyers[i % len(buyers)].spec(chain_id, "order_place", body))
            await bulk_submit(rpc, [url], sign_specs(specs, machine.cores()), echo, "orders")
            queries = {
                "listing_search_text": lambda i: ("listing_search", {"q": words[i % 10], "limit": 20}),
                "listing_search_filtered": lambda i: ("listing_search", {"q": words[i % 10], "category": "art",
                                                                         "min_price": 200, "max_price": 600,
                                                                         "sort": "price_asc", "limit": 20}),
                "listing_search_newest": lambda i: ("listing_search", {"limit": 20, "sort": "newest"}),
                "order_list_buyer": lambda i: ("order_list", {"buyer": buyers[i % len(buyers)].key.address, "limit": 20}),
                "order_list_seller_status": lambda i: ("order_list", {"seller": sellers[i % len(sellers)].key.address,
                                                                      "status": "placed", "limit": 20}),
            }
            results = {}
            for name, make in queries.items():
                times = []
                for i in range(calls):
                    method, params = make(i)
                    t = time.perf_counter()
                    await rpc.call(url, method, **params)
                    times.append((time.perf_counter() - t) * 1000)
                results[name] = {"p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2)}
                echo(f"  {name}: {results[name]}")
    finally:
        cluster.close()
    return {"mode": "query", "listings": listings, "orders": orders, "calls_each": calls, "results": results, **_stamp()}


async def scale_async(duration_s: float, rate: int, echo: Echo, base_port: int) -> dict[str, Any]:
    runs = []
    for validators, observers in ((4, 0), (7, 0), (10, 0), (4, 1)):
        echo(f"== {validators} validators, {observers} observers ==")
        result = await run_tps_async(validators, duration_s, rate, echo, observers, base_port)
        runs.append({k: result[k] for k in ("validators", "observers", "tps", "sig_bound_tps", "ratio",
                                            "latency_p50_ms", "latency_p99_ms", "cpu_s_per_node")})
    return {"mode": "scale", "duration_s": duration_s, "offered_rate": rate, "runs": runs, **_stamp()}


def run(coro: Any) -> dict[str, Any]:
    return asyncio.run(coro)
