"""Misbehaviour scores and timed bans, keyed by node key or by IP; time is passed in.

A score starts at 0, drops by the points of each violation, and recovers
toward 0 at ``recovery_per_s``. Reaching ``-threshold`` bans the key for
``ban_seconds`` and resets its score. Bounded: the least recently touched
entries are forgotten first.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable

MAX_ENTRIES = 10_000


class Scoreboard:
    """Scores and bans for one kind of identity (node keys, or IPs before a handshake)."""

    def __init__(self, threshold: float, ban_seconds: float, recovery_per_s: float) -> None:
        self.threshold = threshold
        self.ban_seconds = ban_seconds
        self.recovery_per_s = recovery_per_s
        self._scores: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()  # key -> (score, at)
        self._bans: dict[Hashable, float] = {}  # key -> banned until

    def _current(self, key: Hashable, now: float) -> tuple[float, float]:
        """(score, as of) after recovering whole points only, so N quick violations count as N."""
        entry = self._scores.get(key)
        if entry is None:
            return 0.0, now
        score, at = entry
        recovered = math.floor(max(0.0, now - at) * self.recovery_per_s)
        if recovered <= 0:
            return score, at
        if score + recovered >= 0:
            return 0.0, now
        return score + recovered, at + recovered / self.recovery_per_s

    def score(self, key: Hashable, now: float) -> float:
        return self._current(key, now)[0]

    def penalize(self, key: Hashable, points: float, now: float) -> bool:
        """Lower the score; True when this violation bans the key."""
        score, at = self._current(key, now)
        score -= points
        if score <= -self.threshold:
            self._scores.pop(key, None)
            self._bans[key] = now + self.ban_seconds
            self._prune(now)
            return True
        self._scores[key] = (score, at)
        self._scores.move_to_end(key)
        while len(self._scores) > MAX_ENTRIES:
            self._scores.popitem(last=False)
        return False

    def ban(self, key: Hashable, now: float) -> None:
        self._bans[key] = now + self.ban_seconds

    def banned_until(self, key: Hashable, now: float) -> float | None:
        until = self._bans.get(key)
        if until is None:
            return None
        if until <= now:
            del self._bans[key]
            return None
        return until

    def is_banned(self, key: Hashable, now: float) -> bool:
        return self.banned_until(key, now) is not None

    def _prune(self, now: float) -> None:
        if len(self._bans) > MAX_ENTRIES:
            for key in [k for k, until in self._bans.items() if until <= now]:
                del self._bans[key]
