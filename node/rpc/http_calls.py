"""JSON-RPC over HTTP POST, and the Host/Origin/CORS rules every route on the port obeys.

A request holds one per-client slot from its first byte to its last; the
body is read with a size cap and a deadline (a slow sender is answered 408
and closed), and a large reply leaves in slices with a deadline of its own, so
neither a slow writer nor a slow reader can hold the loop or a slot for long.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from marketnode.core.errors import RpcError
from marketnode.node.rpc.access import content_type_problem
from marketnode.node.rpc.clients import client_key
from marketnode.node.rpc.dispatch import Caller
from marketnode.node.rpc.errors import invalid_request, limit_exceeded
from marketnode.node.rpc.state import RPC_STATE, ServerState, SlotHolder, holding_a_slot, json_error_response

REPLY_SLICE_BYTES = 256 * 1024


@web.middleware
async def access_middleware(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Host and Origin checks for every route on the port (RPC, websocket, web pages)."""
    state = request.app[RPC_STATE]
    host, origin = request.headers.get(hdrs.HOST), request.headers.get(hdrs.ORIGIN)
    problem = state.access.host_problem(host) or state.access.origin_problem(origin, host)
    if problem is not None:
        state.faults.note("access_refused", client_key(request.remote), f"refused: {problem}")
        return json_error_response(403, invalid_request(problem))
    return await handler(request)


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, streamed ones too: let an origin on rpc.allowed_origins read it."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None and request.app[RPC_STATE].access.origin_allowed_by_list(origin):
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        response.headers[hdrs.VARY] = hdrs.ORIGIN


async def handle_preflight(request: web.Request) -> web.StreamResponse:
    """CORS preflight: granted only to origins on rpc.allowed_origins (the middleware refused the rest)."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None or not request.app[RPC_STATE].access.origin_allowed_by_list(origin):
        return json_error_response(403, invalid_request("cross-origin calls are only for rpc.allowed_origins"))
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
    response = json_error_response(status, exc)
    response.force_close()
    with contextlib.suppress(ConnectionError):
        await response.prepare(request)
        await response.write_eof()
    if request.transport is not None:
        request.transport.close()
    return response


async def handle_http(request: web.Request) -> web.StreamResponse:
    return await holding_a_slot(request, request.app[RPC_STATE].http_slots, _serve_http)


async def _serve_http(request: web.Request, state: ServerState, client: str,
                      holder: SlotHolder) -> web.StreamResponse:
    limits = state.limits
    sent_type = request.content_type if hdrs.CONTENT_TYPE in request.headers else ""
    problem = content_type_problem(sent_type)
    if problem is not None:
        state.faults.note("content_type", client, f"refused: {problem}")
        return json_error_response(415, invalid_request(problem))
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
        return json_error_response(413, error)
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
