"""Chaos: 4 validators + 1 observer under continuous load while faults hit one validator or link at a time.

CI runs about 60 s; ``--slow`` runs 10 minutes; MARKETNODE_CHAOS_SECONDS and
MARKETNODE_CHAOS_SEED override both. One validator runs with its clock
skewed within ``max_clock_skew_ms`` for the whole run.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from chaos_check import balances, check_history, measure_recovery
from chaos_faults import FaultInjector
from chaos_load import LoadGenerator, StallMonitor
from chaos_net import ChaosNet, chaos_seconds

pytestmark = pytest.mark.integration

TIMEOUT_MS = 1000
CLOCK_SKEW_MS = 1500  # the default max_clock_skew_ms is 5000
RECOVERY_BOUND_S = 30.0
ACCOUNTS = ["alice", "bob", "carol", "dave", "erin", "frank"]


def run_chaos(tmp_path, duration_s: float, seed: int, capsys) -> dict:
    net = ChaosNet(tmp_path / "net", validators=4, observers=1, timeout_ms=TIMEOUT_MS)
    net.env["validator-3"] = {"MARKETNODE_CLOCK_SKEW_MS": str(CLOCK_SKEW_MS)}
    load = monitor = None
    try:
        net.start()
        initial = balances(net, "validator-0", ACCOUNTS)
        load = LoadGenerator(net, ACCOUNTS, seed)
        monitor = StallMonitor(net)
        injector = FaultInjector(net, seed, TIMEOUT_MS)
        load.start()
        monitor.start()
        injector.run_until(time.monotonic() + duration_s)
        net.proxy.heal_all()
        recovery_s = measure_recovery(net, RECOVERY_BOUND_S)
        load.finish()
        monitor.finish()
        verdict = check_history(net, load.history, initial, ACCOUNTS)
        summary = {
            "seed": seed, "duration_s": duration_s, "sent": verdict.sent, "acknowledged": verdict.acknowledged,
            "committed_seen_by_clients": verdict.client_committed, "committed_in_chain": verdict.chain_committed,
            "acknowledged_but_lost": verdict.lost_acknowledged,
            "lost_then_replaced": verdict.lost_then_replaced,
            "lost_on_killed_node": verdict.lost_on_killed_node,
            "lost_by_via": verdict.lost_by_via, "lost_soon_after_restart": verdict.lost_soon_after_restart,
            "unexplained_kill_delays_s": verdict.unexplained_kill_delays_s, "rejected": dict(load.history.rejected),
            "height": verdict.height, "faults": dict(injector.counts), "longest_stall_s": round(monitor.longest_stall_s, 2),
            "recovery_s": round(recovery_s, 2), "proxy": dict(net.proxy.stats),
        }
        with capsys.disabled():
            print("\nchaos summary:", json.dumps(summary, indent=1))
            print("faults:", "; ".join(injector.log))
        if path := os.environ.get("MARKETNODE_CHAOS_REPORT"):
            with open(path, "a") as out:
                out.write(json.dumps(summary) + "\n")
        return summary
    except BaseException:
        for name in net.names:
            with capsys.disabled():
                print(f"--- {name} log tail ---\n" + net.log(name)[-3000:])
        raise
    finally:
        if load is not None:
            load.stop.set()
        if monitor is not None:
            monitor.stop.set()
        net.close()


def _seed() -> int:
    return int(os.environ.get("MARKETNODE_CHAOS_SEED", "0")) or int(time.time()) % 100_000


def test_chaos_short_run_keeps_one_chain_and_every_committed_tx(tmp_path, capsys):
    summary = run_chaos(tmp_path, chaos_seconds(False), _seed(), capsys)
    assert summary["committed_in_chain"] > 0
    assert sum(summary["faults"].values()) >= 3


@pytest.mark.slow
def test_chaos_long_run(tmp_path, capsys):
    summary = run_chaos(tmp_path, chaos_seconds(True), _seed(), capsys)
    assert summary["committed_in_chain"] > 0
    assert sum(summary["faults"].values()) >= 20
