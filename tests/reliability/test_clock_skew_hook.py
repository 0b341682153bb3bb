"""The test-only clock skew hook shifts a node's clock by exactly the configured amount, and only when set."""

from __future__ import annotations

import os
import subprocess
import sys
import time

PROBE = "from marketnode.node.clock import now_ms; print(now_ms())"


def node_clock(skew: str | None) -> tuple[int, int, int]:
    """(wall clock before, the node's now_ms, wall clock after), all in ms."""
    env = {k: v for k, v in os.environ.items() if k != "MARKETNODE_CLOCK_SKEW_MS"}
    if skew is not None:
        env["MARKETNODE_CLOCK_SKEW_MS"] = skew
    before = time.time_ns() // 1_000_000
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True, timeout=60)
    return before, int(out.stdout.strip()), time.time_ns() // 1_000_000


def test_skew_moves_the_node_clock_ahead_or_behind_by_the_amount():
    for skew in (1500, -1500):
        before, reported, after = node_clock(str(skew))
        assert before + skew <= reported <= after + skew


def test_without_the_variable_the_clock_is_the_wall_clock():
    before, reported, after = node_clock(None)
    assert before <= reported <= after
