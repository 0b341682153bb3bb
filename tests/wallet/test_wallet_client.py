"""The wallet's RPC clients against a real RPC server on 127.0.0.1 (sync client run in a thread)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from waiting import wait_for_async

from marketnode.core.errors import RpcError, RuleError
from marketnode.core.jsonable import Inclusion
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, Block, Certificate, Vote
from marketnode.node.rpc import CallContext, Param, Registry, RpcLimits, RpcServer
from marketnode.wallet.builders import build_tx
from marketnode.wallet.client import AsyncRpcClient, NodeUnreachableError, RpcClient, ws_url
from marketnode.wallet.proof import verify_inclusion

TOKEN = "wallet-test-admin-token"


def _registry() -> Registry:
    registry = Registry()

    @registry.method("t_add", summary="a+b", params=[Param("a", "integer", "a"), Param("b", "integer", "b")])
    async def add(ctx: CallContext, a: int, b: int) -> int:
        return a + b

    @registry.method("t_reject", summary="rule error")
    async def reject(ctx: CallContext) -> None:
        raise RuleError("nonce_too_low", "nonce 3 already used")

    @registry.method("t_admin", summary="admin", admin=True)
    async def admin(ctx: CallContext) -> str:
        return "ok"

    return registry


@pytest.fixture
async def server() -> AsyncIterator[RpcServer]:
    async with RpcServer(_registry(), None, port=0, admin_token=TOKEN, limits=RpcLimits(max_batch=3)) as srv:
        yield srv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_sync_client_call_and_errors(server):
    client = RpcClient(server.url)
    assert await asyncio.to_thread(client.call, "t_add", a=2, b=3) == 5
    with pytest.raises(RpcError) as info:
        await asyncio.to_thread(client.call, "t_reject")
    assert info.value.code == -32003 and info.value.data == {"code": "nonce_too_low"}
    with pytest.raises(RpcError) as info:
        await asyncio.to_thread(client.call, "t_add", a=1)
    assert info.value.code == -32602 and "'b'" in info.value.message


async def test_sync_client_batch_returns_results_and_errors_in_order(server):
    client = RpcClient(server.url)
    out = await asyncio.to_thread(client.batch, [("t_add", {"a": 1, "b": 1}), ("t_reject", {}), ("t_add", {"a": 2, "b": 2})])
    assert out[0] == 2 and isinstance(out[1], RpcError) and out[1].code == -32003 and out[2] == 4
    with pytest.raises(RpcError) as info:  # whole batch refused: over max_batch
        await asyncio.to_thread(client.batch, [("t_add", {"a": 1, "b": 1})] * 4)
    assert info.value.code == -32005


async def test_admin_token_is_sent_as_bearer(server):
    with pytest.raises(RpcError) as info:
        await asyncio.to_thread(RpcClient(server.url).call, "t_admin")
    assert info.value.code == -32002
    assert await asyncio.to_thread(RpcClient(server.url, admin_token=TOKEN).call, "t_admin") == "ok"


async def test_unreachable_node_names_the_url():
    url = f"http://127.0.0.1:{_free_port()}/"
    with pytest.raises(NodeUnreachableError, match=rf"{url}.*is the node running\?"):
        await asyncio.to_thread(RpcClient(url, timeout_s=2).call, "t_add", a=1, b=1)
    async with AsyncRpcClient(url, timeout_s=2) as client:
        with pytest.raises(NodeUnreachableError, match="is the node running"):
            await client.call("t_add", a=1, b=1)


async def test_async_client_call_batch_and_errors(server):
    async with AsyncRpcClient(server.url, admin_token=TOKEN) as client:
        assert await client.call("t_add", a=20, b=22) == 42
        assert await client.call("t_admin") == "ok"
        out = await client.batch([("t_add", {"a": 1, "b": 2}), ("nope", {})])
        assert out[0] == 3 and out[1].code == -32601
        with pytest.raises(RpcError) as info:
            await client.call("t_reject")
        assert info.value.code == -32003


async def test_async_client_subscription_yields_payloads(server):
    async with AsyncRpcClient(server.url) as client:
        received: list[Any] = []

        async def listen() -> None:
            async for payload in client.subscribe("newBlocks"):
                received.append(payload)
                if len(received) == 2:
                    return

        task = asyncio.create_task(listen())
        await wait_for_async(lambda: server.hub.count(), 2, "the client's subscription to reach the hub")
        server.hub.publish("newBlocks", {"height": 1})
        server.hub.publish("newBlocks", {"height": 2})
        await asyncio.wait_for(task, 2)
        assert received == [{"height": 1}, {"height": 2}]


async def test_refused_subscription_raises(server):
    async with AsyncRpcClient(server.url) as client:
        with pytest.raises(RpcError) as info:
            async for _ in client.subscribe("weather"):
                pass
        assert info.value.code == -32602


def test_ws_url_sits_next_to_the_http_url():
    assert ws_url("http://127.0.0.1:26657/") == "ws://127.0.0.1:26657/ws"
    assert ws_url("https://node.example/rpc") == "wss://node.example/ws"


async def test_inclusion_served_over_rpc_verifies_in_the_wallet():
    """The contract between tx_get and wallet/proof.py: core/jsonable shapes, over a real socket."""
    validators = [PrivateKey(bytes([i + 1]) * 32) for i in range(4)]
    txs = [build_tx(PrivateKey(b"\x07" * 32), "demo", n, "transfer", {"amount": 1}, 0) for n in range(3)]
    block = Block.build(chain_id="demo", height=3, view=0, timestamp_ms=1, parent_hash=bytes(32),
                        proposer=validators[0].public_key, state_root=bytes(32), txs=txs, last_cert=None)
    cert = Certificate.from_votes(
        Vote("demo", COMMIT, 3, 0, block.hash, v.public_key).sign(v) for v in validators[:3]
    )
    registry = Registry()

    @registry.method("tx_proof", summary="inclusion", params=[Param("hash", "hash", "tx hash")])
    async def tx_proof(ctx: CallContext, hash: bytes) -> dict[str, Any]:
        index = [tx.hash for tx in block.txs].index(hash)
        return Inclusion.build(block, index, cert).to_json()

    async with RpcServer(registry, None, port=0) as srv, AsyncRpcClient(srv.url) as client:
        answer = await client.call("tx_proof", hash=txs[2].hash.hex())
    checked = verify_inclusion(answer, tx_hash=txs[2].hash, validators=[v.public_key for v in validators],
                               chain_id="demo")
    assert checked.header.height == 3


def test_a_result_documented_as_an_object_is_checked_by_name() -> None:
    from marketnode.wallet.client import result_object

    assert result_object({"ok": True}, "tx_estimate") == {"ok": True}
    with pytest.raises(RpcError, match="tx_estimate answered list") as info:
        result_object([1], "tx_estimate")
    assert info.value.code == -32603
