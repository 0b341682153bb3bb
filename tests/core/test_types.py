"""Chain types: bytes round trips, hashes that commit to content, and blocks whose header matches the body."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chain_samples import CHAIN_ID, OTHER_CHAIN_ID, block, certificate, evidence, key, nested_tx, signed_tx, vote
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.core.encoding import INT_MAX, decode, encode
from marketnode.core.errors import ConsensusError, ValidationError
from marketnode.core.hashing import digest
from marketnode.core.merkle import EMPTY_ROOT
from marketnode.core.types import COMMIT, PREPARE, ZERO_HASH, Block, Certificate, Evidence, Header, Tx, Vote


@pytest.mark.parametrize(
    ("struct", "make"),
    [
        (Tx, signed_tx), (Tx, nested_tx), (Vote, vote), (Certificate, certificate),
        (Evidence, evidence), (Header, lambda: block().header), (Block, block),
    ],
    ids=["tx", "nested-tx", "vote", "certificate", "evidence", "header", "block"],
)
def test_every_type_round_trips_through_its_bytes(struct, make):
    original = make()
    data = original.encode()
    assert struct.decode(data) == original
    assert struct.decode(data).encode() == data


tx_bodies = st.dictionaries(
    st.text(max_size=10),
    st.none() | st.booleans() | st.integers(0, INT_MAX) | st.binary(max_size=33) | st.text(max_size=20)
    | st.lists(st.integers(-5, 5), max_size=4),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(nonce=st.integers(0, INT_MAX), fee=st.integers(0, INT_MAX), kind=st.text(min_size=1, max_size=32), body=tx_bodies)
def test_any_signed_tx_round_trips_and_verifies(nonce, fee, kind, body):
    tx = signed_tx(nonce=nonce, fee=fee, kind=kind, body=body)
    decoded = Tx.decode(tx.encode())
    assert decoded == tx
    assert decoded.verify()
    assert decoded.hash == tx.hash


def test_tx_hash_is_the_tx_digest_of_the_full_signed_encoding():
    tx = signed_tx()
    assert tx.hash == digest("tx", encode(tx.to_obj()))
    assert decode(tx.encode())["sig"] == tx.sig


def test_tx_hash_covers_the_signature():
    """Two signatures on one unsigned tx would be two hashes; ed25519 signing is deterministic, so there is one."""
    tx = signed_tx()
    assert tx.sign(key(1)).hash == tx.hash
    assert replace(tx, sig=bytes(64)).hash != tx.hash


def test_header_hash_changes_with_every_field():
    header = block().header
    changed = {
        "chain_id": OTHER_CHAIN_ID, "height": header.height + 1, "view": header.view + 1,
        "timestamp_ms": header.timestamp_ms + 1, "tx_count": header.tx_count + 1,
    } | {name: bytes(32) for name in ("parent_hash", "proposer", "tx_root", "state_root", "last_cert_hash")} | {
        "evidence_root": EMPTY_ROOT
    }
    for name, value in changed.items():
        assert replace(header, **{name: value}).hash != header.hash, name


def test_block_hash_is_its_header_hash():
    built = block()
    assert built.hash == digest("header", built.header.encode())
    assert built.height == built.header.height


def test_a_built_block_commits_to_its_contents():
    built = block()
    built.check_contents()
    assert built.header.tx_count == 2
    assert built.header.last_cert_hash == certificate().hash


def test_a_block_without_txs_certificate_or_evidence_uses_the_empty_roots():
    built = Block.build(
        chain_id=CHAIN_ID, height=1, view=0, timestamp_ms=0, parent_hash=ZERO_HASH, proposer=key(1).public_key,
        state_root=ZERO_HASH, txs=(), last_cert=None,
    )
    assert (built.header.tx_root, built.header.evidence_root, built.header.last_cert_hash) == (
        EMPTY_ROOT, EMPTY_ROOT, ZERO_HASH)
    built.check_contents()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda b: replace(b, txs=b.txs[:1]), "tx_count"),
        (lambda b: replace(b, txs=tuple(reversed(b.txs))), "tx_root"),
        (lambda b: replace(b, last_cert=None), "last_cert_hash"),
        (lambda b: replace(b, evidence=()), "evidence_root"),
    ],
    ids=["dropped-tx", "reordered-txs", "missing-certificate", "missing-evidence"],
)
def test_a_block_whose_body_does_not_match_its_header_is_invalid(change, match):
    with pytest.raises(ValidationError, match=match):
        change(block()).check_contents()


def test_a_block_holding_a_tx_for_another_chain_is_invalid():
    foreign = Tx(OTHER_CHAIN_ID, key(1).public_key, 0, "transfer", {}, 1).sign(key(1))
    with pytest.raises(ValidationError, match="another chain"):
        block(txs=(foreign,)).check_contents()


def test_certificate_from_votes_keeps_one_signature_per_validator_sorted():
    votes = [vote(k) for k in (key(13), key(11), key(12), key(11))]
    cert = Certificate.from_votes(votes)
    assert cert.signers() == sorted({v.validator for v in votes})


@pytest.mark.parametrize(
    "odd_vote",
    [lambda: vote(phase=PREPARE), lambda: vote(height=99), lambda: vote(view=5),
     lambda: vote(block_hash=bytes(32)), lambda: vote(chain_id=OTHER_CHAIN_ID)],
    ids=["prepare", "height", "view", "block", "chain"],
)
def test_certificate_from_votes_needs_commits_on_one_block_height_and_view(odd_vote):
    with pytest.raises(ConsensusError):
        Certificate.from_votes([vote(), odd_vote()])


def test_certificate_from_votes_needs_at_least_one_vote():
    with pytest.raises(ConsensusError):
        Certificate.from_votes([])


def test_evidence_check_accepts_two_signed_votes_for_different_blocks():
    evidence().check(CHAIN_ID)


@pytest.mark.parametrize(
    ("second", "match"),
    [
        (lambda: vote(phase=PREPARE, block_hash=digest("header", b"a")), "same block"),
        (lambda: vote(phase=COMMIT, block_hash=digest("header", b"b")), "differ"),
        (lambda: vote(key(12), phase=PREPARE, block_hash=digest("header", b"b")), "differ"),
        (lambda: vote(phase=PREPARE, height=9, block_hash=digest("header", b"b")), "differ"),
        (lambda: replace(vote(phase=PREPARE, block_hash=digest("header", b"b")), sig=bytes(64)), "signature"),
    ],
    ids=["same-block", "other-phase", "other-validator", "other-height", "bad-signature"],
)
def test_evidence_check_refuses_what_is_not_equivocation(second, match):
    first = vote(phase=PREPARE, block_hash=digest("header", b"a"))
    with pytest.raises(ValidationError if match == "signature" else ConsensusError, match=match):
        Evidence(first, second()).check(CHAIN_ID)


def test_evidence_check_refuses_evidence_from_another_chain():
    with pytest.raises(ConsensusError, match="another chain"):
        evidence().check(OTHER_CHAIN_ID)


def test_evidence_encoding_does_not_depend_on_the_order_votes_were_given():
    ev = evidence()
    assert Evidence(ev.second, ev.first).encode() == ev.encode()
    assert Evidence(ev.second, ev.first).hash == ev.hash


def test_signing_needs_the_matching_key():
    with pytest.raises(ValidationError):
        Tx(CHAIN_ID, key(1).public_key, 0, "transfer", {}, 1).sign(key(2))
    with pytest.raises(ValidationError):
        Vote(CHAIN_ID, COMMIT, 1, 0, ZERO_HASH, key(1).public_key).sign(key(2))
