"""The aiohttp edge of JSON-RPC: the app (POST / and /rpc, the websocket at /ws) bound to a port.

Only moves bytes and enforces connection-level limits; everything JSON-RPC is
in dispatch.py. Binds to 127.0.0.1 unless told otherwise. Never blocks the
node: each websocket writes from its own bounded queue, and a client that
does not keep up is disconnected. Every slot a client can hold (a TCP
connection, a request in flight, a websocket, a subscription) has a global
cap and a lower per-client cap, and every wait on a client has a timeout.
The routes live in http_calls.py and ws_calls.py, the limits in limits.py;
this module builds the app from them and listens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from marketnode.core.errors import ConfigError
from marketnode.node.rpc.access import AccessPolicy
from marketnode.node.rpc.auth import AdminAuth
from marketnode.node.rpc.clients import ClientSlots
from marketnode.node.rpc.dispatch import Dispatcher, RateLimiter
from marketnode.node.rpc.faultlog import ClientFaultLog
from marketnode.node.rpc.gate import ConnectionGate
from marketnode.node.rpc.http_calls import access_middleware, add_cors_headers, handle_http, handle_preflight
from marketnode.node.rpc.limits import RpcLimits
from marketnode.node.rpc.registry import Registry
from marketnode.node.rpc.state import RPC_HUB, RPC_STATE, ServerState
from marketnode.node.rpc.subscriptions import SubscriptionHub
from marketnode.node.rpc.ws_calls import close_websockets, handle_ws

log = logging.getLogger("marketnode.rpc")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 26657  # matches node.config.RpcSection

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "RpcServer", "build_rpc_app", "run_rpc_server"]


def build_rpc_app(
    registry: Registry,
    context: Any,
    limits: RpcLimits | None = None,
    *,
    admin_token: str | None = None,
    hub: SubscriptionHub | None = None,
    clock: Callable[[], float] | None = None,
    access: AccessPolicy | None = None,
) -> web.Application:
    """The RPC aiohttp app; ``app[RPC_HUB]`` is the hub to publish events on.

    ``context`` reaches handlers as ``ctx.node``. Pass ``hub`` to create it
    before the app (the node publishes on it); ``clock`` drives rate limiting
    in tests; ``access`` says which Host names and page origins are allowed.
    """
    limits = limits or RpcLimits()
    hub = hub or SubscriptionHub(max_per_connection=limits.max_ws_subscriptions,
                                 max_per_client=limits.max_subscriptions_per_client)
    auth = AdminAuth(admin_token)
    rate = None
    if limits.requests_per_s:
        rate = RateLimiter(limits.requests_per_s, limits.burst(), clock or time.monotonic)
    dispatcher = Dispatcher(registry, context, hub, auth, max_batch=limits.max_batch, rate=rate,
                            call_timeout_s=limits.call_timeout_s, max_response_bytes=limits.max_response_bytes,
                            max_batch_response_bytes=limits.max_batch_response_bytes,
                            batches_at_once=limits.batches_at_once)
    # client_max_size is a backstop: the handler reads the body itself, bounded.
    app = web.Application(client_max_size=limits.max_body_bytes + 1, middlewares=[access_middleware])
    app[RPC_STATE] = ServerState(
        dispatcher, limits, hub, auth, access or AccessPolicy(), ClientFaultLog(log),
        ClientSlots("requests in flight", limits.max_connections, limits.max_requests_per_client),
        ClientSlots("websocket connections", limits.max_ws_connections, limits.max_ws_per_client),
    )
    app[RPC_HUB] = hub
    app.router.add_post("/", handle_http)
    app.router.add_post("/rpc", handle_http)
    app.router.add_route("OPTIONS", "/", handle_preflight)
    app.router.add_route("OPTIONS", "/rpc", handle_preflight)
    app.router.add_get("/ws", handle_ws)
    app.on_response_prepare.append(add_cors_headers)
    app.on_shutdown.append(close_websockets)
    return app


class RpcServer:
    """The RPC app bound to a TCP port: ``await start()``, ``await stop()``, or ``async with``.

    Listens through a ``ConnectionGate`` (TCP connection caps) with aiohttp's
    keep-alive timeout set to ``limits.idle_timeout_s``: a connection that does
    not send a complete request head that soon, after connecting or after its
    previous response, is closed.
    """

    def __init__(self, registry: Registry, context: Any, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 limits: RpcLimits | None = None, admin_token: str | None = None,
                 hub: SubscriptionHub | None = None, access: AccessPolicy | None = None) -> None:
        self.host = host
        self.port = port
        self.limits = limits or RpcLimits()
        self.app = build_rpc_app(registry, context, self.limits, admin_token=admin_token, hub=hub, access=access)
        self.hub = self.app[RPC_HUB]
        self.connections = ClientSlots("connections", self.limits.max_open_connections,
                                       self.limits.max_connections_per_client)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "ws"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, keepalive_timeout=self.limits.idle_timeout_s)
        await self._runner.setup()
        assert self._runner.server is not None
        gate = ConnectionGate(self._runner.server, self.connections, self.app[RPC_STATE].faults)
        try:
            self._listener = await asyncio.get_running_loop().create_server(
                gate, self.host, self.port, reuse_address=True)
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ConfigError(
                f"cannot listen for RPC on {self.host}:{self.port}: {exc.strerror or exc} "
                "(another node running? change rpc.listen_port)"
            ) from None
        if self.port == 0:
            self.port = self._listener.sockets[0].getsockname()[1]
        log.info("rpc listening on %s (websocket %s)", self.url, self.ws_url)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()  # no new connections; the runner closes the open ones
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._listener is not None:
            await self._listener.wait_closed()
            self._listener = None

    async def __aenter__(self) -> RpcServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def run_rpc_server(registry: Registry, context: Any, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                         limits: RpcLimits | None = None, admin_token: str | None = None,
                         hub: SubscriptionHub | None = None, access: AccessPolicy | None = None,
                         started: Callable[[RpcServer], None] | None = None) -> None:
    """Serve until cancelled (for a TaskGroup); ``started`` gets the bound server."""
    server = RpcServer(registry, context, host=host, port=port, limits=limits, admin_token=admin_token, hub=hub,
                       access=access)
    await server.start()
    try:
        if started is not None:
            started(server)
        await asyncio.Event().wait()
    finally:
        await server.stop()
