"""Signatures: any changed byte breaks a signed tx or vote, and no signature crosses chains or kinds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chain_samples import CHAIN_ID, OTHER_CHAIN_ID, key, nested_tx, signed_tx, vote

from marketnode.core.encoding import encode
from marketnode.core.errors import DecodeError
from marketnode.core.hashing import signing_message
from marketnode.core.types import Tx, Vote


def still_valid_after_flip(decoder, data: bytes, position: int, mask: int) -> bool:
    """True when the data with one byte flipped still decodes to something that verifies."""
    tampered = bytearray(data)
    tampered[position] ^= mask
    try:
        return decoder(bytes(tampered)).verify()
    except DecodeError:
        return False


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
@pytest.mark.parametrize(("decoder", "make"), [(Tx.decode, signed_tx), (Tx.decode, nested_tx), (Vote.decode, vote)],
                         ids=["tx", "nested-tx", "vote"])
def test_flipping_any_byte_of_a_signed_message_breaks_decoding_or_verification(decoder, make, mask):
    data = make().encode()
    assert decoder(data).verify()
    survivors = [i for i in range(len(data)) if still_valid_after_flip(decoder, data, i, mask)]
    assert survivors == []


def test_a_tx_signature_does_not_verify_on_another_chain():
    tx = signed_tx()
    assert not replace(tx, chain_id=OTHER_CHAIN_ID).verify()


def test_a_vote_signature_does_not_verify_on_another_chain():
    assert not replace(vote(), chain_id=OTHER_CHAIN_ID).verify()


@pytest.mark.parametrize(
    "change", [{"nonce": 1}, {"fee": 2}, {"kind": "other"}, {"body": {}}, {"sender": key(9).public_key}],
    ids=["nonce", "fee", "kind", "body", "sender"],
)
def test_a_tx_signature_covers_every_unsigned_field(change):
    assert not replace(signed_tx(), **change).verify()


@pytest.mark.parametrize("change", [{"phase": 1}, {"height": 4}, {"view": 1}, {"block_hash": bytes(32)}],
                         ids=["phase", "height", "view", "block"])
def test_a_vote_signature_covers_every_unsigned_field(change):
    assert not replace(vote(), **change).verify()


def test_signing_messages_are_separated_by_kind():
    """The same canonical body signed as a tx is not a valid vote signature, and vice versa."""
    body = encode({"a": 1})
    assert signing_message("tx", CHAIN_ID, body) != signing_message("vote", CHAIN_ID, body)
    assert signing_message("tx", CHAIN_ID, body).startswith(b"marketnode-sig:tx:test-chain:")


def test_an_unsigned_or_garbage_signature_never_verifies():
    tx = signed_tx()
    for sig in (b"", bytes(64), b"\xff" * 64, tx.sig[:63], tx.sig + b"\x00"):
        assert not replace(tx, sig=sig).verify()


def test_a_tx_whose_sender_is_not_a_curve_point_does_not_verify():
    assert not replace(signed_tx(), sender=b"\xff" * 32).verify()
