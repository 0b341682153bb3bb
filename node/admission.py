"""Admission control for wallet txs: refuse with a retry hint what the node cannot commit in time.

A node that acknowledges more than it can commit within ``max_pending_ms``
turns overload into minutes of latency; this rule turns it into a clear
"busy, retry in N ms" instead. Sans-IO: the caller passes counts and times in
(milliseconds, any monotonic origin); nothing here reads a clock or the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    """The bound and how the commit rate is measured; defaults match node/config.py's [mempool].

    ``max_pending_ms = 0`` turns the bound off (only the mempool's hard caps apply).
    ``min_commit_tps`` is the rate assumed before any block is measured, and
    the least the estimate may fall to, so one slow block cannot shut the door.
    ``smoothing_pct`` is the weight of each new block in the moving average.
    """

    max_pending_ms: int = 2000
    min_commit_tps: int = 500
    smoothing_pct: int = 30
    min_retry_after_ms: int = 100
    max_retry_after_ms: int = 30_000

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"admission {field.name} must be a non-negative integer, got {value!r}")
        if self.min_commit_tps < 1:
            raise ConfigError("admission min_commit_tps must be at least 1")
        if not 1 <= self.smoothing_pct <= 100:
            raise ConfigError(f"admission smoothing_pct must be 1..100, got {self.smoothing_pct}")
        if self.min_retry_after_ms > self.max_retry_after_ms:
            raise ConfigError("admission min_retry_after_ms must not exceed max_retry_after_ms")


@dataclass(frozen=True, slots=True)
class Verdict:
    """How many of the offered txs to admit, in order; the rest wait ``retry_after_ms`` (0: all admitted)."""

    admitted: int
    refused: int
    retry_after_ms: int
    pending: int
    capacity: int
    commit_tps: float

    @property
    def busy(self) -> bool:
        return self.refused > 0


class CommitRate:
    """An exponentially weighted moving average of txs committed per second, over busy intervals only.

    An interval counts only if work was left over after the block before it:
    then the node was committing the whole time and txs/interval is what it
    can do. After an idle pool the gap between blocks measures the wallets'
    pace, not the node's, so such an interval is skipped.
    """

    def __init__(self, smoothing_pct: int, floor_tps: int) -> None:
        self._weight = smoothing_pct / 100
        self._floor = float(floor_tps)
        self._ewma: float | None = None
        self._last_commit_ms: int | None = None
        self._left_over = 0

    def on_commit(self, now_ms: int, txs: int, pending_after: int) -> None:
        """A block of ``txs`` committed at ``now_ms``; ``pending_after`` txs are still waiting."""
        last, busy = self._last_commit_ms, self._left_over > 0
        self._last_commit_ms, self._left_over = now_ms, pending_after
        if last is None or not busy or txs <= 0:
            return
        sample = txs * 1000 / max(1, now_ms - last)
        self._ewma = sample if self._ewma is None else self._ewma + self._weight * (sample - self._ewma)

    @property
    def measured(self) -> bool:
        return self._ewma is not None

    @property
    def tps(self) -> float:
        return max(self._floor, self._ewma or 0.0)


class AdmissionControl:
    """Admit while the pool (with the new txs) can drain within ``max_pending_ms`` at the measured rate."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self.limits = limits or AdmissionLimits()
        self.rate = CommitRate(self.limits.smoothing_pct, self.limits.min_commit_tps)

    def on_commit(self, now_ms: int, txs: int, pending_after: int) -> None:
        self.rate.on_commit(now_ms, txs, pending_after)

    def capacity(self) -> int:
        """How many txs may wait at once: what the node commits in ``max_pending_ms``."""
        return max(1, int(self.rate.tps * self.limits.max_pending_ms / 1000))

    def decide(self, pending: int, offered: int = 1) -> Verdict:
        """Admit the first ``offered`` txs that fit beside ``pending``; say when the rest may retry."""
        limits, tps = self.limits, self.rate.tps
        if limits.max_pending_ms == 0:
            return Verdict(offered, 0, 0, pending, 0, tps)
        capacity = self.capacity()
        admitted = max(0, min(offered, capacity - pending))
        refused = offered - admitted
        if refused == 0:
            return Verdict(admitted, 0, 0, pending, capacity, tps)
        # Long enough for the backlog beyond the bound (this request's remainder included) to commit.
        retry = self.retry_after_ms(pending + offered - capacity)
        return Verdict(admitted, refused, retry, pending, capacity, tps)

    def retry_after_ms(self, txs: int) -> int:
        """The time to commit ``txs`` at the measured rate, within [min_retry_after_ms, max_retry_after_ms]."""
        limits = self.limits
        wait_ms = int(txs * 1000 / self.rate.tps) + 1
        return min(limits.max_retry_after_ms, max(limits.min_retry_after_ms, wait_ms))


class RefusedNonces:
    """Per sender, the lowest nonce refused as busy lately: its later nonces are refused too until it comes.

    Admitting nonce k+1 after refusing k acknowledges a tx that cannot commit
    before k does, and a client that never resends k leaves it waiting for
    good: the very "acknowledged, then waits minutes" that busy refusals are
    for. So while ``ttl_ms`` has not passed, a later nonce of that sender is
    refused with the same hint. Anyone may claim a sender in a refused tx
    (refusals are not verified: they must stay cheap), so this only ever
    delays: the sender's own nonce k clears the entry, as does the chain
    passing k, or the ttl. At most ``max_senders`` are remembered.
    """

    def __init__(self, ttl_ms: int = 30_000, max_senders: int = 10_000) -> None:
        self.ttl_ms = ttl_ms
        self.max_senders = max_senders
        self._lowest: dict[bytes, tuple[int, int]] = {}  # sender → (nonce, refused at ms)

    def refused(self, sender: bytes, nonce: int, now_ms: int) -> None:
        held = self._lowest.get(sender)
        if held is not None and held[0] <= nonce and now_ms - held[1] < self.ttl_ms:
            return
        self._lowest.pop(sender, None)
        self._lowest[sender] = (nonce, now_ms)
        if len(self._lowest) > self.max_senders:
            del self._lowest[next(iter(self._lowest))]

    def admitted(self, sender: bytes, nonce: int) -> None:
        held = self._lowest.get(sender)
        if held is not None and held[0] == nonce:
            del self._lowest[sender]

    def held_behind(self, sender: bytes, nonce: int, next_nonce: int, now_ms: int) -> int | None:
        """The refused earlier nonce this tx would wait behind, or None (the entry is dropped once stale)."""
        held = self._lowest.get(sender)
        if held is None:
            return None
        if next_nonce > held[0] or now_ms - held[1] >= self.ttl_ms:
            del self._lowest[sender]
            return None
        return held[0] if nonce > held[0] else None

    def __len__(self) -> int:
        return len(self._lowest)
