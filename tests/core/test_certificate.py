"""Commit certificates: final only with a quorum of distinct validators' valid COMMIT signatures on this chain."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chain_samples import CHAIN_ID, OTHER_CHAIN_ID, VALIDATOR_KEYS, VALIDATORS, certificate, key, vote

from marketnode.core.errors import ConsensusError, SignatureError
from marketnode.core.types import PREPARE, Certificate, max_faulty, quorum_size


@pytest.mark.parametrize(
    ("n", "f", "quorum"),
    [(1, 0, 1), (2, 0, 2), (3, 0, 2), (4, 1, 3), (5, 1, 4), (6, 1, 4), (7, 2, 5), (10, 3, 7), (100, 33, 67)],
)
def test_quorum_sizes(n, f, quorum):
    assert (max_faulty(n), quorum_size(n)) == (f, quorum)


@pytest.mark.parametrize("n", range(1, 101))
def test_any_two_quorums_share_an_honest_validator(n):
    assert 2 * quorum_size(n) - n >= max_faulty(n) + 1
    assert quorum_size(n) <= n - max_faulty(n)  # the honest validators alone can form a quorum


def test_three_of_four_validators_make_a_valid_certificate():
    certificate(VALIDATOR_KEYS[:3]).verify(VALIDATORS, CHAIN_ID)
    certificate(VALIDATOR_KEYS).verify(VALIDATORS, CHAIN_ID)


def test_certificate_verification_does_not_depend_on_validator_order():
    certificate().verify(tuple(reversed(VALIDATORS)), CHAIN_ID)


def test_certificate_with_too_few_signers_is_refused():
    with pytest.raises(ConsensusError, match="needs 3"):
        certificate(VALIDATOR_KEYS[:2]).verify(VALIDATORS, CHAIN_ID)


def test_certificate_signed_by_a_non_validator_is_refused():
    with pytest.raises(ConsensusError, match="non-validator"):
        certificate((*VALIDATOR_KEYS[:3], key(99))).verify(VALIDATORS, CHAIN_ID)


def test_certificate_listing_a_validator_twice_is_refused():
    cert = certificate(VALIDATOR_KEYS[:2])
    padded = replace(cert, signatures=(*cert.signatures, cert.signatures[0]))
    with pytest.raises(ConsensusError, match="twice"):
        padded.verify(VALIDATORS, CHAIN_ID)


def test_certificate_with_a_bad_signature_is_refused():
    cert = certificate()
    validator, sig = cert.signatures[1]
    broken = replace(cert, signatures=(cert.signatures[0], (validator, sig[:-1] + bytes([sig[-1] ^ 1])),
                                       *cert.signatures[2:]))
    with pytest.raises(SignatureError):
        broken.verify(VALIDATORS, CHAIN_ID)


def test_certificate_for_another_chain_is_refused():
    with pytest.raises(ConsensusError, match="chain"):
        certificate().verify(VALIDATORS, OTHER_CHAIN_ID)


def test_certificate_relabelled_with_another_chain_id_is_refused():
    """Signatures cover the chain id, so rewriting the field does not help."""
    moved = replace(certificate(), chain_id=OTHER_CHAIN_ID)
    with pytest.raises(SignatureError):
        moved.verify(VALIDATORS, OTHER_CHAIN_ID)


@pytest.mark.parametrize("change", [{"height": 4}, {"view": 1}, {"block_hash": bytes(32)}],
                         ids=["height", "view", "block"])
def test_certificate_signatures_bind_height_view_and_block(change):
    with pytest.raises(SignatureError):
        replace(certificate(), **change).verify(VALIDATORS, CHAIN_ID)


def test_prepare_signatures_do_not_make_a_commit_certificate():
    prepares = [vote(k, phase=PREPARE) for k in VALIDATOR_KEYS[:3]]
    cert = Certificate(CHAIN_ID, 3, 0, prepares[0].block_hash, tuple(sorted((v.validator, v.sig) for v in prepares)))
    with pytest.raises(SignatureError):
        cert.verify(VALIDATORS, CHAIN_ID)


def test_certificate_cannot_be_verified_against_an_empty_validator_set():
    empty = Certificate(CHAIN_ID, 3, 0, bytes(32), ())
    with pytest.raises(ConsensusError, match="empty"):
        empty.verify([], CHAIN_ID)


def test_duplicate_entries_in_the_validator_list_do_not_lower_the_quorum():
    with pytest.raises(ConsensusError, match="needs 3"):
        certificate(VALIDATOR_KEYS[:2]).verify([*VALIDATORS, *VALIDATORS], CHAIN_ID)
