"""The listening half of the transport: accept websocket upgrades and authenticate them.

Everything before a peer has proved its key lives here, because that is
where an anonymous address can spend our resources: the HTTP server that
bounds silent sockets, the cap on handshakes in progress (per address and in
all), and the per-IP score that bans an address after repeated failures.
An authenticated peer is handed to the host's ``serve`` and is no longer
this module's concern.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from marketnode.core.errors import P2PError
from marketnode.core.keys import PrivateKey
from marketnode.p2p.config import P2PConfig
from marketnode.p2p.handshake import HandshakeResult, Responder, SelfConnectionError
from marketnode.p2p.handshake_io import close_quietly, receive_handshake, refuse
from marketnode.p2p.listener import BoundedServer
from marketnode.p2p.peer import Peer, WebSocketLike
from marketnode.p2p.pex import dialable_address
from marketnode.p2p.scoring import Scoreboard
from marketnode.p2p.slots import SlotLimits, ip_is_limited, is_loopback_host, oldest_of_busiest
from marketnode.p2p.stats import P2PStats

log = logging.getLogger("marketnode.p2p")

WS_PATH = "/p2p"


@dataclass
class PendingHandshake:
    """A websocket accepted but not yet authenticated: it holds one of ``max_handshakes``."""

    ip: str
    ws: WebSocketLike
    dropped: bool = False


class InboundGate:
    """Listens on the p2p port and turns upgrades into authenticated ``Peer`` links (docs/P2P.md §5.2)."""

    def __init__(
        self,
        config: P2PConfig,
        key: PrivateKey,
        stats: P2PStats,
        limits: SlotLimits,
        advertise: Callable[[], str],
        serve: Callable[[Peer], Awaitable[bool]],
        spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]],
    ) -> None:
        self.config = config
        self._key = key
        self._stats = stats
        self._limits = limits
        self._advertise = advertise
        self._serve = serve
        self._spawn = spawn
        self.pending: dict[int, PendingHandshake] = {}  # insertion order = age
        self.ip_scores = Scoreboard(config.ip_fail_threshold, config.ban_seconds, config.ip_fail_threshold / 60.0)
        self.server: BoundedServer | None = None
        self._runner: web.ServerRunner | None = None
        self.stopping = False

    async def listen(self) -> int:
        """Start the HTTP server; returns the port (the real one with listen_port=0)."""
        # keepalive_timeout also bounds a TCP connection that never completes its upgrade request
        # (aiohttp's default holds a silent socket for an hour): it gets handshake_timeout_s, like a handshake.
        self.server = BoundedServer(
            self._route, self.config.max_pending_connections,
            access_log=None, keepalive_timeout=self.config.handshake_timeout_s,
        )
        self._runner = web.ServerRunner(self.server, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen_host, self.config.listen_port)
        await site.start()
        port: int = self._runner.addresses[0][1]
        return port

    async def close(self) -> None:
        self.stopping = True
        if self._runner is not None:
            await self._runner.cleanup()

    def penalize_ip(self, ip: str) -> None:
        """One point against an address: a failed handshake, or a stranger refused a slot (it cost us a handshake)."""
        if is_loopback_host(ip) and not self.config.ip_ban_loopback:
            return
        if self.ip_scores.penalize(ip, 1, _now()):
            self._stats.bans += 1
            log.warning("banning IP %s for %gs after repeated failed or refused handshakes", ip, self.config.ban_seconds)

    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        """The one path; every answer but an upgrade closes the connection, so nothing idles on keep-alive."""
        assert self.server is not None
        self.server.handed_over(request)
        response: web.StreamResponse
        if request.path != WS_PATH:
            response = web.Response(status=404, text="not found")
        elif request.method != "GET":
            response = web.Response(status=405, text="GET only")
        else:
            response = await self._handle_inbound(request)
        if not isinstance(response, web.WebSocketResponse):
            response.force_close()
        return response

    async def _handle_inbound(self, request: web.BaseRequest) -> web.StreamResponse:
        ip = request.remote or "?"
        now = _now()
        if self.stopping:
            return web.Response(status=503, text="shutting down")
        if self.ip_scores.is_banned(ip, now):
            self._stats.rejected_banned += 1
            return web.Response(status=403, text="banned")
        # The peer count is no reason to refuse here: the key is not known yet, and a reserved key
        # must always get in (§5.2). Only handshakes in progress from one address are capped.
        if ip_is_limited(self._limits, ip) and (
            sum(p.ip == ip for p in self.pending.values()) >= self.config.max_handshakes_per_ip
        ):
            return web.Response(status=503, text="too many handshakes from your address")
        # No permessage-deflate: sealed frames do not compress, and inflating is a bomb risk.
        ws = web.WebSocketResponse(
            max_msg_size=self.config.max_frame_bytes, heartbeat=self.config.heartbeat_s, timeout=2.0, compress=False
        )
        if not ws.can_prepare(request).ok:
            self._ip_failure(ip, "not a websocket upgrade")
            return web.Response(status=400, text="websocket only")
        try:
            await ws.prepare(request)
        except Exception as exc:  # the client went away during the upgrade
            log.debug("websocket upgrade from %s failed: %r", ip, exc)
            return ws
        pending = self._hold_handshake_slot(ip, ws)
        try:
            async with asyncio.timeout(self.config.handshake_timeout_s):
                result = await self._respond_handshake(ws)
        except SelfConnectionError:
            await refuse(ws, None)
            return ws
        except (P2PError, TimeoutError) as exc:
            if not pending.dropped:
                self._ip_failure(ip, f"handshake: {exc or 'timed out'}")
            await refuse(ws, exc)
            return ws
        except Exception as exc:  # the socket broke mid-handshake
            if not pending.dropped:
                self._ip_failure(ip, f"handshake: {exc!r}")
            await refuse(ws, None)
            return ws
        finally:
            self.pending.pop(id(pending), None)
        if pending.dropped:
            return ws
        self._stats.handshakes_ok += 1
        address = dialable_address(result.peer_advertise, request.remote)
        peer = Peer(ws, result.cipher, result.peer_key, "inbound", address, self.config)
        peer.ip = request.remote
        await self._serve(peer)
        return ws

    def _hold_handshake_slot(self, ip: str, ws: WebSocketLike) -> PendingHandshake:
        """Count a handshake in progress; at ``max_handshakes`` one is closed to make room.

        The one closed is the oldest from the address with the most handshakes
        in progress. An honest handshake takes a few round trips and a staller
        holds on for ``handshake_timeout_s``, so this drops the stallers, and a
        crowd of them from a few addresses cannot push out the one handshake of
        a validator elsewhere: half-open websockets cannot keep it out.
        """
        while len(self.pending) >= self.config.max_handshakes:
            oldest = self.pending.pop(oldest_of_busiest((k, p.ip) for k, p in self.pending.items()))
            oldest.dropped = True
            self._stats.handshakes_dropped += 1
            log.info("dropping a pending handshake from %s: %d in progress", oldest.ip, self.config.max_handshakes)
            self._spawn(close_quietly(oldest.ws))
        pending = PendingHandshake(ip, ws)
        self.pending[id(pending)] = pending
        return pending

    async def _respond_handshake(self, ws: WebSocketLike) -> HandshakeResult:
        responder = Responder(self._key, self.config.chain_id, self.config.protocol_version, self._advertise())
        reply = responder.on_hello(await receive_handshake(ws))
        await ws.send_bytes(reply)
        return responder.on_auth(await receive_handshake(ws))

    def _ip_failure(self, ip: str, reason: str) -> None:
        self._stats.handshakes_failed += 1
        log.info("inbound from %s failed: %s", ip, reason)
        self.penalize_ip(ip)


def _now() -> float:
    """The loop's clock, the one the host's scoreboards use."""
    return asyncio.get_running_loop().time()
