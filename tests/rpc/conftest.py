"""Real RPC servers (aiohttp TestServer on 127.0.0.1) running the demo registry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from rpc_helpers import ADMIN_TOKEN, demo_registry

from marketnode.node.rpc import RpcLimits, build_rpc_app

ServerFactory = Callable[..., Any]


@pytest.fixture
def node_context() -> dict[str, Any]:
    return {"bumps": 0}


@pytest.fixture
async def make_client(node_context: dict[str, Any]) -> AsyncIterator[ServerFactory]:
    """``await make_client(limits=..., admin_token=..., clock=...)`` → a TestClient on a real socket."""
    clients: list[TestClient] = []

    async def factory(limits: RpcLimits | None = None, admin_token: str | None = ADMIN_TOKEN,
                      **kwargs: Any) -> TestClient:
        app = build_rpc_app(demo_registry(), node_context, limits, admin_token=admin_token, **kwargs)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: ServerFactory) -> TestClient:
    return await make_client()
