"""Admission of TCP connections to the RPC port, before a byte of them is read.

Wraps aiohttp's protocol factory: each accepted connection takes a slot in a
``ClientSlots`` (a global and a per-client cap); one over a cap gets a short
503 and is closed, so idle sockets from one address cannot use up the node's
file descriptors or everyone else's room; when all are taken, the client
holding the most gives one up to a newcomer (ClientSlots). Timeouts (idle, headers, body) are
aiohttp's and server.py's; this module only counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from marketnode.node.rpc.clients import ClientSlots, Refusal, client_key
from marketnode.node.rpc.errors import error_object, limit_exceeded
from marketnode.node.rpc.faultlog import ClientFaultLog
from marketnode.node.rpc.jsonify import dumps


def refusal_bytes(refused: Refusal) -> bytes:
    """A complete HTTP 429 or 503 with a JSON-RPC error, for a connection refused at the door."""
    body = dumps({"jsonrpc": "2.0", "error": error_object(limit_exceeded(refused.reason)), "id": None}).encode()
    status = "429 Too Many Requests" if refused.per_client else "503 Service Unavailable"
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class ConnectionGate:
    """A protocol factory for ``loop.create_server``: aiohttp's, behind the connection caps."""

    def __init__(self, inner: Callable[[], asyncio.Protocol], slots: ClientSlots, faults: ClientFaultLog) -> None:
        self.inner, self.slots, self.faults = inner, slots, faults

    def __call__(self) -> asyncio.Protocol:
        return _GatedProtocol(self, self.inner())


class _GatedProtocol(asyncio.Protocol):
    """Passes every event on to aiohttp's handler once admitted; holds the slot until the connection is lost."""

    def __init__(self, gate: ConnectionGate, inner: asyncio.Protocol) -> None:
        self._gate, self._inner = gate, inner
        self._client: str | None = None
        self._transport: asyncio.BaseTransport | None = None

    def evictable(self) -> bool:
        return True  # any connection of the client holding the most

    def evict(self) -> None:
        if self._transport is not None:
            self._transport.abort()  # type: ignore[attr-defined]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        client = client_key(peer[0] if isinstance(peer, tuple) and peer else None)
        self._transport = transport
        refused = self._gate.slots.take(client, self)
        if refused is not None:
            self._gate.faults.note("connection_refused", client, f"connection refused: {refused.reason}")
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(refusal_bytes(refused))
            transport.close()
            return
        self._client = client
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._client is not None:
            self._inner.data_received(data)  # type: ignore[attr-defined]

    def eof_received(self) -> bool | None:
        if self._client is None:
            return None
        return self._inner.eof_received()  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._client is None:
            return
        self._gate.slots.give_back(self._client, self)
        self._client = None
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._client is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._client is not None:
            self._inner.resume_writing()
