"""JSON-RPC over the websocket at /ws: calls, subscriptions and the queue that protects the node from slow readers.

Each connection writes from its own bounded queue (by count and bytes) and a
client that does not keep up is dropped, never waited for; calls on one
connection run concurrently up to ``ws_inflight_calls`` and each holds a
request slot like an HTTP call; an idle socket with nothing subscribed is
closed after ``ws_idle_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from marketnode.node.rpc.dispatch import Caller
from marketnode.node.rpc.errors import error_object, limit_exceeded
from marketnode.node.rpc.jsonify import dumps
from marketnode.node.rpc.limits import RpcLimits
from marketnode.node.rpc.state import RPC_STATE, ServerState, SlotHolder, holding_a_slot
from marketnode.node.rpc.subscriptions import SubscriptionHub

log = logging.getLogger("marketnode.rpc")

WS_CLOSE_REASON_MAX = 120  # a close frame's reason is at most 123 bytes

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


async def handle_ws(request: web.Request) -> web.StreamResponse:
    return await holding_a_slot(request, request.app[RPC_STATE].ws_slots, _serve_ws)


async def _serve_ws(request: web.Request, state: ServerState, client: str,
                    holder: SlotHolder) -> web.StreamResponse:
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


async def _accept_ws_message(state: ServerState, conn: WsConnection, text: str) -> None:
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


async def _serve_ws_message(state: ServerState, conn: WsConnection, text: str) -> None:
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


async def close_websockets(app: web.Application) -> None:
    for conn in list(app[RPC_STATE].ws_connections):
        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"node shutting down")
