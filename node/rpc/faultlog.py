"""Log what clients do wrong without letting them flood the node's log.

A client's fault (a stalled body, a connection dropped mid-request, a refused
origin) is one line at INFO, never a traceback, and at most one line per kind
per ``interval_s``; the next line says how many were left out meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

DEFAULT_INTERVAL_S = 10.0


class ClientFaultLog:
    """Rate-limited one-line log of client faults, keyed by kind (a short fixed word)."""

    def __init__(self, logger: logging.Logger, interval_s: float = DEFAULT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.interval_s, self.clock = logger, interval_s, clock
        self._last: dict[str, tuple[float, int]] = {}  # kind -> (when last logged, left out since)

    def note(self, kind: str, client: str, detail: str) -> None:
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last[0] < self.interval_s:
            self._last[kind] = (last[0], last[1] + 1)
            return
        left_out = last[1] if last is not None else 0
        more = f" ({left_out} more like it since the last such line)" if left_out else ""
        self.logger.info("rpc client %s: %s%s", client, detail, more)
        self._last[kind] = (now, 0)
