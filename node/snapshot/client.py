"""The asyncio edge of state sync: ask peers for snapshots, drive ChunkFetch, hand the result to the node.

Runs once, before block sync, on a node whose store is still at its genesis
and whose ``sync.mode`` is "snapshot". Every answer is checked by
``fetch``; this module only sends requests, penalises the peers the checks
blame, and logs progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from marketnode.core import fields as f
from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, MarketnodeError, StorageError
from marketnode.core.hashing import HASH_SIZE
from marketnode.node.chain.sync import parse_blocks
from marketnode.node.config import SyncSection
from marketnode.node.snapshot.fetch import (
    Anchor,
    ChunkFetch,
    Limits,
    Offer,
    SnapshotError,
    check_manifest,
    choose_offer,
    verify_anchor,
)

log = logging.getLogger("marketnode.statesync")

MAX_OFFERS_PER_PEER = 16
OFFERS_TIMEOUT_S = 3.0
RETRY_S = 1.0  # between two rounds of asking for offers
BAD_CHUNK_POINTS = 20
BAD_ANCHOR_POINTS = 20
BAD_STATE_POINTS = 50

Restore = Callable[[Anchor, dict[bytes, bytes]], Awaitable[None]]


def parse_offers(data: bytes) -> list[Offer]:
    reply = f.expect_map(decode(data, 64 + 64 * MAX_OFFERS_PER_PEER), "snapshots reply", ("snapshots",))
    out = []
    for entry in f.seq(reply, "snapshots", "snapshots reply", MAX_OFFERS_PER_PEER):
        item = f.expect_map(entry, "snapshot offer", ("height", "manifest"))
        out.append(Offer(f.u64(item, "height", "snapshot offer"), f.raw(item, "manifest", "snapshot offer", HASH_SIZE)))
    return out


class StateSyncClient:
    """Restore the state from peers' snapshots: ``run`` returns True once restored, False to replay instead."""

    def __init__(self, p2p: Any, chain_id: str, validators: Sequence[bytes], cfg: SyncSection,
                 max_frame_bytes: int, restore: Restore, wake: asyncio.Event | None = None,
                 fresh: Callable[[], bool] = lambda: True) -> None:
        self.p2p = p2p
        self.wake = wake or asyncio.Event()  # set when a peer connects: ask again at once
        self.chain_id = chain_id
        self.validators = tuple(validators)
        self.cfg = cfg
        self.max_frame_bytes = max_frame_bytes
        self.restore = restore
        self.fresh = fresh  # False once a block committed meanwhile (consensus runs): block sync takes over
        self.limits = Limits(cfg.max_chunk_bytes, cfg.max_chunks, cfg.max_chunk_attempts)
        self.refused: set[bytes] = set()

    async def run(self) -> bool:
        first_answer: float | None = None
        while True:
            if not self.fresh():
                log.info("state sync: the node committed a block meanwhile; following blocks instead")
                return False
            offers, answered = await self._ask_offers()
            if answered and first_answer is None:
                first_answer = time.monotonic()
            choice = choose_offer(offers, self.refused)
            if choice is not None:
                offer, peers = choice
                try:
                    await self._fetch(offer, peers)
                    return True
                except SnapshotError as exc:
                    log.warning("state sync: snapshot %d (%s…) given up: %s", offer.height,
                                offer.manifest_hash.hex()[:12], exc)
                    self.refused.add(offer.manifest_hash)
                    continue
            if first_answer is not None and time.monotonic() - first_answer >= self.cfg.discovery_s:
                log.warning("state sync: no usable snapshot offered within %d s; replaying blocks from the genesis",
                            self.cfg.discovery_s)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), RETRY_S)
            self.wake.clear()

    async def _ask_offers(self) -> tuple[dict[bytes, list[Offer]], bool]:
        peers = [p.pubkey for p in self.p2p.peers()]

        async def ask(peer: bytes) -> tuple[bytes, list[Offer]] | None:
            try:
                return peer, parse_offers(await self.p2p.request(peer, "snapshots", encode({}), OFFERS_TIMEOUT_S))
            except DecodeError as exc:
                self.p2p.penalize(peer, 5, f"bad snapshots reply: {exc}")
            except (TimeoutError, MarketnodeError):
                pass
            return None

        answers = [a for a in await asyncio.gather(*(ask(p) for p in peers)) if a is not None]
        return dict(answers), bool(answers)

    async def _request(self, peer: bytes, topic: str, payload: dict[str, Any]) -> bytes:
        return await self.p2p.request(peer, topic, encode(payload), float(self.cfg.request_timeout_s))

    async def _fetch(self, offer: Offer, peers: list[bytes]) -> None:
        started = time.monotonic()
        anchor, manifest = None, None
        for peer in peers:
            try:
                served = parse_blocks(await self._request(peer, "blocks", {"from": offer.height, "max": 2}),
                                      self.max_frame_bytes)
                anchor = verify_anchor(self.chain_id, self.validators, offer.height, served)
                manifest = check_manifest(await self._request(peer, "snapshot_manifest", {"height": offer.height}),
                                          offer, anchor, self.limits)
                break
            except (SnapshotError, DecodeError) as exc:
                self.p2p.penalize(peer, BAD_ANCHOR_POINTS, f"offered snapshot {offer.height} but: {exc}")
            except (TimeoutError, MarketnodeError) as exc:
                log.info("state sync: %s could not serve snapshot %d's anchor: %s", peer.hex()[:12], offer.height, exc)
        if anchor is None or manifest is None:
            raise SnapshotError("no peer served a certified anchor and the offered manifest")
        log.info("state sync: snapshot of height %d, %d entries in %d chunks, certified by block %d; from %d peers",
                 anchor.height, manifest.entries, len(manifest.chunks), anchor.height + 1, len(peers))
        fetch = ChunkFetch(manifest, peers, self.limits)
        await self._chunks(offer.height, fetch)
        state = fetch.entries()
        try:
            await self.restore(anchor, state)
        except StorageError as exc:  # its state does not hash to the certified root: everyone who offered it lied
            if not self.fresh():
                raise SnapshotError("the node committed a block meanwhile") from None
            for peer in peers:
                self.p2p.penalize(peer, BAD_STATE_POINTS, f"snapshot {offer.height} does not rebuild its state root")
            raise SnapshotError(str(exc)) from None
        log.info("state sync: restored height %d (%d entries, %d bytes) in %.2f s; following blocks from there",
                 anchor.height, len(state), fetch.bytes_received, time.monotonic() - started)

    async def _chunks(self, height: int, fetch: ChunkFetch) -> None:
        inflight: dict[asyncio.Task[bytes], tuple[bytes, int]] = {}
        last_log = time.monotonic()
        try:
            while not fetch.done:
                for peer, index in fetch.next_requests():
                    task = asyncio.ensure_future(self._request(peer, "snapshot_chunk", {"height": height, "index": index}))
                    inflight[task] = (peer, index)
                reason = fetch.stuck()
                if reason is not None or not inflight:
                    raise SnapshotError(reason or "no chunk request could be made")
                done, _ = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    peer, index = inflight.pop(task)
                    try:
                        data = task.result()
                    except (TimeoutError, MarketnodeError) as exc:
                        log.info("state sync: chunk %d from %s failed: %s", index, peer.hex()[:12], exc)
                        fetch.on_failure(peer, index)
                        continue
                    fault = fetch.on_chunk(peer, index, data)
                    if fault is not None:
                        self.p2p.penalize(peer, BAD_CHUNK_POINTS, f"snapshot {height}: {fault}")
                now = time.monotonic()
                if now - last_log >= 1.0:
                    last_log = now
                    log.info("state sync: %d / %d chunks", len(fetch.manifest.chunks) - len(fetch.missing()),
                             len(fetch.manifest.chunks))
        finally:
            for task in inflight:
                task.cancel()
            for task in inflight:
                with contextlib.suppress(BaseException):
                    await task
