"""The p2p port's HTTP server: bounds the TCP connections that have not yet sent a whole request.

Before its request line and headers arrive, a connection is only a socket
and a file descriptor, with no key and no request to judge. Left alone,
thousands of silent or slow sockets would exhaust the process's descriptors
(LevelDB's files, outbound dials, the RPC port all need them). So at most
``max_waiting`` wait at once; beyond that the oldest from the address with
the most waiting is closed, the same rule as for handshakes in progress
(docs/P2P.md §5.2). Each is also closed after ``keepalive_timeout`` (the
handshake timeout) by aiohttp itself. Once the handler has the request, the
host's own limits take over.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from marketnode.p2p.slots import oldest_of_busiest

log = logging.getLogger("marketnode.p2p")


class BoundedServer(web.Server):
    """aiohttp's low-level server, with a cap on connections still waiting for their request."""

    def __init__(self, handler: Any, max_waiting: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.max_waiting = max_waiting
        self.dropped = 0
        self._waiting: dict[web.RequestHandler, tuple[str | None, asyncio.Transport]] = {}  # insertion order = age

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def connection_made(self, handler: web.RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        while len(self._waiting) >= self.max_waiting:
            victim = oldest_of_busiest((h, ip) for h, (ip, _) in self._waiting.items())
            ip, victim_transport = self._waiting.pop(victim)
            self.dropped += 1
            log.info("closing a connection from %s that sent no request: %d waiting", ip, self.max_waiting)
            victim_transport.close()
        peername = transport.get_extra_info("peername")
        self._waiting[handler] = (peername[0] if peername else None, transport)

    def connection_lost(self, handler: web.RequestHandler, exc: BaseException | None = None) -> None:
        self._waiting.pop(handler, None)
        super().connection_lost(handler, exc)

    def handed_over(self, request: web.BaseRequest) -> None:
        """The connection delivered its request: it no longer counts as waiting."""
        self._waiting.pop(request.protocol, None)
