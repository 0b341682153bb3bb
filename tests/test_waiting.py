"""The suite's one deadline wait: returns the condition's value, or fails naming what it waited for."""

from __future__ import annotations

import itertools

import pytest
from waiting import wait_for, wait_for_async


def test_returns_the_first_truthy_value() -> None:
    calls = itertools.count()
    assert wait_for(lambda: next(calls) >= 3 and "ready", 5, "three polls") == "ready"


def test_times_out_naming_what_and_how_long_with_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"after 0.05 s waiting for the moon \(last value: 0\)"):
        wait_for(lambda: 0, 0.05, "the moon")


def test_tolerated_errors_mean_not_yet_and_others_propagate() -> None:
    calls = itertools.count()

    def flaky() -> bool:
        if next(calls) < 2:
            raise ConnectionRefusedError("starting")
        return True

    assert wait_for(flaky, 5, "a node to start", tolerate=(OSError,)) is True

    def down() -> bool:
        raise ConnectionRefusedError("down")

    with pytest.raises(AssertionError, match="last error: ConnectionRefusedError"):
        wait_for(down, 0.05, "a node that stays down", tolerate=(OSError,))
    with pytest.raises(KeyError):
        wait_for(lambda: {}["missing"], 5, "a key")


async def test_the_async_variant_awaits_coroutine_conditions() -> None:
    calls = itertools.count()

    async def status() -> int:
        return next(calls)

    assert await wait_for_async(status, 5, "a nonzero status") == 1
    with pytest.raises(AssertionError, match="waiting for never"):
        await wait_for_async(lambda: False, 0.05, "never")
