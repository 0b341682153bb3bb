"""MemoryKV: the in-memory twin of LevelKV, for tests and simulations.

Keys live in a sorted list (bisect) beside a dict. Iterators and snapshots
share those two structures; the next write copies them first (copy-on-write),
so a reader never sees a write that happened after it began.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator

from core.errors import StorageError
from node.storage.kv import WriteBatch, prefix_upper_bound


class _SortedView:
    """Reads over one (sorted keys, dict) pair that nobody mutates while shared."""

    __slots__ = ("_data", "_keys", "_owner")

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
        keys, data = self._keys, self._data
        upper = prefix_upper_bound(prefix)
        lo = bisect_left(keys, prefix)
        hi = len(keys) if upper is None else bisect_left(keys, upper)
        if start is not None and not reverse:
            lo = max(lo, bisect_left(keys, start))
        if start is not None and reverse:
            hi = min(hi, bisect_right(keys, start))
        indexes = range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)
        return ((keys[i], data[keys[i]]) for i in indexes)

    def close(self) -> None:
        """Snapshots hold nothing to release; present for the KVSnapshot contract."""


class MemoryKV:
    """An ordered in-memory KV with the same contract as LevelKV."""

    def __init__(self) -> None:
        self._keys: list[bytes] = []
        self._data: dict[bytes, bytes] = {}
        self._shared = False  # an iterator or snapshot holds _keys/_data
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the in-memory database is closed")

    def _view(self) -> _SortedView:
        self._shared = True
        return _SortedView(self._keys, self._data, self)

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
        if self._shared:
            self._keys, self._data, self._shared = list(self._keys), dict(self._data), False
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

    def __len__(self) -> int:
        return len(self._keys)
