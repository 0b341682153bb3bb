"""Inclusion proofs: a wallet accepts a tx as final only with a valid path, header and quorum certificate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from marketnode.core.errors import DecodeError
from marketnode.core.jsonable import Inclusion, block_to_json, header_from_json, tx_from_json, tx_to_json
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, Block, Certificate, Vote
from marketnode.wallet.builders import build_tx
from marketnode.wallet.proof import InclusionProofError, tx_hash_of, verify_inclusion

CHAIN = "testnet-1"
VALIDATORS = [PrivateKey(bytes([i + 1]) * 32) for i in range(4)]
VALIDATOR_KEYS = [v.public_key for v in VALIDATORS]


def _certificate(block: Block, signers: list[PrivateKey], chain_id: str = CHAIN) -> Certificate:
    votes = [Vote(chain_id, COMMIT, block.height, 0, block.hash, v.public_key).sign(v) for v in signers]
    return Certificate.from_votes(votes)


def _block(n_txs: int = 5) -> Block:
    sender = PrivateKey(b"\x09" * 32)
    txs = [build_tx(sender, CHAIN, nonce, "transfer", {"amount": nonce + 1, "to": b"\x01" * 32}, 1)
           for nonce in range(n_txs)]
    return Block.build(chain_id=CHAIN, height=7, view=0, timestamp_ms=1_700_000_000_000, parent_hash=b"\x11" * 32,
                       proposer=VALIDATOR_KEYS[0], state_root=b"\x22" * 32, txs=txs, last_cert=None)


def _inclusion_json(block: Block, index: int, cert: Certificate | None = None) -> dict[str, Any]:
    inclusion = Inclusion.build(block, index, cert or _certificate(block, VALIDATORS[:3]))
    return json.loads(json.dumps(inclusion.to_json()))  # exactly what crosses the wire


@pytest.mark.parametrize("index", [0, 3, 4])
def test_valid_inclusion_verifies_from_json_alone(index):
    block = _block()
    tx = block.txs[index]
    checked = verify_inclusion(_inclusion_json(block, index), tx_hash=tx.hash, validators=VALIDATOR_KEYS,
                               chain_id=CHAIN)
    assert checked.header.height == 7
    assert tx_hash_of(tx.encode()) == tx.hash


def test_validators_may_be_given_as_addresses_or_hex():
    block = _block()
    proof = _inclusion_json(block, 1)
    verify_inclusion(proof, tx_hash=block.txs[1].hash, validators=[v.address for v in VALIDATORS], chain_id=CHAIN)
    verify_inclusion(proof, tx_hash=block.txs[1].hash, validators=[k.hex() for k in VALIDATOR_KEYS], chain_id=CHAIN)


def _tamper(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    target = obj
    for part in parents:
        target = target[part]
    target[last] = value
    return obj


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("proof.index", 2, "Merkle path"),
        ("proof.size", 6, "counts"),
        ("header.tx_root", "33" * 32, "Merkle path"),
        ("header.timestamp_ms", 1, "another block"),
        ("certificate.block_hash", "44" * 32, "another block"),
        ("header.chain_id", "otherchain", "chain"),
        ("proof.path", ["zz"], "malformed"),
    ],
)
def test_tampered_inclusion_is_refused(path, value, needle):
    block = _block()
    proof = _tamper(_inclusion_json(block, 1), path, value)
    with pytest.raises(InclusionProofError, match=needle):
        verify_inclusion(proof, tx_hash=block.txs[1].hash, validators=VALIDATOR_KEYS, chain_id=CHAIN)


def test_proof_for_another_tx_is_refused():
    block = _block()
    with pytest.raises(InclusionProofError, match="another tx"):
        verify_inclusion(_inclusion_json(block, 1), tx_hash=block.txs[2].hash, validators=VALIDATOR_KEYS,
                         chain_id=CHAIN)


def test_certificate_without_a_quorum_is_refused():
    block = _block()
    weak = _certificate(block, VALIDATORS[:2])
    with pytest.raises(InclusionProofError, match="needs 3"):
        verify_inclusion(_inclusion_json(block, 0, weak), tx_hash=block.txs[0].hash, validators=VALIDATOR_KEYS,
                         chain_id=CHAIN)


def test_certificate_from_strangers_is_refused():
    block = _block()
    strangers = [PrivateKey(bytes([50 + i]) * 32) for i in range(4)]
    cert = _certificate(block, strangers)
    with pytest.raises(InclusionProofError, match="non-validator"):
        verify_inclusion(_inclusion_json(block, 0, cert), tx_hash=block.txs[0].hash, validators=VALIDATOR_KEYS,
                         chain_id=CHAIN)


def test_tx_json_shape_round_trips_through_raw():
    tx = _block().txs[2]
    shape = json.loads(json.dumps(tx_to_json(tx)))
    assert shape["sender"].startswith("mn1") and shape["hash"] == tx.hash.hex()
    assert shape["body"]["to"] == "01" * 32
    assert tx_from_json(shape) == tx and tx_from_json(shape["raw"]).hash == tx.hash


def test_build_tx_signs_for_the_key_and_refuses_non_canonical_bodies():
    key = PrivateKey(b"\x05" * 32)
    tx = build_tx(key, CHAIN, 0, "transfer", {"amount": 5}, 1)
    assert tx.verify() and tx.sender == key.public_key
    with pytest.raises(DecodeError, match="cannot be encoded"):
        build_tx(key, CHAIN, 0, "transfer", {"amount": 1.5}, 1)


def test_block_json_carries_what_a_reader_needs_and_header_round_trips():
    block = _block(2)
    cert = _certificate(block, VALIDATORS)
    shape = json.loads(json.dumps(block_to_json(block, cert)))
    assert shape["hash"] == block.hash.hex() and len(shape["txs"]) == 2
    assert shape["last_cert"] is None and shape["certificate"]["block_hash"] == block.hash.hex()
    assert header_from_json(shape["header"]) == block.header
