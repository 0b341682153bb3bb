"""The aiohttp edge of JSON-RPC: POST / and /rpc, and the websocket at /ws.

Only moves bytes and enforces connection-level limits; everything JSON-RPC is
in dispatch.py. Binds to 127.0.0.1 unless told otherwise. Never blocks the
node: each websocket writes from its own bounded queue, and a client that
does not keep up is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from core.errors import ConfigError
from node.rpc.auth import AdminAuth
from node.rpc.dispatch import Caller, Dispatcher, RateLimiter
from node.rpc.errors import error_object, limit_exceeded
from node.rpc.jsonify import dumps
from node.rpc.registry import Registry
from node.rpc.subscriptions import SubscriptionHub

log = logging.getLogger("marketnode.rpc")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 26657  # matches node.config.RpcSection
WS_CLOSE_REASON_MAX = 120  # a close frame's reason is at most 123 bytes


@dataclass(frozen=True, slots=True)
class RpcLimits:
    """Every limit of the RPC server; all configurable, all enforced.

    ``max_connections`` bounds HTTP requests served at once; the websocket
    has its own ``max_ws_connections``. ``requests_per_s`` is per client IP,
    counting each call of a batch, with bursts up to ``rate_burst`` (default:
    the larger of one second's worth and ``max_batch``); None turns it off.
    """

    max_body_bytes: int = 1024 * 1024
    max_batch: int = 100
    max_connections: int = 128
    max_ws_connections: int = 64
    max_ws_subscriptions: int = 32
    requests_per_s: float | None = 100.0
    rate_burst: float | None = None
    ws_queue_messages: int = 512
    ws_inflight_calls: int = 16
    call_timeout_s: float = 60.0

    @classmethod
    def from_config(cls, section: Any) -> RpcLimits:
        """Limits from an object with same-named attributes (node.config.RpcSection); others keep defaults."""
        return cls(**{f.name: getattr(section, f.name) for f in fields(cls) if hasattr(section, f.name)})

    def burst(self) -> float:
        return self.rate_burst or max(self.requests_per_s or 0, self.max_batch)


@dataclass
class _ServerState:
    dispatcher: Dispatcher
    limits: RpcLimits
    hub: SubscriptionHub
    auth: AdminAuth
    http_inflight: int = 0
    ws_connections: set[WsConnection] = field(default_factory=set)


RPC_STATE = web.AppKey("rpc_state", _ServerState)
RPC_HUB = web.AppKey("rpc_hub", SubscriptionHub)

_conn_ids = itertools.count(1)


class WsConnection:
    """One websocket client: a bounded outbound queue drained by a writer task."""

    def __init__(self, ws: web.WebSocketResponse, client: str, queue_messages: int, inflight_calls: int,
                 is_admin: bool) -> None:
        self.conn_id = f"ws{next(_conn_ids)}"
        self.ws = ws
        self.client = client
        self.is_admin = is_admin
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_messages)
        self.inflight = asyncio.Semaphore(inflight_calls)
        self.tasks: set[asyncio.Task[None]] = set()
        self.close_reason: str | None = None
        self._closer: asyncio.Task[bool] | None = None

    def deliver(self, text: str) -> bool:
        if self.close_reason is not None:
            return True  # already going away; nothing to do
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True

    def drop(self, reason: str) -> None:
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self._closer = asyncio.get_running_loop().create_task(
            self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=reason[:WS_CLOSE_REASON_MAX].encode())
        )

    async def write_loop(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:  # the client went away mid-send
            log.debug("rpc %s: send failed: %s", self.conn_id, exc)


def build_rpc_app(
    registry: Registry,
    context: Any,
    limits: RpcLimits | None = None,
    *,
    admin_token: str | None = None,
    hub: SubscriptionHub | None = None,
    clock: Callable[[], float] | None = None,
) -> web.Application:
    """The RPC aiohttp app; ``app[RPC_HUB]`` is the hub to publish events on.

    ``context`` reaches handlers as ``ctx.node``. Pass ``hub`` to create it
    before the app (the node publishes on it); ``clock`` drives rate limiting
    in tests.
    """
    limits = limits or RpcLimits()
    hub = hub or SubscriptionHub(max_per_connection=limits.max_ws_subscriptions)
    auth = AdminAuth(admin_token)
    rate = None
    if limits.requests_per_s:
        rate = RateLimiter(limits.requests_per_s, limits.burst(), clock or time.monotonic)
    dispatcher = Dispatcher(registry, context, hub, auth, max_batch=limits.max_batch, rate=rate,
                            call_timeout_s=limits.call_timeout_s)
    # client_max_size is a backstop: the handler reads the body itself, bounded.
    app = web.Application(client_max_size=limits.max_body_bytes + 1)
    app[RPC_STATE] = _ServerState(dispatcher, limits, hub, auth)
    app[RPC_HUB] = hub
    app.router.add_post("/", _handle_http)
    app.router.add_post("/rpc", _handle_http)
    app.router.add_get("/ws", _handle_ws)
    app.on_shutdown.append(_close_websockets)
    return app


def _json_error_response(status: int, exc: Exception) -> web.Response:
    body = dumps({"jsonrpc": "2.0", "error": error_object(exc), "id": None})
    return web.Response(status=status, text=body, content_type="application/json")


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


async def _handle_http(request: web.Request) -> web.StreamResponse:
    state = request.app[RPC_STATE]
    limits = state.limits
    if state.http_inflight >= limits.max_connections:
        return _json_error_response(503, limit_exceeded(f"more than {limits.max_connections} requests at once"))
    state.http_inflight += 1
    try:
        body = await _read_body(request, limits.max_body_bytes)
        if body is None:
            error = limit_exceeded(f"request body over {limits.max_body_bytes} bytes", max=limits.max_body_bytes)
            return _json_error_response(413, error)
        caller = Caller("http", request.remote or "?", state.auth.check_header(request.headers.get("Authorization")))
        text, status = await state.dispatcher.handle(body, caller)
        if text is None:
            return web.Response(status=204)
        return web.Response(status=status, text=text, content_type="application/json")
    finally:
        state.http_inflight -= 1


async def _handle_ws(request: web.Request) -> web.StreamResponse:
    state = request.app[RPC_STATE]
    limits = state.limits
    if len(state.ws_connections) >= limits.max_ws_connections:
        return _json_error_response(
            503, limit_exceeded(f"more than {limits.max_ws_connections} websocket connections")
        )
    # aiohttp's own ceiling closes the socket (1009); below it, an over-limit
    # message gets a -32005 answer and the connection stays open.
    ws = web.WebSocketResponse(max_msg_size=4 * limits.max_body_bytes, heartbeat=30.0)
    await ws.prepare(request)
    conn = WsConnection(ws, request.remote or "?", limits.ws_queue_messages, limits.ws_inflight_calls,
                        state.auth.check_header(request.headers.get("Authorization")))
    state.ws_connections.add(conn)
    writer = asyncio.create_task(conn.write_loop())
    try:
        async for msg in ws:
            if conn.close_reason is not None:
                break
            if msg.type is WSMsgType.TEXT:
                await _accept_ws_message(state, conn, msg.data)
            elif msg.type is WSMsgType.BINARY:
                conn.deliver(dumps({"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32700, "message": "parse error: send JSON-RPC as text frames, not binary"}}))
            elif msg.type is WSMsgType.ERROR:
                break
    finally:
        state.hub.drop_connection(conn)
        state.ws_connections.discard(conn)
        for task in list(conn.tasks):
            task.cancel()
        await _drain(conn)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        if conn._closer is not None:
            with contextlib.suppress(Exception):
                await conn._closer
        await ws.close()
    return ws


async def _drain(conn: WsConnection) -> None:
    """Give queued answers a moment to leave when the client closes first."""
    if conn.close_reason is None and not conn.ws.closed:
        for _ in range(10):
            if conn.queue.empty():
                return
            await asyncio.sleep(0.01)


async def _accept_ws_message(state: _ServerState, conn: WsConnection, text: str) -> None:
    if len(text.encode()) > state.limits.max_body_bytes:
        error = limit_exceeded(f"message over {state.limits.max_body_bytes} bytes", max=state.limits.max_body_bytes)
        conn.deliver(dumps({"jsonrpc": "2.0", "error": error_object(error), "id": None}))
        return
    # Calls on one connection run concurrently (a slow tx_send must not hold
    # up the rest), at most ws_inflight_calls at once: the reader waits here.
    await conn.inflight.acquire()
    task = asyncio.create_task(_serve_ws_message(state, conn, text))
    conn.tasks.add(task)
    task.add_done_callback(conn.tasks.discard)


async def _serve_ws_message(state: _ServerState, conn: WsConnection, text: str) -> None:
    try:
        caller = Caller("ws", conn.client, conn.is_admin, conn)
        response, _ = await state.dispatcher.handle(text, caller)
        if response is not None and not conn.deliver(response):
            state.hub.drop_connection(conn)
            conn.drop("slow consumer: response queue full")
    finally:
        conn.inflight.release()


async def _close_websockets(app: web.Application) -> None:
    for conn in list(app[RPC_STATE].ws_connections):
        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"node shutting down")


class RpcServer:
    """The RPC app bound to a TCP port: ``await start()``, ``await stop()``, or ``async with``."""

    def __init__(self, registry: Registry, context: Any, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 limits: RpcLimits | None = None, admin_token: str | None = None,
                 hub: SubscriptionHub | None = None) -> None:
        self.host = host
        self.port = port
        self.app = build_rpc_app(registry, context, limits, admin_token=admin_token, hub=hub)
        self.hub = self.app[RPC_HUB]
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "ws"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ConfigError(
                f"cannot listen for RPC on {self.host}:{self.port}: {exc.strerror or exc} "
                "(another node running? change rpc.listen_port)"
            ) from None
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        log.info("rpc listening on %s (websocket %s)", self.url, self.ws_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> RpcServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def run_rpc_server(registry: Registry, context: Any, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                         limits: RpcLimits | None = None, admin_token: str | None = None,
                         hub: SubscriptionHub | None = None,
                         started: Callable[[RpcServer], None] | None = None) -> None:
    """Serve until cancelled (for a TaskGroup); ``started`` gets the bound server."""
    server = RpcServer(registry, context, host=host, port=port, limits=limits, admin_token=admin_token, hub=hub)
    await server.start()
    try:
        if started is not None:
            started(server)
        await asyncio.Event().wait()
    finally:
        await server.stop()
