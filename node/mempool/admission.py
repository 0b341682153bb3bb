"""Admission control for wallet txs: refuse with a retry hint what the node cannot commit in time.

A node that acknowledges more than it can commit within ``max_pending_ms``
turns overload into minutes of latency; this rule turns it into a clear
"busy, retry in N ms" instead. Sans-IO: the caller passes counts and times in
(milliseconds, any monotonic origin); nothing here reads a clock or the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from marketnode.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    """The bound and how the commit rate is measured; defaults match node/config.py's [mempool].

    ``max_pending_ms = 0`` turns the bound off (only the mempool's hard caps apply).
    ``min_commit_tps`` is the rate assumed before any block is measured;
    ``floor_commit_tps`` (at most that) the least a measured rate counts as,
    so one slow block cannot shut the door. The floor used to be the assumed
    rate (500): on a host committing 100-200 tx/s that let 1,000 txs wait,
    5-10 s of work, and accepted txs waited 10-12 s at p50 under ``bench tps``.
    ``smoothing_pct`` is the weight of each new block in the moving average.
    """

    max_pending_ms: int = 2000
    min_commit_tps: int = 500
    floor_commit_tps: int = 200
    smoothing_pct: int = 30
    min_retry_after_ms: int = 100
    max_retry_after_ms: int = 30_000

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"admission {field.name} must be a non-negative integer, got {value!r}")
        if self.min_commit_tps < 1 or self.floor_commit_tps < 1:
            raise ConfigError("admission min_commit_tps and floor_commit_tps must be at least 1")
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

    def __init__(self, smoothing_pct: int, initial_tps: int, floor_tps: int | None = None) -> None:
        self._weight = smoothing_pct / 100
        self._initial = float(initial_tps)
        self._floor = float(initial_tps if floor_tps is None else min(floor_tps, initial_tps))
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
        return self._initial if self._ewma is None else max(self._floor, self._ewma)


class AdmissionControl:
    """Admit while the pool (with the new txs) can drain within ``max_pending_ms`` at the measured rate."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self.limits = limits or AdmissionLimits()
        self.rate = CommitRate(self.limits.smoothing_pct, self.limits.min_commit_tps, self.limits.floor_commit_tps)
        self.slots = RetrySlots(self.limits.min_retry_after_ms, self.limits.max_retry_after_ms)

    def on_commit(self, now_ms: int, txs: int, pending_after: int) -> None:
        self.rate.on_commit(now_ms, txs, pending_after)

    def capacity(self) -> int:
        """How many txs may wait at once: what the node commits in ``max_pending_ms``."""
        return max(1, int(self.rate.tps * self.limits.max_pending_ms / 1000))

    def decide(self, pending: int, offered: int = 1, now_ms: int | None = None) -> Verdict:
        """Admit the first ``offered`` txs that fit beside ``pending``; give the rest a comeback slot.

        With ``now_ms`` None nothing is reserved (a status query): the hint is the drain time alone.

        The hint is not just "when the excess drains": every client refused in
        the same second would come back together, find the pool full again
        and be refused again (a bench run made 1,016,345 refusals for 90,000
        txs that way, with a 100 ms floor). Instead refusals queue for
        comeback slots handed out at the measured commit rate
        (``RetrySlots``), so the txs told to come back arrive about as fast as
        the node commits, and a wallet that waits its hint is usually admitted
        at the first retry.
        """
        limits, tps = self.limits, self.rate.tps
        if limits.max_pending_ms == 0:
            return Verdict(offered, 0, 0, pending, 0, tps)
        capacity = self.capacity()
        admitted = max(0, min(offered, capacity - pending))
        refused = offered - admitted
        if refused == 0:
            return Verdict(admitted, 0, 0, pending, capacity, tps)
        drain_ms = self.drain_ms(pending + admitted + 1 - capacity)  # until the first refused one fits
        retry = (self.retry_after_ms(pending + admitted + 1 - capacity) if now_ms is None
                 else self.slots.take(now_ms, drain_ms, refused, tps))
        return Verdict(admitted, refused, retry, pending, capacity, tps)

    def drain_ms(self, txs: int) -> int:
        """The time to commit ``txs`` at the measured rate (0 for none)."""
        return 0 if txs <= 0 else int(txs * 1000 / self.rate.tps) + 1

    def retry_after_ms(self, txs: int) -> int:
        """The time to commit ``txs`` at the measured rate, within [min_retry_after_ms, max_retry_after_ms]."""
        limits = self.limits
        return min(limits.max_retry_after_ms, max(limits.min_retry_after_ms, self.drain_ms(txs) or 1))


class RetrySlots:
    """Comeback times for refused txs, handed out in order at the commit rate: a virtual queue.

    ``horizon`` is the time the last refused tx was told to come back. The
    next refusal is told to come back after it (or after the excess backlog
    drains, if later), and pushes it on by one tx's share of a second. So a
    crowd refused together is spread over the time the node needs to take
    it, instead of returning at once. The horizon never runs further ahead
    than ``max_ms`` (clients then come back every ``max_ms`` until there is
    room), and past time is never owed: after a quiet spell it starts again
    from now. Times are milliseconds on any monotonic origin, passed in.
    """

    def __init__(self, min_ms: int, max_ms: int) -> None:
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.horizon_ms = 0

    def take(self, now_ms: int, drain_ms: int, txs: int, tps: float) -> int:
        """The wait (ms) for the first of ``txs`` refused now; the horizon moves past all of them."""
        start = max(self.horizon_ms, now_ms + max(self.min_ms, drain_ms))
        start = min(start, now_ms + self.max_ms)
        self.horizon_ms = min(now_ms + self.max_ms, start + int(txs * 1000 / tps))
        return start - now_ms

    def wait_until(self, at_ms: int, now_ms: int) -> int:
        """The hint for a tx that should come back at ``at_ms`` (at least the minimum)."""
        return min(self.max_ms, max(self.min_ms, at_ms - now_ms))


class RefusedNonces:
    """Per sender, the lowest nonce refused as busy lately: its later nonces are refused too until it comes.

    Admitting nonce k+1 after refusing k acknowledges a tx that cannot commit
    before k does, and a client that never resends k leaves it waiting for
    good: the very "acknowledged, then waits minutes" that busy refusals are
    for. So while ``ttl_ms`` has not passed, a later nonce of that sender is
    refused too, told to come back just after k's comeback slot (telling it
    less only makes it ask again for nothing: a run of ``bench tps`` spent a
    million refusals that way). Anyone may claim a sender in a refused tx
    (refusals are not verified: they must stay cheap), so this only ever
    delays: the sender's own nonce k clears the entry, as does the chain
    passing k, or the ttl. At most ``max_senders`` are remembered.
    """

    def __init__(self, ttl_ms: int = 30_000, max_senders: int = 10_000) -> None:
        self.ttl_ms = ttl_ms
        self.max_senders = max_senders
        self._lowest: dict[bytes, tuple[int, int, int]] = {}  # sender → (nonce, refused at, comes back at) ms

    def refused(self, sender: bytes, nonce: int, now_ms: int, comeback_ms: int | None = None) -> None:
        """``sender``'s ``nonce`` was refused at ``now_ms`` and told to come back at ``comeback_ms``."""
        held = self._lowest.get(sender)
        if held is not None and held[0] <= nonce and now_ms - held[1] < self.ttl_ms:
            return
        self._lowest.pop(sender, None)
        self._lowest[sender] = (nonce, now_ms, now_ms if comeback_ms is None else comeback_ms)
        if len(self._lowest) > self.max_senders:
            del self._lowest[next(iter(self._lowest))]

    def admitted(self, sender: bytes, nonce: int) -> None:
        held = self._lowest.get(sender)
        if held is not None and held[0] == nonce:
            del self._lowest[sender]

    def held_behind(self, sender: bytes, nonce: int, next_nonce: int, now_ms: int) -> tuple[int, int] | None:
        """(the refused earlier nonce this tx would wait behind, when it was told to come back), or None.

        The entry is dropped once stale.
        """
        held = self._lowest.get(sender)
        if held is None:
            return None
        if next_nonce > held[0] or now_ms - held[1] >= self.ttl_ms:
            del self._lowest[sender]
            return None
        return (held[0], held[2]) if nonce > held[0] else None

    def __len__(self) -> int:
        return len(self._lowest)
