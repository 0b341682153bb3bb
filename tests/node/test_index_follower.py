"""The query index follows commits off the commit path, within idle_ms or max_lag_blocks, and catches up on a read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waiting import wait_for_async

from marketnode.node.queries.follower import IndexFollower


@dataclass
class Head:
    height: int


class Chain:
    def __init__(self) -> None:
        self.height = 0

    def head(self) -> Head:
        return Head(self.height)


class Index:
    """The index side the follower drives: a height and follow(), recording each call's range."""

    def __init__(self) -> None:
        self.height = 0
        self.calls: list[tuple[int, int]] = []

    def follow(self, chain: Any) -> int:
        target = chain.head().height
        self.calls.append((self.height + 1, target))
        done, self.height = target - self.height, target
        return done


async def test_a_commit_is_indexed_later_in_one_batch_with_the_blocks_after_it() -> None:
    chain, index = Chain(), Index()
    follower = IndexFollower(index, chain, idle_ms=50, max_lag_blocks=32)
    for _ in range(3):
        chain.height += 1
        follower.on_commit()
    assert index.calls == []  # nothing on the commit path
    await wait_for_async(lambda: index.height == 3)
    assert index.calls == [(1, 3)]
    follower.close()


async def test_max_lag_blocks_indexes_on_the_commit_itself() -> None:
    chain, index = Chain(), Index()
    follower = IndexFollower(index, chain, idle_ms=60_000, max_lag_blocks=4)
    for _ in range(4):
        chain.height += 1
        follower.on_commit()
    assert index.calls == [(1, 4)]
    follower.close()


async def test_a_read_catches_the_index_up_and_cancels_the_timer() -> None:
    chain, index = Chain(), Index()
    follower = IndexFollower(index, chain, idle_ms=60_000, max_lag_blocks=32)
    chain.height = 2
    follower.on_commit()
    follower.fresh()
    assert index.height == 2 and index.calls == [(1, 2)]
    follower.fresh()  # nothing new: no call
    assert index.calls == [(1, 2)]
    follower.close()


async def test_idle_ms_0_indexes_in_the_commit_as_before() -> None:
    chain, index = Chain(), Index()
    follower = IndexFollower(index, chain, idle_ms=0, max_lag_blocks=32)
    chain.height = 1
    follower.on_commit()
    assert index.calls == [(1, 1)]


async def test_closing_indexes_what_is_left() -> None:
    chain, index = Chain(), Index()
    follower = IndexFollower(index, chain, idle_ms=60_000, max_lag_blocks=32)
    chain.height = 3
    follower.on_commit()
    follower.close()
    assert index.height == 3
