"""The bytes -> bytes key-value view the market rules read and write through.

``MemoryState`` holds a whole state in a dict (tests, simulator);
``StateOverlay`` buffers one block's writes over a read-only base (the node's
database) and hands them back as ``changes()``. Both support savepoints, so
a failing tx's writes can be discarded. Nothing here touches disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

_MISSING = object()


class StateReader(Protocol):
    """Read-only state: what the checks that change nothing take (``check_tx``, ``next_nonce``, ...),
    and what an overlay needs from the state beneath it (the node's database at the head).
    ``iterate`` yields (key, value) in ascending key order."""

    def get(self, key: bytes) -> bytes | None: ...

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]: ...


class State(StateReader, Protocol):
    """Read-write state with savepoints, so a failing tx's writes can be discarded (market/engine.py).

    Savepoints nest; each token from ``savepoint()`` is ended once, by ``rollback`` (undo every write
    since) or ``release`` (keep them).
    """

    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def savepoint(self) -> int: ...

    def rollback(self, token: int) -> None: ...

    def release(self, token: int) -> None: ...


class _Journaled:
    """Savepoints over a dict of writes: a journal of each key's previous slot.

    The journal only grows while a savepoint is open and is dropped when the
    outermost one is released or rolled back, so a long-lived state does not
    leak. Savepoints nest; each must be ended (rollback or release) once.
    """

    _slots: dict[bytes, bytes | None]
    _journal: list[tuple[bytes, object]] | None = None
    _depth: int = 0

    def _remember(self, key: bytes) -> None:
        if self._journal is not None:
            self._journal.append((key, self._slots.get(key, _MISSING)))

    def savepoint(self) -> int:
        """Start recording writes; pass the token to ``rollback`` or ``release``."""
        if self._journal is None:
            self._journal = []
        self._depth += 1
        return len(self._journal)

    def rollback(self, token: int) -> None:
        """Undo every write made since ``savepoint()`` returned ``token``, and end that savepoint."""
        journal = self._journal or []
        while len(journal) > token:
            key, previous = journal.pop()
            if previous is _MISSING:
                self._slots.pop(key, None)
            else:
                self._slots[key] = previous  # type: ignore[assignment]
        self.release(token)

    def release(self, token: int) -> None:
        """Keep the writes since ``token`` and end that savepoint."""
        self._depth -= 1
        if self._depth <= 0:
            self._depth = 0
            self._journal = None


class MemoryState(_Journaled):
    """A complete state in a dict."""

    def __init__(self, items: dict[bytes, bytes] | None = None) -> None:
        self._slots: dict[bytes, bytes | None] = dict(items or {})

    def get(self, key: bytes) -> bytes | None:
        return self._slots.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self._remember(key)
        self._slots[key] = value

    def delete(self, key: bytes) -> None:
        if key in self._slots:
            self._remember(key)
            del self._slots[key]

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for key in sorted(k for k in self._slots if k.startswith(prefix)):
            value = self._slots.get(key)
            if value is not None:
                yield key, value

    def items(self) -> dict[bytes, bytes]:
        """A copy of every entry (for tests and snapshots)."""
        return {k: v for k, v in self._slots.items() if v is not None}

    def apply(self, changes: dict[bytes, bytes | None]) -> None:
        """Write a change set as returned by ``StateOverlay.changes()``."""
        for key, value in changes.items():
            if value is None:
                self.delete(key)
            else:
                self.put(key, value)


class StateOverlay(_Journaled):
    """Buffered writes over ``base``; the base is never written.

    With ``cache_reads`` the overlay also remembers what it read from the base:
    only for a base that cannot change while the overlay lives (the node's
    database while one block executes), where it saves a LevelDB read each
    time a block's txs touch the same params, nonces and balances again.
    """

    def __init__(self, base: StateReader, cache_reads: bool = False) -> None:
        self._base = base
        self._slots: dict[bytes, bytes | None] = {}
        self._read_cache: dict[bytes, bytes | None] | None = {} if cache_reads else None

    def get(self, key: bytes) -> bytes | None:
        value = self._slots.get(key, _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
        cache = self._read_cache
        if cache is None:
            return self._base.get(key)
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = cache[key] = self._base.get(key)
        return value  # type: ignore[return-value]

    def put(self, key: bytes, value: bytes) -> None:
        self._remember(key)
        self._slots[key] = value

    def delete(self, key: bytes) -> None:
        self._remember(key)
        self._slots[key] = None

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Merge the base's entries with the buffered ones, buffered winning."""
        buffered = sorted((k, v) for k, v in self._slots.items() if k.startswith(prefix))
        base = self._base.iterate(prefix)
        pending = next(base, None)
        for key, value in buffered:
            while pending is not None and pending[0] < key:
                yield pending
                pending = next(base, None)
            if pending is not None and pending[0] == key:
                pending = next(base, None)
            if value is not None:
                yield key, value
        while pending is not None:
            yield pending
            pending = next(base, None)

    def changes(self) -> dict[bytes, bytes | None]:
        """Every key written since creation: its new value, or None if deleted."""
        return dict(self._slots)

    def base_values(self) -> dict[bytes, bytes | None]:
        """What the overlay read from the base (``cache_reads`` only; else empty): the values before its writes."""
        return dict(self._read_cache or {})
