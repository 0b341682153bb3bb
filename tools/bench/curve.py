"""`marketnode bench load-curve`: goodput and latency at 0.5x, 1x, 2x and 4x of the measured capacity.

Capacity is *measured*, not guessed: a short probe run offers a rate well
above what this code can commit (by default half the signature bound, 3-4x
the best ratio measured so far), and capacity is what it committed per
second from its first offer to its last commit (``makespan_tps``: the
network is saturated all that time, and unlike a window this holds for a
probe no longer than a few commit latencies). The steps
then run one after another on the same cluster and market, each waiting
until its accepted txs are committed before the next begins. A network that
degrades gracefully keeps goodput near the peak at 2x and 4x and shows the
excess as refusals; one that does not shows growing latency or a stall.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from marketnode.tools.bench import machine
from marketnode.tools.bench.busy import CpuHogs
from marketnode.tools.bench.cluster import BenchError
from marketnode.tools.bench.gaps import gap_of, stall_message
from marketnode.tools.bench.market_setup import prepare_orders
from marketnode.tools.bench.step import run_step
from marketnode.tools.bench.tps import bench_net, measure_bound

Echo = Callable[[str], None]
MULTIPLES = (0.5, 1, 2, 4)
PROBE_SHARE_OF_BOUND = 0.5
LEAST_RATIO = 0.1  # for sizing the probe's drain: capacity is assumed >= this share of the bound
STEP_KEYS = ("offered", "goodput", "accepted", "refused", "committed", "p50_ms", "p99_ms", "ratio",
             "longest_block_gap_ms")


def _row(multiple: float | None, step: dict[str, Any]) -> dict[str, Any]:
    return {"multiple": multiple, "offered": step["offered_rate"], "goodput": step["tps"],
            "makespan_tps": step["makespan_tps"],
            "submitted": step["submitted"], "accepted": step["accepted"], "refused": step["refused"],
            "committed": step["committed"], "p50_ms": step["latency_p50_ms"], "p99_ms": step["latency_p99_ms"],
            "ratio": step["ratio"], "longest_block_gap_ms": step["longest_block_gap_ms"],
            "longest_block_gap": step["longest_block_gap"], "refused_by_code": step["refused_by_code"]}


def drain_for(duration_s: float, overload: float) -> float:
    """Seconds to wait for commits after a step: the backlog of ``overload`` x capacity, plus slack."""
    return 15 + max(1.0, overload) * duration_s * 2


async def load_curve_async(validators: int, step_duration_s: float, echo: Echo, base_port: int = 24600,
                           busy: int = 0, spread: str = "nonces", probe_rate: float | None = None,
                           stall_ms: float = 5_000) -> dict[str, Any]:
    sig_bound, _ = measure_bound(validators, echo)
    probe_rate = probe_rate or round(sig_bound * PROBE_SHARE_OF_BOUND)
    probe_s = max(1.0, step_duration_s / 2)
    steps: list[dict[str, Any]] = []
    with CpuHogs(busy):
        async with bench_net(validators, 0, base_port, False, sig_bound, echo) as net:
            await prepare_orders(net, int(probe_rate * probe_s))
            echo(f"== capacity probe: {probe_rate:.0f} tx/s for {probe_s:g} s ==")
            probe = await run_step(net, probe_rate, probe_s, spread,
                                   drain_for(probe_s, probe_rate / (sig_bound * LEAST_RATIO)))
            capacity = probe["makespan_tps"]
            if capacity < 1:
                raise BenchError(f"the capacity probe committed {probe['committed']} of {probe['accepted']} "
                                 "accepted txs: no capacity to measure the steps against")
            if capacity > 0.8 * probe_rate:
                echo(f"  warning: the probe committed {capacity:.0f} of {probe_rate:.0f} tx/s offered, so it "
                     "may not have saturated the network: pass a higher --probe-rate")
            echo(f"  capacity {capacity:.0f} tx/s")
            await prepare_orders(net, int(sum(MULTIPLES) * capacity * step_duration_s))
            for multiple in MULTIPLES:
                echo(f"== {multiple:g} x capacity ==")
                step = await run_step(net, multiple * capacity, step_duration_s, spread,
                                      drain_for(step_duration_s, multiple))
                steps.append(_row(multiple, step))
                if stall_message(gap_of(step), stall_ms):
                    echo("  stalled: the remaining steps would measure a stuck network; stopping here")
                    break
    peak = max(s["goodput"] for s in steps)
    for step in steps:
        step["of_peak"] = round(step["goodput"] / peak, 3) if peak else 0.0
    return {
        "mode": "load-curve",
        "validators": validators,
        "step_duration_s": step_duration_s,
        "busy": busy,
        "spread": spread,
        "sig_bound_tps": round(sig_bound, 1),
        "capacity_from": "probe",
        "probe": _row(None, probe),
        "capacity_tps": capacity,
        "peak_goodput": peak,
        "steps": steps,
        "machine": machine.describe(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def table(report: dict[str, Any]) -> str:
    """The steps as a plain-text table (the columns docs/BENCHMARKS.md explains)."""
    head = ("step", "offered/s", "goodput/s", "of peak", "accepted", "refused", "p50 ms", "p99 ms", "ratio",
            "max gap ms")
    rows = [("probe", *_cells(report["probe"]))]
    rows += [(f"{s['multiple']:g}x", *_cells(s)) for s in report["steps"]]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).rjust(w) for c, w in zip(r, widths)) for r in [head, *rows]]
    return "\n".join(lines)


def _cells(step: dict[str, Any]) -> tuple[str, ...]:
    of_peak = step.get("of_peak")
    return (f"{step['offered']:.0f}", f"{step['goodput']:.0f}", f"{of_peak:.2f}" if of_peak is not None else "-",
            str(step["accepted"]), str(step["refused"]), f"{step['p50_ms']:.0f}", f"{step['p99_ms']:.0f}",
            f"{step['ratio']:.3f}", str(step["longest_block_gap_ms"]))
