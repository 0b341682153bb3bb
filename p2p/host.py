"""P2PHost: listens and dials over aiohttp websockets, keeps the peer table, gossips, answers requests.

It carries opaque (topic, payload) messages and knows nothing of consensus or
market rules. Every failure caused by a peer becomes a log line and a penalty,
never an exception out of a task; ``stop()`` cancels and awaits every task.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import ipaddress
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from marketnode.core.errors import P2PError
from marketnode.core.keys import PrivateKey
from marketnode.p2p.config import (
    P2PConfig,
    PeerAddress,
    check_topic,
    format_hostport,
    parse_hostport,
    parse_peer_address,
)
from marketnode.p2p.framing import Frame, MsgFrame, PexFrame, ReqFrame, RespFrame, decode_frame
from marketnode.p2p.handshake import (
    MAX_HANDSHAKE_BYTES,
    HandshakeError,
    HandshakeResult,
    Initiator,
    Responder,
    SelfConnectionError,
    reject_message,
)
from marketnode.p2p.listener import BoundedServer
from marketnode.p2p.peer import (
    CLOSE_BANNED,
    CLOSE_DUPLICATE,
    CLOSE_EVICTED,
    CLOSE_IDLE,
    CLOSE_TOO_MANY_PEERS,
    Peer,
    PeerInfo,
    WebSocketLike,
)
from marketnode.p2p.pex import AddressBook, SeenCache
from marketnode.p2p.scoring import Scoreboard
from marketnode.p2p.session import SessionCipher
from marketnode.p2p.slots import Slot, SlotLimits, decide, ip_is_limited, is_loopback_ip, oldest_of_busiest

log = logging.getLogger("marketnode.p2p")

WS_PATH = "/p2p"
PEX_MAX_FAILURES = 5
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
PEX_MAX_SENT = 64
KEY_RECOVERY_PER_S = 1.0

OnMessage = Callable[[bytes, str, bytes], Awaitable[Any] | Any]
OnRequest = Callable[[bytes, str, bytes], Awaitable[bytes]]
OnPeerEvent = Callable[[bytes, bool], Awaitable[None] | None]


@dataclass
class P2PStats:
    """Counters for metrics and tests (monotonic over the host's life)."""

    handshakes_ok: int = 0
    handshakes_failed: int = 0
    duplicates_dropped: int = 0
    gossip_duplicates: int = 0
    violations: int = 0
    bans: int = 0
    rejected_banned: int = 0
    refused_full: int = 0  # authenticated strangers refused a slot (caps of docs/P2P.md §5.2)
    evictions: int = 0  # strangers closed to make room for a reserved peer or a less crowded network
    idle_closed: int = 0
    handshakes_dropped: int = 0  # pending handshakes closed to make room for a newer one


@dataclass
class _PendingHandshake:
    """A websocket accepted but not yet authenticated: it holds one of ``max_handshakes``."""

    ip: str
    ws: WebSocketLike
    dropped: bool = False


@dataclass
class _DialTarget:
    """An address we keep dialing: seeds forever, PEX-learned ones until they fail repeatedly."""

    address: PeerAddress
    persistent: bool
    learned_key: bytes | None = None
    task: asyncio.Task[None] | None = None


def gossip_id(topic: str, payload: bytes) -> bytes:
    """Local dedupe key of a message (never sent or signed, so no protocol hash tag)."""
    return hashlib.blake2b(len(topic).to_bytes(1, "big") + topic.encode() + payload, digest_size=20).digest()


def dialable_address(advertised: str | None, remote_ip: str | None) -> str | None:
    """The address to share for an inbound peer: its advertised host:port, with a wildcard host
    (or a loopback one, when it reached us from elsewhere) replaced by the IP it connected from."""
    if advertised is None:
        return None
    host, port = parse_hostport(advertised)
    if remote_ip is None:
        return None if host in _WILDCARD_HOSTS else advertised
    try:
        remote_is_loopback = ipaddress.ip_address(remote_ip).is_loopback
    except ValueError:
        return advertised
    if host in _WILDCARD_HOSTS or (_is_loopback(host) and not remote_is_loopback):
        return format_hostport(remote_ip, port)
    return advertised


def _is_loopback(host: str) -> bool:
    return host == "localhost" or is_loopback_ip(host)


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


class P2PHost:
    """The websocket transport of one node (docs/P2P.md)."""

    def __init__(
        self,
        config: P2PConfig,
        key: PrivateKey,
        on_message: OnMessage,
        on_request: OnRequest | None = None,
        on_peer_event: OnPeerEvent | None = None,
    ) -> None:
        """``on_message`` may return False to stop a relay topic from being forwarded (e.g. an invalid tx)."""
        self.config = config
        self.key = key
        self.node_key = key.public_key
        self.stats = P2PStats()
        self._on_message = on_message
        self._on_request = on_request
        self._on_peer_event = on_peer_event
        self._relay_topics = frozenset(config.relay_topics)
        self._peers: dict[bytes, Peer] = {}
        self._pending: dict[int, _PendingHandshake] = {}  # insertion order = age
        self._reserved: set[bytes] = set(config.reserved_keys) | {
            s.pubkey for s in config.seed_addresses if s.pubkey is not None
        }
        self._limits = SlotLimits(
            max_peers=config.max_peers,
            max_inbound=min(config.max_inbound, config.max_peers),
            max_outbound=min(config.max_outbound, config.max_peers),
            max_inbound_per_ip=config.max_inbound_per_ip,
            max_inbound_per_subnet=config.max_inbound_per_subnet,
            limit_loopback=config.ip_limit_loopback,
        )
        self._key_scores = Scoreboard(config.ban_threshold, config.ban_seconds, KEY_RECOVERY_PER_S)
        self._ip_scores = Scoreboard(config.ip_fail_threshold, config.ban_seconds, config.ip_fail_threshold / 60.0)
        self._seen = SeenCache(config.seen_cache_size)
        self._book = AddressBook(config.pex_max_addresses)
        self._targets: dict[str, _DialTarget] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.ServerRunner | None = None
        self._server: BoundedServer | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._stopping = False

    # ---- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Listen, then dial every seed (each in its own reconnecting task)."""
        # keepalive_timeout also bounds a TCP connection that never completes its upgrade request
        # (aiohttp's default holds a silent socket for an hour): it gets handshake_timeout_s, like a handshake.
        self._server = BoundedServer(
            self._route, self.config.max_pending_connections,
            access_log=None, keepalive_timeout=self.config.handshake_timeout_s,
        )
        self._runner = web.ServerRunner(self._server, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen_host, self.config.listen_port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession()
        log.info("p2p listening on %s as %s", self.listen_address, self.node_key.hex())
        for seed in self.config.seed_addresses:
            self._add_target(seed, persistent=True)
        self._spawn(self._pex_loop())  # with pex off it still sends empty pex frames: the keepalive of §5.2
        self._spawn(self._idle_loop())

    async def stop(self) -> None:
        """Close every connection and wait for every task; safe to call twice."""
        if self._stopping:
            return
        self._stopping = True
        for peer in list(self._peers.values()):
            peer.disconnect("shutting down", aiohttp.WSCloseCode.GOING_AWAY)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        log.info("p2p stopped")

    @property
    def listen_address(self) -> str:
        """host:port we listen on (the real port once started with listen_port=0)."""
        port = self._port if self._port is not None else self.config.listen_port
        return format_hostport(self.config.listen_host, port)

    @property
    def advertise_address(self) -> str:
        """What we tell peers to dial: the configured address, else our listen address.

        A wildcard or loopback host is completed by the receiver with the IP it
        sees us connect from (``dialable_address``), so nothing assumes loopback.
        """
        return self.config.advertise_address or self.listen_address

    # ---- public messaging API -------------------------------------------

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None:
        """Send to every connected peer (but ``exclude``); on a relay topic, its echoes are dropped as seen."""
        check_topic(topic)
        if topic in self._relay_topics:
            self._seen.add(gossip_id(topic, payload))
        frame = MsgFrame(topic, payload)
        for peer in list(self._peers.values()):
            if peer.node_key != exclude:
                peer.enqueue(frame)

    def send(self, peer: bytes, topic: str, payload: bytes) -> bool:
        """Queue one message to one peer; False when not connected or its send queue is full."""
        check_topic(topic)
        connection = self._peers.get(peer)
        return connection is not None and connection.enqueue(MsgFrame(topic, payload))

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
        """Ask one peer and wait for its answer; P2PError on timeout, disconnect or a remote error."""
        check_topic(topic)
        connection = self._peers.get(peer)
        if connection is None:
            raise P2PError(f"peer {peer.hex()[:12]} is not connected")
        request_id, future = connection.new_request()
        try:
            if not connection.enqueue(ReqFrame(request_id, topic, payload)):
                raise P2PError(f"cannot send request to {connection.short_id}: send queue full or closing")
            try:
                async with asyncio.timeout(timeout_s):
                    ok, answer = await future
            except TimeoutError:
                raise P2PError(f"request {topic!r} to {connection.short_id} timed out after {timeout_s}s") from None
        finally:
            connection.forget_request(request_id)
        if not ok:
            raise P2PError(f"peer {connection.short_id} refused request {topic!r}: {answer.decode(errors='replace')}")
        return answer

    def connect(self, address: str) -> None:
        """Dial ``address`` ("host:port" or "pubkeyhex@host:port") and keep reconnecting, like a seed.

        Raises ValidationError for a malformed address.
        """
        self._add_target(parse_peer_address(address), persistent=True)

    def ban(self, peer: bytes, reason: str) -> None:
        """Disconnect ``peer`` and refuse it for ``ban_seconds`` (an operator's decision)."""
        self.penalize(peer, self.config.ban_threshold, reason)

    def penalize(self, peer: bytes, points: int, reason: str) -> None:
        """Score a peer down; at ``-ban_threshold`` it is disconnected and refused for ``ban_seconds``."""
        self.stats.violations += 1
        now = self._now()
        if self._key_scores.is_banned(peer, now):
            return  # frames still in flight from a peer we already banned
        log.info("penalizing %s by %d: %s", peer.hex()[:12], points, reason)
        if not self._key_scores.penalize(peer, points, now):
            return
        self.stats.bans += 1
        log.warning("banning %s for %gs: %s", peer.hex()[:12], self.config.ban_seconds, reason)
        connection = self._peers.get(peer)
        if connection is not None:
            connection.disconnect(f"banned: {reason}", CLOSE_BANNED, discard=True)

    def peers(self) -> list[PeerInfo]:
        now = self._now()
        return [p.info(self._key_scores.score(k, now)) for k, p in self._peers.items()]

    def is_banned(self, peer: bytes) -> bool:
        return self._key_scores.is_banned(peer, self._now())

    # ---- internals: tasks and time --------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- inbound ----------------------------------------------------------

    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        """The one path; every answer but an upgrade closes the connection, so nothing idles on keep-alive."""
        assert self._server is not None
        self._server.handed_over(request)
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
        now = self._now()
        if self._stopping:
            return web.Response(status=503, text="shutting down")
        if self._ip_scores.is_banned(ip, now):
            self.stats.rejected_banned += 1
            return web.Response(status=403, text="banned")
        # The peer count is no reason to refuse here: the key is not known yet, and a reserved key
        # must always get in (§5.2). Only handshakes in progress from one address are capped.
        if ip_is_limited(self._limits, ip) and (
            sum(p.ip == ip for p in self._pending.values()) >= self.config.max_handshakes_per_ip
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
            await self._refuse(ws, None)
            return ws
        except (P2PError, TimeoutError) as exc:
            if not pending.dropped:
                self._ip_failure(ip, f"handshake: {exc or 'timed out'}")
            await self._refuse(ws, exc)
            return ws
        except Exception as exc:  # the socket broke mid-handshake
            if not pending.dropped:
                self._ip_failure(ip, f"handshake: {exc!r}")
            await self._refuse(ws, None)
            return ws
        finally:
            self._pending.pop(id(pending), None)
        if pending.dropped:
            return ws
        self.stats.handshakes_ok += 1
        address = dialable_address(result.peer_advertise, request.remote)
        peer = Peer(ws, result.cipher, result.peer_key, "inbound", address, self.config)
        peer.ip = request.remote
        await self._serve(peer)
        return ws

    def _hold_handshake_slot(self, ip: str, ws: WebSocketLike) -> _PendingHandshake:
        """Count a handshake in progress; at ``max_handshakes`` one is closed to make room.

        The one closed is the oldest from the address with the most handshakes
        in progress. An honest handshake takes a few round trips and a staller
        holds on for ``handshake_timeout_s``, so this drops the stallers, and a
        crowd of them from a few addresses cannot push out the one handshake of
        a validator elsewhere: half-open websockets cannot keep it out.
        """
        while len(self._pending) >= self.config.max_handshakes:
            oldest = self._pending.pop(oldest_of_busiest((k, p.ip) for k, p in self._pending.items()))
            oldest.dropped = True
            self.stats.handshakes_dropped += 1
            log.info("dropping a pending handshake from %s: %d in progress", oldest.ip, self.config.max_handshakes)
            self._spawn(_close_quietly(oldest.ws))
        pending = _PendingHandshake(ip, ws)
        self._pending[id(pending)] = pending
        return pending

    async def _respond_handshake(self, ws: WebSocketLike) -> HandshakeResult:
        responder = Responder(self.key, self.config.chain_id, self.config.protocol_version, self.advertise_address)
        reply = responder.on_hello(await _receive_handshake(ws))
        await ws.send_bytes(reply)
        return responder.on_auth(await _receive_handshake(ws))

    def _ip_failure(self, ip: str, reason: str) -> None:
        self.stats.handshakes_failed += 1
        log.info("inbound from %s failed: %s", ip, reason)
        self._penalize_ip(ip)

    def _penalize_ip(self, ip: str) -> None:
        """One point against an address: a failed handshake, or a stranger refused a slot (it cost us a handshake)."""
        if _is_loopback(ip) and not self.config.ip_ban_loopback:
            return
        if self._ip_scores.penalize(ip, 1, self._now()):
            self.stats.bans += 1
            log.warning("banning IP %s for %gs after repeated failed or refused handshakes", ip, self.config.ban_seconds)

    async def _refuse(self, ws: WebSocketLike, exc: BaseException | None) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                if isinstance(exc, HandshakeError):
                    await ws.send_bytes(reject_message(exc.reason))
                await ws.close(code=aiohttp.WSCloseCode.POLICY_VIOLATION)

    # ---- outbound ---------------------------------------------------------

    def _add_target(self, address: PeerAddress, persistent: bool) -> None:
        if self._stopping or address.hostport in self._targets:
            return
        target = _DialTarget(address, persistent, learned_key=address.pubkey)
        self._targets[address.hostport] = target
        target.task = self._spawn(self._dial_loop(target))

    async def _dial_loop(self, target: _DialTarget) -> None:
        """Keep one connection to the target: dial, serve, back off with jitter, repeat."""
        failures = 0
        try:
            while not self._stopping:
                key = target.learned_key
                if key is not None and key in self._peers:
                    await self._peers[key].closed.wait()
                elif key is not None and self.is_banned(key):
                    failures += 1
                else:
                    try:
                        peer, welcome = await self._dial(target)
                    except SelfConnectionError:
                        log.info("seed %s is this node itself; not dialing it again", target.address.hostport)
                        return
                    except (P2PError, OSError, aiohttp.ClientError, TimeoutError) as exc:
                        failures += 1
                        self.stats.handshakes_failed += 1
                        log.info("dial %s failed (%d): %s", target.address.hostport, failures, exc or type(exc).__name__)
                    except Exception:  # a bug or an aiohttp surprise must not end redialing
                        failures += 1
                        self.stats.handshakes_failed += 1
                        log.exception("dial %s failed unexpectedly", target.address.hostport)
                    else:
                        target.learned_key = peer.node_key
                        if target.persistent:  # an operator's seed or connect(): as trusted as a reserved key
                            self._reserved.add(peer.node_key)
                        # refused here (no free outbound slot) counts as a failure: a learned address gives up
                        failures = 0 if await self._serve(peer, welcome) else failures + 1
                if not target.persistent and failures >= PEX_MAX_FAILURES:
                    return
                await asyncio.sleep(self._backoff_s(failures))
        finally:
            if self._targets.get(target.address.hostport) is target:
                del self._targets[target.address.hostport]

    def _backoff_s(self, failures: int) -> float:
        """Exponential backoff with equal jitter, so restarted peers are not all redialed at once."""
        base_ms = min(self.config.reconnect_max_ms, self.config.reconnect_min_ms * 2 ** min(failures, 30))
        return random.uniform(base_ms / 2, base_ms) / 1000

    async def _dial(self, target: _DialTarget) -> tuple[Peer, PexFrame]:
        """Connect and run the handshake, up to and including the listener's first sealed frame.

        That first frame (always a pex, possibly empty) confirms the listener
        derived the same keys and admitted us; a refusal arrives instead as a
        websocket close with a code and reason (docs/P2P.md, "Closing").
        """
        assert self._session is not None
        url = f"http://{target.address.hostport}{WS_PATH}"
        initiator = Initiator(
            self.key, self.config.chain_id, self.config.protocol_version, self.advertise_address, target.address.pubkey
        )
        async with asyncio.timeout(self.config.handshake_timeout_s):
            ws = await self._session.ws_connect(
                url,
                max_msg_size=self.config.max_frame_bytes,
                heartbeat=self.config.heartbeat_s,
                timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
            )
            try:
                await ws.send_bytes(initiator.first_message())
                last, result = initiator.on_reply(await _receive_handshake(ws))
                target.learned_key = result.peer_key
                if self.is_banned(result.peer_key):
                    raise HandshakeError(f"peer {result.peer_key.hex()[:12]} is banned here")
                await ws.send_bytes(last)
                welcome = await _receive_welcome(ws, result.cipher, self.config.max_frame_bytes)
            except BaseException:
                await ws.close()
                raise
        self.stats.handshakes_ok += 1
        peer = Peer(ws, result.cipher, result.peer_key, "outbound", target.address.hostport, self.config)
        return peer, welcome

    # ---- the peer table ---------------------------------------------------

    async def _serve(self, peer: Peer, welcome: PexFrame | None = None) -> bool:
        """Admit the peer (or close it with the reason), run it until it closes, then remove it; False if refused."""
        refusal = self._admit(peer)
        if refusal is not None:
            code, reason = refusal
            if code == CLOSE_TOO_MANY_PEERS and peer.ip is not None:
                self._penalize_ip(peer.ip)  # re-dialing a full node as fast as it can costs a handshake each time
            peer.disconnect(reason, code)
            await peer.run(self._on_frame, self._on_violation)
            return False
        log.info("connected %s peer %s at %s", peer.direction, peer.node_key.hex(), peer.address)
        self._after_connect(peer)
        if welcome is not None:
            self._on_pex(peer, welcome)
        try:
            await peer.run(self._on_frame, self._on_violation)
        finally:
            if self._peers.get(peer.node_key) is peer:
                del self._peers[peer.node_key]
                log.info("disconnected peer %s", peer.short_id)
                self._fire_peer_event(peer.node_key, False)
        return True

    def _admit(self, peer: Peer) -> tuple[int, str] | None:
        """Add the peer to the table, or say why not (a close code and reason).

        Duplicate rule, the same at both ends: keep the link dialed by the
        smaller node key; between two links of the same direction keep the newer.
        """
        if self._stopping:
            return aiohttp.WSCloseCode.GOING_AWAY, "shutting down"
        if self.is_banned(peer.node_key):
            self.stats.rejected_banned += 1
            return CLOSE_BANNED, "banned"
        peer.reserved = peer.node_key in self._reserved
        existing = self._peers.get(peer.node_key)
        if existing is None or existing.closing:  # an evicted or idle key coming straight back needs a slot again
            verdict = decide(self._limits, self._slots(), self._slot(peer, self._now()))
            if not verdict.admit:
                self.stats.refused_full += 1
                log.info("refusing %s peer %s from %s: %s", peer.direction, peer.short_id, peer.ip, verdict.reason)
                return CLOSE_TOO_MANY_PEERS, verdict.reason
            if verdict.evict is not None:
                self._evict(verdict.evict, peer)
            self._peers[peer.node_key] = peer
            if existing is None:  # else the key never lost its link as far as on_peer_event knows
                self._fire_peer_event(peer.node_key, True)
            return None
        self.stats.duplicates_dropped += 1
        if self._preferred(existing) and not self._preferred(peer):
            return CLOSE_DUPLICATE, "duplicate connection"
        self._peers[peer.node_key] = peer
        existing.disconnect("replaced by a duplicate connection", CLOSE_DUPLICATE)
        return None

    def _slots(self) -> list[Slot]:
        """The live links (not closing), as the slot policy sees them."""
        now = self._now()
        return [self._slot(p, now) for p in self._peers.values() if not p.closing]

    def _slot(self, peer: Peer, now: float) -> Slot:
        return Slot(
            key=peer.node_key,
            direction=peer.direction,
            reserved=peer.reserved,
            ip=peer.ip,
            score=self._key_scores.score(peer.node_key, now),
            idle_s=now - peer.last_frame_at,
            age_s=now - peer.opened_at,
        )

    def _evict(self, key: bytes, newcomer: Peer) -> None:
        victim = self._peers[key]
        self.stats.evictions += 1
        why = "a reserved peer" if newcomer.reserved else "a peer from a less crowded network"
        log.info("evicting stranger %s (%s) to make room for %s", victim.short_id, victim.ip, why)
        victim.disconnect(f"evicted to make room for {why}", CLOSE_EVICTED)

    async def _idle_loop(self) -> None:
        """Close strangers that send nothing: a silent link would otherwise hold its slot forever."""
        timeout = self.config.idle_timeout_s
        while True:
            await asyncio.sleep(timeout / 4)
            now = self._now()
            for peer in list(self._peers.values()):
                if not peer.reserved and not peer.closing and now - peer.last_frame_at > timeout:
                    self.stats.idle_closed += 1
                    peer.disconnect(f"idle: no frame for {timeout:g}s", CLOSE_IDLE)

    def _preferred(self, peer: Peer) -> bool:
        """True if this link was dialed by the smaller of the two node keys (both ends agree)."""
        return (peer.direction == "outbound") == (self.node_key < peer.node_key)

    def _fire_peer_event(self, node_key: bytes, connected: bool) -> None:
        if self._on_peer_event is None:
            return
        self._spawn(self._call_peer_event(node_key, connected))

    async def _call_peer_event(self, node_key: bytes, connected: bool) -> None:
        try:
            await _maybe_await(self._on_peer_event(node_key, connected))  # type: ignore[misc]
        except Exception:
            log.exception("on_peer_event handler failed")

    def _after_connect(self, peer: Peer) -> None:
        """Send the welcome (our known peers; the dialer waits for it), and tell the others about the new peer."""
        peer.enqueue(self._pex_frame(exclude=peer.node_key))
        if self.config.pex and peer.address is not None:
            self._book.learn(peer.node_key, peer.address)
            announcement = PexFrame(((peer.node_key, peer.address),))
            for other in list(self._peers.values()):
                if other is not peer:
                    other.enqueue(announcement)

    # ---- frames from peers -----------------------------------------------

    async def _on_frame(self, peer: Peer, frame: Frame) -> None:
        try:
            if isinstance(frame, MsgFrame):
                await self._on_msg(peer, frame)
            elif isinstance(frame, ReqFrame):
                self._on_req(peer, frame)
            elif isinstance(frame, PexFrame):
                self._on_pex(peer, frame)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handling a frame from %s failed", peer.short_id)

    async def _on_msg(self, peer: Peer, frame: MsgFrame) -> None:
        """Deliver; on a relay topic, drop repeats and forward new messages the node did not veto.

        Direct topics are never deduplicated: consensus re-sends identical
        messages on purpose (to a lagging validator) and they must get through.
        """
        relay = frame.topic in self._relay_topics
        if relay and not self._seen.add(gossip_id(frame.topic, frame.payload)):
            self.stats.gossip_duplicates += 1
            return
        try:
            verdict = await _maybe_await(self._on_message(peer.node_key, frame.topic, frame.payload))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("on_message handler failed for topic %r from %s", frame.topic, peer.short_id)
            return
        if relay and verdict is not False:
            for other in list(self._peers.values()):
                if other is not peer:
                    other.enqueue(frame)

    def _on_req(self, peer: Peer, frame: ReqFrame) -> None:
        if self._on_request is None:
            peer.enqueue(RespFrame(frame.id, False, b"this node serves no requests"))
            return
        if peer.requests_inflight >= self.config.max_inflight_requests:
            peer.enqueue(RespFrame(frame.id, False, b"busy: too many requests in flight"))
            return
        peer.requests_inflight += 1
        peer.spawn(self._answer(peer, frame))

    async def _answer(self, peer: Peer, frame: ReqFrame) -> None:
        assert self._on_request is not None
        try:
            answer = await self._on_request(peer.node_key, frame.topic, frame.payload)
            response = RespFrame(frame.id, True, bytes(answer))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("request %r from %s failed: %s", frame.topic, peer.short_id, exc)
            response = RespFrame(frame.id, False, str(exc)[:200].encode())
        finally:
            peer.requests_inflight -= 1
        if not peer.enqueue(response):
            peer.enqueue(RespFrame(frame.id, False, b"answer too large or send queue full"))

    def _on_pex(self, peer: Peer, frame: PexFrame) -> None:
        if not self.config.pex:
            return
        now = self._now()
        for node_key, address in frame.peers:
            if node_key == self.node_key or node_key in self._peers or self._key_scores.is_banned(node_key, now):
                continue
            if not self._book.learn(node_key, address):
                continue
            if node_key not in self._reserved and self._outbound_strangers() >= self._limits.max_outbound:
                continue  # reserved keys are always dialed; strangers only into free outbound slots
            if any(t.learned_key == node_key for t in self._targets.values()):
                continue
            log.info("learned peer %s at %s from %s", node_key.hex()[:12], address, peer.short_id)
            self._add_target(parse_peer_address(f"{node_key.hex()}@{address}"), persistent=False)

    def _outbound_strangers(self) -> int:
        """Stranger links we dialed plus the learned addresses we are dialing now."""
        links = sum(p.direction == "outbound" and not p.reserved for p in self._peers.values())
        dialing = [t for t in self._targets.values() if not t.persistent and t.learned_key not in self._peers]
        return links + sum(t.learned_key not in self._reserved for t in dialing)

    def _pex_frame(self, exclude: bytes) -> PexFrame:
        if not self.config.pex:
            return PexFrame(())
        entries = [(k, p.address) for k, p in self._peers.items() if k != exclude and p.address is not None]
        return PexFrame(tuple(entries[:PEX_MAX_SENT]))

    async def _pex_loop(self) -> None:
        """Re-announce known peers now and then, so late joiners still find everyone."""
        while True:
            await asyncio.sleep(self.config.pex_interval_s)
            for peer in list(self._peers.values()):
                peer.enqueue(self._pex_frame(exclude=peer.node_key))

    def _on_violation(self, peer: Peer, points: int, reason: str) -> None:
        self.penalize(peer.node_key, points, reason)


async def _close_quietly(ws: WebSocketLike) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await ws.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER, message=b"too many handshakes in progress")


async def _receive_handshake(ws: WebSocketLike) -> bytes:
    """One binary handshake message; anything else (text, close, oversize) fails the handshake."""
    message = await ws.receive()
    if message.type != aiohttp.WSMsgType.BINARY:
        raise HandshakeError(f"expected a binary handshake message, got {message.type.name}")
    if len(message.data) > MAX_HANDSHAKE_BYTES:
        raise HandshakeError("handshake message too large")
    return bytes(message.data)


async def _receive_welcome(ws: WebSocketLike, cipher: SessionCipher, max_frame_bytes: int) -> PexFrame:
    """The listener's first sealed frame, or the reason it closed on us."""
    message = await ws.receive()
    if message.type == aiohttp.WSMsgType.CLOSE:
        reason = message.extra.decode(errors="replace") if isinstance(message.extra, bytes) else message.extra
        raise HandshakeError(f"peer closed the link: {message.data} {reason}")
    if message.type != aiohttp.WSMsgType.BINARY:
        raise HandshakeError(f"expected the welcome frame, got {message.type.name}")
    frame = decode_frame(cipher.open(bytes(message.data)), max_frame_bytes)
    if not isinstance(frame, PexFrame):
        raise HandshakeError("the first frame after the handshake is not a pex")
    return frame
