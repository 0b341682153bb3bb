"""Write the protocol test vectors (docs/test-vectors/*.json) from fixed seeds.

Run ``python docs/test-vectors/generate.py`` after a deliberate protocol
change; ``--check`` only compares. Tests never run this: they check the code
against the committed JSON, so a silent change of any byte fails CI.

JSON form of canonical values: str, int, bool, null, lists and maps as
themselves; bytes as ``{"$bytes": "<hex>"}``. Seeds are ``bytes([n]) * 32``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from commerce_vectors import commerce_file
from message_vectors import messages_file, sealed_file
from multisig_vectors import multisig_file

from marketnode.core import smt
from marketnode.core.encoding import MAX_DEPTH, decode, encode
from marketnode.core.errors import DecodeError
from marketnode.core.hashing import TAGS, digest, signing_message
from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.merkle import EMPTY_ROOT, leaf_hash, merkle_proof, merkle_root
from marketnode.core.types import COMMIT, PREPARE, Block, Certificate, Evidence, Tx, Vote
from marketnode.core.upload import authorise_upload

HERE = Path(__file__).resolve().parent
CHAIN_ID = "marketnode-testnet-1"


def seed(n: int) -> bytes:
    return bytes([n]) * 32


def key(n: int) -> PrivateKey:
    return PrivateKey(seed(n))


def as_json(value: Any) -> Any:
    """A canonical value in the JSON form described in the module docstring."""
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


def tx_vector(name: str, seed_n: int, nonce: int, kind: str, body: dict[str, Any], fee: int) -> dict[str, Any]:
    signer = key(seed_n)
    unsigned = Tx(CHAIN_ID, signer.public_key, nonce, kind, body, fee)
    tx = unsigned.sign(signer)
    return {
        "name": name,
        "seed": seed(seed_n).hex(),
        "fields": as_json(unsigned.unsigned_obj()),
        "unsigned_canonical": encode(unsigned.unsigned_obj()).hex(),
        "signing_message": tx.signing_bytes().hex(),
        "signature": tx.sig.hex(),
        "signed_canonical": tx.encode().hex(),
        "hash": tx.hash.hex(),
    }


def example_txs() -> list[Tx]:
    buyer, seller = key(1), key(2)
    transfer = Tx(CHAIN_ID, buyer.public_key, 0, "transfer", {"amount": 1_000_000, "to": seller.public_key}, 10)
    listing_body = {
        "title": "Hand-knitted wool socks, größe M",
        "price_units": 2500,
        "stock": 12,
        "tags": ["wool", "socks"],
        "attributes": {"colour": "red", "sizes": ["S", "M", "L"], "organic": True, "discount": None},
    }
    listing = Tx(CHAIN_ID, seller.public_key, 7, "listing.create", listing_body, 25)
    return [transfer.sign(buyer), listing.sign(seller)]


def txs_file() -> dict[str, Any]:
    transfer, listing = example_txs()
    return {
        "chain_id": CHAIN_ID,
        "txs": [
            tx_vector("transfer", 1, transfer.nonce, transfer.kind, transfer.body, transfer.fee),
            tx_vector("listing with nested body", 2, listing.nonce, listing.kind, listing.body, listing.fee),
        ],
    }


def vote_vector(name: str, vote: Vote, seed_n: int) -> dict[str, Any]:
    signed = vote.sign(key(seed_n))
    return {
        "name": name,
        "seed": seed(seed_n).hex(),
        "fields": as_json(vote.unsigned_obj()),
        "unsigned_canonical": encode(vote.unsigned_obj()).hex(),
        "signing_message": signed.signing_bytes().hex(),
        "signature": signed.sig.hex(),
        "signed_canonical": signed.encode().hex(),
    }


def block_hash_for(n: int) -> bytes:
    """A stand-in block hash: any 32 bytes will do for a vote."""
    return digest("header", bytes([n]))


def votes_file() -> dict[str, Any]:
    validator = key(1).public_key
    commit = Vote(CHAIN_ID, COMMIT, 5, 0, block_hash_for(5), validator)
    a = Vote(CHAIN_ID, PREPARE, 9, 1, block_hash_for(0xA), validator).sign(key(1))
    b = Vote(CHAIN_ID, PREPARE, 9, 1, block_hash_for(0xB), validator).sign(key(1))
    evidence = Evidence(*sorted((a, b), key=lambda v: v.block_hash))
    return {
        "chain_id": CHAIN_ID,
        "votes": [vote_vector("commit vote", commit, 1)],
        "evidence": {
            "seed": seed(1).hex(),
            "first": as_json(evidence.first.to_obj()),
            "second": as_json(evidence.second.to_obj()),
            "canonical": evidence.encode().hex(),
            "hash": evidence.hash.hex(),
        },
    }


def example_certificate() -> tuple[list[PrivateKey], Certificate]:
    validators = [key(n) for n in (1, 2, 3, 4)]
    block_hash = block_hash_for(4)
    votes = [Vote(CHAIN_ID, COMMIT, 4, 0, block_hash, k.public_key).sign(k) for k in validators[:3]]
    return validators, Certificate.from_votes(votes)


def certificate_file() -> dict[str, Any]:
    validators, cert = example_certificate()
    return {
        "chain_id": CHAIN_ID,
        "validator_seeds": [k.seed.hex() for k in validators],
        "validators": [k.public_key.hex() for k in validators],
        "signer_seeds": [k.seed.hex() for k in validators[:3]],
        "quorum_size": 3,
        "fields": {"block_hash": cert.block_hash.hex(), "height": cert.height, "view": cert.view},
        "signatures": [{"validator": v.hex(), "signature": s.hex()} for v, s in cert.signatures],
        "canonical": cert.encode().hex(),
        "hash": cert.hash.hex(),
    }


def header_file() -> dict[str, Any]:
    validators, cert = example_certificate()
    txs = example_txs()
    block = Block.build(
        chain_id=CHAIN_ID, height=5, view=0, timestamp_ms=1_735_689_600_000,
        parent_hash=cert.block_hash, proposer=validators[1].public_key,
        state_root=digest("state", b"example"), txs=txs, last_cert=cert,
    )
    return {
        "chain_id": CHAIN_ID,
        "note": "block at height 5 holding the two txs of txs.json and the certificate of certificate.json",
        "tx_hashes": [tx.hash.hex() for tx in txs],
        "fields": as_json(block.header.to_obj()),
        "canonical": block.header.encode().hex(),
        "hash": block.hash.hex(),
        "block_canonical": block.encode().hex(),
    }


def merkle_file() -> dict[str, Any]:
    items = [digest("tx", bytes([n])) for n in range(5)]
    return {
        "empty_root": EMPTY_ROOT.hex(),
        "single": {"items": [items[0].hex()], "root": merkle_root(items[:1]).hex()},
        "items": [item.hex() for item in items],
        "leaf_hashes": [leaf_hash(item).hex() for item in items],
        "root": merkle_root(items).hex(),
        "proofs": [
            {"index": p.index, "size": p.size, "path": [h.hex() for h in p.path]}
            for p in (merkle_proof(items, i) for i in range(len(items)))
        ],
    }


def state_file() -> dict[str, Any]:
    """A five-key state: paths, leaves, root, and proofs of two values and of two absences (both kinds)."""
    state = {b"b/alice/MKT": b"\x64", b"b/bob/MKT": b"\x05", b"n/alice": b"\x02", b"o/7": b"shipped",
             b"c/1": b"cert"}
    nodes: dict[bytes, bytes] = {}
    update = smt.TreeUpdate(nodes, None, 0, state)
    nodes.update(update.writes)

    def proof_case(key_bytes: bytes) -> dict[str, Any]:
        proof, _ = smt.prove(nodes, update.root_entry, key_bytes)
        value = state.get(key_bytes)
        kind = "value" if value is not None else ("absent, empty slot" if proof.leaf is None else "absent, other leaf")
        return {"key": key_bytes.hex(), "value": None if value is None else value.hex(), "kind": kind,
                "path": smt.key_path(key_bytes).hex(), "proof": proof.to_json()}

    absent = [b"x/%d" % i for i in range(200)]
    empty_slot = next(k for k in absent if smt.prove(nodes, update.root_entry, k)[0].leaf is None)
    other_leaf = next(k for k in absent if smt.prove(nodes, update.root_entry, k)[0].leaf is not None)
    return {
        "note": "state tree of docs/PROTOCOL.md §7.2; keys and values are hex bytes",
        "empty_root": smt.EMPTY.hex(),
        "entries": [{"key": k.hex(), "value": v.hex(), "path": smt.key_path(k).hex(),
                     "value_hash": smt.value_hash(v).hex(), "leaf": smt.leaf_hash(smt.key_path(k), smt.value_hash(v)).hex()}
                    for k, v in sorted(state.items())],
        "root": update.root.hex(),
        "proofs": [proof_case(b"o/7"), proof_case(b"c/1"), proof_case(empty_slot), proof_case(other_leaf)],
    }


def snapshot_file() -> dict[str, Any]:
    """The five-key state of state.json as a state-sync snapshot after block 7, cut at 40 bytes a chunk."""
    from marketnode.node.snapshot.format import Manifest, chunk_hash, cut_chunks, encode_chunk

    state = {b"b/alice/MKT": b"\x64", b"b/bob/MKT": b"\x05", b"n/alice": b"\x02", b"o/7": b"shipped",
             b"c/1": b"cert"}
    chunk_bytes = 40
    chunks = [encode_chunk(pairs) for pairs in cut_chunks(sorted(state.items()), chunk_bytes)]
    manifest = Manifest(7, smt.root_of(state), len(state), tuple(chunk_hash(c) for c in chunks))
    return {
        "note": "state sync of docs/PROTOCOL.md §7.4; keys and values are hex bytes, in key order",
        "chunk_bytes": chunk_bytes,
        "entries": [{"key": k.hex(), "value": v.hex()} for k, v in sorted(state.items())],
        "chunks": [{"canonical": c.hex(), "hash": chunk_hash(c).hex()} for c in chunks],
        "manifest": {"height": manifest.height, "state_root": manifest.state_root.hex(),
                     "canonical": manifest.encode().hex(), "hash": manifest.hash.hex()},
    }


def addresses_file() -> dict[str, Any]:
    valid = []
    for n in (0, 1, 2, 3, 4, 0xFF):
        public_key = key(n).public_key
        valid.append({
            "seed": seed(n).hex(),
            "public_key": public_key.hex(),
            "checksum": digest("address", b"mn" + public_key)[:4].hex(),
            "address": address_from_pubkey(public_key),
        })
    good = valid[1]["address"]
    typo = good[:10] + ("b" if good[10] != "b" else "c") + good[11:]
    invalid = [
        {"address": typo, "reason": "one character changed: checksum mismatch"},
        {"address": good.upper(), "reason": "upper case is not allowed"},
        {"address": good[:-1], "reason": "too short"},
        {"address": good + "a", "reason": "too long"},
        {"address": "mx1" + good[3:], "reason": "wrong prefix"},
        {"address": good[:20] + "1" + good[21:], "reason": "'1' is not in the base32 alphabet"},
        {"address": good + "\n", "reason": "trailing newline"},
        {"address": non_canonical_last_char(good), "reason": "non-zero padding bits in the last character"},
    ]
    return {"valid": valid, "invalid": invalid}


def non_canonical_last_char(address: str) -> str:
    """The same key and checksum, spelled with a padding bit set (must be refused)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return address[:-1] + alphabet[alphabet.index(address[-1]) | 1]


def canonical_file() -> dict[str, Any]:
    valid_values: list[tuple[str, Any]] = [
        ("nil", None), ("false", False), ("true", True),
        ("positive fixint", 127), ("uint8", 128), ("uint16", 256), ("uint32", 65536), ("uint64", 2**32),
        ("largest uint64", 2**64 - 1), ("negative fixint", -32), ("int8", -33), ("int16", -129),
        ("int32", -32769), ("int64", -(2**31) - 1), ("smallest int64", -(2**63)),
        ("fixstr", "hi"), ("str8 (32 bytes)", "a" * 32), ("multi-byte UTF-8", "größe ✓"),
        ("bin8", b"\x00\xff"), ("empty bin", b""), ("fixarray", [1, [2, "x"]]), ("array16", [0] * 16),
        ("empty map", {}), ("map sorted by UTF-8 bytes", {"b": 1, "a": 2, "aa": 3, "B": 4, "é": 5}),
        ("fixmap", {"k": {"nested": [True, None]}}),
        ("map keys in UTF-8 order, not UTF-16 order", {"\U0001f600": 2, "\uff61": 1}),
    ]
    valid = [{"name": n, "value": as_json(v), "canonical": encode(v).hex()} for n, v in valid_values]
    invalid = [
        ("", "empty input"),
        ("92", "truncated: array of 2 with no items"),
        ("a3 61 62", "truncated: fixstr of 3 bytes holding 2"),
        ("c0c0", "trailing bytes after the value"),
        ("cb3ff8000000000000", "float64"),
        ("ca3fc00000", "float32"),
        ("d40100", "ext type (fixext1)"),
        ("c70100", "ext type (ext8)"),
        ("81 01 01", "map key is an int, not a str"),
        ("81 c4 01 61 01", "map key is bin, not str"),
        ("82 a1 62 01 a1 61 02", "map keys not sorted"),
        ("82 a1 61 01 a1 61 02", "duplicate map key"),
        ("82 a4 f09f9880 02 a3 efbda1 01", "map keys in UTF-16 order (U+1F600 before U+FF61)"),
        ("cc 05", "uint8 for a value that fits a positive fixint"),
        ("cd 00 ff", "uint16 for a value that fits uint8"),
        ("d0 05", "int8 for a non-negative value"),
        ("d1 ff 80", "int16 for a value that fits int8"),
        ("d9 02 68 69", "str8 for a 2-byte string that fits fixstr"),
        ("c5 00 01 00", "bin16 for a 1-byte bin that fits bin8"),
        ("dc 00 01 01", "array16 for 1 item that fits fixarray"),
        ("de 00 00", "map16 for 0 entries that fits fixmap"),
        ("a2 c3 28", "invalid UTF-8 in a str"),
        ("a1 80", "a lone UTF-8 continuation byte"),
        ("c1", "0xc1 is never used"),
        ("91" * 33 + "c0", "nested deeper than 32 levels"),
    ]
    invalid_rows = [{"bytes": h.replace(" ", ""), "reason": r} for h, r in invalid]
    for row in invalid_rows:
        _assert_refused(bytes.fromhex(row["bytes"]))
    unencodable = [
        {"value": 2**64, "reason": "above the uint64 range"},
        {"value": -(2**63) - 1, "reason": "below the int64 range"},
    ]
    return {"max_depth": MAX_DEPTH, "valid": valid, "invalid": invalid_rows, "unencodable": unencodable}


def _assert_refused(data: bytes) -> None:
    try:
        decode(data)
    except DecodeError:
        return
    raise AssertionError(f"{data.hex()} decoded but is listed as invalid")


def upload_file() -> dict[str, Any]:
    """A content upload authorisation (docs/PROTOCOL.md §10)."""
    data = b"Great lamp, arrived well packed."
    auth = authorise_upload(key(3), CHAIN_ID, data, 1_767_225_600_000)
    return {
        "chain_id": CHAIN_ID, "seed": seed(3).hex(), "data": data.hex(), "content_hash": auth.hash.hex(),
        "fields": as_json(auth.unsigned_obj()), "unsigned_canonical": encode(auth.unsigned_obj()).hex(),
        "signing_message": auth.signing_bytes(CHAIN_ID).hex(), "signature": auth.sig.hex(),
    }


def hashing_file() -> dict[str, Any]:
    samples = [("tx", b""), ("header", b"abc"), ("address", b"mn" + bytes(32)), ("merkle-empty", b"")]
    return {
        "tags": sorted(TAGS),
        "signing_tags": ["message", "message-read", "tx", "vote"],
        "digests": [{"tag": t, "data": d.hex(), "digest": digest(t, d).hex()} for t, d in samples],
        "signing_message": {
            "tag": "tx", "chain_id": CHAIN_ID, "body": "80",
            "message": signing_message("tx", CHAIN_ID, b"\x80").hex(),
        },
    }


FILES = {
    "canonical.json": canonical_file,
    "hashing.json": hashing_file,
    "addresses.json": addresses_file,
    "txs.json": txs_file,
    "votes.json": votes_file,
    "certificate.json": certificate_file,
    "header.json": header_file,
    "merkle.json": merkle_file,
    "upload.json": upload_file,
    "state.json": state_file,
    "snapshot.json": snapshot_file,
    "messages.json": messages_file,
    "sealed.json": sealed_file,
    "commerce.json": commerce_file,
    "multisig.json": multisig_file,
}


def render(build: Any) -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, build in FILES.items():
        path = HERE / name
        text = render(build)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date:", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
