"""The state tree: incremental updates give the definition's root; proofs show values and absences, and only those."""

from __future__ import annotations

import random

import pytest

from marketnode.core import smt
from marketnode.core.errors import StorageCorruption


class Nodes:
    """A node store that applies each update, keeping every version (no pruning here)."""

    def __init__(self) -> None:
        self.stored: dict[bytes, bytes] = {}
        self.root: smt.Entry | None = None
        self.version = 0

    def get(self, key: bytes) -> bytes | None:
        return self.stored.get(key)

    def apply(self, changes: dict[bytes, bytes | None]) -> smt.TreeUpdate:
        self.version += 1
        update = smt.TreeUpdate(self, self.root, self.version, changes)
        for key in update.writes:
            assert key not in self.stored, "a node key is written once, by the version it names"
        self.stored.update(update.writes)
        self.root = update.root_entry
        return update


def random_changes(rng: random.Random, state: dict[bytes, bytes], count: int) -> dict[bytes, bytes | None]:
    changes: dict[bytes, bytes | None] = {}
    for _ in range(count):
        if state and rng.random() < 0.3:
            changes[rng.choice(sorted(state))] = None
        elif rng.random() < 0.1:
            changes[b"never/%d" % rng.randrange(10**6)] = None  # deleting a key that is not there
        else:
            changes[b"k/%d" % rng.randrange(400)] = bytes([rng.randrange(256)]) * rng.randrange(1, 5)
    return changes


def test_the_empty_tree_has_the_zero_root() -> None:
    assert smt.root_of({}) == smt.EMPTY
    nodes = Nodes()
    assert nodes.apply({b"a": None}).root == smt.EMPTY


@pytest.mark.parametrize("seed", range(12))
def test_incremental_roots_equal_the_definition_and_proofs_verify(seed: int) -> None:
    rng = random.Random(seed)
    nodes, state = Nodes(), {}
    history: list[tuple[smt.Entry | None, dict[bytes, bytes], bytes]] = []
    for _ in range(25):
        changes = random_changes(rng, state, rng.randrange(1, 40))
        update = nodes.apply(changes)
        for key, value in changes.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        assert update.root == smt.root_of(state)
        history.append((nodes.root, dict(state), update.root))
    for root_entry, old_state, root in history[-5:]:  # old versions stay provable
        for key in [*sorted(old_state)[:20], b"k/absent", b"never/1"]:
            value = old_state.get(key)
            proof, found = smt.prove(nodes, root_entry, key)
            assert found == value
            assert smt.verify_proof(root, key, value, proof)
            assert not smt.verify_proof(root, key, b"other" if value else b"x", proof)


def test_a_proof_fails_for_any_flipped_byte_and_for_the_wrong_claim() -> None:
    nodes = Nodes()
    state = {b"k/%d" % i: b"v%d" % i for i in range(50)}
    root = nodes.apply(dict(state)).root
    present, absent = b"k/7", b"k/none"
    for key, value in ((present, b"v7"), (absent, None)):
        proof, _ = smt.prove(nodes, nodes.root, key)
        assert smt.verify_proof(root, key, value, proof)
        assert not smt.verify_proof(root, key, None if value else b"v7", proof)
        for i in range(len(proof.siblings)):
            for bit in (0, 7):
                siblings = list(proof.siblings)
                siblings[i] = bytes([siblings[i][0] ^ (1 << bit)]) + siblings[i][1:]
                assert not smt.verify_proof(root, key, value, smt.Proof(proof.leaf, tuple(siblings)))
        assert not smt.verify_proof(root, key, value, smt.Proof(proof.leaf, proof.siblings[:-1]))
        if proof.leaf is not None:
            path, vhash = proof.leaf
            assert not smt.verify_proof(root, key, value, smt.Proof((path, bytes([vhash[0] ^ 1]) + vhash[1:]),
                                                                    proof.siblings))
        assert not smt.verify_proof(bytes([root[0] ^ 1]) + root[1:], key, value, proof)


def test_a_present_key_cannot_be_shown_absent_with_its_own_leaf() -> None:
    nodes = Nodes()
    root = nodes.apply({b"a": b"1", b"b": b"2", b"c": b"3"}).root
    proof, _ = smt.prove(nodes, nodes.root, b"a")
    assert not smt.verify_proof(root, b"a", None, proof)


def test_a_deleted_neighbour_lifts_the_remaining_leaf_and_writes_no_more_than_the_path() -> None:
    nodes = Nodes()
    nodes.apply({b"a": b"1", b"b": b"2"})
    update = nodes.apply({b"b": None})
    assert update.root == smt.root_of({b"a": b"1"})
    assert update.root_entry is not None and update.root_entry.leaf
    assert len(update.writes) == 1


def test_json_form_round_trips_and_refuses_junk() -> None:
    nodes = Nodes()
    nodes.apply({b"a": b"1", b"b": b"2", b"c": b"3"})
    proof, _ = smt.prove(nodes, nodes.root, b"a")
    assert smt.Proof.from_json(proof.to_json()) == proof
    for junk in ({}, {"leaf": None, "siblings": "ab"}, {"leaf": {"path": "zz", "value_hash": "00"}, "siblings": []},
                 {"leaf": None, "siblings": ["00" * 32] * 257}):
        with pytest.raises(Exception, match="state proof"):
            smt.Proof.from_json(junk)


def test_a_missing_node_is_reported_as_corruption() -> None:
    nodes = Nodes()
    nodes.apply({b"k/%d" % i: b"v" for i in range(8)})
    nodes.stored.clear()
    with pytest.raises(StorageCorruption):
        smt.prove(nodes, nodes.root, b"k/1")
    with pytest.raises(StorageCorruption):
        smt.TreeUpdate(nodes, nodes.root, 9, {b"k/1": None})


def test_deep_trees_shrinking_to_one_key_and_back_keep_the_definition_root_and_every_node_checks() -> None:
    """Pages fill, empty and lift leaves across page boundaries; the stored tree always rehashes to the root."""
    rng = random.Random(7)
    nodes, state = Nodes(), {}
    keys = [b"deep/%d" % i for i in range(3000)]
    plan = [{k: b"v" for k in keys}, {k: None for k in keys[1:]}, {k: b"w" for k in keys[:1500]},
            {k: None for k in rng.sample(keys[:1500], 1400)}, {keys[0]: None}]
    for changes in plan:
        update = nodes.apply(changes)
        for key, value in changes.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        assert update.root == smt.root_of(state)
        assert smt.check(nodes, nodes.root) == len(state)
        for key in rng.sample(keys, 40):
            proof, found = smt.prove(nodes, nodes.root, key)
            assert found == state.get(key)
            assert smt.verify_proof(update.root, key, found, proof)


def test_a_changed_key_rewrites_a_page_per_four_levels_not_a_node_per_level() -> None:
    nodes = Nodes()
    nodes.apply({b"k/%d" % i: b"v" for i in range(4096)})  # ~12 binary levels deep
    update = nodes.apply({b"k/17": b"changed"})
    proof, _ = smt.prove(nodes, nodes.root, b"k/17")
    depth = len(proof.siblings)  # the leaf's binary depth: a binary layout writes depth + 1 nodes
    assert depth >= 12
    assert len(update.writes) == -(-depth // smt.PAGE_BITS) + 1  # the pages down to it, and the leaf


def test_a_damaged_page_is_reported_by_check() -> None:
    nodes = Nodes()
    nodes.apply({b"k/%d" % i: b"v" for i in range(64)})
    key = next(k for k, v in nodes.stored.items() if v[:1] == b"P" and len(v) > 3 + 41)
    raw = bytearray(nodes.stored[key])
    raw[5] ^= 1  # a byte of a child's hash
    nodes.stored[key] = bytes(raw)
    with pytest.raises(StorageCorruption):
        smt.check(nodes, nodes.root)
