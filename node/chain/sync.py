"""Block sync over p2p requests: serve committed blocks, fetch them when behind.

Wire (canonical msgpack payloads on the request/response channel):
``status`` → {"height", "hash"}; ``blocks`` {"from", "max"} →
{"blocks": [[block bytes, certificate bytes], ...]} in height order, at most
``max`` and about SERVE_MAX_BYTES in all. The fetching side verifies every
certificate (through the replica) before anything is executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from marketnode.core import fields as f
from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, MarketnodeError, P2PError
from marketnode.core.types import Block, Certificate
from marketnode.node.storage.chainstore import ChainStore

log = logging.getLogger("marketnode.sync")

SERVE_MAX_BLOCKS = 500
SERVE_MAX_BYTES = 8 * 1024 * 1024
REQUEST_TIMEOUT_S = 10.0


def serve_status(store: ChainStore) -> bytes:
    head = store.head()
    assert head is not None
    return encode({"hash": head.block_hash, "height": head.height})


def serve_blocks(store: ChainStore, payload: bytes) -> bytes:
    request = f.expect_map(decode(payload, 1024), "blocks request", ("from", "max"))
    start = f.u64(request, "from", "blocks request")
    count = min(f.u64(request, "max", "blocks request"), SERVE_MAX_BLOCKS)
    head = store.head()
    assert head is not None
    blocks: list[list[bytes]] = []
    size = 0
    for height in range(max(start, 1), min(head.height, start + count - 1) + 1):
        block = store.get_block_bytes(height)
        cert = store.get_certificate_bytes(height)
        if block is None or cert is None:
            break
        blocks.append([block, cert])
        size += len(block) + len(cert)
        if size >= SERVE_MAX_BYTES:
            break
    return encode({"blocks": blocks})


def parse_status(data: bytes) -> int:
    reply = f.expect_map(decode(data, 1024), "status reply", ("hash", "height"))
    return f.u64(reply, "height", "status reply")


def parse_blocks(data: bytes, max_bytes: int) -> list[tuple[Block, Certificate]]:
    reply = f.expect_map(decode(data, max_bytes), "blocks reply", ("blocks",))
    out = []
    for entry in f.seq(reply, "blocks", "blocks reply", SERVE_MAX_BLOCKS):
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, bytes) for x in entry)):
            raise DecodeError("blocks reply: each entry is [block bytes, certificate bytes]")
        out.append((Block.decode(entry[0]), Certificate.decode(entry[1])))
    return out


class Syncer:
    """Finds a peer that is ahead and feeds its blocks, in order, to ``deliver``.

    ``deliver`` hands a batch to the node's consensus driver and returns once
    it has been verified and executed (or refused); the syncer then asks for
    the next batch. Progress goes to the log as height / target and blocks/s.
    """

    def __init__(self, p2p: Any, store: ChainStore, deliver: Callable[[list[tuple[Block, Certificate]]], Awaitable[int]],
                 max_frame_bytes: int, poll_s: float = 2.0) -> None:
        self.p2p = p2p
        self.store = store
        self.deliver = deliver
        self.max_frame_bytes = max_frame_bytes
        self.poll_s = poll_s
        self.wake = asyncio.Event()
        self.target = 0
        self.syncing = False

    def request_now(self) -> None:
        self.wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_s)
            self.wake.clear()
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad peer or a transient error must never stop sync
                log.exception("sync round failed; retrying")

    async def _peer_heights(self) -> list[tuple[int, bytes]]:
        """(height, peer), highest first: from reserved peers (the validators) when any answers, else from anyone.

        A stranger can claim any height and then never serve it; asked first,
        each such liar would cost a request timeout before a validator's turn.
        """
        infos = self.p2p.peers()
        heights = await self._ask_heights([p.pubkey for p in infos if p.reserved])
        return heights or await self._ask_heights([p.pubkey for p in infos if not p.reserved])

    async def _ask_heights(self, peers: list[bytes]) -> list[tuple[int, bytes]]:
        async def ask(peer: bytes) -> tuple[int, bytes] | None:
            try:
                return parse_status(await self.p2p.request(peer, "status", b"\x80", 3.0)), peer
            except (TimeoutError, MarketnodeError):
                return None

        answers = await asyncio.gather(*(ask(p) for p in peers))
        return sorted((a for a in answers if a is not None), reverse=True)

    async def _round(self) -> None:
        head = self.store.head()
        assert head is not None
        heights = await self._peer_heights()
        if not heights or heights[0][0] <= head.height:
            self.syncing = False
            return
        self.target = heights[0][0]
        self.syncing = True
        started, start_height = time.monotonic(), head.height
        last_log = 0.0
        for target, peer in heights:
            if target <= self.store.head().height:  # type: ignore[union-attr]
                break
            while True:
                height = self.store.head().height  # type: ignore[union-attr]
                if height >= target:
                    break
                try:
                    reply = await self.p2p.request(peer, "blocks", encode({"from": height + 1, "max": 200}),
                                                   REQUEST_TIMEOUT_S)
                    batch = parse_blocks(reply, self.max_frame_bytes)
                except (TimeoutError, MarketnodeError) as exc:
                    if isinstance(exc, DecodeError):
                        self.p2p.penalize(peer, 20, f"bad blocks reply: {exc}")
                    log.info("sync from %s failed: %s", peer.hex()[:12], exc)
                    break
                if not batch:
                    break
                applied = await self.deliver(batch)
                if applied == 0:
                    self.p2p.penalize(peer, 10, "served blocks that did not verify")
                    break
                now = time.monotonic()
                if now - last_log >= 1.0:
                    last_log = now
                    done = self.store.head().height  # type: ignore[union-attr]
                    rate = (done - start_height) / max(now - started, 1e-6)
                    log.info("syncing: height %d / %d, %.0f blocks/s", done, self.target, rate)
        self.syncing = self.store.head().height < self.target  # type: ignore[union-attr]
        if not self.syncing:
            log.info("sync: caught up at height %d", self.store.head().height)  # type: ignore[union-attr]


__all__ = ["P2PError", "Syncer", "parse_blocks", "parse_status", "serve_blocks", "serve_status"]
