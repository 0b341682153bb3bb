"""The data directory: damage refuses the open with the command that fixes it; reset keeps the double-sign record."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_samples import GENESIS_HASH, only_file, overwrite_middle, write_chain

from marketnode.consensus.records import LastSigned
from marketnode.core.errors import StorageCorruption, StorageError
from marketnode.core.types import COMMIT
from marketnode.node.datadir import open_checked, recover, reset
from marketnode.node.storage import schema
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.kv import WriteBatch
from marketnode.node.storage.level import LevelKV

RECORD = LastSigned(7, 0, COMMIT, b"\x01" * 32).encode()


def genesis(store: ChainStore) -> None:
    store.init_genesis(GENESIS_HASH, {b"bal/genesis": b"1035"})


def test_a_damaged_store_is_refused_with_the_reset_command_for_this_home(tmp_path: Path) -> None:
    data = tmp_path / "home" / "data"
    write_chain(LevelKV(data)).close()
    overwrite_middle(only_file(data, ".log"))
    with pytest.raises(StorageCorruption, match=rf"is damaged .*marketnode data reset --home {tmp_path / 'home'}"):
        open_checked(data, tmp_path / "home", genesis)


def test_a_chain_with_blocks_lost_is_refused_with_what_is_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kv = LevelKV(data)
    write_chain(kv)
    batch = WriteBatch()
    batch.delete(schema.block(36))
    kv.write(batch)
    kv.close()
    with pytest.raises(StorageCorruption, match=r"block 36 is missing .*To fix it: stop the node, run `marketnode"):
        open_checked(data, tmp_path, genesis)
    LevelKV(data).close()  # the refusal released the database lock


def test_an_intact_store_opens_checked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_chain(LevelKV(data)).close()
    kv, store, check = open_checked(data, tmp_path, genesis)
    try:
        assert store.head().height == check.head_height == 60  # type: ignore[union-attr]
    finally:
        kv.close()


def test_reset_keeps_the_last_signed_record_of_a_damaged_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kv = LevelKV(data)
    ChainStore(kv).save_last_signed(RECORD)
    kv.close()
    write_chain(LevelKV(data)).close()
    overwrite_middle(only_file(data, ".log"), at=0.6)
    report = reset(data)
    assert report.kept_last_signed and report.warning and "may not be the latest" in report.warning
    kv = LevelKV(data)
    try:
        store = ChainStore(kv)
        assert store.head() is None and store.load_last_signed() == RECORD
    finally:
        kv.close()


def test_reset_drops_a_last_signed_record_that_no_longer_decodes_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kv = LevelKV(data)
    ChainStore(kv).save_last_signed(RECORD[:-3])
    kv.close()
    report = reset(data)
    assert not report.kept_last_signed and report.warning and "could not read the last-signed record" in report.warning


def test_reset_of_an_intact_store_keeps_the_record_without_a_warning(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kv = LevelKV(data)
    ChainStore(kv).save_last_signed(RECORD)
    kv.close()
    report = reset(data)
    assert report.kept_last_signed and report.warning is None


def test_reset_refuses_a_data_directory_that_holds_the_node_key(tmp_path: Path) -> None:
    key = tmp_path / "node_key"
    key.write_text("secret")
    with pytest.raises(StorageError, match="lies inside the data directory"):
        reset(tmp_path, keep=(key,))
    assert key.read_text() == "secret"


def test_reset_of_a_missing_directory_makes_an_empty_store(tmp_path: Path) -> None:
    report = reset(tmp_path / "data")
    assert not report.kept_last_signed
    LevelKV(tmp_path / "data", create_if_missing=False).close()


def tear_last_record(log: Path) -> None:
    """What a power cut mid-append can leave: the last record's length intact, its bytes not."""
    with log.open("r+b") as fh:
        fh.seek(log.stat().st_size - 40)
        fh.write(b"\xaa" * 40)


def test_a_torn_last_write_is_refused_and_recover_keeps_the_chain_up_to_the_block_before(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_chain(LevelKV(data)).close()
    tear_last_record(only_file(data, ".log"))
    with pytest.raises(StorageCorruption, match="marketnode data recover --home"):
        open_checked(data, tmp_path, genesis)
    check = recover(data, tmp_path)
    assert check.head_height == 59 and check.blocks == 59
    kv, store, _ = open_checked(data, tmp_path, genesis)
    try:
        assert store.head().height == 59  # type: ignore[union-attr]
    finally:
        kv.close()


def test_an_observer_open_recovers_a_torn_last_write_by_itself(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_chain(LevelKV(data)).close()
    tear_last_record(only_file(data, ".log"))
    kv, store, check = open_checked(data, tmp_path, genesis, recover=True)
    try:
        assert store.head().height == check.head_height == 59 and check.blocks == 59  # type: ignore[union-attr]
    finally:
        kv.close()


@pytest.mark.parametrize("how", ["data recover", "observer open"])
def test_a_log_damaged_in_the_middle_is_still_refused_after_recovery_saying_what_is_lost(tmp_path: Path, how: str) -> None:
    data = tmp_path / "data"
    write_chain(LevelKV(data)).close()
    overwrite_middle(only_file(data, ".log"))
    with pytest.raises(StorageCorruption, match=r"blocks \d+\.\.\d+ are missing.*marketnode data reset --home"):
        if how == "data recover":
            recover(data, tmp_path)
        else:
            open_checked(data, tmp_path, genesis, recover=True)
    LevelKV(data).close()  # released
