"""The serving side of state sync: the state views a node keeps, and the snapshot requests it answers.

Every ``interval`` blocks, right after a block is committed (the driver is
the only writer, so nothing moves in between), the node takes a KV
snapshot: a frozen view of the whole state after that block, cheap to take
(LevelDB pins its files). It keeps the last ``kept`` views and offers one
once the next block exists, because only header h+1 certifies the state
root of block h. The manifest is built on the first request for it (one
walk of the state, in a worker thread: ``prepare``); chunks are re-read
from the view by their first key. Releasing a view waits for a manifest
being built from it.

Wire (canonical msgpack on the p2p request channel, docs/P2P.md "State sync"):
``snapshots`` {} → {"snapshots": [{"height", "manifest"}]} newest first;
``snapshot_manifest`` {"height"} → the manifest bytes;
``snapshot_chunk`` {"height", "index"} → the chunk bytes.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field

from marketnode.core import fields as f
from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError
from marketnode.node.snapshot.format import Manifest, chunk_hash, cut_chunks, encode_chunk
from marketnode.node.storage.chainstore import StateReader
from marketnode.node.storage.kv import KV, KVSnapshot

log = logging.getLogger("marketnode.snapshot")

TOPICS = ("snapshots", "snapshot_manifest", "snapshot_chunk")
REQUEST_MAX_BYTES = 256


class SnapshotGone(DecodeError):
    """The asked snapshot is not (or no longer) kept here."""


@dataclass
class _Kept:
    """One kept view. ``lock`` guards building its manifest (possibly in a worker thread) against its release."""

    height: int
    state_root: bytes
    view: KVSnapshot
    manifest: Manifest | None = None
    starts: list[tuple[bytes, int]] = field(default_factory=list)  # (first key, entries) of each chunk
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: bool = False

    def release(self) -> None:
        with self.lock:  # waits for a manifest being built from this view
            if not self.released:
                self.released = True
                self.view.close()


class SnapshotOffers:
    """The state after every ``interval``-th block, the last ``kept`` of them, in chunks of ~``chunk_bytes``."""

    def __init__(self, kv: KV, interval: int, kept: int, chunk_bytes: int) -> None:
        self.kv = kv
        self.interval = interval
        self.kept = kept
        self.chunk_bytes = chunk_bytes
        self._views: deque[_Kept] = deque()

    def on_commit(self, height: int, state_root: bytes) -> None:
        """Call right after block ``height`` is written, before the next write."""
        if self.interval <= 0 or self.kept <= 0 or height % self.interval:
            return
        self._views.append(_Kept(height, state_root, self.kv.snapshot()))
        while len(self._views) > self.kept:
            self._views.popleft().release()

    def close(self) -> None:
        while self._views:
            self._views.popleft().release()

    def prepare(self, head_height: int) -> None:
        """Build the manifests still missing; safe in a worker thread (the node runs it in one, so the walk
        of the state does not hold up the event loop)."""
        for kept in list(self._views):
            if kept.height < head_height:
                self._manifest(kept)

    # -- what is offered -----------------------------------------------------

    def offers(self, head_height: int) -> list[tuple[int, bytes]]:
        """(height, manifest hash) of every kept snapshot whose successor block exists, newest first."""
        return [(k.height, self._manifest(k).hash) for k in reversed(self._views) if k.height < head_height]

    def _find(self, height: int, head_height: int) -> _Kept:
        for kept in self._views:
            if kept.height == height and height < head_height:
                return kept
        raise SnapshotGone(f"no snapshot of height {height} is kept here")

    def _manifest(self, kept: _Kept) -> Manifest:
        with kept.lock:
            if kept.released:
                raise SnapshotGone(f"the snapshot of height {kept.height} was just released")
            if kept.manifest is None:
                self._build(kept)
            assert kept.manifest is not None
            return kept.manifest

    def _build(self, kept: _Kept) -> None:
        hashes, entries = [], 0
        for pairs in cut_chunks(StateReader(kept.view).iterate(), self.chunk_bytes):
            kept.starts.append((pairs[0][0], len(pairs)))
            hashes.append(chunk_hash(encode_chunk(pairs)))
            entries += len(pairs)
        kept.manifest = Manifest(kept.height, kept.state_root, entries, tuple(hashes))
        log.info("snapshot of height %d: %d entries in %d chunks", kept.height, entries, len(hashes))

    def chunk(self, height: int, index: int, head_height: int) -> bytes:
        kept = self._find(height, head_height)
        self._manifest(kept)
        if not 0 <= index < len(kept.starts):
            raise DecodeError(f"snapshot {height} has {len(kept.starts)} chunks, not chunk {index}")
        start, count = kept.starts[index]
        pairs = []
        for pair in StateReader(kept.view).iterate(start=start):
            pairs.append(pair)
            if len(pairs) == count:
                break
        return encode_chunk(pairs)

    # -- requests ------------------------------------------------------------

    def serve(self, topic: str, payload: bytes, head_height: int) -> bytes:
        """Answer one state-sync request; DecodeError (the peer gets ok: false) for a bad or unknown one."""
        if topic == "snapshots":
            return encode({"snapshots": [{"height": h, "manifest": m} for h, m in self.offers(head_height)]})
        if topic == "snapshot_manifest":
            request = f.expect_map(decode(payload, REQUEST_MAX_BYTES), "snapshot_manifest request", ("height",))
            return self._manifest(self._find(f.u64(request, "height", "snapshot_manifest request"),
                                             head_height)).encode()
        if topic == "snapshot_chunk":
            request = f.expect_map(decode(payload, REQUEST_MAX_BYTES), "snapshot_chunk request", ("height", "index"))
            what = "snapshot_chunk request"
            return self.chunk(f.u64(request, "height", what), f.u64(request, "index", what), head_height)
        raise DecodeError(f"unknown state-sync topic {topic!r}")
