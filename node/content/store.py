"""The content store's metadata: what is held, who uploaded it, what the chain references, what expires.

Retention follows the chain: a blob named by a committed tx (market/content_refs.py)
is pinned and kept; an upload nobody references expires ``unreferenced_ttl_s``
after it arrived and counts, until then, against its uploader's quota. A
referenced blob this node lacks goes on the want list (``cwant``), which the
fetcher (node/content/fetch.py) works through. The chain is scanned after each
commit and from the last scanned height at start, so this index may lag the
chain but never holds it up. Metadata lives in the chain's KV under ``i/c*/``
(node/storage/schema.py ``index``); the bytes in a BlobStore.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from marketnode.core.encoding import decode, encode
from marketnode.core.types import Tx
from marketnode.core.upload import UploadAuth, content_hash
from marketnode.market.content_refs import content_refs
from marketnode.node.config import ContentSection
from marketnode.node.content.blobs import BlobStore
from marketnode.node.content.kinds import ContentRefused, KindLimits, classify
from marketnode.node.storage.kv import KV, WriteBatch
from marketnode.node.storage.schema import height_bytes, height_from, index, index_prefix

log = logging.getLogger("marketnode.content")

BLOB, EXPIRY, ACCOUNT, WANT, REFUSED, SCAN = "cblob", "cexp", "cacct", "cwant", "crefused", "cscan"
SCAN_KEY = index(SCAN, b"height")
SCAN_SAVE_EVERY = 100  # blocks between two saves of the scanned height when they reference no content
MAX_RATE_ACCOUNTS = 10_000


def _ms8(ms: int) -> bytes:
    return ms.to_bytes(8, "big")


class ContentLimited(ContentRefused):
    """An upload refused by a quota or rate (RPC -32005, not -32000); ``retry_after_s`` when waiting helps."""

    def __init__(self, reason: str, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(reason, message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class ContentLimits:
    kinds: KindLimits
    auth_window_ms: int
    unreferenced_ttl_ms: int
    account_pending_bytes: int
    account_pending_blobs: int
    account_uploads_per_minute: int
    total_pending_bytes: int
    max_wanted: int

    @classmethod
    def from_config(cls, c: ContentSection) -> ContentLimits:
        return cls(KindLimits(c.max_image_bytes, c.max_text_bytes, c.max_image_pixels), c.auth_window_ms,
                   c.unreferenced_ttl_s * 1000, c.account_pending_bytes, c.account_pending_blobs,
                   c.account_uploads_per_minute, c.total_pending_bytes, c.max_wanted)


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """One held blob: its Content-Type, size, uploader (None: fetched from a peer), and whether the chain names it."""

    hash: bytes
    content_type: str
    size: int
    uploader: bytes | None
    added_ms: int
    pinned: bool
    expires_ms: int | None

    def encode(self) -> bytes:
        return encode({"added_ms": self.added_ms, "expires_ms": self.expires_ms, "pinned": self.pinned,
                       "size": self.size, "type": self.content_type, "uploader": self.uploader})

    @classmethod
    def decode(cls, blob_hash: bytes, raw: bytes) -> BlobInfo:
        obj = decode(raw)
        return cls(blob_hash, obj["type"], obj["size"], obj["uploader"], obj["added_ms"], obj["pinned"],
                   obj["expires_ms"])

    def to_json(self) -> dict[str, object]:
        return {"hash": self.hash.hex(), "content_type": self.content_type, "size": self.size,
                "pinned": self.pinned, "expires_ms": self.expires_ms}


class ContentStore:
    """Blobs held by this node, their retention and the want list. Single-threaded (the event loop)."""

    def __init__(self, kv: KV, blobs: BlobStore, limits: ContentLimits, chain_id: str) -> None:
        self.kv = kv
        self._scanned: int | None = None  # the last block scanned by this process (saved only now and then)
        self.blobs = blobs
        self.limits = limits
        self.chain_id = chain_id
        self._uploads: dict[bytes, deque[int]] = {}  # uploader → upload times (ms) in the last minute
        self.pending_bytes = sum(int.from_bytes(v, "big") for _, v in kv.iterate(index_prefix(ACCOUNT)))

    # ---- reads ---------------------------------------------------------------

    def info(self, blob_hash: bytes) -> BlobInfo | None:
        raw = self.kv.get(index(BLOB, blob_hash))
        return None if raw is None else BlobInfo.decode(blob_hash, raw)

    def get(self, blob_hash: bytes) -> tuple[bytes, BlobInfo] | None:
        """The bytes and their info; None when not held (a damaged file counts as not held, and is re-wanted)."""
        info = self.info(blob_hash)
        if info is None:
            return None
        data = self.blobs.get(blob_hash)
        if data is None:
            self._forget_damaged(info)
            return None
        return data, info

    def wanted(self) -> Iterator[bytes]:
        """Referenced blobs this node lacks, in hash order."""
        prefix = index_prefix(WANT)
        for key, _ in self.kv.iterate(prefix):
            yield key[len(prefix):]

    def is_wanted(self, blob_hash: bytes) -> bool:
        return self.kv.get(index(WANT, blob_hash)) is not None

    def refused(self, blob_hash: bytes) -> str | None:
        raw = self.kv.get(index(REFUSED, blob_hash))
        return None if raw is None else raw.decode()

    def scanned_height(self) -> int:
        """The last block scanned: in memory once this process scanned one, else as last saved."""
        if self._scanned is not None:
            return self._scanned
        raw = self.kv.get(SCAN_KEY)
        return 0 if raw is None else height_from(raw)

    def account_usage(self, uploader: bytes) -> tuple[int, int]:
        """(blobs, bytes) of ``uploader``'s unreferenced uploads."""
        count = size = 0
        for _, value in self.kv.iterate(index(ACCOUNT, uploader)):
            count += 1
            size += int.from_bytes(value, "big")
        return count, size

    # ---- uploads -------------------------------------------------------------

    def put_upload(self, data: bytes, auth: UploadAuth, now_ms: int, declared: str | None = None) -> BlobInfo:
        """Store a wallet's upload, checked in the order of docs/RPC.md content_put; ContentRefused/ContentLimited."""
        blob_hash = content_hash(data)
        if auth.hash != blob_hash:
            raise ContentRefused("wrong_hash", f"the authorisation signs hash {auth.hash.hex()} but the data hashes "
                                 f"to {blob_hash.hex()}")
        if not auth.verify(self.chain_id):
            raise ContentRefused("bad_signature", "the upload signature does not verify for this uploader, hash, "
                                 f"time and chain {self.chain_id}")
        if abs(now_ms - auth.time_ms) > self.limits.auth_window_ms:
            raise ContentRefused("stale_time", f"the signed time is {(now_ms - auth.time_ms) // 1000} s from this "
                                 f"node's clock; at most {self.limits.auth_window_ms // 1000} s is accepted")
        self._check_rate(auth.uploader, now_ms)
        self._record_upload(auth.uploader, now_ms)  # every signed attempt counts, refused ones too: they cost work
        content_type = classify(data, self.limits.kinds, declared)
        held = self.info(blob_hash)
        if held is not None and self.blobs.has(blob_hash):
            return held  # already here: storing it again costs no quota
        pinned = self.is_wanted(blob_hash)  # the chain already names it: kept, and no quota is charged
        if not pinned:
            self._check_quota(auth.uploader, len(data))
        expires = None if pinned else now_ms + self.limits.unreferenced_ttl_ms
        info = BlobInfo(blob_hash, content_type, len(data), auth.uploader, now_ms, pinned, expires)
        self.blobs.put(blob_hash, data)
        batch = WriteBatch()
        batch.put(index(BLOB, blob_hash), info.encode())
        if pinned:
            batch.delete(index(WANT, blob_hash))
        else:
            batch.put(index(EXPIRY, _ms8(expires) + blob_hash), b"")  # type: ignore[arg-type]
            batch.put(index(ACCOUNT, auth.uploader + blob_hash), len(data).to_bytes(8, "big"))
            self.pending_bytes += len(data)
        self.kv.write(batch)
        return info

    def _check_rate(self, uploader: bytes, now_ms: int) -> None:
        times = self._uploads.get(uploader)
        if times is None:
            return
        while times and times[0] <= now_ms - 60_000:
            times.popleft()
        cap = self.limits.account_uploads_per_minute
        if len(times) >= cap:
            wait = (times[0] + 60_000 - now_ms) // 1000 + 1
            raise ContentLimited("rate", f"this account made {cap} uploads in the last minute; try again in {wait} s",
                                 wait)

    def _record_upload(self, uploader: bytes, now_ms: int) -> None:
        if len(self._uploads) >= MAX_RATE_ACCOUNTS:
            self._uploads = {k: t for k, t in self._uploads.items() if t and t[-1] > now_ms - 60_000}
        self._uploads.setdefault(uploader, deque()).append(now_ms)

    def _check_quota(self, uploader: bytes, size: int) -> None:
        count, used = self.account_usage(uploader)
        lim = self.limits
        if count + 1 > lim.account_pending_blobs:
            raise ContentLimited("quota_blobs", f"this account already holds {count} unreferenced uploads here "
                                 f"(at most {lim.account_pending_blobs}); reference them in a tx or wait until "
                                 "they expire")
        if used + size > lim.account_pending_bytes:
            raise ContentLimited("quota_bytes", f"this account's unreferenced uploads would take {used + size} bytes, "
                                 f"over its quota of {lim.account_pending_bytes}; reference them in a tx or wait "
                                 "until they expire")
        if self.pending_bytes + size > lim.total_pending_bytes:
            raise ContentLimited("node_full", f"this node holds {self.pending_bytes} bytes of unreferenced uploads, "
                                 f"its limit is {lim.total_pending_bytes}; try another node or later")

    # ---- the chain -----------------------------------------------------------

    def scan_block(self, height: int, txs: Sequence[Tx], receipts_ok: Sequence[bool]) -> list[bytes]:
        """Pin what a block's successful txs reference; return the hashes newly wanted (held by no one here)."""
        batch = WriteBatch()
        newly_wanted: list[bytes] = []
        for tx, ok in zip(txs, receipts_ok):
            if not ok:
                continue
            for blob_hash, _expected in content_refs(tx.kind, tx.body):
                if self._pin(batch, blob_hash):
                    continue
                if self.refused(blob_hash) is None and not self.is_wanted(blob_hash) \
                        and blob_hash not in newly_wanted:
                    newly_wanted.append(blob_hash)
        for blob_hash in newly_wanted:
            batch.put(index(WANT, blob_hash), b"")
        # The scanned height is saved with what a block pinned or wanted, else every SCAN_SAVE_EVERY blocks:
        # a block with no content needs nothing kept, and rescanning from the saved height after a
        # restart is idempotent. Writing it after every block made this derived marker, not the block,
        # the last record in the chain's log (what a power cut tears: tests/reliability/test_disk_damage.py).
        self._scanned = height
        if len(batch) or height % SCAN_SAVE_EVERY == 0:
            batch.put(SCAN_KEY, height_bytes(height))
            self.kv.write(batch, sync=False)  # lost in a power cut, it is scanned again: idempotent
        return newly_wanted

    def _pin(self, batch: WriteBatch, blob_hash: bytes) -> bool:
        """Make a held blob permanent (out of its uploader's quota); False when it is not held."""
        info = self.info(blob_hash)
        if info is None:
            return self._adopt(batch, blob_hash)
        if not self.blobs.has(blob_hash):
            return False
        if info.pinned:
            return True
        pinned = BlobInfo(blob_hash, info.content_type, info.size, info.uploader, info.added_ms, True, None)
        batch.put(index(BLOB, blob_hash), pinned.encode())
        self._drop_pending(batch, info)
        return True

    def _adopt(self, batch: WriteBatch, blob_hash: bytes) -> bool:
        """A blob file with no metadata (the database was rebuilt, the files kept): keep it if it checks out."""
        data = self.blobs.get(blob_hash)  # hashed on read: a wrong file is dropped here
        if data is None:
            return False
        try:
            content_type = classify(data, self.limits.kinds)
        except ContentRefused:
            self.blobs.delete(blob_hash)
            return False
        batch.put(index(BLOB, blob_hash), BlobInfo(blob_hash, content_type, len(data), None, 0, True, None).encode())
        return True

    def _drop_pending(self, batch: WriteBatch, info: BlobInfo) -> None:
        if info.pinned or info.expires_ms is None:
            return
        batch.delete(index(EXPIRY, _ms8(info.expires_ms) + info.hash))
        if info.uploader is not None:
            batch.delete(index(ACCOUNT, info.uploader + info.hash))
        self.pending_bytes -= info.size

    def store_fetched(self, blob_hash: bytes, data: bytes, now_ms: int) -> BlobInfo:
        """Keep a wanted blob a peer sent; ValueError when the bytes are not the hash's (the peer lied).

        Bytes that hash right but are no acceptable image or text are refused
        for good (``crefused``): asking other peers would give the same bytes.
        """
        if content_hash(data) != blob_hash:
            raise ValueError(f"the bytes hash to {content_hash(data).hex()[:16]}…, not {blob_hash.hex()[:16]}…")
        try:
            content_type = classify(data, self.limits.kinds)
        except ContentRefused as exc:
            batch = WriteBatch()
            batch.delete(index(WANT, blob_hash))
            batch.put(index(REFUSED, blob_hash), exc.reason.encode())
            self.kv.write(batch)
            log.warning("content %s referenced on chain is refused: %s", blob_hash.hex()[:16], exc)
            raise
        info = BlobInfo(blob_hash, content_type, len(data), None, now_ms, True, None)
        self.blobs.put(blob_hash, data)
        batch = WriteBatch()
        old = self.info(blob_hash)
        if old is not None:
            self._drop_pending(batch, old)
        batch.put(index(BLOB, blob_hash), info.encode())
        batch.delete(index(WANT, blob_hash))
        self.kv.write(batch)
        return info

    def _forget_damaged(self, info: BlobInfo) -> None:
        batch = WriteBatch()
        self._drop_pending(batch, info)
        batch.delete(index(BLOB, info.hash))
        if info.pinned:
            batch.put(index(WANT, info.hash), b"")
            log.warning("content %s was damaged on disk; fetching it again from peers", info.hash.hex()[:16])
        self.kv.write(batch)

    # ---- expiry --------------------------------------------------------------

    def sweep(self, now_ms: int, max_items: int = 1000) -> int:
        """Delete unreferenced uploads whose time is up; how many were deleted."""
        prefix = index_prefix(EXPIRY)
        done = 0
        batch = WriteBatch()
        for key, _ in self.kv.iterate(prefix):
            tail = key[len(prefix):]
            if int.from_bytes(tail[:8], "big") > now_ms or done >= max_items:
                break
            info = self.info(tail[8:])
            batch.delete(key)
            if info is not None and not info.pinned:
                self._drop_pending(batch, info)
                batch.delete(index(BLOB, info.hash))
                self.blobs.delete(info.hash)
            done += 1
        if done:
            self.kv.write(batch)
        return done
