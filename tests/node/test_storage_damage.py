"""A damaged LevelDB is refused or reported, never read as a smaller or different chain.

Each test writes a real chain with ChainStore into a real LevelDB, damages
it the way a disk does (bytes overwritten in the write-ahead log or in a
table) or the way an old non-paranoid open left it (records gone), and
checks that opening, reading or the start-up check says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_samples import (
    BLOCKS,
    CHAIN_ID,
    TXS,
    VALIDATOR_KEYS,
    block,
    certificate,
    only_file,
    overwrite_middle,
    write_chain,
)

from marketnode.core.errors import StorageCorruption, StorageError
from marketnode.core.hashing import digest
from marketnode.core.types import PREPARE, Block, Evidence, Vote
from marketnode.node.storage import schema
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.integrity import verify_chain
from marketnode.node.storage.kv import KV, WriteBatch
from marketnode.node.storage.level import LevelKV
from marketnode.node.storage.memory import MemoryKV


def delete_keys(kv: KV, keys: list[bytes]) -> None:
    batch = WriteBatch()
    for key in keys:
        batch.delete(key)
    kv.write(batch)


@pytest.fixture
def chain_dir(tmp_path: Path) -> Path:
    path = tmp_path / "db"
    write_chain(LevelKV(path)).close()
    return path


def test_bytes_overwritten_in_the_write_ahead_log_refuse_the_open(chain_dir: Path) -> None:
    overwrite_middle(only_file(chain_dir, ".log"))
    with pytest.raises(StorageCorruption, match=r"is damaged \(Corruption: .*rebuild the data directory"):
        LevelKV(chain_dir)


def test_a_torn_tail_of_the_log_is_a_crash_not_damage(chain_dir: Path) -> None:
    """A power cut mid-append leaves a short last record: LevelDB drops it, paranoid or not."""
    log = only_file(chain_dir, ".log")
    with log.open("r+b") as fh:
        fh.truncate(log.stat().st_size - 7)
    store = ChainStore(LevelKV(chain_dir))
    try:
        head = store.head()
        assert head is not None and BLOCKS - 1 <= head.height <= BLOCKS
        verify_chain(store)
    finally:
        store.close()


def test_bytes_overwritten_in_a_table_are_an_error_on_read_never_other_bytes(chain_dir: Path) -> None:
    LevelKV(chain_dir).close()  # reopening moves the log into a table (.ldb)
    original = LevelKV(chain_dir)
    blocks = {h: original.get(schema.block(h)) for h in range(1, BLOCKS + 1)}
    original.close()
    overwrite_middle(only_file(chain_dir, ".ldb"), at=0.15)  # keys sort b/ first: this lands among the blocks
    kv = LevelKV(chain_dir)
    try:
        assert kv.fault is None
        failed = []
        for height, data in blocks.items():
            try:
                assert kv.get(schema.block(height)) == data, f"block {height} read as other bytes"
            except StorageCorruption:
                failed.append(height)
        assert failed, "the overwritten bytes hit no block: move the damage"
        assert kv.fault is not None and "is damaged" in kv.fault
        with pytest.raises(StorageCorruption):
            list(kv.iterate(schema.BLOCK_PREFIX))
    finally:
        kv.close()


@pytest.mark.parametrize("at", [0.15, 0.5, 0.85])
def test_the_start_up_check_refuses_a_damaged_table(chain_dir: Path, at: float) -> None:
    LevelKV(chain_dir).close()
    overwrite_middle(only_file(chain_dir, ".ldb"), at=at)
    kv = LevelKV(chain_dir)
    try:
        with pytest.raises(StorageCorruption, match="is damaged"):
            verify_chain(ChainStore(kv))  # opening reads the head, the check reads everything else
    finally:
        kv.close()


@pytest.fixture
def store() -> ChainStore:
    return write_chain(MemoryKV())


def test_an_intact_chain_passes_and_the_next_check_starts_at_the_head(store: ChainStore) -> None:
    check = verify_chain(store)
    assert (check.first_height, check.head_height, check.blocks, check.txs) == (1, BLOCKS, BLOCKS, BLOCKS * TXS)
    assert check.state_entries == BLOCKS + 2
    again = verify_chain(store)
    assert (again.first_height, again.blocks) == (BLOCKS + 1, 0)
    assert verify_chain(store, full=True).blocks == BLOCKS


def test_blocks_lost_from_the_middle_are_found(store: ChainStore) -> None:
    """What a non-paranoid open of a damaged log left: blocks 36..41 gone, the head intact."""
    delete_keys(store.kv, [schema.block(h) for h in range(36, 42)])
    with pytest.raises(StorageCorruption, match=r"blocks 36\.\.41 are missing"):
        verify_chain(store)


def test_blocks_lost_below_the_head_are_found(store: ChainStore) -> None:
    delete_keys(store.kv, [schema.block(h) for h in range(BLOCKS - 3, BLOCKS)])
    with pytest.raises(StorageCorruption, match=rf"blocks {BLOCKS - 3}\.\.{BLOCKS - 1} are missing"):
        verify_chain(store)


@pytest.mark.parametrize(("key", "message"), [
    (schema.certificate(20), "certificate of block 20 is missing"),
    (schema.receipt(20, 1), "block 20 has 3 txs but 2 stored receipts"),
])
def test_a_lost_certificate_or_receipt_is_found(store: ChainStore, key: bytes, message: str) -> None:
    delete_keys(store.kv, [key])
    with pytest.raises(StorageCorruption, match=message):
        verify_chain(store)


def test_a_lost_tx_index_entry_is_found(store: ChainStore) -> None:
    lost = store.get_block(25).txs[2].hash  # type: ignore[union-attr]
    delete_keys(store.kv, [schema.tx(lost)])
    with pytest.raises(StorageCorruption, match=f"tx index entry of tx {lost.hex()} \\(block 25\\)"):
        verify_chain(store)


def test_a_block_replaced_by_another_breaks_the_parent_chain(store: ChainStore) -> None:
    other = block(30, b"\x01" * 32)
    batch = WriteBatch()
    batch.put(schema.block(30), other.encode())
    store.kv.write(batch)
    with pytest.raises(StorageCorruption, match="block 30 does not name block 29 as its parent"):
        verify_chain(store)


def test_bytes_that_no_longer_decode_are_damage(store: ChainStore) -> None:
    batch = WriteBatch()
    batch.put(schema.block(12), b"\x93garbage")
    store.kv.write(batch)
    with pytest.raises(StorageCorruption, match="stored block 12 no longer decodes"):
        verify_chain(store)


@pytest.mark.parametrize("damage", ["lost", "altered", "added"])
def test_state_entries_lost_altered_or_added_are_found(store: ChainStore, damage: str) -> None:
    batch = WriteBatch()
    if damage == "lost":
        batch.delete(schema.state(b"bal/40"))
    else:
        batch.put(schema.state(b"bal/40" if damage == "altered" else b"bal/extra"), b"0")
    store.kv.write(batch)
    with pytest.raises(StorageCorruption, match=r"state .* does not match its digest"):
        verify_chain(store)


def test_the_state_digest_follows_deletes_and_overwrites(store: ChainStore) -> None:
    head = store.head()
    assert head is not None
    b = block(BLOCKS + 1, head.block_hash, (), head.state_root)
    store.commit_block(b, certificate(b), [], {b"bal/3": None, b"bal/4": b"7", b"bal/new": b"1"})
    assert verify_chain(store).state_entries == BLOCKS + 2


def test_a_store_from_before_the_digest_gets_one_on_open(tmp_path: Path) -> None:
    kv = LevelKV(tmp_path / "db")
    write_chain(kv, blocks=3)
    delete_keys(kv, [schema.STATE_DIGEST])
    store = ChainStore(kv)
    try:
        assert kv.get(schema.STATE_DIGEST) is not None
        verify_chain(store)
    finally:
        store.close()


def test_a_missing_table_file_refuses_the_open(chain_dir: Path) -> None:
    LevelKV(chain_dir).close()
    only_file(chain_dir, ".ldb").unlink()
    with pytest.raises(StorageError, match=r"missing files|damaged"):
        LevelKV(chain_dir)


def test_evidence_carried_by_a_block_and_lost_is_found(store: ChainStore) -> None:
    key = VALIDATOR_KEYS[0]
    votes = sorted((Vote(CHAIN_ID, PREPARE, 3, 0, digest("header", s), key.public_key).sign(key) for s in (b"a", b"b")),
                   key=lambda v: v.block_hash)
    evidence = Evidence(*votes)
    head = store.head()
    assert head is not None
    b = Block.build(chain_id=CHAIN_ID, height=head.height + 1, view=0, timestamp_ms=1, parent_hash=head.block_hash,
                    proposer=key.public_key, state_root=head.state_root, txs=(), last_cert=None, evidence=(evidence,))
    store.commit_block(b, certificate(b), [], {})
    verify_chain(store)
    delete_keys(store.kv, [schema.evidence(evidence.hash)])
    with pytest.raises(StorageCorruption, match=f"evidence {evidence.hash.hex()} carried by block {b.height}"):
        verify_chain(store, full=True)
