"""JSON-RPC 2.0 request processing, the same for HTTP and websocket.

Text in, text (or nothing) out: parse, check the envelope, apply batch and
rate limits, find the method, check transport and admin rights, bind params,
run the handler, map errors. The transports (server.py) only move bytes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from marketnode.core.errors import RpcError
from marketnode.node.rpc.auth import AdminAuth
from marketnode.node.rpc.errors import (
    error_object,
    invalid_request,
    limit_exceeded,
    method_not_found,
    parse_error,
    unauthorized,
)
from marketnode.node.rpc.jsonify import dumps, loads, to_json
from marketnode.node.rpc.registry import CallContext, Registry, Transport
from marketnode.node.rpc.subscriptions import Subscriber, SubscriptionHub

C = TypeVar("C")  # the server's context, handed to every handler as ``ctx.node``

HTTP_OK, HTTP_NO_CONTENT, HTTP_TOO_MANY = 200, 204, 429
# Deeper JSON is refused as a parse error: results are rendered recursively,
# and no marketnode method takes anything nested this far.
MAX_DEPTH = 64


class RateLimiter:
    """Token bucket per client key: ``rate`` calls per second, bursts up to ``burst``.

    The clock is injectable so tests need not sleep. The table forgets full
    buckets once it grows past ``max_clients``, so it stays bounded.
    """

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000) -> None:
        self.rate, self.burst, self.clock, self.max_clients = rate, burst, clock, max_clients
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str, cost: int = 1) -> bool:
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if len(self._buckets) >= self.max_clients and client not in self._buckets:
            self._forget_idle(now)
        if tokens < cost:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - cost, now)
        return True

    def retry_after_ms(self, client: str, cost: int = 1) -> int:
        """How long until ``client`` has ``cost`` tokens again (for a refusal's ``data.retry_after_ms``)."""
        tokens, last = self._buckets.get(client, (self.burst, self.clock()))
        tokens = min(self.burst, tokens + (self.clock() - last) * self.rate)
        return max(1, int((min(cost, self.burst) - tokens) * 1000 / self.rate) + 1)

    def _forget_idle(self, now: float) -> None:
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a payload and over what: fixed for one HTTP request or ws message."""

    transport: Transport
    client: str
    is_admin: bool
    connection: Subscriber | None = None


class Dispatcher(Generic[C]):
    """Turns one JSON-RPC payload into its response text (None: nothing to send).

    Replies are bounded: one response's text by ``max_response_bytes`` (a
    bigger result becomes a -32005 error), a batch's by
    ``max_batch_response_bytes`` (the call that passes it and every later
    call are answered with -32005; ``data.ran`` says whether the call ran).
    A batch yields to the event loop between calls, and at most
    ``batches_at_once`` batches run their calls at a time (the rest wait their
    turn), so consensus, which shares the event loop, waits for at most that
    many calls between two of its own steps, never for a whole batch.
    """

    def __init__(self, registry: Registry, node: C, hub: SubscriptionHub, auth: AdminAuth, *,
                 max_batch: int, rate: RateLimiter | None, call_timeout_s: float,
                 max_response_bytes: int = 16 * 1024 * 1024,
                 max_batch_response_bytes: int = 8 * 1024 * 1024, batches_at_once: int = 2) -> None:
        self.registry, self.node, self.hub, self.auth = registry, node, hub, auth
        self.max_batch = max_batch
        self.rate = rate
        self.call_timeout_s = call_timeout_s
        self.max_response_bytes = max_response_bytes
        self.max_batch_response_bytes = max_batch_response_bytes
        self._batch_turns = asyncio.Semaphore(batches_at_once)

    async def handle(self, payload: str | bytes, caller: Caller) -> tuple[str | None, int]:
        """Return (response text or None, HTTP status to use); never raises."""
        try:
            return await self._handle(payload, caller)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must still answer in JSON-RPC, not with a bare 500
            return _dump({"jsonrpc": "2.0", "error": error_object(exc), "id": None}), HTTP_OK

    async def _handle(self, payload: str | bytes, caller: Caller) -> tuple[str | None, int]:
        try:
            message = loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            return _dump(_error(parse_error(detail), None)), HTTP_OK
        if _too_deep(message, MAX_DEPTH):
            return _dump(_error(parse_error(f"nested deeper than {MAX_DEPTH} levels"), None)), HTTP_OK
        if isinstance(message, list):
            return await self._batch(message, caller)
        if self.rate and not self.rate.allow(caller.client):
            rid = message.get("id") if isinstance(message, dict) and _valid_id(message.get("id")) else None
            return _dump(_error(_rate_error(self.rate.retry_after_ms(caller.client)), rid)), HTTP_TOO_MANY
        response = await self._one(message, caller)
        return (None, HTTP_NO_CONTENT) if response is None else (response, HTTP_OK)

    async def _batch(self, batch: list[Any], caller: Caller) -> tuple[str | None, int]:
        if not batch:
            return _dump(_error(invalid_request("empty batch"), None)), HTTP_OK
        if len(batch) > self.max_batch:
            error = limit_exceeded(f"batch of {len(batch)} calls; at most {self.max_batch}", max=self.max_batch)
            return _dump(_error(error, None)), HTTP_OK
        if self.rate and not self.rate.allow(caller.client, cost=len(batch)):
            return _dump(_error(_rate_error(self.rate.retry_after_ms(caller.client, len(batch))), None)), HTTP_TOO_MANY
        async with self._batch_turns:
            return await self._run_batch(batch, caller)

    async def _run_batch(self, batch: list[Any], caller: Caller) -> tuple[str | None, int]:
        # One after another, in order: a batch of tx_send with consecutive
        # nonces reaches the mempool in the order it was written.
        budget = self.max_batch_response_bytes
        responses: list[str] = []
        used = 2  # the brackets
        over = False
        for index, item in enumerate(batch):
            if index:
                await asyncio.sleep(0)  # let the node and other clients run between calls
            text = None if over else await self._one(item, caller)
            if over or (text is not None and used + utf8_len(text) + 1 > budget):
                text = _batch_refusal(item, budget, ran=not over)
                over = True
            if text is not None:
                responses.append(text)
                used += utf8_len(text) + 1
        return ("[" + ",".join(responses) + "]", HTTP_OK) if responses else (None, HTTP_NO_CONTENT)

    async def _one(self, request: Any, caller: Caller) -> str | None:
        """Answer one request object with its response text; None for a (valid) notification."""
        if not isinstance(request, dict):
            return _dump(_error(invalid_request("expected a request object"), None))
        has_id = "id" in request
        rid = request.get("id")
        if has_id and not _valid_id(rid):
            return _dump(_error(invalid_request("id must be a string, a number or null"), None))
        problem = _envelope_problem(request)
        if problem:
            return _dump(_error(invalid_request(problem), rid))
        name = request["method"]
        try:
            result = await self._call(name, request.get("params"), caller)
            encoded = to_json(result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes a JSON-RPC error object
            if not has_id:
                error_object(exc, name)  # unanswered, but an unexpected failure is still logged
                return None
            return _dump({"jsonrpc": "2.0", "error": error_object(exc, name), "id": rid})
        if not has_id:
            return None
        text = _dump({"jsonrpc": "2.0", "result": encoded, "id": rid})
        size = utf8_len(text)
        if size > self.max_response_bytes:
            error = limit_exceeded(
                f"the result of {name} is {size} bytes, over the limit of {self.max_response_bytes} per response; "
                "ask for less (a smaller limit, or full=false)", max=self.max_response_bytes)
            return _dump(_error(error, rid))
        return text

    async def _call(self, name: str, params: Any, caller: Caller) -> Any:
        method = self.registry.get(name)
        if method is None:
            raise method_not_found(name)
        if caller.transport not in method.transports:
            raise method_not_found(name, f"{name} is only served over the websocket at /ws")
        is_admin = caller.is_admin or bool(caller.connection and caller.connection.is_admin)
        if method.admin and not is_admin:
            raise self._unauthorized(name)
        kwargs = method.bind(params)
        ctx = CallContext(
            node=self.node, transport=caller.transport, client=caller.client, is_admin=is_admin,
            hub=self.hub, registry=self.registry, auth=self.auth, connection=caller.connection,
        )
        deadline = asyncio.timeout(self.call_timeout_s)
        try:
            async with deadline:
                return await method.handler(ctx, **kwargs)
        except TimeoutError:
            if not deadline.expired():
                raise  # the handler's own timeout, not ours: an internal error
            raise limit_exceeded(f"{name} took longer than {self.call_timeout_s:g} s") from None

    def _unauthorized(self, name: str) -> RpcError:
        if not self.auth.enabled:
            return unauthorized(f"{name} is an admin method and admin methods are disabled on this node")
        return unauthorized(
            f"{name} is an admin method: send 'Authorization: Bearer <admin token>' over HTTP, "
            "or call rpc_authenticate first on the websocket"
        )


def _too_deep(value: Any, limit: int) -> bool:
    """True when arrays/objects nest deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _valid_id(rid: Any) -> bool:
    return rid is None or (isinstance(rid, (str, int, float)) and not isinstance(rid, bool))


def _envelope_problem(request: dict[str, Any]) -> str | None:
    if request.get("jsonrpc") != "2.0":
        return 'member "jsonrpc" must be exactly "2.0"'
    if not isinstance(request.get("method"), str):
        return 'member "method" must be a string'
    if "params" in request and not isinstance(request["params"], (list, dict)):
        return 'member "params" must be an object or an array when present'
    return None


def utf8_len(text: str) -> int:
    """Bytes of ``text`` on the wire (results are mostly ASCII: no copy then)."""
    return len(text) if text.isascii() else len(text.encode())


def _batch_refusal(item: Any, budget: int, ran: bool) -> str | None:
    """The answer for a batch call past the response budget (None for a notification: it gets none)."""
    if not isinstance(item, dict) or "id" not in item or not _valid_id(item.get("id")):
        return None
    what = "it ran, but its result did not fit" if ran else "it was not run"
    error = limit_exceeded(f"the batch's responses passed {budget} bytes; {what}: send it again in a smaller batch",
                           max=budget, ran=ran)
    return _dump(_error(error, item["id"]))


def _rate_error(retry_after_ms: int) -> RpcError:
    return limit_exceeded(f"too many requests from this address; slow down (retry in {retry_after_ms} ms)",
                          code="rate", retry_after_ms=retry_after_ms)


def _error(exc: RpcError, rid: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": error_object(exc), "id": rid}


def _dump(obj: Any) -> str:
    return dumps(obj)
