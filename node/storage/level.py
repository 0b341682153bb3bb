"""LevelKV: the on-disk KV, LevelDB through plyvel.

The only module in the project that imports plyvel. Every plyvel failure
leaves here as a StorageError saying what happened and what to do.

LevelDB is opened with ``paranoid_checks`` and every read verifies block
checksums: without them a damaged write-ahead log is skipped silently on
open (whole blocks vanish while the head stays) and a damaged table can be
read as wrong bytes. With them damage is a ``StorageCorruption``, and the
first one is kept in ``fault`` so the node can report itself unhealthy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import plyvel

from marketnode.core.errors import StorageCorruption, StorageError
from marketnode.node.storage.kv import WriteBatch, prefix_upper_bound


def _forward_bounds(prefix: bytes, start: bytes | None) -> dict[str, Any] | None:
    """plyvel iterator arguments for a forward prefix scan from ``start``; None if the range is empty."""
    upper = prefix_upper_bound(prefix)
    lower = prefix if start is None else max(prefix, start)
    if upper is not None and lower >= upper:
        return None
    return {"start": lower, "stop": upper, "include_start": True, "include_stop": False}


def _seek_last_at_most(raw: Any, key: bytes) -> None:
    raw.seek(key)
    if not raw.valid():
        raw.seek_to_last()
    elif raw.key() != key:
        raw.prev()


def _seek_last_below(raw: Any, key: bytes) -> None:
    raw.seek(key)
    if raw.valid():
        raw.prev()
    else:
        raw.seek_to_last()


def _reverse_scan(raw: Any, prefix: bytes, start: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    """Walk a plyvel raw iterator backwards from min(start, end of prefix) down to prefix.

    Done by hand because plyvel's ``iterator(reverse=True, start=, stop=)``
    skips ranges whose stop key is absent.
    """
    upper = prefix_upper_bound(prefix)
    if start is not None and (upper is None or start < upper):
        _seek_last_at_most(raw, start)
    elif upper is not None:
        _seek_last_below(raw, upper)
    else:
        raw.seek_to_last()
    while raw.valid():
        key = raw.key()
        if key < prefix:
            return
        yield key, raw.value()
        raw.prev()


def _reason(exc: BaseException) -> str:
    """plyvel carries LevelDB's message as bytes; make it readable."""
    arg = exc.args[0] if exc.args else exc
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


DAMAGED_HINT = "nothing read from it can be trusted; stop the node and rebuild the data directory from peers"


def damaged(path: Path, reason: str) -> StorageCorruption:
    """The one wording of 'this database is damaged', at open and at run time."""
    return StorageCorruption(f"the database at {path} is damaged ({reason}); {DAMAGED_HINT}")


class _Faults:
    """The first storage failure a LevelKV or any of its snapshots met; shared between them."""

    __slots__ = ("first",)

    def __init__(self) -> None:
        self.first: str | None = None


class _LevelReader:
    """get/iterate over a plyvel DB or snapshot, with plyvel errors translated."""

    __slots__ = ("_faults", "_path", "_source")

    def __init__(self, source: Any, path: Path, faults: _Faults) -> None:
        self._source = source
        self._path = path
        self._faults = faults

    def _failed(self, exc: Exception) -> StorageError:
        if isinstance(exc, RuntimeError):
            return StorageError(f"the database at {self._path} is closed")
        reason = _reason(exc)
        error = damaged(self._path, reason) if isinstance(exc, plyvel.CorruptionError) else \
            StorageError(f"database error at {self._path}: {reason}")
        if self._faults.first is None:
            self._faults.first = str(error)
        return error

    def get(self, key: bytes) -> bytes | None:
        try:
            return self._source.get(key, verify_checksums=True)
        except (RuntimeError, plyvel.Error) as exc:
            raise self._failed(exc) from exc

    def iterate(
        self, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        try:
            if reverse:
                return self._drain(self._source.raw_iterator(verify_checksums=True), _reverse_scan, prefix, start)
            bounds = _forward_bounds(prefix, start)
            if bounds is None:
                return iter(())
            return self._drain(self._source.iterator(**bounds, verify_checksums=True), iter)
        except (RuntimeError, plyvel.Error) as exc:
            raise self._failed(exc) from exc

    def _drain(self, raw: Any, walk: Callable[..., Iterator[tuple[bytes, bytes]]], *args: Any) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``walk(raw, *args)`` with plyvel errors translated and the iterator released."""
        try:
            yield from walk(raw, *args)
        except (RuntimeError, plyvel.Error) as exc:
            raise self._failed(exc) from exc
        finally:
            raw.close()


class _LevelSnapshot(_LevelReader):
    __slots__ = ()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # the DB closed first, which released the snapshot
            self._source.close()


class LevelKV(_LevelReader):
    """LevelDB at ``path`` (created if missing), holding its lock until ``close``.

    ``paranoid=False`` lets LevelDB recover a damaged store by skipping what
    it cannot read; only ``marketnode data reset`` uses it, to rescue the
    last-signed record from a store it is about to delete.
    """

    __slots__ = ("_db",)

    def __init__(self, path: str | Path, create_if_missing: bool = True, paranoid: bool = True) -> None:
        path = Path(path)
        try:
            if create_if_missing:
                path.parent.mkdir(parents=True, exist_ok=True)
            db = plyvel.DB(str(path), create_if_missing=create_if_missing, paranoid_checks=paranoid)
        except plyvel.CorruptionError as exc:
            raise damaged(path, _reason(exc)) from exc
        except plyvel.Error as exc:
            reason = _reason(exc)
            hint = " Is another node running on this home?" if reason.startswith("IO error: lock ") else ""
            raise StorageError(f"cannot open the database at {path}: {reason}.{hint}") from exc
        except OSError as exc:  # after plyvel's errors: plyvel.IOError is an OSError too
            raise StorageError(f"cannot create the directory for the database at {path}: {exc}") from exc
        super().__init__(db, path, _Faults())
        self._db = db

    @property
    def path(self) -> Path:
        return self._path

    @property
    def fault(self) -> str | None:
        """The first read or write failure since open (a damaged block, an I/O error); None while healthy."""
        return self._faults.first

    def write(self, batch: WriteBatch, sync: bool = True) -> None:
        try:
            wb = self._db.write_batch(transaction=True, sync=sync)
            for key, value in batch.ops:
                if value is None:
                    wb.delete(key)
                else:
                    wb.put(key, value)
            wb.write()
        except (RuntimeError, plyvel.Error) as exc:
            raise self._failed(exc) from exc

    def snapshot(self) -> _LevelSnapshot:
        try:
            return _LevelSnapshot(self._db.snapshot(), self._path, self._faults)
        except (RuntimeError, plyvel.Error) as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        self._db.close()

    @property
    def closed(self) -> bool:
        return bool(self._db.closed)
