"""The aiohttp edge of JSON-RPC: POST / and /rpc, and the websocket at /ws.

Only moves bytes and enforces connection-level limits; everything JSON-RPC is
in dispatch.py. Binds to 127.0.0.1 unless told otherwise. Never blocks the
node: each websocket writes from its own bounded queue, and a client that
does not keep up is disconnected. Every slot a client can hold (a TCP
connection, a request in flight, a websocket, a subscription) has a global
cap and a lower per-client cap, and every wait on a client has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from marketnode.core.errors import ConfigError, RpcError
from marketnode.node.rpc.access import AccessPolicy, content_type_problem
from marketnode.node.rpc.auth import AdminAuth
from marketnode.node.rpc.clients import ClientSlots, client_key
from marketnode.node.rpc.dispatch import Caller, Dispatcher, RateLimiter
from marketnode.node.rpc.errors import error_object, invalid_request, limit_exceeded
from marketnode.node.rpc.faultlog import ClientFaultLog
from marketnode.node.rpc.gate import ConnectionGate
from marketnode.node.rpc.jsonify import dumps
from marketnode.node.rpc.registry import Registry
from marketnode.node.rpc.subscriptions import SubscriptionHub

log = logging.getLogger("marketnode.rpc")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 26657  # matches node.config.RpcSection
WS_CLOSE_REASON_MAX = 120  # a close frame's reason is at most 123 bytes
REPLY_SLICE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class RpcLimits:
    """Every limit of the RPC server; all configurable (node.config.RpcSection), all enforced.

    Counts: ``max_connections`` bounds HTTP requests served at once (all
    clients), ``max_requests_per_client`` those of one client address;
    ``max_open_connections`` / ``max_connections_per_client`` bound TCP
    connections (idle ones included); websockets and subscriptions likewise.
    ``requests_per_s`` is per client address, counting each call of a batch,
    with bursts up to ``rate_burst`` (default: the larger of one second's
    worth and ``max_batch``); None turns it off. Sizes: a request body, one
    response, one batch's responses, a websocket's unsent messages;
    ``batches_at_once`` batches run at a time (all clients). Times (s):
    ``idle_timeout_s`` for a connection to send a complete request head (after
    connecting or after its previous response), ``body_timeout_s`` for the
    whole body, ``send_timeout_s`` for the client to take a large reply,
    ``ws_idle_timeout_s`` for a websocket with no subscription to send
    something, ``call_timeout_s`` for one handler.
    """

    max_body_bytes: int = 1024 * 1024
    max_batch: int = 100
    max_connections: int = 128
    max_requests_per_client: int = 32
    max_open_connections: int = 1024
    max_connections_per_client: int = 64
    max_ws_connections: int = 64
    max_ws_per_client: int = 16
    max_ws_subscriptions: int = 32
    max_subscriptions_per_client: int = 256
    requests_per_s: float | None = 100.0
    rate_burst: float | None = None
    max_response_bytes: int = 16 * 1024 * 1024
    max_batch_response_bytes: int = 8 * 1024 * 1024
    batches_at_once: int = 2
    ws_queue_messages: int = 512
    ws_queue_bytes: int = 16 * 1024 * 1024
    ws_inflight_calls: int = 16
    call_timeout_s: float = 60.0
    idle_timeout_s: float = 15.0
    body_timeout_s: float = 10.0
    send_timeout_s: float = 60.0
    ws_idle_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in ("requests_per_s", "rate_burst"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"rpc.{f.name}: must be a positive number (got {value!r})")

    @classmethod
    def from_config(cls, section: Any) -> RpcLimits:
        """Limits from an object with same-named attributes (node.config.RpcSection); others keep defaults.

        ``requests_per_s = 0`` in a config turns rate limiting off.
        """
        values = {f.name: getattr(section, f.name) for f in fields(cls) if hasattr(section, f.name)}
        if values.get("requests_per_s") == 0:
            values["requests_per_s"] = None
        return cls(**values)

    def burst(self) -> float:
        return self.rate_burst or max(self.requests_per_s or 0, self.max_batch)


@dataclass
class _ServerState:
    dispatcher: Dispatcher
    limits: RpcLimits
    hub: SubscriptionHub
    auth: AdminAuth
    access: AccessPolicy
    faults: ClientFaultLog
    http_slots: ClientSlots
    ws_slots: ClientSlots
    ws_connections: set[WsConnection] = field(default_factory=set)


RPC_STATE = web.AppKey("rpc_state", _ServerState)
RPC_HUB = web.AppKey("rpc_hub", SubscriptionHub)

_conn_ids = itertools.count(1)


class WsConnection:
    """One websocket client: a bounded outbound queue (by count and bytes) drained by a writer task."""

    def __init__(self, ws: web.WebSocketResponse, client: str, limits: RpcLimits, is_admin: bool) -> None:
        self.conn_id = f"ws{next(_conn_ids)}"
        self.ws = ws
        self.client = client
        self.is_admin = is_admin
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=limits.ws_queue_messages)
        self.max_queue_bytes = limits.ws_queue_bytes
        self.queued_bytes = 0
        self.inflight = asyncio.Semaphore(limits.ws_inflight_calls)
        self.tasks: set[asyncio.Task[None]] = set()
        self.close_reason: str | None = None
        self._closer: asyncio.Task[bool] | None = None

    def deliver(self, text: str) -> bool:
        if self.close_reason is not None:
            return True  # already going away; nothing to do
        # One message always fits an empty queue (it is bounded by max_response_bytes).
        if not self.queue.empty() and self.queued_bytes + len(text) > self.max_queue_bytes:
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        self.queued_bytes += len(text)
        return True

    def drop(self, reason: str) -> None:
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self._closer = asyncio.get_running_loop().create_task(
            self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=reason[:WS_CLOSE_REASON_MAX].encode())
        )

    def idle(self, hub: SubscriptionHub) -> bool:
        """Nothing to wait for: no subscription, no call running, nothing left to send."""
        return hub.count(self) == 0 and not self.tasks and self.queue.empty()

    async def write_loop(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                await self.ws.send_str(text)
                self.queued_bytes -= len(text)
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
    app = web.Application(client_max_size=limits.max_body_bytes + 1, middlewares=[_access_middleware])
    app[RPC_STATE] = _ServerState(
        dispatcher, limits, hub, auth, access or AccessPolicy(), ClientFaultLog(log),
        ClientSlots("requests in flight", limits.max_connections, limits.max_requests_per_client),
        ClientSlots("websocket connections", limits.max_ws_connections, limits.max_ws_per_client),
    )
    app[RPC_HUB] = hub
    app.router.add_post("/", _handle_http)
    app.router.add_post("/rpc", _handle_http)
    app.router.add_route("OPTIONS", "/", _handle_preflight)
    app.router.add_route("OPTIONS", "/rpc", _handle_preflight)
    app.router.add_get("/ws", _handle_ws)
    app.on_response_prepare.append(_add_cors_headers)
    app.on_shutdown.append(_close_websockets)
    return app


def _json_error_response(status: int, exc: RpcError) -> web.Response:
    body = dumps({"jsonrpc": "2.0", "error": error_object(exc), "id": None})
    return web.Response(status=status, text=body, content_type="application/json")


@web.middleware
async def _access_middleware(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Host and Origin checks for every route on the port (RPC, websocket, web pages)."""
    state = request.app[RPC_STATE]
    host, origin = request.headers.get(hdrs.HOST), request.headers.get(hdrs.ORIGIN)
    problem = state.access.host_problem(host) or state.access.origin_problem(origin, host)
    if problem is not None:
        state.faults.note("access_refused", client_key(request.remote), f"refused: {problem}")
        return _json_error_response(403, invalid_request(problem))
    return await handler(request)


async def _add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, streamed ones too: let an origin on rpc.allowed_origins read it."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None and request.app[RPC_STATE].access.origin_allowed_by_list(origin):
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        response.headers[hdrs.VARY] = hdrs.ORIGIN


async def _handle_preflight(request: web.Request) -> web.StreamResponse:
    """CORS preflight: granted only to origins on rpc.allowed_origins (the middleware refused the rest)."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None or not request.app[RPC_STATE].access.origin_allowed_by_list(origin):
        return _json_error_response(403, invalid_request("cross-origin calls are only for rpc.allowed_origins"))
    return web.Response(status=204, headers={
        hdrs.ACCESS_CONTROL_ALLOW_METHODS: "POST",
        hdrs.ACCESS_CONTROL_ALLOW_HEADERS: "Content-Type, Authorization",
        hdrs.ACCESS_CONTROL_MAX_AGE: "600",
    })


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


async def _answer_and_close(request: web.Request, status: int, exc: RpcError) -> web.StreamResponse:
    """Send the error and close the connection now, without aiohttp's lingering read of the unread body."""
    response = _json_error_response(status, exc)
    response.force_close()
    with contextlib.suppress(ConnectionError):
        await response.prepare(request)
        await response.write_eof()
    if request.transport is not None:
        request.transport.close()
    return response


class _SlotHolder:
    """A request or websocket holding a slot: evictable while it only waits on its own client."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.idle: Callable[[], bool] = lambda: True  # until the body is in (HTTP) or while idle (websocket)

    def evictable(self) -> bool:
        return self.idle()

    def evict(self) -> None:
        if self.request.transport is not None:
            self.request.transport.abort()


_Serve = Callable[[web.Request, _ServerState, str, _SlotHolder], Awaitable[web.StreamResponse]]


async def _holding_a_slot(request: web.Request, slots: ClientSlots, serve: _Serve) -> web.StreamResponse:
    """Serve ``request`` while its client holds one of ``slots``; refuse with 429/503 when none is left."""
    client = client_key(request.remote)
    holder = _SlotHolder(request)
    refused = slots.take(client, holder)
    if refused is not None:
        return _json_error_response(refused.http_status, limit_exceeded(refused.reason))
    try:
        return await serve(request, request.app[RPC_STATE], client, holder)
    finally:
        slots.give_back(client, holder)


async def _handle_http(request: web.Request) -> web.StreamResponse:
    return await _holding_a_slot(request, request.app[RPC_STATE].http_slots, _serve_http)


async def _serve_http(request: web.Request, state: _ServerState, client: str,
                      holder: _SlotHolder) -> web.StreamResponse:
    limits = state.limits
    sent_type = request.content_type if hdrs.CONTENT_TYPE in request.headers else ""
    problem = content_type_problem(sent_type)
    if problem is not None:
        state.faults.note("content_type", client, f"refused: {problem}")
        return _json_error_response(415, invalid_request(problem))
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            body = await _read_body(request, limits.max_body_bytes)
    except TimeoutError:
        detail = f"request body not received within {limits.body_timeout_s:g} s"
        state.faults.note("body_timeout", client, f"{detail}; connection closed")
        return await _answer_and_close(request, 408, limit_exceeded(detail, timeout_s=limits.body_timeout_s))
    except ConnectionError:
        state.faults.note("body_lost", client, "connection lost while sending the request body")
        return web.Response(status=400)  # nobody is left to read it
    holder.idle = lambda: False  # from here on the node is working for it
    if body is None:
        error = limit_exceeded(f"request body over {limits.max_body_bytes} bytes", max=limits.max_body_bytes)
        return _json_error_response(413, error)
    caller = Caller("http", client, state.auth.check_header(request.headers.get(hdrs.AUTHORIZATION)))
    text, status = await state.dispatcher.handle(body, caller)
    if text is None:
        return web.Response(status=204)
    return await _json_reply(request, status, text)


async def _json_reply(request: web.Request, status: int, text: str) -> web.StreamResponse:
    """The reply; a large one in slices with a yield between them, so writing megabytes never holds the loop."""
    data = text.encode()
    if len(data) <= REPLY_SLICE_BYTES:
        return web.Response(status=status, body=data, content_type="application/json")
    response = web.StreamResponse(status=status)
    response.content_type = "application/json"
    response.content_length = len(data)
    state = request.app[RPC_STATE]
    try:
        async with asyncio.timeout(state.limits.send_timeout_s):  # a client that stops reading lets go
            await response.prepare(request)
            with memoryview(data) as view:
                for start in range(0, len(data), REPLY_SLICE_BYTES):
                    await response.write(view[start:start + REPLY_SLICE_BYTES])
                    await asyncio.sleep(0)
            await response.write_eof()
    except TimeoutError:
        state.faults.note("send_timeout", client_key(request.remote),
                          f"reply not taken within {state.limits.send_timeout_s:g} s; connection closed")
        if request.transport is not None:
            request.transport.abort()
    return response


async def _handle_ws(request: web.Request) -> web.StreamResponse:
    return await _holding_a_slot(request, request.app[RPC_STATE].ws_slots, _serve_ws)


async def _serve_ws(request: web.Request, state: _ServerState, client: str,
                    holder: _SlotHolder) -> web.StreamResponse:
    limits = state.limits
    # aiohttp's own ceiling closes the socket (1009); below it, an over-limit
    # message gets a -32005 answer and the connection stays open.
    ws = web.WebSocketResponse(max_msg_size=4 * limits.max_body_bytes, heartbeat=30.0)
    await ws.prepare(request)
    conn = WsConnection(ws, client, limits, state.auth.check_header(request.headers.get(hdrs.AUTHORIZATION)))
    state.ws_connections.add(conn)
    holder.idle = lambda: conn.idle(state.hub)
    writer = asyncio.create_task(conn.write_loop())
    try:
        while conn.close_reason is None:
            try:
                msg = await ws.receive(timeout=limits.ws_idle_timeout_s)
            except TimeoutError:
                if conn.idle(state.hub):
                    state.faults.note("ws_idle", client, "idle websocket closed")
                    conn.drop(f"idle: no subscription and no message for {limits.ws_idle_timeout_s:g} s")
                continue
            if msg.type is WSMsgType.TEXT:
                await _accept_ws_message(state, conn, msg.data)
            elif msg.type is WSMsgType.BINARY:
                conn.deliver(dumps({"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32700, "message": "parse error: send JSON-RPC as text frames, not binary"}}))
            else:  # CLOSE, CLOSING, CLOSED or ERROR: the connection is over
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
    # A websocket message is a request in flight like an HTTP one: the same per-client cap.
    refused = state.http_slots.take(conn.client)
    try:
        if refused is not None:
            response: str | None = dumps({"jsonrpc": "2.0", "error": error_object(limit_exceeded(refused.reason)),
                                          "id": None})
        else:
            caller = Caller("ws", conn.client, conn.is_admin, conn)
            try:
                response, _ = await state.dispatcher.handle(text, caller)
            finally:
                state.http_slots.give_back(conn.client)
        if response is not None and not conn.deliver(response):
            state.hub.drop_connection(conn)
            conn.drop("slow consumer: response queue full")
    finally:
        conn.inflight.release()


async def _close_websockets(app: web.Application) -> None:
    for conn in list(app[RPC_STATE].ws_connections):
        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"node shutting down")


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
