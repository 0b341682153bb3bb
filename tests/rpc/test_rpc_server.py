"""RpcServer on a real port: safe default host, clear bind errors, clean shutdown of websockets."""

from __future__ import annotations

import asyncio
import inspect

import aiohttp
import pytest
from rpc_helpers import call, demo_registry

from marketnode.core.errors import ConfigError
from marketnode.node.rpc import RpcLimits, RpcServer, run_rpc_server
from marketnode.node.rpc.limits import RpcLimits as Limits


def test_default_host_is_loopback():
    assert inspect.signature(run_rpc_server).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(RpcServer).parameters["host"].default == "127.0.0.1"


def test_limits_from_a_config_section_keep_defaults_for_the_rest():
    class Section:
        max_batch = 7
        requests_per_s = 5
        listen_port = 1  # not a limit: ignored

    limits = RpcLimits.from_config(Section())
    assert limits.max_batch == 7 and limits.requests_per_s == 5
    assert limits.max_body_bytes == Limits().max_body_bytes


async def test_port_in_use_is_a_config_error_naming_it():
    async with RpcServer(demo_registry(), {}, port=0) as first:
        with pytest.raises(ConfigError, match=f"127.0.0.1:{first.port}"):
            await RpcServer(demo_registry(), {}, port=first.port).start()


async def test_stopping_closes_websockets_going_away():
    server = RpcServer(demo_registry(), {"bumps": 0}, port=0, limits=RpcLimits())
    await server.start()
    async with aiohttp.ClientSession() as session:
        resp = await session.post(server.url, json=call("demo_add", [1]))
        assert (await resp.json())["result"] == 1
        async with session.ws_connect(server.ws_url) as ws:
            stopping = asyncio.create_task(server.stop())  # stop waits for the client's close reply
            msg = await ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
            assert msg.extra == "node shutting down"
            await stopping
