"""`marketnode bench MODE`: benchmarks that report ratios to this machine's limits."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def bench() -> None:
    """Benchmarks (not tests): each starts its own local testnet in a temp dir.

    \b
    marketnode bench tps --validators 4 --duration 30 --json out.json
    Results and how to read them: docs/BENCHMARKS.md.
    """


def _emit(result: dict, json_path: Path | None) -> None:
    text = json.dumps(result, indent=2)
    click.echo(text)
    if json_path:
        json_path.write_text(text + "\n")
        click.echo(f"written to {json_path}")


@bench.command("tps")
@click.option("--validators", default=4, show_default=True, type=click.IntRange(1, 16))
@click.option("--observers", default=0, show_default=True, type=click.IntRange(0, 4))
@click.option("--duration", default=30.0, show_default=True, help="Seconds of steady load.")
@click.option("--rate", default=3000, show_default=True, help="Offered load in tx/s.")
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result here.")
def tps_cmd(validators: int, observers: int, duration: float, rate: int, base_port: int, json_path: Path | None) -> None:
    """Committed tx/s, commit latency p50/p99 and the ratio to the signature bound."""
    from node.bench.tps import run_tps

    result = run_tps(validators, duration, rate, click.echo, observers, base_port)
    _emit(result, json_path)
    click.echo(f"tps {result['tps']:.0f} of bound {result['sig_bound_tps']:.0f}: ratio {result['ratio']:.3f}; "
               f"p50 {result['latency_p50_ms']:.0f} ms, p99 {result['latency_p99_ms']:.0f} ms")


@bench.command("scale")
@click.option("--duration", default=15.0, show_default=True)
@click.option("--rate", default=2000, show_default=True)
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def scale_cmd(duration: float, rate: int, base_port: int, json_path: Path | None) -> None:
    """tps for 4, 7 and 10 validators and 4 + an observer: how cost grows with N."""
    from node.bench.modes import run, scale_async

    _emit(run(scale_async(duration, rate, click.echo, base_port)), json_path)


@bench.command("sync")
@click.option("--txs", default=100_000, show_default=True, type=click.IntRange(100))
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def sync_cmd(txs: int, base_port: int, json_path: Path | None) -> None:
    """A fresh observer catching up TXS committed txs: tx/s and the ratio to one node's signature bound."""
    from node.bench.modes import run, sync_async

    _emit(run(sync_async(txs, click.echo, base_port)), json_path)


@bench.command("query")
@click.option("--listings", default=100_000, show_default=True, type=click.IntRange(10))
@click.option("--orders", default=100_000, show_default=True, type=click.IntRange(10))
@click.option("--calls", default=300, show_default=True, help="Calls per query kind.")
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def query_cmd(listings: int, orders: int, calls: int, base_port: int, json_path: Path | None) -> None:
    """listing_search and order_list p50/p99 over RPC with many listings and orders in state."""
    from node.bench.modes import query_async, run

    _emit(run(query_async(listings, orders, calls, click.echo, base_port)), json_path)


@bench.command("memory")
@click.option("--milestones", default="100000,300000", show_default=True,
              help="Committed-tx counts at which to sample RSS (e.g. 100000,300000,1000000).")
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def memory_cmd(milestones: str, base_port: int, json_path: Path | None) -> None:
    """Validator RSS as the chain grows (state lives in LevelDB, so growth should flatten)."""
    from node.bench.modes import memory_async, run

    points = sorted(int(x) for x in milestones.split(","))
    _emit(run(memory_async(points, click.echo, base_port)), json_path)


@bench.command("stages")
@click.option("--txs", default=5000, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def stages_cmd(txs: int, json_path: Path | None) -> None:
    """Per-tx CPU cost of admission, block build, validation and execution, in one process."""
    from node.bench.stages import run_stages

    _emit(run_stages(txs), json_path)


@bench.command("journal")
@click.option("--txs", default=2000, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--clients", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def journal_cmd(txs: int, clients: int, json_path: Path | None) -> None:
    """What the mempool journal (fsync before tx_send answers) costs per tx on this disk."""
    from node.bench.journal import run_journal

    _emit(run_journal(txs, clients), json_path)
