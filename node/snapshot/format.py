"""A state snapshot's canonical bytes: chunks of (key, value) pairs in key order, and their manifest.

A snapshot is the whole market state after block ``height``. Its entries,
in ascending key order, are cut into chunks of about ``chunk_bytes`` each
(a new chunk starts when adding the next entry would pass the budget; a
lone entry larger than the budget is a chunk by itself). A chunk is the
canonical encoding of ``[[key, value], ...]``; the manifest lists every
chunk's hash ``digest("snapshot-chunk", chunk)`` with the height, the
state root and the entry count, and is hashed as
``digest("snapshot-manifest", manifest)`` (docs/PROTOCOL.md §7.4).

Nothing here is signed: a manifest is trusted only once the state rebuilt
from its chunks hashes to a ``state_root`` certified by the validators.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from marketnode.core import fields as f
from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError
from marketnode.core.hashing import HASH_SIZE, digest

FORMAT = 1
ENTRY_OVERHEAD = 8  # msgpack headers of one [key, value] pair, counted against the chunk budget


def chunk_hash(chunk: bytes) -> bytes:
    return digest("snapshot-chunk", chunk)


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a snapshot holds: its height, the state root it must rebuild to, and its chunks' hashes."""

    height: int
    state_root: bytes
    entries: int
    chunks: tuple[bytes, ...]

    FIELDS: ClassVar[tuple[str, ...]] = ("chunks", "entries", "format", "height", "state_root")

    def encode(self) -> bytes:
        return encode({"chunks": list(self.chunks), "entries": self.entries, "format": FORMAT,
                       "height": self.height, "state_root": self.state_root})

    @property
    def hash(self) -> bytes:
        return digest("snapshot-manifest", self.encode())

    @classmethod
    def decode(cls, data: bytes, max_chunks: int) -> Manifest:
        """Parse a manifest of at most ``max_chunks`` chunks (DecodeError naming the fault otherwise)."""
        what = "snapshot manifest"
        obj = f.expect_map(decode(data, 64 + (HASH_SIZE + 2) * (max_chunks + 1)), what, cls.FIELDS)
        if f.u64(obj, "format", what) != FORMAT:
            raise DecodeError(f"{what}: format {obj['format']} is not {FORMAT}")
        chunks = f.seq(obj, "chunks", what, max_chunks)
        if not chunks:
            raise DecodeError(f"{what}: no chunks (a state always holds the chain's meta keys)")
        if not all(isinstance(c, bytes) and len(c) == HASH_SIZE for c in chunks):
            raise DecodeError(f"{what}: each chunk is named by its {HASH_SIZE}-byte hash")
        return cls(height=f.u64(obj, "height", what), state_root=f.raw(obj, "state_root", what, HASH_SIZE),
                   entries=f.u64(obj, "entries", what), chunks=tuple(chunks))


def cut_chunks(entries: Iterable[tuple[bytes, bytes]], chunk_bytes: int) -> Iterator[list[tuple[bytes, bytes]]]:
    """The entries (already in ascending key order) grouped into chunks by the budget rule above."""
    chunk: list[tuple[bytes, bytes]] = []
    size = 0
    for key, value in entries:
        cost = len(key) + len(value) + ENTRY_OVERHEAD
        if chunk and size + cost > chunk_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append((key, value))
        size += cost
    if chunk:
        yield chunk


def encode_chunk(pairs: list[tuple[bytes, bytes]]) -> bytes:
    return encode([[key, value] for key, value in pairs])


def decode_chunk(data: bytes, max_bytes: int) -> list[tuple[bytes, bytes]]:
    """The pairs of one chunk: each [key bytes, value bytes], keys strictly ascending, at least one."""
    if len(data) > max_bytes:
        raise DecodeError(f"snapshot chunk: {len(data)} bytes exceeds the limit of {max_bytes}")
    obj: Any = decode(data, max_bytes)
    if not isinstance(obj, list) or not obj:
        raise DecodeError("snapshot chunk: expected a non-empty list of [key, value] pairs")
    pairs: list[tuple[bytes, bytes]] = []
    for entry in obj:
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, bytes) for x in entry)):
            raise DecodeError("snapshot chunk: each entry is [key bytes, value bytes]")
        if pairs and entry[0] <= pairs[-1][0]:
            raise DecodeError("snapshot chunk: keys are not in strictly ascending order")
        pairs.append((entry[0], entry[1]))
    return pairs
