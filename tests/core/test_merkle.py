"""Merkle roots have the RFC 9162 shape, and an inclusion proof verifies only the leaf, index and root it was made for."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from marketnode.core.errors import ValidationError
from marketnode.core.hashing import digest
from marketnode.core.merkle import (
    EMPTY_ROOT,
    MerkleProof,
    leaf_hash,
    merkle_proof,
    merkle_root,
    node_hash,
    verify_proof,
)

ITEMS = [digest("tx", i.to_bytes(2, "big")) for i in range(1000)]


def rfc9162_root(items: list[bytes]) -> bytes:
    """MTH from RFC 9162 section 2.1.1, written as the RFC states it (recursive split at the largest power of 2 < n)."""
    if len(items) == 1:
        return leaf_hash(items[0])
    split = 1 << ((len(items) - 1).bit_length() - 1)
    return node_hash(rfc9162_root(items[:split]), rfc9162_root(items[split:]))


def test_empty_root_is_the_digest_of_nothing_under_its_own_tag():
    assert merkle_root([]) == EMPTY_ROOT == digest("merkle-empty", b"")


def test_root_of_one_item_is_its_leaf_hash():
    assert merkle_root(ITEMS[:1]) == leaf_hash(ITEMS[0]) == digest("merkle-leaf", ITEMS[0])


def test_root_of_three_items_splits_two_and_one():
    a, b, c = (leaf_hash(x) for x in ITEMS[:3])
    assert merkle_root(ITEMS[:3]) == node_hash(node_hash(a, b), c)


@pytest.mark.parametrize("size", [*range(1, 70), 127, 128, 129, 255, 256, 257, 1000])
def test_root_matches_the_rfc9162_definition(size):
    assert merkle_root(ITEMS[:size]) == rfc9162_root(ITEMS[:size])


def test_no_leaf_is_duplicated_so_an_odd_tree_differs_from_its_padded_twin():
    """The CVE-2012-2459 trap: [a, b, c] and [a, b, c, c] must not share a root."""
    assert merkle_root(ITEMS[:3]) != merkle_root([*ITEMS[:3], ITEMS[2]])


def test_an_inner_node_cannot_pass_for_a_leaf():
    pair = ITEMS[:2]
    assert merkle_root([leaf_hash(pair[0]) + leaf_hash(pair[1])]) != merkle_root(pair)


def test_every_proof_verifies_for_every_index_of_small_trees():
    for size in range(1, 65):
        items = ITEMS[:size]
        root = merkle_root(items)
        for index in range(size):
            assert verify_proof(root, items[index], merkle_proof(items, index)), (size, index)


def test_proofs_verify_for_every_size_up_to_1000_at_sampled_indexes():
    rng = random.Random(2459)
    for size in range(65, 1001):
        items = ITEMS[:size]
        root = merkle_root(items)
        index = rng.choice((0, size - 1, rng.randrange(size)))
        assert verify_proof(root, items[index], merkle_proof(items, index)), (size, index)


def test_proof_length_is_the_depth_of_the_leaf():
    assert len(merkle_proof(ITEMS[:1], 0).path) == 0
    assert len(merkle_proof(ITEMS[:1000], 0).path) == 10
    assert len(merkle_proof(ITEMS[:5], 4).path) == 1


SIZE, INDEX = 13, 6
TREE = ITEMS[:SIZE]
ROOT = merkle_root(TREE)
PROOF = merkle_proof(TREE, INDEX)


def test_a_proof_does_not_verify_another_leaf():
    assert verify_proof(ROOT, TREE[INDEX], PROOF)
    assert not any(verify_proof(ROOT, item, PROOF) for i, item in enumerate(TREE) if i != INDEX)


def test_a_proof_with_any_sibling_changed_fails():
    for step in range(len(PROOF.path)):
        path = list(PROOF.path)
        path[step] = bytes(32)
        assert not verify_proof(ROOT, TREE[INDEX], replace(PROOF, path=tuple(path))), step


def test_a_proof_with_a_sibling_missing_or_added_fails():
    assert not verify_proof(ROOT, TREE[INDEX], replace(PROOF, path=PROOF.path[:-1]))
    assert not verify_proof(ROOT, TREE[INDEX], replace(PROOF, path=(*PROOF.path, bytes(32))))


def test_a_proof_moved_to_any_other_index_fails():
    for index in range(-1, SIZE + 2):
        if index != INDEX:
            assert not verify_proof(ROOT, TREE[INDEX], replace(PROOF, index=index)), index


@pytest.mark.parametrize("size", [0, 1, 6, 7, 8, 17, 26, 2**64])
def test_a_proof_with_a_changed_tree_shape_fails(size):
    assert not verify_proof(ROOT, TREE[INDEX], replace(PROOF, size=size))


def test_proof_size_is_not_bound_by_the_root_so_verifiers_take_it_from_the_header():
    """As in RFC 9162, sizes whose trees give a leaf the same path verify alike (for index 6: sizes 9 to 16).

    A proof's ``size`` is a claim, not a fact: a verifier compares it with the
    header's ``tx_count`` (signed by the certificate) before trusting an index.
    """
    assert all(verify_proof(ROOT, TREE[INDEX], replace(PROOF, size=size)) for size in range(9, 17))


def test_a_proof_against_another_root_fails():
    assert not verify_proof(merkle_root(ITEMS[:SIZE + 1]), TREE[INDEX], PROOF)


def test_building_a_proof_for_an_index_outside_the_tree_is_refused():
    for index in (-1, SIZE):
        with pytest.raises(ValidationError):
            merkle_proof(TREE, index)
    with pytest.raises(ValidationError):
        merkle_proof([], 0)


def test_proofs_round_trip_through_their_map_form():
    assert MerkleProof.from_obj(PROOF.to_obj()) == PROOF


@pytest.mark.parametrize(
    "obj",
    [{"index": 0, "size": 1}, {"index": "x", "size": 1, "path": []}, {"index": 0, "size": 2, "path": [b"short"]},
     {"index": 0, "size": 2, "path": ["not bytes" * 4]}, {"index": 0, "size": 2, "path": 5}],
    ids=["missing-path", "bad-index", "short-hash", "str-hash", "path-not-a-list"],
)
def test_malformed_proof_maps_are_refused(obj):
    with pytest.raises(ValidationError):
        MerkleProof.from_obj(obj)
