"""The PBFT replica: a sans-IO state machine. Messages, timer expiries and the time go in; actions come out.

It never reads a clock, sleeps, does I/O, or raises on a peer's bad message:
bad input is dropped, its reason kept in ``last_rejection``, and the caller
goes on. The protocol, its invariants and the caller's contract are in
docs/CONSENSUS.md; step names here follow it (on_pre_prepare, on_prepare,
on_commit, start_view_change, on_new_view).

It is built from parts, one module per job: ``state`` (ReplicaConfig, the
round), ``replica_base`` (shared state and helpers), ``normal_case``,
``view_change`` and ``catch_up``. This module assembles them and routes
messages and timer expiries to the part that handles each; callers import
``Replica`` and ``ReplicaConfig`` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketnode.consensus.actions import Action
from marketnode.consensus.catch_up import CatchUp
from marketnode.consensus.messages import Commit, CommitNotice, Message, NewView, Prepare, PrePrepare, ViewChange
from marketnode.consensus.normal_case import NormalCase
from marketnode.consensus.records import Head, LastSigned
from marketnode.consensus.state import (
    MAX_BUFFERED_BLOCKS,
    MAX_PACE_FACTOR,
    MAX_PENDING_EVIDENCE,
    MAX_TIMEOUT_DOUBLINGS,
    RECENT_BLOCKS,
    TIMER_RESEND,
    TIMER_SYNC,
    TIMER_VIEW,
    Rejected,
    ReplicaConfig,
)
from marketnode.consensus.view_change import ViewChanges
from marketnode.core.types import Block, Certificate

__all__ = [
    "MAX_BUFFERED_BLOCKS", "MAX_PACE_FACTOR", "MAX_PENDING_EVIDENCE", "MAX_TIMEOUT_DOUBLINGS", "RECENT_BLOCKS",
    "TIMER_RESEND", "TIMER_SYNC", "TIMER_VIEW", "Head", "LastSigned", "Rejected", "Replica", "ReplicaConfig",
]


class Replica(NormalCase, ViewChanges, CatchUp):
    """One validator's (or observer's) view of consensus. Single-threaded: one call at a time.

    Every public method takes ``now_ms`` from the caller and returns the
    actions to perform, in order.
    """

    # ------------------------------------------------------------------ queries

    def status(self) -> dict[str, Any]:
        """A snapshot for logs, metrics and RPC: where this replica stands and what it waits for."""
        return {
            "height": self.height, "view": self.view, "is_primary": self.is_primary,
            "in_view_change": self.view not in self.round.entered,
            "prepared_view": self.prepared.view if self.prepared else None,
            "executed_height": self.executed_height, "timers": self.timers(),
            "pending_evidence": len(self.pending_evidence), "buffered": self._future_count,
            "rejections": self.rejections, "last_rejection": self.last_rejection,
            "timeout_ms": self.view_timeout_ms(self.view - self.base_view),
        }

    # ------------------------------------------------------------------ entry points

    def receive(self, sender: bytes, msg: Message, now_ms: int) -> list[Action]:
        """Handle one decoded message from peer ``sender``."""
        return self._run(now_ms, lambda: self._dispatch(sender, msg))

    def on_timer(self, name: str, now_ms: int) -> list[Action]:
        """A timer set by SetTimer fired."""
        return self._run(now_ms, lambda: self._on_timer(name))

    def on_work(self, now_ms: int) -> list[Action]:
        """The mempool got work: propose if we are the primary, and start the view-change timer."""
        return self._run(now_ms, self._on_work)

    def on_executed(self, height: int, now_ms: int) -> list[Action]:
        """The node executed and stored block ``height``: state_root is current, the next height may start."""
        return self._run(now_ms, lambda: self._on_executed(height))

    def on_synced_block(self, block: Block, cert: Certificate, now_ms: int) -> list[Action]:
        """Catch-up delivered a committed block; commit it if it is the next one and its certificate holds."""
        return self._run(now_ms, lambda: self._on_synced_block(block, cert))

    def _run(self, now_ms: int, step: Callable[[], object]) -> list[Action]:
        self._now = now_ms
        self._out = []
        step()
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ routing

    def _on_timer(self, name: str) -> None:
        deadline = self._timers.get(name)
        if deadline is None or self._now < deadline:
            return  # cancelled or replaced: a stale expiry
        del self._timers[name]
        if name == TIMER_SYNC:
            self._sync_for_head = None
            if len(self.round.ahead) > self.f:
                self._request_sync(None)
        elif name == TIMER_RESEND:
            self._resend()
        elif name == TIMER_VIEW:
            if not self._work_in_flight():
                return
            if len(self.round.ahead) > self.f:
                self._request_sync(None)
            self.start_view_change(self.view + 1)

    def _handle(self, sender: bytes, msg: Message) -> None:
        """The message -> step table: every message type and the one step that takes it."""
        match msg:
            case PrePrepare():
                self.on_pre_prepare(sender, msg)
            case Prepare():
                self.on_prepare(sender, msg)
            case Commit():
                self.on_commit(sender, msg)
            case ViewChange():
                self.on_view_change(sender, msg)
            case NewView():
                self.on_new_view(sender, msg)
            case CommitNotice():
                self.on_commit_notice(sender, msg)
            case _:
                raise Rejected(f"not a consensus message: {type(msg).__name__}")
