"""Crash durability: SIGKILL a node at random instants while it commits blocks under load.

After every restart the node must stand at a consistent head (a block the
rest of the network holds, with the same state root, and no lower than the
height it had reported before the kill) and catch up with the others. CI
kills 5 times; ``--slow`` kills 60 times (MARKETNODE_CRASH_KILLS overrides).
"""

from __future__ import annotations

import json
import os
import random
import time

import pytest
from chaos_check import balances, check_history
from chaos_load import LoadGenerator
from chaos_net import RPC_ERRORS, ChaosNet
from harness import RpcFailure, wait_for

pytestmark = pytest.mark.integration

ACCOUNTS = ["alice", "bob", "carol", "dave"]


def kill_count(slow: bool) -> int:
    override = os.environ.get("MARKETNODE_CRASH_KILLS")
    return int(override) if override else (60 if slow else 5)


def last_height_seen(net: ChaosNet, name: str) -> int:
    try:
        return net.height(name)
    except RPC_ERRORS:
        return 0


def block_or_none(net: ChaosNet, name: str, height: int) -> dict | None:
    try:
        return net.call(name, "chain_getBlock", height=height, full=False)
    except RpcFailure:
        return None


def assert_consistent_head(net: ChaosNet, victim: str, reference: str, floor: int) -> int:
    """The restarted node's head is a block the network agrees on, not below what it reported before."""
    status = net.status(victim)
    height = status["height"]
    assert height >= floor, f"{victim} restarted at {height}, below the height {floor} it reported before the kill"
    if height == 0:
        return height
    block = net.call(reference, "chain_getBlock", height=height, full=False)
    assert status["head_hash"] == block["hash"], f"{victim} restarted at height {height} on a block the network does not hold"
    # A header's state_root is the state after its parent, so the next block proves our post-state root.
    following = wait_for(lambda: block_or_none(net, reference, height + 1), 60, f"block {height + 1} on {reference}")
    assert status["state_root"] == following["header"]["state_root"], \
        f"{victim} restarted at height {height} with a state root the network does not hold"
    own = net.call(victim, "chain_getBlock", height=height, full=True)
    for tx in own["txs"][:3]:  # the tx index was written in the same batch as the block
        assert net.call(victim, "tx_get", hash=tx["hash"], proof=False)["height"] == height
    return height


def run_crashes(tmp_path, kills: int, seed: int, victims: list[str]) -> dict:
    rng = random.Random(seed)
    net = ChaosNet(tmp_path / "net", validators=4, observers=1, timeout_ms=1000)
    load = None
    try:
        net.start()
        initial = balances(net, "validator-0", ACCOUNTS)
        load = LoadGenerator(net, ACCOUNTS, seed)
        load.start()
        wait_for(lambda: net.height("validator-0") >= 5, 60, "the first blocks under load")
        restart_heights = []
        for i in range(kills):
            victim = victims[i % len(victims)]
            reference = next(n for n in net.validators if n != victim)
            time.sleep(rng.uniform(0.0, 1.5))  # a random instant while blocks are being written
            floor = last_height_seen(net, victim)
            net.kill(victim)
            net.start(victim)
            restart_heights.append(assert_consistent_head(net, victim, reference, floor))
            target = net.height(reference)
            wait_for(lambda v=victim, t=target: net.height(v) >= t, 90, f"{victim} to catch up to {target} (kill {i + 1})")
        load.finish()
        verdict = check_history(net, load.history, initial, ACCOUNTS)
        summary = {"kills": kills, "victims": victims, "seed": seed, "final_height": verdict.height,
                   "txs_committed": verdict.chain_committed, "acknowledged_but_lost": verdict.lost_acknowledged,
                   "lost_then_replaced": verdict.lost_then_replaced,
            "lost_on_killed_node": verdict.lost_on_killed_node,
            "lost_by_via": verdict.lost_by_via, "lost_soon_after_restart": verdict.lost_soon_after_restart,
            "unexplained_kill_delays_s": verdict.unexplained_kill_delays_s,
                   "restart_heights": restart_heights[:10] + (["..."] if kills > 10 else [])}
        print("\ncrash summary:", json.dumps(summary))
        return summary
    except BaseException:
        for name in net.names:
            print(f"--- {name} ---\n{net.log(name)[-2500:]}")
        raise
    finally:
        if load is not None:
            load.stop.set()
        net.close()


def test_sigkill_while_writing_blocks_restarts_at_a_consistent_head(tmp_path, capsys):
    seed = int(os.environ.get("MARKETNODE_CHAOS_SEED", "0")) or int(time.time()) % 100_000
    with capsys.disabled():
        summary = run_crashes(tmp_path, kill_count(False), seed, ["validator-2", "observer-0"])
    assert summary["txs_committed"] > 0


@pytest.mark.slow
def test_sigkill_sixty_times_long_run(tmp_path, capsys):
    seed = int(os.environ.get("MARKETNODE_CHAOS_SEED", "0")) or int(time.time()) % 100_000
    with capsys.disabled():
        summary = run_crashes(tmp_path, kill_count(True), seed, ["validator-2", "observer-0", "validator-1"])
    assert summary["kills"] >= 50
