"""The mempool journal: wallet txs written to disk (fsync'd) before the node acknowledges them.

A node killed right after answering ``tx_send`` would otherwise lose every
tx it had not yet gossiped. Each admitted tx is appended as one record; the
appends of every caller waiting at the same moment share one fsync (group
commit); at start the records are replayed through normal admission, and the
file is rewritten without committed txs once they make up most of it.

Record: ``u32 length | u32 crc32(raw) | raw`` (big-endian). A torn or damaged
tail (a crash mid-append) ends the replay there and is cut off. The journal
knows nothing of consensus; it never decides what is valid — replay does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("marketnode.journal")

MAGIC = b"MNJ1"
_HEADER = struct.Struct(">II")
MIN_COMPACT_RECORDS = 1024


def encode_record(raw: bytes) -> bytes:
    return _HEADER.pack(len(raw), zlib.crc32(raw)) + raw


def read_records(data: bytes, max_tx_bytes: int) -> tuple[list[bytes], int]:
    """The intact records of a journal file's bytes, and the offset where they end (the rest is torn)."""
    if not data.startswith(MAGIC):
        return [], 0
    records: list[bytes] = []
    offset = len(MAGIC)
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        if length > max_tx_bytes or start + length > len(data):
            break
        raw = data[start:start + length]
        if zlib.crc32(raw) != crc:
            break
        records.append(raw)
        offset = start + length
    return records, offset


@dataclass
class _Pending:
    records: list[bytes] = field(default_factory=list)
    waiters: list[asyncio.Future[bool]] = field(default_factory=list)


class MempoolJournal:
    """Append-only file of admitted raw txs; ``await record(...)`` returns once they are on disk.

    ``is_pending(tx_hash)`` tells a rewrite which journaled txs still wait in
    the mempool (the others are committed or dropped and are left out).
    """

    def __init__(self, path: Path, max_tx_bytes: int, is_pending: Callable[[bytes], bool],
                 max_file_bytes: int = 1 << 30) -> None:
        self.path = Path(path)
        self.max_tx_bytes = max_tx_bytes
        self.max_file_bytes = max_file_bytes  # replay reads no more than this: a bad disk cannot exhaust memory
        self.is_pending = is_pending
        self._live: dict[bytes, bytes] = {}  # tx hash → raw, journaled and not known to be gone
        self._records_on_disk = 0
        self._damaged = False  # a failed append may have left half a record: rewrite before the next one
        self._file: int | None = None
        self._pending = _Pending()
        self._wake: asyncio.Event | None = None
        self.fsyncs = 0
        self.records_written = 0

    # -- start ----------------------------------------------------------------

    def load(self) -> list[bytes]:
        """The raw txs journaled before the last stop, oldest first, for replay; cuts off a torn tail."""
        try:
            with self.path.open("rb") as journal:
                data = journal.read(self.max_file_bytes + 1)
        except FileNotFoundError:
            return []
        if len(data) > self.max_file_bytes:
            log.warning("mempool journal %s is larger than %d bytes; replaying only what fits", self.path,
                        self.max_file_bytes)
            data = data[: self.max_file_bytes]
        records, end = read_records(data, self.max_tx_bytes)
        if end < len(data):
            log.warning("mempool journal %s: %d bytes after the last intact record dropped (torn write)",
                        self.path, len(data) - end)
        return records

    def start(self, replayed: dict[bytes, bytes]) -> None:
        """Rewrite the file with the txs replay re-admitted (hash → raw) and open it for appends."""
        self._live = dict(replayed)
        self._rewrite(list(self._live.values()))

    # -- appends --------------------------------------------------------------

    async def record(self, txs: list[tuple[bytes, bytes]]) -> bool:
        """Journal ``[(tx_hash, raw), ...]``; True once fsync'd, False if the disk refused (logged)."""
        if not txs:
            return True
        for tx_hash, raw in txs:
            self._live[tx_hash] = raw
        if self._wake is None:  # not running (tests, tools): write through
            return self._flush_now([raw for _, raw in txs])
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.records += [raw for _, raw in txs]
        self._pending.waiters.append(fut)
        self._wake.set()
        return await fut

    async def run(self) -> None:
        """The one writer: each round writes every record queued meanwhile and fsyncs once (group commit)."""
        self._wake = asyncio.Event()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch, self._pending = self._pending, _Pending()
                if self._wants_rewrite():
                    self._live = {h: raw for h, raw in self._live.items() if self.is_pending(h)}
                    ok = await asyncio.to_thread(self._rewrite_safely, list(self._live.values()))
                else:
                    ok = await asyncio.to_thread(self._flush_now, batch.records)
                for fut in batch.waiters:
                    if not fut.done():
                        fut.set_result(ok)
        finally:
            self._wake = None
            for fut in self._pending.waiters:
                if not fut.done():
                    fut.set_result(False)

    def forget(self, tx_hashes: list[bytes]) -> None:
        """These txs committed: a later rewrite leaves them out (and one is due if they are most of the file)."""
        for tx_hash in tx_hashes:
            self._live.pop(tx_hash, None)
        if self._wake is not None and self._wants_rewrite():
            self._wake.set()

    def close(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None

    @property
    def live(self) -> int:
        return len(self._live)

    # -- file I/O (run in a worker thread by ``run``) ------------------------------

    def _wants_rewrite(self) -> bool:
        return self._damaged or self._records_on_disk >= max(MIN_COMPACT_RECORDS, 2 * len(self._live))

    def _flush_now(self, records: list[bytes]) -> bool:
        if not records:
            return True
        try:
            if self._file is None:
                self._rewrite(list(self._live.values()))
                return True
            _write_all(self._file, b"".join(encode_record(raw) for raw in records))
            os.fsync(self._file)
        except OSError as exc:
            log.error("mempool journal %s: write failed, acknowledging without durability: %s", self.path, exc)
            self._damaged = True
            return False
        self.fsyncs += 1
        self.records_written += len(records)
        self._records_on_disk += len(records)
        return True

    def _rewrite_safely(self, live: list[bytes]) -> bool:
        try:
            self._rewrite(live)
        except OSError as exc:
            log.error("mempool journal %s: rewrite failed: %s", self.path, exc)
            return False
        return True

    def _rewrite(self, live: list[bytes]) -> None:
        """Write ``live`` to a new file, fsync it and its directory, then swap it in: a crash keeps one or the other."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, MAGIC + b"".join(encode_record(raw) for raw in live))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self.close()
        self._file = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._records_on_disk = len(live)
        self._damaged = False
        self.fsyncs += 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
