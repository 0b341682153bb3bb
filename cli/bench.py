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
@click.option("--base-port", default=36600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result here.")
def tps_cmd(validators: int, observers: int, duration: float, rate: int, base_port: int, json_path: Path | None) -> None:
    """Committed tx/s, commit latency p50/p99 and the ratio to the signature bound."""
    from node.bench.tps import run_tps

    result = run_tps(validators, duration, rate, click.echo, observers, base_port)
    _emit(result, json_path)
    click.echo(f"tps {result['tps']:.0f} of bound {result['sig_bound_tps']:.0f}: ratio {result['ratio']:.3f}; "
               f"p50 {result['latency_p50_ms']:.0f} ms, p99 {result['latency_p99_ms']:.0f} ms")
