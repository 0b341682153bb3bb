"""Fetch referenced blobs this node lacks from its peers: a sans-IO plan and the asyncio loop that runs it.

Wire (p2p request/response, canonical msgpack): ``content`` {"hash": 32 bytes,
"offset": uint} → {"data": up to CHUNK_BYTES from offset, "size": the blob's
length} or {"data": nil, "size": nil} when the peer does not hold it. A ``content_have`` message [hash, ...] says a peer
now holds blobs; a node wanting one of them asks that peer at once.

The plan (``FetchPlan``) asks one peer at a time per blob, at most
``concurrency`` blobs at once, each peer once per round; when a round ends
without the blob it waits ``backoff_s(round)`` (1 s doubling to 5 min) and
starts again, forever: a node that was offline, or a blob whose only holder is
down, is fetched when one comes back. Bytes that do not hash right cost the
peer a penalty. Nothing here runs on the consensus path: commits only add to
the want list.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from marketnode.core import fields as f
from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, MarketnodeError
from marketnode.node.content.kinds import ContentRefused
from marketnode.node.content.store import ContentStore

log = logging.getLogger("marketnode.content")

TOPIC = "content"
HAVE_TOPIC = "content_have"
MAX_HAVE = 256  # hashes in one have message
BASE_BACKOFF_S = 1.0
MAX_BACKOFF_S = 300.0
WRONG_BYTES_PENALTY = 20
LOOP_S = 0.5
CHUNK_BYTES = 128 * 1024  # one content reply at most: a frame this size holds a link ~0.1 s at 10 Mbit/s


def backoff_s(rounds: int) -> float:
    return min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(0, rounds - 1))


@dataclass
class _Want:
    rounds: int = 0
    next_try_s: float = 0.0
    tried: set[bytes] = field(default_factory=set)
    haves: list[bytes] = field(default_factory=list)
    liars: set[bytes] = field(default_factory=set)  # sent wrong bytes for this blob: never asked for it again
    asking: bytes | None = None


class FetchPlan:
    """Which blob to ask which peer for next. No I/O, no clock: callers pass ``now_s`` and the peer list."""

    def __init__(self, concurrency: int, rng: random.Random | None = None) -> None:
        self.concurrency = concurrency
        self.rng = rng or random.Random()
        self.wants: dict[bytes, _Want] = {}

    def want(self, blob_hash: bytes) -> None:
        self.wants.setdefault(blob_hash, _Want())

    def drop(self, blob_hash: bytes) -> None:
        self.wants.pop(blob_hash, None)

    def in_flight(self) -> int:
        return sum(1 for w in self.wants.values() if w.asking is not None)

    def on_have(self, blob_hash: bytes, peer: bytes, now_s: float) -> None:
        want = self.wants.get(blob_hash)
        if want is not None and peer not in want.haves:
            want.haves.append(peer)
            want.tried.discard(peer)
            want.next_try_s = min(want.next_try_s, now_s)

    def peer_joined(self, now_s: float) -> None:
        """A new link: every waiting blob is worth one more ask now (the newcomer may hold it)."""
        for want in self.wants.values():
            want.next_try_s = min(want.next_try_s, now_s)

    def due(self, now_s: float, peers: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
        """(blob, peer) requests to start now; each is marked in flight until ``on_result``."""
        slots = self.concurrency - self.in_flight()
        out: list[tuple[bytes, bytes]] = []
        if slots <= 0 or not peers:
            return out
        for blob_hash, want in self.wants.items():
            if len(out) >= slots:
                break
            if want.asking is not None or want.next_try_s > now_s:
                continue
            fresh = [p for p in want.haves if p in peers and p not in want.tried and p not in want.liars]
            if not fresh:
                fresh = [p for p in peers if p not in want.tried and p not in want.liars]
                self.rng.shuffle(fresh)
            if not fresh:
                self._end_round(want, now_s)
                continue
            want.asking = fresh[0]
            out.append((blob_hash, fresh[0]))
        return out

    def on_result(self, blob_hash: bytes, peer: bytes, got: bool, now_s: float, peers: Sequence[bytes],
                  lied: bool = False) -> None:
        """The peer answered (``got``: it sent the right bytes) or failed (missing, error; ``lied``: wrong bytes)."""
        want = self.wants.get(blob_hash)
        if want is None:
            return
        want.asking = None
        if got:
            del self.wants[blob_hash]
            return
        want.tried.add(peer)
        if lied:
            want.liars.add(peer)
        if peer in want.haves:
            want.haves.remove(peer)
        if all(p in want.tried or p in want.liars for p in peers):
            self._end_round(want, now_s)

    def _end_round(self, want: _Want, now_s: float) -> None:
        want.rounds += 1
        want.tried.clear()
        want.next_try_s = now_s + backoff_s(want.rounds)


class ContentPeers(Protocol):
    """What the fetcher needs of the p2p host."""

    def peers(self) -> list[Any]: ...

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes: ...

    def penalize(self, peer: bytes, points: int, reason: str) -> None: ...

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None: ...


def chunk_reply(data: bytes | None, offset: int) -> bytes:
    """The answer to a ``content`` request for ``offset``: CHUNK_BYTES of ``data`` from there, and its size."""
    if data is None:
        return encode({"data": None, "size": None})
    return encode({"data": data[offset:offset + CHUNK_BYTES], "size": len(data)})


def serve_content(read: Callable[[bytes], bytes | None], payload: bytes) -> bytes:
    request = f.expect_map(decode(payload, 128), "content request", ("hash", "offset"))
    blob_hash = request["hash"]
    if not isinstance(blob_hash, bytes) or len(blob_hash) != 32:
        raise DecodeError("content request: hash is 32 bytes")
    return chunk_reply(read(blob_hash), f.u64(request, "offset", "content request"))


def parse_chunk(reply: bytes, max_bytes: int) -> tuple[bytes, int] | None:
    """(chunk, whole size) from a ``content`` reply, or None when the peer does not hold the blob."""
    obj = f.expect_map(decode(reply, CHUNK_BYTES + 64), "content reply", ("data", "size"))
    data, size = obj["data"], obj["size"]
    if data is None and size is None:
        return None
    if not isinstance(data, bytes) or isinstance(size, bool) or not isinstance(size, int):
        raise DecodeError("content reply: data is bytes and size an integer, or both nil")
    if not 0 < size <= max_bytes or len(data) > CHUNK_BYTES:
        raise DecodeError(f"content reply: a blob is 1..{max_bytes} bytes, sent {CHUNK_BYTES} at most at a time")
    return data, size


def have_payload(hashes: Sequence[bytes]) -> bytes:
    return encode(list(hashes[:MAX_HAVE]))


def parse_have(payload: bytes) -> list[bytes]:
    hashes = decode(payload, MAX_HAVE * 40)
    if not isinstance(hashes, list) or len(hashes) > MAX_HAVE or \
            not all(isinstance(h, bytes) and len(h) == 32 for h in hashes):
        raise DecodeError(f"content_have: a list of at most {MAX_HAVE} 32-byte hashes")
    return hashes


class Fetcher:
    """Runs a FetchPlan against the node's peers, keeping fetched blobs in the store."""

    def __init__(self, store: ContentStore, peers: ContentPeers, concurrency: int, timeout_s: float,
                 max_wanted: int, now_ms: Any) -> None:
        self.store = store
        self.peers = peers
        self.plan = FetchPlan(concurrency)
        self.timeout_s = timeout_s
        self.max_wanted = max_wanted
        self.now_ms = now_ms
        self.wake = asyncio.Event()
        self.fetched = 0
        self.wrong_bytes = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def _peer_keys(self) -> list[bytes]:
        return [p.pubkey for p in self.peers.peers()]

    def reload(self) -> None:
        """Take the store's want list into the plan (bounded by max_wanted)."""
        for count, blob_hash in enumerate(self.store.wanted()):
            if count >= self.max_wanted:
                break
            self.plan.want(blob_hash)
        self.wake.set()

    def on_have(self, peer: bytes, payload: bytes) -> None:
        for blob_hash in parse_have(payload):
            self.plan.on_have(blob_hash, peer, time.monotonic())
        self.wake.set()

    def peer_joined(self) -> None:
        self.plan.peer_joined(time.monotonic())
        self.wake.set()

    async def run(self) -> None:
        self.reload()
        try:
            while True:
                self.wake.clear()
                try:
                    self._start_due()
                except Exception:  # a bug here must not end replication for the node's lifetime
                    log.exception("the content fetcher failed to start fetches; retrying")
                try:
                    async with asyncio.timeout(LOOP_S):
                        await self.wake.wait()
                except TimeoutError:
                    pass
        finally:
            for task in list(self._tasks):
                task.cancel()

    def _start_due(self) -> None:
        for blob_hash, peer in self.plan.due(time.monotonic(), self._peer_keys()):
            task = asyncio.ensure_future(self._fetch(blob_hash, peer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _download(self, blob_hash: bytes, peer: bytes) -> bytes | None:
        """The blob's bytes from ``peer``, CHUNK_BYTES per request (so no reply holds up a vote behind it on
        the link for long); None when the peer does not hold it. The whole is checked by the caller."""
        limit = self.store.limits.kinds.max_blob_bytes
        parts: list[bytes] = []
        received, size = 0, None
        while size is None or received < size:
            payload = encode({"hash": blob_hash, "offset": received})
            answer = parse_chunk(await self.peers.request(peer, TOPIC, payload, self.timeout_s), limit)
            if answer is None:
                if size is None:
                    return None
                raise DecodeError("the peer stopped holding the blob halfway")
            chunk, total = answer
            if size is not None and total != size:
                raise DecodeError(f"the blob's size changed from {size} to {total} between chunks")
            if not chunk or received + len(chunk) > total:
                raise DecodeError(f"a chunk at offset {received} of {total} bytes is {len(chunk)} bytes")
            size = total
            parts.append(chunk)
            received += len(chunk)
        return b"".join(parts)

    async def _fetch(self, blob_hash: bytes, peer: bytes) -> None:
        got = lied = False
        try:
            if self.store.get(blob_hash) is not None:  # uploaded here meanwhile
                got = True
                return
            data = await self._download(blob_hash, peer)
            if data is None:
                return
            self.store.store_fetched(blob_hash, data, self.now_ms())
            got = True
            self.fetched += 1
            log.info("fetched content %s (%d bytes) from %s", blob_hash.hex()[:16], len(data), peer.hex()[:12])
            self.peers.broadcast(HAVE_TOPIC, have_payload([blob_hash]))
        except ContentRefused:
            got = True  # the right bytes, but not storable here: never asked for again
        except (ValueError, DecodeError) as exc:  # bytes that are not the hash's, or a malformed reply
            lied = True
            self.wrong_bytes += 1
            self.peers.penalize(peer, WRONG_BYTES_PENALTY, f"sent wrong bytes for content: {exc}")
        except (MarketnodeError, OSError) as exc:
            log.debug("content %s from %s: %s", blob_hash.hex()[:16], peer.hex()[:12], exc)
        except Exception:
            log.exception("fetching content %s from %s failed", blob_hash.hex()[:16], peer.hex()[:12])
        finally:
            self.plan.on_result(blob_hash, peer, got, time.monotonic(), self._peer_keys(), lied)
            self.wake.set()
