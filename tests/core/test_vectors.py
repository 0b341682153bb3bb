"""The committed test vectors (docs/test-vectors/*.json) match the code, byte for byte.

These read the JSON and recompute from its inputs; they never run generate.py,
so any change to an encoding, hash or signature shows up here as a failure.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, ValidationError
from marketnode.core.hashing import TAGS, digest, signing_message
from marketnode.core.keys import PrivateKey, address_from_pubkey, pubkey_from_address, verify
from marketnode.core.merkle import EMPTY_ROOT, MerkleProof, leaf_hash, merkle_proof, merkle_root, verify_proof
from marketnode.core.types import Block, Certificate, Evidence, Header, Tx, Vote, quorum_size
from marketnode.core.upload import UploadAuth

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "test-vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def from_json(value: Any) -> Any:
    """Undo the vectors' JSON form: ``{"$bytes": hex}`` is bytes, everything else is itself."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def h(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text)


@pytest.mark.parametrize("case", load("canonical.json")["valid"], ids=lambda c: c["name"])
def test_valid_canonical_vectors(case):
    value = from_json(case["value"])
    assert encode(value).hex() == case["canonical"]
    assert decode(h(case["canonical"])) == value


@pytest.mark.parametrize("case", load("canonical.json")["invalid"], ids=lambda c: c["reason"])
def test_invalid_canonical_vectors_are_refused(case):
    with pytest.raises(DecodeError):
        decode(h(case["bytes"]))


@pytest.mark.parametrize("case", load("canonical.json")["unencodable"], ids=lambda c: c["reason"])
def test_unencodable_vectors_are_refused(case):
    with pytest.raises(DecodeError):
        encode(case["value"])


def test_hashing_vectors():
    vectors = load("hashing.json")
    assert set(vectors["tags"]) == TAGS
    for case in vectors["digests"]:
        assert digest(case["tag"], h(case["data"])).hex() == case["digest"]
    sm = vectors["signing_message"]
    assert signing_message(sm["tag"], sm["chain_id"], h(sm["body"])).hex() == sm["message"]


@pytest.mark.parametrize("case", load("addresses.json")["valid"], ids=lambda c: c["address"][:12])
def test_valid_address_vectors(case):
    key = PrivateKey(h(case["seed"]))
    assert key.public_key.hex() == case["public_key"]
    assert digest("address", b"mn" + key.public_key)[:4].hex() == case["checksum"]
    assert address_from_pubkey(key.public_key) == case["address"]
    assert pubkey_from_address(case["address"]).hex() == case["public_key"]


@pytest.mark.parametrize("case", load("addresses.json")["invalid"], ids=lambda c: c["reason"])
def test_invalid_address_vectors_are_refused(case):
    with pytest.raises(ValidationError):
        pubkey_from_address(case["address"])


@pytest.mark.parametrize("case", load("txs.json")["txs"], ids=lambda c: c["name"])
def test_tx_vectors(case):
    key = PrivateKey(h(case["seed"]))
    fields = from_json(case["fields"])
    assert fields["sender"] == key.public_key
    assert encode(fields).hex() == case["unsigned_canonical"]
    tx = Tx(**fields).sign(key)
    assert tx.signing_bytes().hex() == case["signing_message"]
    assert tx.sig.hex() == case["signature"]
    assert tx.encode().hex() == case["signed_canonical"]
    assert tx.hash.hex() == case["hash"]
    decoded = Tx.decode(h(case["signed_canonical"]))
    assert decoded.verify() and decoded == tx


@pytest.mark.parametrize("case", load("votes.json")["votes"], ids=lambda c: c["name"])
def test_vote_vectors(case):
    key = PrivateKey(h(case["seed"]))
    fields = from_json(case["fields"])
    assert encode(fields).hex() == case["unsigned_canonical"]
    vote = Vote(**fields).sign(key)
    assert vote.signing_bytes().hex() == case["signing_message"]
    assert vote.sig.hex() == case["signature"]
    assert vote.encode().hex() == case["signed_canonical"]
    assert Vote.decode(h(case["signed_canonical"])).verify()


def test_evidence_vector():
    case = load("votes.json")["evidence"]
    evidence = Evidence(Vote(**from_json(case["first"])), Vote(**from_json(case["second"])))
    evidence.check(load("votes.json")["chain_id"])
    assert evidence.encode().hex() == case["canonical"]
    assert evidence.hash.hex() == case["hash"]
    assert Evidence.decode(h(case["canonical"])) == evidence


def test_certificate_vector():
    case = load("certificate.json")
    validators = [PrivateKey(h(seed)).public_key for seed in case["validator_seeds"]]
    assert [v.hex() for v in validators] == case["validators"]
    assert quorum_size(len(validators)) == case["quorum_size"]
    fields = case["fields"]
    for entry in case["signatures"]:
        message = signing_message("vote", case["chain_id"], encode({
            "block_hash": h(fields["block_hash"]), "chain_id": case["chain_id"], "height": fields["height"],
            "phase": 2, "validator": h(entry["validator"]), "view": fields["view"],
        }))
        assert verify(h(entry["validator"]), message, h(entry["signature"]))
    cert = Certificate.decode(h(case["canonical"]))
    cert.verify(validators, case["chain_id"])
    assert [(v.hex(), s.hex()) for v, s in cert.signatures] == [(e["validator"], e["signature"]) for e in case["signatures"]]
    assert cert.hash.hex() == case["hash"]


def test_header_vector():
    case = load("header.json")
    header = Header(**from_json(case["fields"]))
    assert header.encode().hex() == case["canonical"]
    assert header.hash.hex() == case["hash"]
    assert header.tx_root == merkle_root([h(x) for x in case["tx_hashes"]])
    assert header.last_cert_hash.hex() == load("certificate.json")["hash"]
    block = Block.decode(h(case["block_canonical"]))
    block.check_contents()
    assert block.header == header
    assert [tx.hash.hex() for tx in block.txs] == case["tx_hashes"] == [t["hash"] for t in load("txs.json")["txs"]]


def test_merkle_vectors():
    case = load("merkle.json")
    items = [h(x) for x in case["items"]]
    assert merkle_root([]).hex() == EMPTY_ROOT.hex() == case["empty_root"]
    assert merkle_root([h(x) for x in case["single"]["items"]]).hex() == case["single"]["root"]
    assert [leaf_hash(x).hex() for x in items] == case["leaf_hashes"]
    assert merkle_root(items).hex() == case["root"]
    for proof_case in case["proofs"]:
        proof = MerkleProof(proof_case["index"], proof_case["size"], tuple(h(p) for p in proof_case["path"]))
        assert merkle_proof(items, proof.index) == proof
        assert verify_proof(h(case["root"]), items[proof.index], proof)


def test_upload_authorisation_vector():
    case = load("upload.json")
    key = PrivateKey(h(case["seed"]))
    data = h(case["data"])
    assert hashlib.sha256(data).hexdigest() == case["content_hash"]
    auth = UploadAuth(h(case["content_hash"]), key.public_key, case["fields"]["time_ms"])
    assert from_json(case["fields"]) == auth.unsigned_obj()
    assert encode(auth.unsigned_obj()).hex() == case["unsigned_canonical"]
    assert auth.signing_bytes(case["chain_id"]).hex() == case["signing_message"]
    signed = auth.sign(key, case["chain_id"])
    assert signed.sig.hex() == case["signature"] and signed.verify(case["chain_id"])
    assert not signed.verify("another-chain")


def test_state_tree_vectors():
    from marketnode.core import smt

    vectors = load("state.json")
    assert smt.root_of({}).hex() == vectors["empty_root"]
    state = {}
    for entry in vectors["entries"]:
        k, v = h(entry["key"]), h(entry["value"])
        assert digest("smt-key", k).hex() == entry["path"]
        assert digest("smt-value", v).hex() == entry["value_hash"]
        assert digest("smt-leaf", h(entry["path"]) + h(entry["value_hash"])).hex() == entry["leaf"]
        state[k] = v
    assert smt.root_of(state).hex() == vectors["root"]
    kinds = set()
    for case in vectors["proofs"]:
        proof = smt.Proof.from_json(case["proof"])
        value = None if case["value"] is None else h(case["value"])
        assert smt.verify_proof(h(vectors["root"]), h(case["key"]), value, proof)
        assert not smt.verify_proof(h(vectors["root"]), h(case["key"]), b"other", proof)
        kinds.add(case["kind"])
    assert kinds == {"value", "absent, empty slot", "absent, other leaf"}


def test_snapshot_vectors():
    """PROTOCOL.md §7.4 spelled out: chunks are canonical [[key, value], ...] in key order, the manifest a map."""
    from marketnode.core import smt
    from marketnode.node.snapshot.format import Manifest, chunk_hash, cut_chunks, encode_chunk

    vectors = load("snapshot.json")
    state = {h(e["key"]): h(e["value"]) for e in vectors["entries"]}
    chunks = [h(c["canonical"]) for c in vectors["chunks"]]
    assert len(chunks) > 1
    pairs = [tuple(p) for c in chunks for p in decode(c)]
    assert pairs == sorted(state.items())
    for case, data in zip(vectors["chunks"], chunks):
        assert digest("snapshot-chunk", data).hex() == case["hash"]
    m = vectors["manifest"]
    assert m["state_root"] == smt.root_of(state).hex()
    spelled = encode({"chunks": [h(c["hash"]) for c in vectors["chunks"]], "entries": len(state), "format": 1,
                      "height": m["height"], "state_root": h(m["state_root"])})
    assert spelled.hex() == m["canonical"]
    assert digest("snapshot-manifest", spelled).hex() == m["hash"]
    built = [encode_chunk(p) for p in cut_chunks(sorted(state.items()), vectors["chunk_bytes"])]
    assert built == chunks and chunk_hash(built[0]).hex() == vectors["chunks"][0]["hash"]
    assert Manifest.decode(spelled, len(chunks)).hash.hex() == m["hash"]
