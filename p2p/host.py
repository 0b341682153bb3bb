"""P2PHost: the transport of one node, composed of its listening, dialing and peer-table parts.

It carries opaque (topic, payload) messages and knows nothing of consensus or
market rules. Every failure caused by a peer becomes a log line and a penalty,
never an exception out of a task; ``stop()`` cancels and awaits every task.
What is left here is what needs the whole picture: the public messaging API,
the frames that arrive on a link (gossip relay, requests, peer exchange) and
the penalties that can end a link.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from marketnode.core.errors import P2PError
from marketnode.core.keys import PrivateKey
from marketnode.p2p.config import P2PConfig, check_topic, format_hostport, parse_peer_address
from marketnode.p2p.dialer import Dialer
from marketnode.p2p.framing import Frame, MsgFrame, PexFrame, ReqFrame, RespFrame
from marketnode.p2p.inbound import InboundGate
from marketnode.p2p.peer import CLOSE_BANNED, CLOSE_TOO_MANY_PEERS, Peer, PeerInfo
from marketnode.p2p.peer_table import PeerTable
from marketnode.p2p.pex import AddressBook, SeenCache, gossip_id
from marketnode.p2p.scoring import Scoreboard
from marketnode.p2p.slots import SlotLimits
from marketnode.p2p.stats import P2PStats

log = logging.getLogger("marketnode.p2p")

PEX_MAX_SENT = 64
KEY_RECOVERY_PER_S = 1.0

OnMessage = Callable[[bytes, str, bytes], Awaitable[Any] | Any]
OnRequest = Callable[[bytes, str, bytes], Awaitable[bytes]]
OnPeerEvent = Callable[[bytes, bool], Awaitable[None] | None]


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
        limits = SlotLimits(
            max_peers=config.max_peers,
            max_inbound=min(config.max_inbound, config.max_peers),
            max_outbound=min(config.max_outbound, config.max_peers),
            max_inbound_per_ip=config.max_inbound_per_ip,
            max_inbound_per_subnet=config.max_inbound_per_subnet,
            limit_loopback=config.ip_limit_loopback,
        )
        reserved = set(config.reserved_keys) | {s.pubkey for s in config.seed_addresses if s.pubkey is not None}
        self._key_scores = Scoreboard(config.ban_threshold, config.ban_seconds, KEY_RECOVERY_PER_S)
        self._seen = SeenCache(config.seen_cache_size)
        self._book = AddressBook(config.pex_max_addresses)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._table = PeerTable(self.node_key, limits, self._key_scores, reserved, self.stats, self._on_new_key)
        self._peers = self._table.peers  # the same dict: the table admits, the host reads and relays
        self._inbound = InboundGate(
            config, key, self.stats, limits, lambda: self.advertise_address, self._serve, self._spawn
        )
        self._dialer = Dialer(
            config, key, self.stats, lambda: self.advertise_address, self._peers.get, self.is_banned,
            self._serve, reserved.add, self._spawn,
        )
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._stopping = False

    # ---- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Listen, then dial every seed (each in its own reconnecting task)."""
        self._port = await self._inbound.listen()
        self._session = self._dialer.session = aiohttp.ClientSession()
        log.info("p2p listening on %s as %s", self.listen_address, self.node_key.hex())
        for seed in self.config.seed_addresses:
            self._dialer.add(seed, persistent=True)
        self._spawn(self._pex_loop())  # with pex off it still sends empty pex frames: the keepalive of §5.2
        self._spawn(self._idle_loop())

    async def stop(self) -> None:
        """Close every connection and wait for every task; safe to call twice."""
        if self._stopping:
            return
        self._stopping = self._inbound.stopping = self._dialer.stopping = True
        for peer in list(self._peers.values()):
            peer.disconnect("shutting down", aiohttp.WSCloseCode.GOING_AWAY)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._inbound.close()
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
        self._dialer.add(parse_peer_address(address), persistent=True)

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

    # ---- the peer table ---------------------------------------------------

    async def _serve(self, peer: Peer, welcome: PexFrame | None = None) -> bool:
        """Admit the peer (or close it with the reason), run it until it closes, then remove it; False if refused."""
        refusal: tuple[int, str] | None
        if self._stopping:
            refusal = aiohttp.WSCloseCode.GOING_AWAY, "shutting down"
        else:
            refusal = self._table.admit(peer, self._now())
        if refusal is not None:
            code, reason = refusal
            if code == CLOSE_TOO_MANY_PEERS and peer.ip is not None:
                # re-dialing a full node as fast as it can costs a handshake each time
                self._inbound.penalize_ip(peer.ip)
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
            if self._table.remove(peer):
                log.info("disconnected peer %s", peer.short_id)
                self._fire_peer_event(peer.node_key, False)
        return True

    async def _idle_loop(self) -> None:
        """Close strangers that send nothing: a silent link would otherwise hold its slot forever."""
        while True:
            await asyncio.sleep(self.config.idle_timeout_s / 4)
            self._table.close_idle(self._now(), self.config.idle_timeout_s)

    def _on_new_key(self, node_key: bytes) -> None:
        self._fire_peer_event(node_key, True)

    def _fire_peer_event(self, node_key: bytes, connected: bool) -> None:
        if self._on_peer_event is None:
            return
        self._spawn(self._call_peer_event(node_key, connected))

    async def _call_peer_event(self, node_key: bytes, connected: bool) -> None:
        handler = self._on_peer_event
        if handler is None:  # a test may unset it between the event and this task
            return
        try:
            await _maybe_await(handler(node_key, connected))
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
            if node_key not in self._table.reserved and self._outbound_strangers() >= self._table.limits.max_outbound:
                continue  # reserved keys are always dialed; strangers only into free outbound slots
            if any(t.learned_key == node_key for t in self._dialer.targets.values()):
                continue
            log.info("learned peer %s at %s from %s", node_key.hex()[:12], address, peer.short_id)
            self._dialer.add(parse_peer_address(f"{node_key.hex()}@{address}"), persistent=False)

    def _outbound_strangers(self) -> int:
        """Stranger links we dialed plus the learned addresses we are dialing now."""
        links = sum(p.direction == "outbound" and not p.reserved for p in self._peers.values())
        dialing = [t for t in self._dialer.targets.values() if not t.persistent and t.learned_key not in self._peers]
        return links + sum(t.learned_key not in self._table.reserved for t in dialing)

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
