"""An unexpected error in the consensus driver stops the node, loudly, instead of leaving a replica in an
unknown state running (refused input, by contrast, is logged and dropped)."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from api_helpers import running_node, write_home
from waiting import wait_for_async

from marketnode.node.chain.driver import ConsensusDriverFailed, TimerFired
from marketnode.node.process import first_marketnode_error
from marketnode.node.service import Node


async def start(node: Node) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(node.run(stop))
    await wait_for_async(lambda: node.rpc is not None or task.done(), 20, "the node to start")
    return stop, task


async def test_an_unexpected_error_in_the_driver_stops_the_node_with_a_clear_log_line(tmp_path, caplog) -> None:
    cfg, _ = write_home(tmp_path / "home", faucet=False)
    node = Node.open(cfg)
    stop, task = await start(node)
    url = node.rpc.url  # type: ignore[union-attr]

    def planted_bug(name: str, now_ms: int) -> list[object]:
        raise RuntimeError("planted bug in on_timer")

    node.driver.replica.on_timer = planted_bug  # type: ignore[method-assign]
    node.driver.post(TimerFired("planted"))
    with caplog.at_level(logging.CRITICAL, logger="marketnode.node"), pytest.raises(BaseExceptionGroup) as info:
        await asyncio.wait_for(task, 20)  # it stops by itself: nobody set `stop`
    assert not stop.is_set()
    error = first_marketnode_error(info.value)
    assert isinstance(error, ConsensusDriverFailed) and "planted bug in on_timer" in str(error)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert any("consensus driver failed unexpectedly handling TimerFired" in line and "stopping the node" in line
               for line in lines), lines
    assert node.rpc is None, "the RPC server was stopped on the way out"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "node_status"})


async def test_an_action_the_driver_does_not_know_is_an_error_not_silently_dropped(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        with pytest.raises(AssertionError):
            node.driver.perform([object()])  # type: ignore[list-item]
        assert (await api.call("node_status"))["height"] >= 0, "a direct call fails alone; the node runs on"
