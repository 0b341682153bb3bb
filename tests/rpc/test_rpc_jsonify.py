"""JSON conventions of the RPC: bytes as bare lowercase hex, no floats, strict parsing."""

from __future__ import annotations

import pytest

from marketnode.core.errors import ValidationError
from marketnode.core.merkle import merkle_proof
from marketnode.node.rpc.jsonify import dumps, from_hex, loads, proof_to_json, to_json


def test_to_json_turns_bytes_into_bare_lowercase_hex_recursively():
    assert to_json({"a": b"\xab\x01", "b": (b"\x00", [bytearray(b"\xff")]), "c": None}) == {
        "a": "ab01", "b": ["00", ["ff"]], "c": None,
    }


def test_to_json_expands_types_with_to_obj():
    proof = merkle_proof([b"x", b"y", b"z"], 1)
    assert to_json(proof) == proof_to_json(proof) == {"index": 1, "size": 3, "path": [p.hex() for p in proof.path]}


@pytest.mark.parametrize("value", [1.5, {1: "x"}, object()])
def test_to_json_refuses_what_has_no_json_form(value):
    with pytest.raises(TypeError):
        to_json(value)


@pytest.mark.parametrize("text", ["0xab", "AB", "abc", 12])
def test_from_hex_refuses_other_spellings(text):
    with pytest.raises(ValidationError):
        from_hex(text, "field")


def test_from_hex_checks_the_size_and_names_the_field():
    assert from_hex("abcd", "f", 2) == b"\xab\xcd"
    with pytest.raises(ValidationError, match="tx_hash: expected 32 bytes"):
        from_hex("ab", "tx_hash", 32)


def test_strict_json_both_ways():
    with pytest.raises(ValueError):
        loads("[NaN]")
    with pytest.raises(ValueError):
        loads('{"id": 1e400}')
    assert loads("[1.5, 2]") == [1.5, 2]
    with pytest.raises(ValueError):
        dumps(float("inf"))
    assert dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'
