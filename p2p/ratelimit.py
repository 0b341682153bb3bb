"""Token buckets for per-peer message and byte rates; time is passed in, so tests need no clock."""

from __future__ import annotations


class TokenBucket:
    """Refills at ``rate`` tokens per second up to ``capacity``; ``take`` spends tokens or refuses.

    A refused take spends nothing, so a flood is cut to the rate instead of
    starving the peer forever once it slows down.
    """

    __slots__ = ("_last", "_tokens", "capacity", "rate")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._last = now

    def take(self, amount: float, now: float) -> bool:
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        if amount > self._tokens:
            return False
        self._tokens -= amount
        return True
