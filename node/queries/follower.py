"""Keep the query index a little behind the chain, off the commit path; catch it up before anyone reads it.

Indexing a block in SQLite took 20-440 ms of every commit under load
(docs/BENCHMARKS.md), on the path between a block's commit and the next
proposal, so each consensus round waited for it. The index is derived
(it may fall behind, never stop consensus), so the follower indexes
``idle_ms`` after the first block it has not indexed, all blocks since in
one go, or at once when ``max_lag_blocks`` are waiting. A reader calls
``fresh()`` first, so an RPC answer still sees every committed block:
a wallet that placed an order and lists its orders finds it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Chain(Protocol):
    def head(self) -> Any: ...


class Index(Protocol):
    height: int

    def follow(self, chain: Any) -> int: ...


class IndexFollower:
    """Decides when the query index catches up: ``idle_ms`` after a commit, at ``max_lag_blocks``, or on a read."""

    def __init__(self, index: Index, chain: Chain, idle_ms: int, max_lag_blocks: int) -> None:
        self.index = index
        self.chain = chain
        self.idle_ms = idle_ms
        self.max_lag_blocks = max_lag_blocks
        self._timer: asyncio.TimerHandle | None = None

    def lag(self) -> int:
        head = self.chain.head()
        return max(0, (head.height if head else 0) - self.index.height)

    def on_commit(self, _executed: Any = None) -> None:
        """A block was committed: index now if too far behind (or deferring is off), else within ``idle_ms``."""
        if self.idle_ms <= 0 or self.lag() >= self.max_lag_blocks:
            self.fresh()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.idle_ms / 1000, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        try:
            self.fresh()
        except Exception:  # the index contains its own failures; this guards the loop's callback
            log.exception("query index: catching up failed")

    def fresh(self) -> None:
        """Index every committed block now (before a read, or when the timer fires)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.lag():
            self.index.follow(self.chain)

    def close(self) -> None:
        """Index what is left (a clean stop leaves the index at the head), then stop the timer."""
        try:
            self.fresh()
        except Exception:
            log.exception("query index: catching up at shutdown failed")
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
