"""MemoryKV: the in-memory twin of LevelKV, for tests and simulations.

Keys live in a sorted list (bisect) beside a dict. Live iterators and
snapshots share those two structures; a write while any is alive copies them
first (copy-on-write), so a reader never sees a write that happened after it
began, and a write with no reader alive costs no copy.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator

from marketnode.core.errors import StorageError
from marketnode.node.storage.kv import WriteBatch, prefix_upper_bound


class _SortedView:
    """Reads over one (sorted keys, dict) pair that nobody mutates while shared."""

    __slots__ = ("__weakref__", "_data", "_keys", "_owner")

    def __init__(self, keys: list[bytes], data: dict[bytes, bytes], owner: MemoryKV) -> None:
        self._keys = keys
        self._data = data
        self._owner = owner

    def get(self, key: bytes) -> bytes | None:
        self._owner._check_open()
        return self._data.get(key)

    def iterate(
        self, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        self._owner._check_open()
        keys = self._keys
        upper = prefix_upper_bound(prefix)
        lo = bisect_left(keys, prefix)
        hi = len(keys) if upper is None else bisect_left(keys, upper)
        if start is not None and not reverse:
            lo = max(lo, bisect_left(keys, start))
        if start is not None and reverse:
            hi = min(hi, bisect_right(keys, start))
        return self._walk(range(hi - 1, lo - 1, -1) if reverse else range(lo, hi))

    def _walk(self, indexes: range) -> Iterator[tuple[bytes, bytes]]:
        # A generator method, so the view stays alive (and shared) exactly as long as the iterator.
        keys, data = self._keys, self._data
        for i in indexes:
            yield keys[i], data[keys[i]]

    def close(self) -> None:
        """Snapshots hold nothing to release; present for the KVSnapshot contract."""


class MemoryKV:
    """An ordered in-memory KV with the same contract as LevelKV."""

    def __init__(self) -> None:
        self._keys: list[bytes] = []
        self._data: dict[bytes, bytes] = {}
        self._views: weakref.WeakSet[_SortedView] = weakref.WeakSet()  # live iterators and snapshots
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the in-memory database is closed")

    def _view(self) -> _SortedView:
        view = _SortedView(self._keys, self._data, self)
        self._views.add(view)
        return view

    def get(self, key: bytes) -> bytes | None:
        self._check_open()
        return self._data.get(key)

    def iterate(
        self, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        self._check_open()
        return self._view().iterate(prefix, start, reverse)

    def snapshot(self) -> _SortedView:
        self._check_open()
        return self._view()

    def write(self, batch: WriteBatch, sync: bool = True) -> None:
        """Apply the batch; the ops were type-checked when recorded, so this cannot fail halfway."""
        self._check_open()
        if self._views:  # someone still reads these structures: give them a private copy
            self._keys, self._data = list(self._keys), dict(self._data)
            self._views = weakref.WeakSet()
        keys, data = self._keys, self._data
        for key, value in batch.ops:
            if value is None:
                if data.pop(key, None) is not None:
                    del keys[bisect_left(keys, key)]
                continue
            if key not in data:
                insort(keys, key)
            data[key] = value

    def close(self) -> None:
        self._closed = True

    @property
    def fault(self) -> str | None:
        """Memory cannot be damaged on disk: always None."""
        return None

    def __len__(self) -> int:
        return len(self._keys)
