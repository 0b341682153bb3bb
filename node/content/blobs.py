"""Where blob bytes live: one file per blob (``FileBlobs``), or a dict in tests (``MemoryBlobs``).

Blobs are immutable and up to megabytes, so they are files beside the chain's
LevelDB rather than values in it: LevelDB compaction would rewrite them again
and again, and a damaged blob is one file to refetch, not a damaged database.
Every read is checked against the hash, so a bit flipped on disk is never served.
Both backends pass tests/node/test_content_blobs.py.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Protocol

from marketnode.core.upload import content_hash


class BlobStore(Protocol):
    def get(self, blob_hash: bytes) -> bytes | None:
        """The blob's bytes (checked against ``blob_hash``), or None when absent or damaged."""
        ...

    def put(self, blob_hash: bytes, data: bytes) -> None:
        """Store ``data`` (whose sha256 the caller checked is ``blob_hash``) durably."""
        ...

    def delete(self, blob_hash: bytes) -> None: ...

    def has(self, blob_hash: bytes) -> bool: ...


class MemoryBlobs:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, blob_hash: bytes) -> bytes | None:
        data = self.data.get(blob_hash)
        return data if data is not None and content_hash(data) == blob_hash else None

    def put(self, blob_hash: bytes, data: bytes) -> None:
        self.data[blob_hash] = bytes(data)

    def delete(self, blob_hash: bytes) -> None:
        self.data.pop(blob_hash, None)

    def has(self, blob_hash: bytes) -> bool:
        return blob_hash in self.data


class FileBlobs:
    """``<root>/<first two hex chars>/<hex hash>``, written to a temporary name, fsync'd, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, blob_hash: bytes) -> Path:
        name = blob_hash.hex()
        return self.root / name[:2] / name

    def get(self, blob_hash: bytes) -> bytes | None:
        try:
            data = self._path(blob_hash).read_bytes()
        except OSError:
            return None
        if content_hash(data) != blob_hash:
            self.delete(blob_hash)  # damaged on disk: the store refetches it if the chain references it
            return None
        return data

    def put(self, blob_hash: bytes, data: bytes) -> None:
        path = self._path(blob_hash)
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)

    def delete(self, blob_hash: bytes) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(blob_hash).unlink()

    def has(self, blob_hash: bytes) -> bool:
        return self._path(blob_hash).is_file()
