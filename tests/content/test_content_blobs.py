"""The blob store contract: every backend (files, memory) passes every test here."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketnode.core.upload import content_hash
from marketnode.node.content.blobs import BlobStore, FileBlobs, MemoryBlobs


@pytest.fixture(params=["memory", "files"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return MemoryBlobs() if request.param == "memory" else FileBlobs(tmp_path / "blobs")


def test_a_stored_blob_reads_back_and_deletes(blobs: BlobStore) -> None:
    data = b"\x00\xffbytes" * 1000
    key = content_hash(data)
    assert blobs.get(key) is None and not blobs.has(key)
    blobs.put(key, data)
    assert blobs.has(key) and blobs.get(key) == data
    blobs.delete(key)
    blobs.delete(key)
    assert blobs.get(key) is None


def test_bytes_that_do_not_match_their_hash_are_never_returned(blobs: BlobStore) -> None:
    key = content_hash(b"right")
    blobs.put(key, b"wrong")
    assert blobs.get(key) is None


def test_files_survive_a_reopen_and_leave_no_partial_file(tmp_path: Path) -> None:
    data = b"durable"
    FileBlobs(tmp_path).put(content_hash(data), data)
    assert FileBlobs(tmp_path).get(content_hash(data)) == data
    assert not list(tmp_path.rglob("*.part"))
