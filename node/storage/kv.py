"""The storage contract: an ordered bytes→bytes map with atomic write batches.

Every backend (MemoryKV, LevelKV) implements ``KV`` and passes the one contract
suite in tests/node/test_storage_contract.py. Nothing here knows about blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from marketnode.core.errors import StorageError

Op = tuple[bytes, bytes | None]
"""One batch operation: (key, value) for a put, (key, None) for a delete."""


class KVReader(Protocol):
    """Reads shared by a live KV and a snapshot of it."""

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        ...

    def iterate(
        self, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs whose key starts with ``prefix``, in key order.

        ``start`` resumes a scan (pagination): forward, the first key yielded is
        the least key >= start; in reverse, the greatest key <= start. The
        iterator sees the data as it was when the iteration began.
        """
        ...


class KVSnapshot(KVReader, Protocol):
    """A consistent read view; ``close`` releases it (LevelDB pins files for it)."""

    def close(self) -> None: ...


class KV(KVReader, Protocol):
    """An ordered bytes→bytes store whose only write is an atomic batch."""

    def write(self, batch: WriteBatch, sync: bool = True) -> None:
        """Apply every op of ``batch`` in order, all or nothing.

        ``sync=True`` returns only once the batch is durable (fsync): what the
        chain commits must survive a power cut.
        """
        ...

    def snapshot(self) -> KVSnapshot:
        """A read view frozen at this instant, unaffected by later writes."""
        ...

    def close(self) -> None:
        """Release the store; any later use raises StorageError."""
        ...

    @property
    def fault(self) -> str | None:
        """The first read or write failure this store met (damage, I/O), kept for node_health; None while healthy."""
        ...


class WriteBatch:
    """Puts and deletes recorded in order, applied by ``KV.write`` as one unit.

    Building a batch touches no store, so abandoning one half-built (an
    exception, a crash) leaves the store exactly as it was.
    """

    __slots__ = ("ops",)

    def __init__(self) -> None:
        self.ops: list[Op] = []

    def put(self, key: bytes, value: bytes) -> None:
        self.ops.append((_check_bytes(key, "key"), _check_bytes(value, "value")))

    def delete(self, key: bytes) -> None:
        self.ops.append((_check_bytes(key, "key"), None))

    def __len__(self) -> int:
        return len(self.ops)


def _check_bytes(data: object, what: str) -> bytes:
    # Checked at build time so a bad op fails before anything is written.
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise StorageError(f"a {what} must be bytes, not {type(data).__name__}")


def prefix_upper_bound(prefix: bytes) -> bytes | None:
    """The least key greater than every key starting with ``prefix``; None if none exists.

    b"ab" → b"ac"; b"a\\xff" → b"b"; b"\\xff\\xff" (or b"") → None (no upper bound).
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
