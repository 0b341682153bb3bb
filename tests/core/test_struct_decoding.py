"""Struct decoding: a canonical map becomes a Tx/Vote/... only with exactly the right fields and types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chain_samples import block, certificate, evidence, nested_tx, signed_tx, vote

from marketnode.core.encoding import encode
from marketnode.core.errors import DecodeError
from marketnode.core.types import MAX_KIND_LEN, Block, Certificate, Evidence, Header, Tx, Vote

# (type, a valid canonical map of it)
STRUCTS: list[tuple[type, Callable[[], dict[str, Any]]]] = [
    (Tx, lambda: signed_tx().to_obj()),
    (Vote, lambda: vote().to_obj()),
    (Certificate, lambda: certificate().to_obj()),
    (Header, lambda: block().header.to_obj()),
    (Evidence, lambda: evidence().to_obj()),
    (Block, lambda: block().to_obj()),
]
STRUCT_IDS = [t.__name__ for t, _ in STRUCTS]

FIELD_CASES = [(t, make, name) for t, make in STRUCTS for name in sorted(make())]
FIELD_IDS = [f"{t.__name__}.{name}" for t, _, name in FIELD_CASES]


def wrong_type_for(value: Any) -> Any:
    """A value of some other canonical type than ``value``."""
    if isinstance(value, bool) or value is None:
        return "not-this"
    if isinstance(value, int):
        return "not-an-int"
    if isinstance(value, bytes):
        return 7
    if isinstance(value, str):
        return b"not-a-str"
    if isinstance(value, list):
        return {"not": "a list"}
    return ["not", "a", "map"]


@pytest.mark.parametrize(("struct", "make"), STRUCTS, ids=STRUCT_IDS)
def test_every_struct_round_trips_through_its_map(struct, make):
    obj = make()
    assert struct.from_obj(obj).to_obj() == obj


@pytest.mark.parametrize(("struct", "make"), STRUCTS, ids=STRUCT_IDS)
def test_struct_decoding_refuses_an_unknown_field(struct, make):
    obj = make() | {"extra": 1}
    with pytest.raises(DecodeError, match="unknown fields"):
        struct.from_obj(obj)


@pytest.mark.parametrize(("struct", "make", "name"), FIELD_CASES, ids=FIELD_IDS)
def test_struct_decoding_refuses_a_missing_field(struct, make, name):
    obj = make()
    del obj[name]
    with pytest.raises(DecodeError, match="missing fields"):
        struct.from_obj(obj)


@pytest.mark.parametrize(("struct", "make", "name"), FIELD_CASES, ids=FIELD_IDS)
def test_struct_decoding_refuses_a_field_of_the_wrong_type(struct, make, name):
    obj = make()
    obj[name] = wrong_type_for(obj[name])
    with pytest.raises(DecodeError):
        struct.from_obj(obj)


@pytest.mark.parametrize(("struct", "make"), STRUCTS, ids=STRUCT_IDS)
def test_struct_decoding_refuses_something_that_is_not_a_map(struct, make):
    with pytest.raises(DecodeError):
        struct.from_obj(list(make().values()))


BYTE_FIELDS = [
    (Tx, lambda: signed_tx().to_obj(), "sender"), (Tx, lambda: signed_tx().to_obj(), "sig"),
    (Vote, lambda: vote().to_obj(), "block_hash"), (Vote, lambda: vote().to_obj(), "validator"),
    (Vote, lambda: vote().to_obj(), "sig"), (Certificate, lambda: certificate().to_obj(), "block_hash"),
] + [(Header, lambda: block().header.to_obj(), name) for name in (
    "parent_hash", "proposer", "tx_root", "state_root", "last_cert_hash", "evidence_root")]


@pytest.mark.parametrize("delta", [-1, 1])
@pytest.mark.parametrize(("struct", "make", "name"), BYTE_FIELDS,
                         ids=[f"{t.__name__}.{n}" for t, _, n in BYTE_FIELDS])
def test_struct_decoding_refuses_bytes_of_the_wrong_length(struct, make, name, delta):
    obj = make()
    obj[name] = obj[name] + b"\x00" if delta > 0 else obj[name][:-1]
    with pytest.raises(DecodeError, match="bytes"):
        struct.from_obj(obj)


@pytest.mark.parametrize("name", ["nonce", "fee"])
@pytest.mark.parametrize("value", [-1, True, False], ids=["negative", "true", "false"])
def test_tx_counters_are_unsigned_ints_and_never_bools(name, value):
    obj = signed_tx().to_obj() | {name: value}
    with pytest.raises(DecodeError, match=name):
        Tx.from_obj(obj)


@pytest.mark.parametrize(
    "chain_id", ["", "Upper", "-leading-dash", "has space", "newline\n", "x" * 65, "ünicode"],
    ids=["empty", "upper", "leading-dash", "space", "trailing-newline", "too-long", "non-ascii"],
)
def test_struct_decoding_refuses_an_invalid_chain_id(chain_id):
    with pytest.raises(DecodeError, match="chain_id"):
        Tx.from_obj(signed_tx().to_obj() | {"chain_id": chain_id})


def test_tx_kind_must_be_non_empty_and_short():
    with pytest.raises(DecodeError, match="kind"):
        Tx.from_obj(signed_tx().to_obj() | {"kind": ""})
    with pytest.raises(DecodeError, match="kind"):
        Tx.from_obj(signed_tx().to_obj() | {"kind": "k" * (MAX_KIND_LEN + 1)})


def test_an_unsigned_tx_cannot_be_decoded():
    unsigned = Tx(**{name: value for name, value in signed_tx().unsigned_obj().items()})
    with pytest.raises(DecodeError, match="sig"):
        Tx.decode(unsigned.encode())


def test_vote_phase_must_be_a_known_phase():
    with pytest.raises(DecodeError, match="phase"):
        Vote.from_obj(vote().to_obj() | {"phase": 3})


def test_certificate_signatures_must_be_sorted_by_validator_without_repeats():
    obj = certificate().to_obj()
    with pytest.raises(DecodeError, match="sorted"):
        Certificate.from_obj(obj | {"signatures": list(reversed(obj["signatures"]))})
    with pytest.raises(DecodeError, match="sorted"):
        Certificate.from_obj(obj | {"signatures": [obj["signatures"][0]] * 2})


@pytest.mark.parametrize(
    "entry", [["only one"], [b"\x01" * 32, b"\x02" * 64, b"extra"], [b"\x01" * 31, b"\x02" * 64],
              [b"\x01" * 32, b"\x02" * 63], "not a list"],
    ids=["short", "long", "validator-length", "signature-length", "not-a-list"],
)
def test_certificate_signature_entries_are_validator_signature_pairs(entry):
    with pytest.raises(DecodeError, match="signatures"):
        Certificate.from_obj(certificate().to_obj() | {"signatures": [entry]})


def test_evidence_votes_must_be_ordered_by_block_hash():
    obj = evidence().to_obj()
    with pytest.raises(DecodeError, match="ordered"):
        Evidence.from_obj({"first": obj["second"], "second": obj["first"]})


def test_block_txs_are_embedded_as_their_canonical_bytes():
    obj = block().to_obj()
    with pytest.raises(DecodeError, match="canonical bytes"):
        Block.from_obj(obj | {"txs": [signed_tx().to_obj()]})


def test_block_decoding_refuses_a_malformed_tx_inside():
    obj = block().to_obj()
    with pytest.raises(DecodeError):
        Block.from_obj(obj | {"txs": [obj["txs"][0][:-1]]})


def test_block_may_have_no_certificate_and_no_evidence():
    genesis_child = block(with_evidence=False)
    obj = genesis_child.to_obj() | {"last_cert": None}
    decoded = Block.from_obj(obj)
    assert decoded.last_cert is None
    assert decoded.evidence == ()


def test_type_decoders_refuse_a_map_of_another_type():
    with pytest.raises(DecodeError):
        Vote.decode(nested_tx().encode())
    with pytest.raises(DecodeError):
        Tx.decode(encode(vote().to_obj()))
