"""Multi-signature txs: multisig.json byte for byte, and the rules of the one canonical ``sigs`` form."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError
from marketnode.core.keys import PrivateKey
from marketnode.core.types import MAX_TX_SIGS, Tx

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "test-vectors" / "multisig.json")
                     .read_text(encoding="utf-8"))


def key(n: int) -> PrivateKey:
    return PrivateKey(bytes([n]) * 32)


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["name"])
def test_multisig_vectors(case):
    sender = PrivateKey(bytes.fromhex(case["sender_seed"]))
    fields = decode(bytes.fromhex(case["unsigned_canonical"]))
    assert fields["sender"] == sender.public_key and fields["chain_id"] == VECTORS["chain_id"]
    tx = Tx(**fields)
    for seed in case["signer_seeds"]:
        tx = tx.cosign(PrivateKey(bytes.fromhex(seed)))
    assert tx.signing_bytes().hex() == case["signing_message"]
    assert [[k.hex(), s.hex()] for k, s in tx.sigs] == case["sigs"]
    assert tx.encode().hex() == case["signed_canonical"] and tx.hash.hex() == case["hash"]
    decoded = Tx.decode(bytes.fromhex(case["signed_canonical"]))
    assert decoded == tx and decoded.verify() and decoded.sig == b""
    assert [k for k, _ in case["sigs"]] == sorted(k for k, _ in case["sigs"])


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["reason"])
def test_invalid_multisig_encodings_are_refused(case):
    with pytest.raises(DecodeError):
        Tx.decode(bytes.fromhex(case["bytes"]))


def unsigned() -> Tx:
    return Tx("test-chain", key(1).public_key, 0, "transfer", {"amount": 1}, 1)


def test_cosigning_with_the_sender_key_alone_gives_the_single_signature_form():
    assert unsigned().cosign(key(1)) == unsigned().sign(key(1))
    assert "sig" in decode(unsigned().cosign(key(1)).encode())


def test_the_order_of_cosigning_does_not_change_the_bytes():
    a = unsigned().cosign(key(2)).cosign(key(1)).cosign(key(3))
    b = unsigned().sign(key(1)).cosign(key(3)).cosign(key(2))
    assert a.encode() == b.encode() and a.signers() == tuple(sorted(k.public_key for k in (key(1), key(2), key(3))))


def test_one_bad_signature_among_many_fails_verification():
    tx = unsigned().cosign(key(2)).cosign(key(3))
    (k1, s1), (k2, _) = tx.sigs
    assert not replace(tx, sigs=((k1, s1), (k2, s1))).verify()
    assert not replace(tx, nonce=1).verify()


def test_max_tx_sigs_decode_at_the_edge():
    tx = unsigned()
    for n in range(2, 2 + MAX_TX_SIGS):
        tx = tx.cosign(key(n))
    assert len(tx.sigs) == MAX_TX_SIGS and Tx.decode(tx.encode()).verify()
    over = {**tx.unsigned_obj(), "sigs": [[k, s] for k, s in tx.sigs] + [[b"\xff" * 32, bytes(64)]]}
    with pytest.raises(DecodeError, match="more than"):
        Tx.decode(encode(over))


def test_fee_floor_is_per_signature():
    assert unsigned().sign(key(1)).fee_floor(3) == 3
    assert unsigned().cosign(key(2)).cosign(key(3)).fee_floor(3) == 6


def test_a_block_carries_at_most_max_block_sigs_signatures(monkeypatch):
    """A proposer cannot multiply every replica's verification work with many-signature txs."""
    import marketnode.core.block as block_module
    from marketnode.core.types import Block

    tx = unsigned().cosign(key(2)).cosign(key(3))
    obj = {"evidence": [], "header": None, "last_cert": None, "txs": [tx.encode(), replace(tx, nonce=1).encode()]}
    monkeypatch.setattr(block_module, "MAX_BLOCK_SIGS", 3)
    with pytest.raises(DecodeError, match="signatures in all"):
        Block.from_obj(obj)
