"""The node's wall clock: the one place local time enters a node.

Consensus and the market rules never read a clock (they are deterministic);
the node reads this one and passes the time in as an argument.
"""

from __future__ import annotations

import os
import time

# TEST ONLY (docs/RELIABILITY.md): shift this node's wall clock to test skew within max_clock_skew_ms.
CLOCK_SKEW_MS = int(os.environ.get("MARKETNODE_CLOCK_SKEW_MS", "0"))


def now_ms() -> int:
    """Milliseconds since the Unix epoch, shifted by the test-only skew."""
    return time.time_ns() // 1_000_000 + CLOCK_SKEW_MS
