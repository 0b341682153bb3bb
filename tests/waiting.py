"""One way for a test to wait: on a condition, with a deadline, failing with what it waited for.

A sleep is no synchronisation (it is too short on a loaded machine and too
long everywhere else), and hand-rolled poll loops each failed differently or
not at all. ``wait_for`` (threads, processes) and ``wait_for_async`` (inside
the event loop) poll ``condition`` until it returns something truthy and
return that; at the deadline they raise an AssertionError naming what was
awaited, for how long, and the last value or tolerated error seen.

tests/ is on sys.path under pytest (tests/conftest.py is a rootdir conftest
without a package), so every test folder imports it as ``from waiting import ...``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

Condition = Callable[[], T | Awaitable[T]]


class _Poll:
    """One wait's deadline and what it saw last, so both variants fail with the same message."""

    def __init__(self, deadline_s: float, what: str, tolerate: tuple[type[BaseException], ...]) -> None:
        self.deadline_s, self.what, self.tolerate = deadline_s, what, tolerate
        self.deadline = time.monotonic() + deadline_s
        self.last: object = None
        self.error: BaseException | None = None

    def saw(self, value: object = None, error: BaseException | None = None) -> None:
        """Record a falsy value or a tolerated error; past the deadline, fail naming what was awaited."""
        if error is not None and not isinstance(error, self.tolerate):
            raise error
        self.last, self.error = value, error
        if time.monotonic() >= self.deadline:
            detail = f"last error: {error!r}" if error is not None else f"last value: {value!r}"
            raise AssertionError(f"timed out after {self.deadline_s:g} s waiting for {self.what} ({detail})")


def wait_for(condition: Callable[[], T], deadline_s: float = 5.0, what: str = "the condition", *,
             interval_s: float = 0.01, tolerate: tuple[type[BaseException], ...] = ()) -> T:
    """Poll ``condition()`` every ``interval_s`` until it is truthy; return its value.

    Exceptions of a type in ``tolerate`` count as "not yet" (a node still
    starting refuses connections); any other propagates at once.
    """
    poll = _Poll(deadline_s, what, tolerate)
    while True:
        try:
            value = condition()
        except Exception as exc:
            poll.saw(error=exc)
        else:
            if value:
                return value
            poll.saw(value)
        time.sleep(interval_s)  # the poll interval of this deadline wait


async def wait_for_async(condition: Condition[T], deadline_s: float = 5.0, what: str = "the condition", *,
                         interval_s: float = 0.01, tolerate: tuple[type[BaseException], ...] = ()) -> T:
    """``wait_for`` inside the event loop; ``condition`` may be a coroutine function (an RPC call, say)."""
    poll = _Poll(deadline_s, what, tolerate)
    while True:
        try:
            value: Any = condition()
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:
            poll.saw(error=exc)
        else:
            if value:
                return value
            poll.saw(value)
        await asyncio.sleep(interval_s)  # the poll interval of this deadline wait
