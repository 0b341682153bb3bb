"""`marketnode bench tps`: committed tx/s and commit latency of a local testnet under steady load.

Phases: measure the signature bound (ed25519 verifications/s per core *
cores / N, in this process, before anything else runs); start the CPU hogs
of ``--busy``; start N validators; set up actors, shops, listings and orders
(not timed); sign the steady load in worker processes; then offer it at a
steady rate in tx_sendBatch chunks (tools/bench/offer.py) while a watcher
records when each tx's block first appears at any node (tools/bench/step.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from marketnode.tools.bench import machine
from marketnode.tools.bench.busy import CpuHogs
from marketnode.tools.bench.cluster import Cluster, Rpc
from marketnode.tools.bench.market_setup import prepare_orders, setup_market
from marketnode.tools.bench.step import BenchNet, run_step

Echo = Callable[[str], None]
DRAIN_S = 30.0


def measure_bound(validators: int, echo: Echo) -> tuple[float, float]:
    """(signature bound tx/s, verifications/s per core), measured now, before nodes or hogs run."""
    echo(f"measuring the signature bound on {machine.cores()} cores ...")
    sig_bound, per_core = machine.signature_bound_tps(validators)
    echo(f"  {per_core:,.0f} verifications/s per core -> bound {sig_bound:,.0f} tx/s for {validators} validators")
    return sig_bound, per_core


@asynccontextmanager
async def bench_net(validators: int, observers: int, base_port: int, keep_dir: bool, sig_bound: float,
                    echo: Echo) -> AsyncIterator[BenchNet]:
    """Start a cluster, set up the market (not timed), yield it; stop and remove the cluster however it ends."""
    cluster = Cluster(validators, observers, base_port, keep=keep_dir)
    cluster.tune_for_one_client()
    workers = machine.cores()
    try:
        echo(f"starting {validators} validators{f' + {observers} observers' if observers else ''} in {cluster.dir} ...")
        cluster.start()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            rpc = Rpc(session)
            chain_id = (await rpc.call(cluster.urls[0], "node_status"))["chain_id"]
            echo("setting up the market (not timed) ...")
            market = await setup_market(rpc, cluster, chain_id, workers, echo)
            yield BenchNet(rpc, cluster, market, sig_bound, workers, echo)
    finally:
        cluster.close()


async def run_tps_async(validators: int, duration_s: float, rate: int, echo: Echo, observers: int = 0,
                        base_port: int = 24600, keep_dir: bool = False, busy: int = 0,
                        spread: str = "nonces", drain_s: float = DRAIN_S) -> dict[str, Any]:
    sig_bound, per_core = measure_bound(validators, echo)
    with CpuHogs(busy) as hogs:
        if busy:
            echo(f"running {busy} CPU hog process(es) beside the nodes (--busy) ...")
        async with bench_net(validators, observers, base_port, keep_dir, sig_bound, echo) as net:
            await prepare_orders(net, int(rate * duration_s), duration_s)
            step = await run_step(net, rate, duration_s, spread, drain_s)
            busy_cpu = hogs.cpu_seconds()
    return {
        "mode": "tps",
        "validators": validators,
        "observers": observers,
        "duration_s": duration_s,
        "offered_rate": rate,
        "busy": busy,
        "busy_cpu_s": round(busy_cpu, 2),
        "spread": spread,
        **({"kept_dir": str(net.cluster.dir)} if keep_dir else {}),
        **{k: v for k, v in step.items() if k != "offered_rate"},
        "verifications_per_s_per_core": round(per_core),
        "machine": machine.describe(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def run_tps(validators: int, duration_s: float, rate: int, echo: Echo, observers: int = 0,
            base_port: int = 24600, keep_dir: bool = False, busy: int = 0, spread: str = "nonces") -> dict[str, Any]:
    return asyncio.run(run_tps_async(validators, duration_s, rate, echo, observers, base_port, keep_dir, busy, spread))
