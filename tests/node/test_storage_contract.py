"""The KV contract: every storage backend must pass every test here."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.core.errors import StorageError
from marketnode.node.storage.kv import KV, WriteBatch, prefix_upper_bound
from marketnode.node.storage.level import LevelKV
from marketnode.node.storage.memory import MemoryKV


@pytest.fixture(params=["memory", "level"])
def kv(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KV]:
    store: KV = MemoryKV() if request.param == "memory" else LevelKV(tmp_path / "db")
    yield store
    store.close()


def put_all(kv: KV, items: dict[bytes, bytes]) -> None:
    batch = WriteBatch()
    for key, value in items.items():
        batch.put(key, value)
    kv.write(batch)


def keys(pairs: Iterator[tuple[bytes, bytes]]) -> list[bytes]:
    return [key for key, _ in pairs]


KEYS = [b"", b"\x00", b"a", b"a\x00", b"a\xff", b"a\xff\xff", b"ab", b"b", b"\xff", b"\xff\xff", b"\xff\xff\x01"]


def test_get_returns_none_for_a_missing_key(kv: KV) -> None:
    assert kv.get(b"nope") is None


def test_iteration_is_in_byte_order_whatever_the_write_order(kv: KV) -> None:
    put_all(kv, {k: b"v" + k for k in reversed(KEYS)})
    assert keys(kv.iterate()) == sorted(KEYS)
    assert dict(kv.iterate()) == {k: b"v" + k for k in KEYS}


def test_reverse_iteration_is_descending(kv: KV) -> None:
    put_all(kv, {k: b"v" for k in KEYS})
    assert keys(kv.iterate(reverse=True)) == sorted(KEYS, reverse=True)


@pytest.mark.parametrize("prefix", [b"", b"a", b"a\xff", b"\xff", b"\xff\xff", b"zz", b"\x00"])
def test_prefix_iteration_yields_exactly_the_keys_with_that_prefix(kv: KV, prefix: bytes) -> None:
    put_all(kv, {k: b"v" for k in KEYS})
    expected = sorted(k for k in KEYS if k.startswith(prefix))
    assert keys(kv.iterate(prefix)) == expected
    assert keys(kv.iterate(prefix, reverse=True)) == expected[::-1]


def test_start_resumes_a_forward_scan_inclusively(kv: KV) -> None:
    put_all(kv, {k: b"v" for k in KEYS})
    assert keys(kv.iterate(b"a", start=b"a\xff")) == [b"a\xff", b"a\xff\xff"]
    assert keys(kv.iterate(b"a", start=b"a\x01")) == [b"ab", b"a\xff", b"a\xff\xff"]
    assert keys(kv.iterate(b"a", start=b"\x00")) == [b"a", b"a\x00", b"ab", b"a\xff", b"a\xff\xff"]
    assert keys(kv.iterate(b"a", start=b"b")) == []


def test_start_resumes_a_reverse_scan_inclusively(kv: KV) -> None:
    put_all(kv, {k: b"v" for k in KEYS})
    assert keys(kv.iterate(b"a", start=b"a\xff", reverse=True)) == [b"a\xff", b"ab", b"a\x00", b"a"]
    assert keys(kv.iterate(b"a", start=b"a\xfe", reverse=True)) == [b"ab", b"a\x00", b"a"]
    assert keys(kv.iterate(b"a", start=b"z", reverse=True)) == [b"a\xff\xff", b"a\xff", b"ab", b"a\x00", b"a"]
    assert keys(kv.iterate(b"a", start=b"\x00", reverse=True)) == []
    assert keys(kv.iterate(b"\xff", start=b"\xff\xff", reverse=True)) == [b"\xff\xff", b"\xff"]


def test_overwrite_replaces_the_value(kv: KV) -> None:
    put_all(kv, {b"k": b"one"})
    put_all(kv, {b"k": b"two"})
    assert kv.get(b"k") == b"two"
    assert list(kv.iterate()) == [(b"k", b"two")]


def test_empty_value_is_a_value_not_a_delete(kv: KV) -> None:
    put_all(kv, {b"k": b""})
    assert kv.get(b"k") == b""
    assert keys(kv.iterate()) == [b"k"]


def test_delete_removes_and_deleting_a_missing_key_is_harmless(kv: KV) -> None:
    put_all(kv, {b"a": b"1", b"b": b"2"})
    batch = WriteBatch()
    batch.delete(b"a")
    batch.delete(b"missing")
    kv.write(batch)
    assert kv.get(b"a") is None
    assert keys(kv.iterate()) == [b"b"]


def test_batch_ops_apply_in_order(kv: KV) -> None:
    batch = WriteBatch()
    batch.put(b"k", b"1")
    batch.delete(b"k")
    batch.put(b"j", b"1")
    batch.put(b"j", b"2")
    kv.write(batch, sync=False)
    assert kv.get(b"k") is None
    assert kv.get(b"j") == b"2"


def test_a_batch_that_fails_while_being_built_writes_nothing(kv: KV) -> None:
    put_all(kv, {b"keep": b"old"})

    def build() -> None:
        batch = WriteBatch()
        batch.put(b"keep", b"new")
        batch.put(b"other", b"x")
        batch.put(b"bad", 42)  # type: ignore[arg-type]
        kv.write(batch)

    with pytest.raises(StorageError, match="must be bytes"):
        build()
    assert list(kv.iterate()) == [(b"keep", b"old")]


def test_an_unwritten_batch_is_invisible(kv: KV) -> None:
    batch = WriteBatch()
    batch.put(b"k", b"v")
    assert kv.get(b"k") is None
    assert list(kv.iterate()) == []


def test_snapshot_does_not_see_later_writes(kv: KV) -> None:
    put_all(kv, {b"a": b"1", b"b": b"1"})
    snap = kv.snapshot()
    batch = WriteBatch()
    batch.put(b"a", b"2")
    batch.delete(b"b")
    batch.put(b"c", b"2")
    kv.write(batch)
    assert snap.get(b"a") == b"1"
    assert snap.get(b"b") == b"1"
    assert snap.get(b"c") is None
    assert list(snap.iterate()) == [(b"a", b"1"), (b"b", b"1")]
    assert list(kv.iterate()) == [(b"a", b"2"), (b"c", b"2")]
    snap.close()


def test_an_open_iterator_does_not_see_later_writes(kv: KV) -> None:
    put_all(kv, {b"a": b"1", b"b": b"1", b"c": b"1"})
    scan = kv.iterate()
    assert next(scan) == (b"a", b"1")
    batch = WriteBatch()
    batch.delete(b"b")
    batch.put(b"bb", b"2")
    batch.put(b"c", b"2")
    kv.write(batch)
    assert list(scan) == [(b"b", b"1"), (b"c", b"1")]


@pytest.mark.parametrize(
    "use",
    [
        lambda kv: kv.get(b"a"),
        lambda kv: list(kv.iterate()),
        lambda kv: kv.write(WriteBatch()),
        lambda kv: kv.snapshot(),
    ],
    ids=["get", "iterate", "write", "snapshot"],
)
def test_use_after_close_raises_storage_error(kv: KV, use: Callable[[KV], object]) -> None:
    kv.close()
    with pytest.raises(StorageError, match="closed"):
        use(kv)


def test_snapshot_use_after_close_raises_storage_error(kv: KV) -> None:
    snap = kv.snapshot()
    kv.close()
    with pytest.raises(StorageError, match="closed"):
        snap.get(b"a")


def test_prefix_upper_bound() -> None:
    assert prefix_upper_bound(b"ab") == b"ac"
    assert prefix_upper_bound(b"a\xff") == b"b"
    assert prefix_upper_bound(b"\xff\xff") is None
    assert prefix_upper_bound(b"") is None


# LevelKV only: what a disk adds to the contract.


def test_level_data_survives_reopen(tmp_path: Path) -> None:
    first = LevelKV(tmp_path / "db")
    put_all(first, {b"a": b"1", b"b": b"2"})
    first.close()
    second = LevelKV(tmp_path / "db")
    assert list(second.iterate()) == [(b"a", b"1"), (b"b", b"2")]
    second.close()


def test_level_refuses_a_second_opener_with_a_clear_message(tmp_path: Path) -> None:
    first = LevelKV(tmp_path / "db")
    with pytest.raises(StorageError, match="another node running"):
        LevelKV(tmp_path / "db")
    first.close()


def test_level_reports_a_corrupt_database(tmp_path: Path) -> None:
    first = LevelKV(tmp_path / "db")
    put_all(first, {b"a": b"1"})
    first.close()
    for manifest in (tmp_path / "db").glob("MANIFEST-*"):
        manifest.write_bytes(b"\x00garbage" * 64)
    with pytest.raises(StorageError, match="corrupt"):
        LevelKV(tmp_path / "db")


def test_level_missing_database_without_create_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open"):
        LevelKV(tmp_path / "absent", create_if_missing=False)


# Both backends against a plain dict, on random batches and random scans.

_small_keys = st.binary(max_size=3).map(lambda b: b.replace(b"\x01", b"\xff"))
_batches = st.lists(
    st.lists(st.tuples(_small_keys, st.one_of(st.none(), st.binary(max_size=2))), max_size=6), min_size=1, max_size=5
)
_scans = st.lists(st.tuples(st.binary(max_size=2), st.one_of(st.none(), _small_keys), st.booleans()), max_size=6)


def _model_scan(model: dict[bytes, bytes], prefix: bytes, start: bytes | None, reverse: bool) -> list[bytes]:
    chosen = sorted(k for k in model if k.startswith(prefix))
    if start is not None:
        chosen = [k for k in chosen if (k <= start if reverse else k >= start)]
    return chosen[::-1] if reverse else chosen


@settings(max_examples=60, deadline=None)
@given(batches=_batches, scans=_scans)
def test_both_backends_behave_like_a_sorted_dict(
    batches: list[list[tuple[bytes, bytes | None]]], scans: list[tuple[bytes, bytes | None, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores: list[KV] = [MemoryKV(), LevelKV(Path(tmp) / "db")]
        model: dict[bytes, bytes] = {}
        for ops in batches:
            batch = WriteBatch()
            for key, value in ops:
                if value is None:
                    batch.delete(key)
                    model.pop(key, None)
                else:
                    batch.put(key, value)
                    model[key] = value
            for store in stores:
                store.write(batch, sync=False)
        for store in stores:
            for prefix, start, reverse in scans:
                expected = _model_scan(model, prefix, start, reverse)
                assert keys(store.iterate(prefix, start, reverse)) == expected, (prefix, start, reverse)
            assert dict(store.iterate()) == model
            store.close()


def test_level_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "home" / "data" / "db"
    assert not path.parent.exists()
    kv = LevelKV(path)
    batch = WriteBatch()
    batch.put(b"k", b"v")
    kv.write(batch)
    kv.close()
    assert path.is_dir() and (path / "CURRENT").is_file(), f"no LevelDB was created at {path}"
    reopened = LevelKV(path, create_if_missing=False)  # the data is at that path, not beside it
    try:
        assert reopened.get(b"k") == b"v"
    finally:
        reopened.close()


def test_level_on_a_path_that_is_a_file_says_why_without_blaming_a_lock(tmp_path: Path) -> None:
    (tmp_path / "db").write_bytes(b"not a database")
    with pytest.raises(StorageError, match="cannot open") as info:
        LevelKV(tmp_path / "db")
    assert "another node" not in str(info.value)


def test_level_refuses_a_database_another_process_holds(tmp_path: Path) -> None:
    holder = (
        "import sys; from marketnode.node.storage.level import LevelKV; kv = LevelKV(sys.argv[1]); "
        "print('open', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder, str(tmp_path / "db")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "open\n"
        with pytest.raises(StorageError, match="another node running"):
            LevelKV(tmp_path / "db")
    finally:
        proc.communicate(timeout=10)
    LevelKV(tmp_path / "db").close()  # released once the holder exits
