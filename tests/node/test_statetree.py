"""The state tree in the store: root = head state_root, same batch as the block, kept versions provable, older pruned."""

from __future__ import annotations

import pytest
from storage_samples import GENESIS_HASH, block, certificate

from core import smt
from core.errors import StorageCorruption
from node.storage import schema, statetree
from node.storage.chainstore import ChainStore
from node.storage.kv import WriteBatch
from node.storage.memory import MemoryKV


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
    seen: set[bytes] = set()

    def walk(entry: smt.Entry, depth: int, path: int) -> None:
        prefix = (path << (smt.DEPTH - depth)).to_bytes(32, "big") if depth else bytes(32)
        seen.add(smt.node_key(entry.version, depth, prefix))
        if not entry.leaf:
            left, right = smt.decode_stored(smt.load(statetree._Nodes(kv), entry, depth, prefix))
            for side, child in enumerate((left, right)):
                if child is not None:
                    walk(child, depth + 1, path << 1 | side)  # type: ignore[arg-type]

    root = statetree.root_entry(kv, version)
    if root is not None:
        walk(root, 0, 0)
    return seen


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

    from cli.main import main

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
