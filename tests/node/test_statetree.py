"""The state tree in the store: root = head state_root, same batch as the block, kept versions provable, older pruned."""

from __future__ import annotations

import pytest
from storage_samples import GENESIS_HASH, block, certificate

from marketnode.core import smt
from marketnode.core.errors import StorageCorruption
from marketnode.node.storage import schema, statetree
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.kv import WriteBatch
from marketnode.node.storage.memory import MemoryKV


def grow(store: ChainStore, blocks: int) -> list[dict[bytes, bytes]]:
    """Commit ``blocks`` blocks that rewrite, add and delete keys; the whole state after each."""
    state = {b"acct/a": b"100"}
    store.init_genesis(GENESIS_HASH, dict(state))
    states = [dict(state)]
    for height in range(1, blocks + 1):
        changes: dict[bytes, bytes | None] = {b"acct/a": b"%d" % height, b"k/%d" % height: b"v"}
        if height > 2:
            changes[b"k/%d" % (height - 2)] = None
        head = store.head()
        assert head is not None
        b = block(height, head.block_hash, (), head.state_root)
        store.commit_block(b, certificate(b), [], changes)
        for k, v in changes.items():
            if v is None:
                state.pop(k, None)
            else:
                state[k] = v
        states.append(dict(state))
    return states


def reachable(kv: MemoryKV, version: int) -> set[bytes]:
    return {key for key, *_ in smt.walk(statetree._Nodes(kv), statetree.root_entry(kv, version))}


def test_each_head_root_is_the_tree_root_of_the_whole_state() -> None:
    kv = MemoryKV()
    store = ChainStore(kv)
    states = grow(store, 6)
    assert store.head().state_root == smt.root_of(states[-1])  # type: ignore[union-attr]
    assert statetree.check(kv, 6, smt.root_of(states[-1])) == len(states[-1])


def test_kept_versions_prove_their_values_and_older_ones_are_pruned_without_leaving_nodes() -> None:
    kv = MemoryKV()
    store = ChainStore(kv, versions_kept=3)
    states = grow(store, 12)
    for version in (10, 11, 12):
        root = smt.root_of(states[version])
        for key in (b"acct/a", b"k/%d" % version, b"k/%d" % (version - 2), b"never"):
            proof, value = store.state_proof(version, key)
            assert value == states[version].get(key)  # old versions answer what the key held then
            assert smt.verify_proof(root, key, value, proof)
    with pytest.raises(statetree.VersionPruned):
        store.state_proof(9, b"acct/a")
    stored = {key[len(schema.TREE_NODE_PREFIX):] for key, _ in kv.iterate(schema.TREE_NODE_PREFIX)}
    assert stored == reachable(kv, 10) | reachable(kv, 11) | reachable(kv, 12)
    assert statetree.oldest_version(kv) == 10


@pytest.mark.parametrize("which", [0, -1])
def test_a_damaged_node_of_the_head_tree_fails_the_check(which: int) -> None:
    kv = MemoryKV()
    store = ChainStore(kv)
    grow(store, 3)
    head = store.head()
    assert head is not None
    key = schema.tree_node(sorted(reachable(kv, 3))[which])
    value = kv.get(key)
    assert value is not None
    batch = WriteBatch()
    batch.put(key, value[:-1] + bytes([value[-1] ^ 1]))
    kv.write(batch)
    with pytest.raises(StorageCorruption, match="damaged"):
        statetree.check(kv, 3, head.state_root)


def test_bench_tree_reports_the_cost_per_changed_key(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from marketnode.cli.main import main

    out = tmp_path / "tree.json"
    result = CliRunner().invoke(main, ["bench", "tree", "--keys", "500", "--changed", "100", "--blocks", "2",
                                       "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert len(report["blocks"]) == 2
    assert all(row["update_us_per_key"] > 0 and row["batch_ops"] > 100 for row in report["blocks"])


def test_the_node_cache_gives_the_same_roots_and_keeps_only_written_blocks_nodes() -> None:
    """Regression (issue 12): uncached tree-node gets were 27 % of a validator's CPU under bench tps."""
    cached = ChainStore(MemoryKV())
    states = grow(cached, 12)
    head = cached.head()
    assert head is not None and head.state_root == smt.root_of(states[-1])
    cache = cached._tree_cache
    assert len(cache) > 0 and not cache._staged  # every block written, so every new node settled
    # A block staged but never written leaves nothing behind in the cache.
    before = dict(cache._nodes)
    batch = WriteBatch()
    statetree.stage(cached.kv, batch, head.height + 1, {b"k/new": b"v"}, 100, cache)
    assert cache._staged and dict(cache._nodes) == before
    # A bounded cache drops its oldest nodes and still reads through to the store.
    small = statetree.NodeCache(max_nodes=3)
    for i in range(10):
        small.put(bytes([i]), b"n")
    assert list(small._nodes) == [bytes([7]), bytes([8]), bytes([9])]


def _as_schema_2(kv: MemoryKV) -> None:
    """What a schema-2 store looks like to the migration: its version, and tree nodes in a layout it cannot read."""
    batch = WriteBatch()
    statetree.clear(kv, batch)
    batch.put(schema.tree_node(b"\x00" * smt.NODE_KEY_SIZE), b"N-binary-layout")
    batch.put(schema.tree_root(0), b"\x01" * 41)
    batch.put(schema.VERSION, (2).to_bytes(4, "big"))
    kv.write(batch)


def test_a_schema_2_store_gets_its_tree_rebuilt_on_open_with_the_same_root() -> None:
    kv = MemoryKV()
    states = grow(ChainStore(kv), 8)
    _as_schema_2(kv)
    store = ChainStore(kv)
    assert kv.get(schema.VERSION) == schema.schema_version_value()
    root = smt.root_of(states[8])
    assert store.head().state_root == root  # type: ignore[union-attr]
    assert statetree.check(kv, 8, root) == len(states[8])
    proof, value = store.state_proof(8, b"acct/a")
    assert value == b"8" and smt.verify_proof(root, b"acct/a", value, proof)
    with pytest.raises(statetree.VersionPruned):
        store.state_proof(7, b"acct/a")
    head = store.head()
    assert head is not None
    b = block(9, head.block_hash, (), head.state_root)
    store.commit_block(b, certificate(b), [], {b"acct/a": b"9"})  # and the chain goes on from it
    assert store.head().state_root == smt.root_of({**states[8], b"acct/a": b"9"})  # type: ignore[union-attr]


def test_a_schema_2_store_whose_state_does_not_match_its_root_is_refused_and_left_as_it_was() -> None:
    kv = MemoryKV()
    grow(ChainStore(kv), 4)
    _as_schema_2(kv)
    batch = WriteBatch()
    batch.put(schema.state(b"acct/a"), b"forged")
    kv.write(batch)
    with pytest.raises(StorageCorruption, match="does not hash to its header's state root"):
        ChainStore(kv)
    assert kv.get(schema.VERSION) == (2).to_bytes(4, "big")


def test_pruning_a_large_old_block_is_spread_over_later_blocks_and_finishes() -> None:
    """One block deletes at most max(PRUNE_MIN_NODES, 2 x its own writes) replaced nodes; the rest follow."""
    kv = MemoryKV()
    keep, wide = 3, 6000  # version 1 replaces ~6,600 nodes of version 0: more than one block may prune
    versions: list[dict[bytes, bytes]] = []
    state: dict[bytes, bytes] = {}

    def commit(version: int, changes: dict[bytes, bytes]) -> int:
        batch = WriteBatch()
        statetree.stage(kv, batch, version, changes, keep)
        kv.write(batch)
        state.update(changes)
        versions.append(dict(state))
        return sum(1 for _, value in batch.ops if value is None)

    commit(0, {b"k/%d" % i: b"0" for i in range(wide)})
    commit(1, {b"k/%d" % i: b"1" for i in range(wide)})  # replaces every node of version 0
    deletes = [commit(v, {b"small": b"%d" % v}) for v in range(2, 12)]
    assert max(deletes) <= statetree.PRUNE_MIN_NODES + 2  # and the roots and lists it drops
    assert deletes[1] >= statetree.PRUNE_MIN_NODES  # version 3 prunes what version 1 replaced ...
    assert deletes[2] > 2  # ... and version 4 the rest of it
    stored = {key[len(schema.TREE_NODE_PREFIX):] for key, _ in kv.iterate(schema.TREE_NODE_PREFIX)}
    assert stored == reachable(kv, 9) | reachable(kv, 10) | reachable(kv, 11)
    for version in (9, 10, 11):
        assert statetree.check(kv, version, smt.root_of(versions[version])) == len(versions[version])
