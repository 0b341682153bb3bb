"""ChainStore: one atomic batch per block, a head that always points at a whole block."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from storage_samples import (
    CHAIN_ID,
    GENESIS_HASH,
    VALIDATOR_KEYS,
    block,
    certificate,
    receipts_for,
    state_root,
    tx,
)

from marketnode.core import smt
from marketnode.core.errors import StorageError
from marketnode.core.hashing import digest
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, PREPARE, Block, Certificate, Evidence, Vote
from marketnode.node.storage import schema
from marketnode.node.storage.chainstore import ChainStore, Head
from marketnode.node.storage.kv import KV, WriteBatch
from marketnode.node.storage.level import LevelKV
from marketnode.node.storage.memory import MemoryKV


@pytest.fixture(params=["memory", "level"])
def kv(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KV]:
    store: KV = MemoryKV() if request.param == "memory" else LevelKV(tmp_path / "db")
    yield store
    store.close()


@pytest.fixture
def store(kv: KV) -> ChainStore:
    s = ChainStore(kv)
    s.init_genesis(GENESIS_HASH, {b"acct/a": b"100", b"acct/b": b"5"}, timestamp_ms=42)
    return s


def commit_next(store: ChainStore, ntxs: int = 2, changes: dict[bytes, bytes | None] | None = None) -> Block:
    head = store.head()
    assert head is not None
    height = head.height + 1
    b = block(height, head.block_hash, tuple(tx(height * 10 + i) for i in range(ntxs)), head.state_root)
    store.commit_block(b, certificate(b), receipts_for(b), changes or {})
    return b


def test_an_empty_store_has_no_head_and_no_genesis() -> None:
    store = ChainStore(MemoryKV())
    assert store.head() is None
    assert store.genesis_hash() is None


def test_genesis_sets_a_height_zero_head_and_the_state(store: ChainStore) -> None:
    assert store.head() == Head(0, GENESIS_HASH, smt.root_of({b"acct/a": b"100", b"acct/b": b"5"}), 42)
    assert store.genesis_hash() == GENESIS_HASH
    assert store.state_reader().get(b"acct/a") == b"100"


def test_genesis_again_is_a_no_op_and_another_genesis_is_refused(store: ChainStore) -> None:
    commit_next(store)
    store.init_genesis(GENESIS_HASH, {b"acct/a": b"0"})
    assert store.state_reader().get(b"acct/a") == b"100"
    assert store.head().height == 1  # type: ignore[union-attr]
    with pytest.raises(StorageError, match="another chain"):
        store.init_genesis(digest("genesis", b"other"), {})


def test_a_committed_block_is_readable_every_way(store: ChainStore) -> None:
    b = commit_next(store, ntxs=3, changes={b"acct/a": b"90", b"acct/b": None, b"acct/c": b"10"})
    assert store.head() == Head(1, b.hash, smt.root_of({b"acct/a": b"90", b"acct/c": b"10"}), b.header.timestamp_ms)
    assert store.get_block(1) == b
    assert store.get_block_bytes(1) == b.encode()
    assert store.get_block_by_hash(b.hash) == b
    assert store.get_block_height(b.hash) == 1
    assert store.get_certificate(1) == certificate(b)
    assert store.get_certificate_bytes(1) == certificate(b).encode()
    assert store.get_receipts(1) == receipts_for(b)
    assert store.get_receipt(1, 2) == receipts_for(b)[2]
    assert [store.get_tx_location(t.hash) for t in b.txs] == [(1, 0), (1, 1), (1, 2)]
    state = store.state_reader()
    assert (state.get(b"acct/a"), state.get(b"acct/b"), state.get(b"acct/c")) == (b"90", None, b"10")


def test_unknown_things_read_as_none_or_empty(store: ChainStore) -> None:
    assert store.get_block(7) is None
    assert store.get_block_by_hash(digest("header", b"x")) is None
    assert store.get_certificate(7) is None
    assert store.get_receipts(7) == []
    assert store.get_tx_location(digest("tx", b"x")) is None
    assert store.load_last_signed() is None


def test_receipts_of_neighbouring_heights_do_not_mix(store: ChainStore) -> None:
    first = commit_next(store, ntxs=2)
    second = commit_next(store, ntxs=1)
    assert store.get_receipts(1) == receipts_for(first)
    assert store.get_receipts(2) == receipts_for(second)


def equivocation(k: PrivateKey, height: int, view: int) -> Evidence:
    votes = sorted(
        (Vote(CHAIN_ID, PREPARE, height, view, digest("header", s), k.public_key).sign(k) for s in (b"a", b"b")),
        key=lambda v: v.block_hash,
    )
    return Evidence(*votes)


def test_evidence_in_a_block_is_stored_by_hash(store: ChainStore) -> None:
    k = VALIDATOR_KEYS[0]
    evidence = equivocation(k, 1, 0)
    head = store.head()
    assert head is not None
    b = Block.build(
        chain_id=CHAIN_ID, height=1, view=0, timestamp_ms=1, parent_hash=head.block_hash,
        proposer=k.public_key, state_root=head.state_root, txs=(), last_cert=None, evidence=(evidence,),
    )
    store.commit_block(b, certificate(b), [], {})
    assert store.get_evidence(evidence.hash) == evidence
    assert list(store.iter_evidence()) == [evidence]


def test_evidence_seen_locally_is_saved_and_listed(store: ChainStore) -> None:
    evidence = equivocation(VALIDATOR_KEYS[1], 9, 2)
    store.save_evidence(evidence)
    assert store.get_evidence(evidence.hash) == evidence
    assert list(store.iter_evidence()) == [evidence]


def test_state_reader_adds_and_strips_the_state_prefix(store: ChainStore) -> None:
    commit_next(store, changes={b"acct/c": b"1", b"listing/1": b"x"})
    state = store.state_reader()
    assert list(state.iterate(b"acct/")) == [(b"acct/a", b"100"), (b"acct/b", b"5"), (b"acct/c", b"1")]
    assert [k for k, _ in state.iterate(b"acct/", reverse=True)] == [b"acct/c", b"acct/b", b"acct/a"]
    assert [k for k, _ in state.iterate(b"acct/", start=b"acct/b")] == [b"acct/b", b"acct/c"]
    assert [k for k, _ in state.iterate()] == [b"acct/a", b"acct/b", b"acct/c", b"listing/1"]


def test_state_reader_over_a_snapshot_ignores_later_blocks(store: ChainStore) -> None:
    snapshot = store.kv.snapshot()
    commit_next(store, changes={b"acct/a": b"0"})
    assert store.state_reader(snapshot).get(b"acct/a") == b"100"
    assert store.state_reader().get(b"acct/a") == b"0"
    snapshot.close()


def test_secondary_indexes_go_through_extra(store: ChainStore) -> None:
    head = store.head()
    assert head is not None
    b = block(1, head.block_hash)
    extra: dict[bytes, bytes | None] = {schema.index("by_seller", b"s1/0001"): b"", schema.index("by_seller", b"s1/0002"): b""}
    store.commit_block(b, certificate(b), [], {}, extra)
    assert [k for k, _ in store.iterate_index("by_seller", prefix=b"s1/")] == [b"s1/0001", b"s1/0002"]


def test_extra_outside_the_index_prefix_is_refused_and_nothing_is_written(store: ChainStore) -> None:
    head = store.head()
    assert head is not None
    b = block(1, head.block_hash)
    with pytest.raises(StorageError, match="secondary-index"):
        store.commit_block(b, certificate(b), [], {b"acct/a": b"0"}, {schema.HEAD: b"x"})
    assert store.head() == head
    assert store.get_block(1) is None
    assert store.state_reader().get(b"acct/a") == b"100"


@pytest.mark.parametrize("height_delta", [0, 2])
def test_a_block_that_does_not_follow_the_head_is_refused(store: ChainStore, height_delta: int) -> None:
    first = commit_next(store)
    b = block(1 + height_delta, first.hash)
    with pytest.raises(StorageError, match="does not follow"):
        store.commit_block(b, certificate(b), [], {})


def test_a_block_on_another_parent_is_refused(store: ChainStore) -> None:
    commit_next(store)
    b = block(2, digest("header", b"fork"))
    with pytest.raises(StorageError, match="does not extend"):
        store.commit_block(b, certificate(b), [], {})


def test_a_certificate_for_another_block_is_refused(store: ChainStore) -> None:
    head = store.head()
    assert head is not None
    b, other = block(1, head.block_hash), block(1, head.block_hash, (tx(1),))
    with pytest.raises(StorageError, match="certificate"):
        store.commit_block(b, certificate(other), [], {})


def test_a_block_before_genesis_is_refused() -> None:
    store = ChainStore(MemoryKV())
    b = block(1, GENESIS_HASH)
    with pytest.raises(StorageError, match="init_genesis"):
        store.commit_block(b, certificate(b), [], {})


class WatchedKV:
    """A KV wrapper that records each write's sync flag and can crash instead of writing."""

    def __init__(self, inner: KV, crash: bool = False) -> None:
        self.inner, self.crash = inner, crash
        self.syncs: list[bool] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def write(self, batch: WriteBatch, sync: bool = True) -> None:
        if self.crash:
            raise KeyboardInterrupt("power cut before the batch reached the disk")
        self.syncs.append(sync)
        self.inner.write(batch, sync)


def test_a_crash_before_the_batch_is_written_leaves_nothing_visible(store: ChainStore) -> None:
    before = store.head()
    crashing = ChainStore(WatchedKV(store.kv, crash=True))  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        commit_next(crashing, changes={b"acct/a": b"0"})
    reopened = ChainStore(store.kv)
    assert reopened.head() == before
    assert reopened.get_block(1) is None
    assert reopened.get_receipts(1) == []
    assert reopened.state_reader().get(b"acct/a") == b"100"
    assert list(reopened.kv.iterate(schema.TX_PREFIX)) == []


def test_commits_and_last_signed_are_written_with_sync(store: ChainStore) -> None:
    watched = WatchedKV(store.kv)
    watching = ChainStore(watched)  # type: ignore[arg-type]
    commit_next(watching)
    watching.save_last_signed(b"record")
    assert watched.syncs == [True, True]


def test_head_and_last_signed_survive_a_reopen(tmp_path: Path) -> None:
    store = ChainStore(LevelKV(tmp_path / "db"))
    store.init_genesis(GENESIS_HASH, {})
    for _ in range(3):
        last = commit_next(store)
    store.save_last_signed(b"h=3 v=0 commit")
    head = store.head()
    store.close()
    reopened = ChainStore(LevelKV(tmp_path / "db"))
    assert reopened.head() == head == Head(3, last.hash, smt.root_of({}), last.header.timestamp_ms)
    assert reopened.load_last_signed() == b"h=3 v=0 commit"
    assert reopened.get_block(3) == last
    reopened.close()


def test_a_head_whose_block_is_missing_fails_verification_on_open() -> None:
    kv = MemoryKV()
    store = ChainStore(kv)
    store.init_genesis(GENESIS_HASH, {})
    commit_next(store)
    batch = WriteBatch()
    batch.delete(schema.block(1))
    kv.write(batch)
    with pytest.raises(StorageError, match="missing"):
        ChainStore(kv)


def test_a_head_whose_block_hash_differs_fails_verification_on_open() -> None:
    kv = MemoryKV()
    store = ChainStore(kv)
    store.init_genesis(GENESIS_HASH, {})
    first = commit_next(store)
    batch = WriteBatch()
    batch.put(schema.HEAD, Head(1, digest("header", b"other"), first.header.state_root, 0).encode())
    kv.write(batch)
    with pytest.raises(StorageError, match="does not match"):
        ChainStore(kv)


def test_a_newer_schema_version_is_refused() -> None:
    kv = MemoryKV()
    batch = WriteBatch()
    batch.put(schema.VERSION, (schema.SCHEMA_VERSION + 1).to_bytes(4, "big"))
    kv.write(batch)
    with pytest.raises(StorageError, match="schema version"):
        ChainStore(kv)


def test_data_without_a_schema_version_is_refused() -> None:
    kv = MemoryKV()
    batch = WriteBatch()
    batch.put(b"foreign", b"data")
    kv.write(batch)
    with pytest.raises(StorageError, match="not written by marketnode"):
        ChainStore(kv)


def test_a_store_killed_mid_commit_always_reopens_at_a_whole_block(tmp_path: Path) -> None:
    """SIGKILL a process committing blocks as fast as it can; every restart finds a consistent head."""
    child = Path(__file__).with_name("chainstore_crash_child.py")
    path = tmp_path / "db"
    last_height = 0
    for round_number in range(4):
        proc = subprocess.Popen([sys.executable, str(child), str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for _ in range(3 + round_number):  # let it commit a few blocks, then kill at a varying instant
            assert proc.stdout.readline(), "the child died before committing"
        time.sleep(0.003 * round_number)  # the varying instant of the kill itself, not a wait for the child
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()

        store = ChainStore(LevelKV(path))
        head = store.head()
        assert head is not None and head.height > last_height
        b = store.get_block(head.height)
        assert b is not None and b.hash == head.block_hash
        assert store.get_certificate(head.height) == certificate(b)
        assert store.get_receipts(head.height) == receipts_for(b)
        assert all(store.get_tx_location(t.hash) == (head.height, i) for i, t in enumerate(b.txs))
        state = store.state_reader()
        assert state.get(b"last") == head.height.to_bytes(8, "big")
        assert all(state.get(b"tx/" + t.hash) == head.height.to_bytes(8, "big") for t in b.txs)
        assert store.get_block(head.height + 1) is None
        assert list(store.kv.iterate(schema.receipts(head.height + 1))) == []
        last_height = head.height
        store.close()


def test_schema_prefixes_never_contain_one_another() -> None:
    prefixes = [
        schema.BLOCK_PREFIX, schema.BLOCK_HASH_PREFIX, schema.CERTIFICATE_PREFIX, schema.RECEIPT_PREFIX,
        schema.TX_PREFIX, schema.EVIDENCE_PREFIX, schema.STATE_PREFIX, schema.INDEX_PREFIX,
        schema.VERSION, schema.HEAD, schema.GENESIS, schema.LAST_SIGNED,
        schema.TREE_NODE_PREFIX, schema.TREE_ROOT_PREFIX, schema.TREE_STALE_PREFIX,
    ]
    for a in prefixes:
        for b in prefixes:
            assert a == b or not b.startswith(a), (a, b)


def test_heights_sort_numerically_as_keys() -> None:
    heights = [0, 1, 255, 256, 65_535, 2**40, 2**64 - 1]
    assert sorted(schema.block(h) for h in reversed(heights)) == [schema.block(h) for h in heights]
    with pytest.raises(StorageError):
        schema.height_bytes(2**64)


def test_a_certificate_is_replaced_by_the_one_the_next_block_commits_to(store: ChainStore) -> None:
    first = commit_next(store)
    own = certificate(first, signers=3)
    assert store.get_certificate(1) == own
    committed = Certificate.from_votes(
        Vote(CHAIN_ID, COMMIT, 1, 0, first.hash, k.public_key).sign(k) for k in VALIDATOR_KEYS[1:4])
    assert committed != own
    second = Block.build(chain_id=CHAIN_ID, height=2, view=0, timestamp_ms=first.header.timestamp_ms + 1,
                         parent_hash=first.hash, proposer=VALIDATOR_KEYS[2].public_key,
                         state_root=state_root(1), txs=(), last_cert=committed)
    store.commit_block(second, certificate(second), [], {})
    assert store.get_certificate(1) == committed
    assert store.get_certificate_bytes(1) == committed.encode()
    assert store.get_certificate(2) == certificate(second)  # the head keeps its own until a successor exists


def test_a_last_cert_for_another_block_does_not_replace_the_stored_one(store: ChainStore) -> None:
    first = commit_next(store)
    stranger = block(1, digest("header", b"elsewhere"))
    second = Block.build(chain_id=CHAIN_ID, height=2, view=0, timestamp_ms=first.header.timestamp_ms + 1,
                         parent_hash=first.hash, proposer=VALIDATOR_KEYS[2].public_key,
                         state_root=state_root(1), txs=(), last_cert=certificate(stranger))
    store.commit_block(second, certificate(second), [], {})
    assert store.get_certificate(1) == certificate(first)
