"""One authenticated connection: a read loop, a delivery task, a writer task, stats, requests.

The peer knows nothing of gossip or scoring policy: it reports each valid
frame and each protocol violation to the host through two callbacks, and it
never lets an exception from the wire escape its ``run()``. Responses are
resolved by the read loop itself, so a message handler that awaits a request
to the same peer cannot deadlock the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp

from marketnode.core.errors import P2PError
from marketnode.p2p.config import P2PConfig
from marketnode.p2p.framing import Frame, FrameError, MsgFrame, ReqFrame, RespFrame, decode_frame, encode_frame
from marketnode.p2p.ratelimit import TokenBucket
from marketnode.p2p.session import SessionCipher

log = logging.getLogger("marketnode.p2p")

Direction = Literal["inbound", "outbound"]

# Penalty points per violation (docs/P2P.md, "Scoring").
PENALTY_RATE = 1
PENALTY_BAD_FRAME = 20
PENALTY_TEXT_FRAME = 20
PENALTY_DECRYPT = 50
PENALTY_WEBSOCKET = 50
CLOSE_TIMEOUT_S = 2.0
DELIVERY_QUEUE_MAX = 256  # frames read ahead of a slow handler before the read loop waits (backpressure)

# Websocket close codes a host uses to say why it hung up (docs/P2P.md, "Closing").
CLOSE_DUPLICATE = 4001
CLOSE_TOO_MANY_PEERS = 4002
CLOSE_BANNED = 4003
CLOSE_PROTOCOL = 4004
CLOSE_EVICTED = 4005
CLOSE_IDLE = 4006


class WebSocketLike(Protocol):
    """What aiohttp's client and server websockets have in common that we use."""

    @property
    def closed(self) -> bool: ...

    async def send_bytes(self, data: bytes) -> None: ...

    async def receive(self) -> aiohttp.WSMessage: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


@dataclass(frozen=True)
class PeerInfo:
    """A snapshot of one connected peer, for status pages and RPC."""

    pubkey: bytes
    address: str | None
    direction: Direction
    connected_since: float
    score: float
    msgs_in: int
    msgs_out: int
    bytes_in: int
    bytes_out: int
    dropped_out: int
    dropped_in: int = 0
    reserved: bool = False  # a key that always gets a slot (docs/P2P.md §5.2): the node's validators and seeds
    ip: str | None = None  # the address an inbound link came from (the per-IP caps count it)


FrameHandler = Callable[["Peer", Frame], Awaitable[None]]
ViolationHandler = Callable[["Peer", int, str], None]


class Peer:
    """An encrypted link to one proven node key."""

    def __init__(
        self,
        ws: WebSocketLike,
        cipher: SessionCipher,
        node_key: bytes,
        direction: Direction,
        address: str | None,
        config: P2PConfig,
    ) -> None:
        self.node_key = node_key
        self.direction: Direction = direction
        self.address = address  # a dialable host:port, or None for an inbound peer that advertised none
        self.connected_since = time.time()
        self.ip: str | None = None  # the remote IP of an inbound link (per-address caps)
        self.reserved = False  # set by the host: a key that always gets a slot (docs/P2P.md §5.2)
        self.msgs_in = self.msgs_out = self.bytes_in = self.bytes_out = self.dropped_out = self.dropped_in = 0
        self.requests_inflight = 0
        self.closed = asyncio.Event()
        self._ws = ws
        self._cipher = cipher
        self._config = config
        # Two lanes each way (docs/P2P.md, "Lanes"): frames on a bulk topic (tx gossip) can never delay
        # or crowd out the others (consensus votes, requests, pex). Each lane has its own bound.
        self._bulk_topics = frozenset(config.bulk_topics)
        self._send_urgent: deque[bytes] = deque()
        self._send_bulk: deque[bytes] = deque()
        self._send_ready = asyncio.Event()
        self._deliveries: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=DELIVERY_QUEUE_MAX)  # None: the end
        self._bulk_deliveries: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=config.bulk_queue_max)
        self._pending: dict[int, asyncio.Future[tuple[bool, bytes]]] = {}
        self._next_request_id = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._close_task: asyncio.Task[Any] | None = None
        self._discard = False
        now = asyncio.get_running_loop().time()
        self.opened_at = self.last_frame_at = now  # loop time; a frame that opens counts as a sign of life
        self._msg_bucket = TokenBucket(config.rate_msgs_per_s, max(config.rate_msgs_per_s, 1.0), now)
        byte_capacity = max(config.rate_bytes_per_s, float(config.max_frame_bytes))
        self._byte_bucket = TokenBucket(config.rate_bytes_per_s, byte_capacity, now)

    def __repr__(self) -> str:
        return f"<Peer {self.node_key.hex()[:12]} {self.direction} {self.address}>"

    @property
    def short_id(self) -> str:
        return self.node_key.hex()[:12]

    @property
    def closing(self) -> bool:
        """True once a close has begun: the link no longer holds a slot."""
        return self._close_task is not None or self.closed.is_set()

    def enqueue(self, frame: Frame) -> bool:
        """Queue a frame for sending; False (and counted) when closed, too big or the queue is full.

        Overflow drops the new frame rather than blocking the caller or the
        whole node on one slow peer (docs/P2P.md, "Limits"). Bulk frames wait
        in a lane of their own and go out only when no other frame waits.
        """
        if self.closed.is_set() or self._close_task is not None:
            return False
        plaintext = encode_frame(frame)
        if len(plaintext) + 16 > self._config.max_frame_bytes:
            log.warning("not sending %d-byte frame to %s: above max_frame_bytes", len(plaintext), self.short_id)
            self.dropped_out += 1
            return False
        lane = self._send_bulk if self._is_bulk(frame) else self._send_urgent
        if len(lane) >= self._config.send_queue_max:
            self.dropped_out += 1
            log.debug("send queue to %s full; dropping a frame", self.short_id)
            return False
        lane.append(plaintext)
        self._send_ready.set()
        return True

    def _is_bulk(self, frame: Frame) -> bool:
        return isinstance(frame, MsgFrame | ReqFrame) and frame.topic in self._bulk_topics

    def new_request(self) -> tuple[int, asyncio.Future[tuple[bool, bytes]]]:
        request_id = self._next_request_id
        self._next_request_id += 1
        future: asyncio.Future[tuple[bool, bytes]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        return request_id, future

    def forget_request(self, request_id: int) -> None:
        self._pending.pop(request_id, None)

    def resolve(self, frame: RespFrame) -> None:
        """Complete a pending request; a late or unknown id (after a timeout) is ignored."""
        future = self._pending.pop(frame.id, None)
        if future is not None and not future.done():
            future.set_result((frame.ok, frame.payload))

    def spawn(self, coro: Awaitable[Any]) -> None:
        """Run a task that dies with this connection (request handlers)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def disconnect(self, reason: str, code: int = aiohttp.WSCloseCode.GOING_AWAY, discard: bool = False) -> None:
        """Close the link soon, telling the peer ``code`` and ``reason``; ``run()`` then returns. Idempotent.

        ``discard`` drops whatever the peer still has in flight (a banned peer);
        otherwise frames already sent are still delivered while the link closes.
        """
        self._discard |= discard
        if self._close_task is None and not self.closed.is_set():
            log.info("disconnecting %s: %s", self.short_id, reason)
            self._close_task = asyncio.ensure_future(self._close_ws(code, reason))

    async def _close_ws(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._ws.close(code=code, message=reason.encode()[:120])

    async def run(self, on_frame: FrameHandler, on_violation: ViolationHandler) -> None:
        """Read until the link closes; then stop the writer and delivery, fail pending requests, close."""
        writer = asyncio.ensure_future(self._write_loop())
        delivery = asyncio.ensure_future(self._deliver_loop(self._deliveries, on_frame))
        bulk_delivery = asyncio.ensure_future(self._deliver_loop(self._bulk_deliveries, on_frame))
        try:
            await self._read_loop(on_violation)
            self._fail_pending()  # no answer can arrive any more; a handler awaiting one must not wait
            if not self._discard:  # deliver what was read before the link closed
                await self._deliveries.put(None)
                await self._bulk_deliveries.put(None)
                await asyncio.gather(delivery, bulk_delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("peer %s: unexpected error in the read loop", self.short_id)
        finally:
            self.closed.set()
            writer.cancel()
            delivery.cancel()
            bulk_delivery.cancel()
            for task in list(self._tasks):
                task.cancel()
            self._fail_pending()
            await asyncio.gather(writer, delivery, bulk_delivery, *self._tasks, return_exceptions=True)
            if self._close_task is None:
                self._close_task = asyncio.ensure_future(self._close_ws(aiohttp.WSCloseCode.GOING_AWAY, "bye"))
            await asyncio.gather(self._close_task, return_exceptions=True)

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(P2PError(f"peer {self.short_id} disconnected"))
        self._pending.clear()

    async def _write_loop(self) -> None:
        try:
            while True:
                if not self._send_urgent and not self._send_bulk:
                    self._send_ready.clear()
                    await self._send_ready.wait()
                    continue
                plaintext = self._send_urgent.popleft() if self._send_urgent else self._send_bulk.popleft()
                ciphertext = self._cipher.seal(plaintext)
                await self._ws.send_bytes(ciphertext)
                self.msgs_out += 1
                self.bytes_out += len(ciphertext)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the socket died under us; the read loop will see the close
            log.debug("peer %s: send failed: %r", self.short_id, exc)
            self.disconnect(f"send failed: {exc!r}")

    async def _deliver_loop(self, queue: asyncio.Queue[Frame | None], on_frame: FrameHandler) -> None:
        """Hand one lane's frames to the host one at a time, in arrival order."""
        while True:
            frame = await queue.get()
            if frame is None:
                return
            try:
                await on_frame(self, frame)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("peer %s: handling a frame failed", self.short_id)

    async def _read_loop(self, on_violation: ViolationHandler) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message = await self._ws.receive()
            if self._discard:
                return
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                if message.type == aiohttp.WSMsgType.CLOSE:
                    log.info("peer %s closed the link: %s %s", self.short_id, message.data, message.extra)
                return
            if message.type == aiohttp.WSMsgType.ERROR:
                # Only a websocket protocol breach (oversized or malformed frame) is the peer's fault;
                # a reset or timeout is what a crashed or killed honest node looks like.
                if isinstance(message.data, aiohttp.WebSocketError):
                    on_violation(self, PENALTY_WEBSOCKET, f"websocket protocol error: {message.data}")
                else:
                    log.info("peer %s: connection lost: %r", self.short_id, message.data)
                return
            if message.type != aiohttp.WSMsgType.BINARY:
                on_violation(self, PENALTY_TEXT_FRAME, f"unexpected websocket {message.type.name} frame")
                continue
            data: bytes = message.data
            self.msgs_in += 1
            if self.msgs_in % 64 == 0:
                await asyncio.sleep(0)  # buffered frames arrive without yielding; let other peers run
            self.bytes_in += len(data)
            if len(data) > self._config.max_frame_bytes:
                on_violation(self, PENALTY_WEBSOCKET, f"frame of {len(data)} bytes above the limit")
                return
            now = loop.time()
            within_rate = self._msg_bucket.take(1, now) & self._byte_bucket.take(len(data), now)
            try:
                plaintext = self._cipher.open(data)  # always open, so the nonce counter stays in step
            except P2PError as exc:
                on_violation(self, PENALTY_DECRYPT, str(exc))
                return
            self.last_frame_at = now
            if not within_rate:
                on_violation(self, PENALTY_RATE, "rate limit exceeded; frame dropped")
                continue
            try:
                frame = decode_frame(plaintext, self._config.max_frame_bytes)
            except FrameError as exc:
                on_violation(self, PENALTY_BAD_FRAME, str(exc))
                continue
            if isinstance(frame, RespFrame):
                self.resolve(frame)
            elif self._is_bulk(frame):
                # Bulk frames never hold up the read loop: when their handler falls behind, the newest
                # is shed (gossip re-offers what matters), and votes behind them are read on time.
                try:
                    self._bulk_deliveries.put_nowait(frame)
                except asyncio.QueueFull:
                    self.dropped_in += 1
            else:
                await self._deliveries.put(frame)

    def info(self, score: float) -> PeerInfo:
        return PeerInfo(
            pubkey=self.node_key,
            address=self.address,
            direction=self.direction,
            connected_since=self.connected_since,
            score=score,
            msgs_in=self.msgs_in,
            msgs_out=self.msgs_out,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            dropped_out=self.dropped_out,
            dropped_in=self.dropped_in,
            reserved=self.reserved,
            ip=self.ip,
        )
