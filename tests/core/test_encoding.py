"""Canonical msgpack: one byte string per value, and the decoder refuses every other spelling."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.core.encoding import INT_MAX, INT_MIN, MAX_DEPTH, decode, encode
from marketnode.core.errors import DecodeError

canonical_values = st.recursive(
    st.none() | st.booleans() | st.integers(INT_MIN, INT_MAX) | st.binary(max_size=40) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(canonical_values)
def test_every_canonical_value_round_trips_and_has_one_spelling(value):
    data = encode(value)
    assert decode(data) == value
    assert encode(decode(data)) == data


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.integers(0, 9), min_size=2, max_size=8))
def test_map_keys_are_written_in_utf8_byte_order_whatever_the_insertion_order(mapping):
    reversed_insertion = dict(reversed(list(mapping.items())))
    assert encode(mapping) == encode(reversed_insertion)
    keys = list(msgpack.unpackb(encode(mapping), raw=True, strict_map_key=False))
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("value", "expected_hex"),
    [
        (0, "00"), (127, "7f"), (128, "cc80"), (255, "ccff"), (256, "cd0100"), (65535, "cdffff"),
        (65536, "ce00010000"), (2**32 - 1, "ceffffffff"), (2**32, "cf0000000100000000"),
        (INT_MAX, "cfffffffffffffffff"), (-1, "ff"), (-32, "e0"), (-33, "d0df"), (-128, "d080"),
        (-129, "d1ff7f"), (-32768, "d18000"), (-32769, "d2ffff7fff"), (-(2**31), "d280000000"),
        (-(2**31) - 1, "d3ffffffff7fffffff"), (INT_MIN, "d38000000000000000"),
        (None, "c0"), (False, "c2"), (True, "c3"),
        ("", "a0"), ("a" * 31, "bf" + "61" * 31), ("a" * 32, "d920" + "61" * 32),
        (b"", "c400"), (b"\x01", "c40101"), ([], "90"), ({}, "80"),
        ({"b": 1, "a": 2}, "82a16102a16201"),
        ({"\uff61": 1, "\U0001f600": 2}, "82a3efbda101a4f09f988002"),
    ],
)
def test_encoder_uses_the_shortest_form(value, expected_hex):
    assert encode(value).hex() == expected_hex
    assert decode(bytes.fromhex(expected_hex)) == value


def test_sizes_switch_to_16_bit_forms_past_their_short_limits():
    assert encode("a" * 256)[:3].hex() == "da0100"
    assert encode(b"a" * 256)[:3].hex() == "c50100"
    assert encode([0] * 16)[:3].hex() == "dc0010"
    assert encode({f"k{i:02}": 0 for i in range(16)})[:3].hex() == "de0010"


def test_tuples_encode_as_lists_and_bytearrays_as_bytes():
    assert encode((1, bytearray(b"x"))) == encode([1, b"x"])


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), {1: "int key"}, {b"k": "bytes key"}, {1, 2}, object(), 2**64, INT_MIN - 1, "\ud800"],
    ids=["float", "nan", "int-key", "bytes-key", "set", "object", "above-u64", "below-i64", "lone-surrogate"],
)
def test_encoder_refuses_values_with_no_canonical_form(value):
    with pytest.raises(DecodeError):
        encode(value)


def nested_lists(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_nesting_up_to_max_depth_is_accepted():
    data = bytes.fromhex("91" * MAX_DEPTH + "c0")
    assert decode(data) is not None


def test_encoder_refuses_nesting_deeper_than_max_depth():
    with pytest.raises(DecodeError, match="nested"):
        encode(nested_lists(MAX_DEPTH + 2))


# --- every way the decoder refuses bytes -------------------------------------------------------


def refuses(hex_bytes: str, match: str | None = None) -> None:
    with pytest.raises(DecodeError, match=match):
        decode(bytes.fromhex(hex_bytes.replace(" ", "")))


def test_decoder_refuses_empty_input():
    refuses("", "empty")


def test_decoder_refuses_input_that_is_not_bytes():
    with pytest.raises(DecodeError):
        decode("c0")  # type: ignore[arg-type]


def test_decoder_refuses_input_over_the_size_limit():
    data = encode(b"x" * 100)
    assert decode(data, max_bytes=len(data)) == b"x" * 100
    with pytest.raises(DecodeError, match="exceeds"):
        decode(data, max_bytes=len(data) - 1)


def test_decoder_refuses_every_truncation_of_a_valid_encoding():
    data = encode({"list": [1, 300, 70000, 2**40], "s": "text", "b": b"\x00" * 20, "neg": -(2**40)})
    for end in range(len(data)):
        with pytest.raises(DecodeError):
            decode(data[:end])


def test_decoder_refuses_trailing_bytes():
    refuses("c0 c0", "trailing")
    refuses("81 a1 61 01 00", "trailing")


@pytest.mark.parametrize("hex_bytes", ["ca 3f c0 00 00", "cb 3f f8 00 00 00 00 00 00", "91 ca 00 00 00 00"])
def test_decoder_refuses_floats(hex_bytes):
    refuses(hex_bytes)


@pytest.mark.parametrize(
    "hex_bytes",
    ["d4 01 00", "d5 01 00 00", "c7 01 05 00", "c8 00 01 05 00", "d6 ff 00 00 00 00"],
    ids=["fixext1", "fixext2", "ext8", "ext16", "timestamp"],
)
def test_decoder_refuses_ext_types(hex_bytes):
    refuses(hex_bytes)


@pytest.mark.parametrize(
    "hex_bytes", ["81 01 01", "81 c4 01 61 01", "81 c0 01", "81 c3 01", "81 90 01", "81 80 01"],
    ids=["int", "bin", "nil", "bool", "array", "map"],
)
def test_decoder_refuses_non_string_map_keys(hex_bytes):
    refuses(hex_bytes)


def test_decoder_refuses_unsorted_map_keys():
    refuses("82 a1 62 01 a1 61 02", "canonical")


def test_decoder_refuses_keys_in_utf16_order():
    """U+FF61 sorts before U+1F600 in UTF-8; a UTF-16 sort (JavaScript, Java) gets it backwards."""
    refuses("82 a4 f09f9880 02 a3 efbda1 01", "canonical")


def test_decoder_refuses_a_shorter_key_after_a_longer_one_with_the_same_prefix():
    refuses("82 a2 61 61 01 a1 61 02", "canonical")


def test_decoder_refuses_duplicate_map_keys():
    refuses("82 a1 61 01 a1 61 02", "canonical")
    refuses("82 a1 61 01 a1 61 01", "canonical")


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "cc 05", "cd 00 ff", "ce 00 00 ff ff", "cf 00 00 00 00 ff ff ff ff",
        "d0 05", "d0 e0", "d1 ff 80", "d2 ff ff 80 00", "d3 ff ff ff ff 80 00 00 00", "d1 00 01",
    ],
    ids=[
        "uint8-for-fixint", "uint16-for-uint8", "uint32-for-uint16", "uint64-for-uint32",
        "int8-for-positive", "int8-for-negative-fixint", "int16-for-int8", "int32-for-int16",
        "int64-for-int32", "int16-for-positive",
    ],
)
def test_decoder_refuses_non_shortest_ints(hex_bytes):
    refuses(hex_bytes, "canonical")


@pytest.mark.parametrize(
    "hex_bytes",
    ["d9 01 61", "da 00 01 61", "db 00 00 00 01 61", "da 00 21" + "61" * 33],
    ids=["str8-for-fixstr", "str16-for-fixstr", "str32-for-fixstr", "str16-for-str8"],
)
def test_decoder_refuses_non_shortest_strings(hex_bytes):
    refuses(hex_bytes, "canonical")


@pytest.mark.parametrize(
    "hex_bytes",
    ["c5 00 01 61", "c6 00 00 00 01 61"],
    ids=["bin16-for-bin8", "bin32-for-bin8"],
)
def test_decoder_refuses_non_shortest_bins(hex_bytes):
    refuses(hex_bytes, "canonical")


def test_bytes_and_strings_stay_distinct_types():
    """With use_bin_type=True bytes are the bin family and text the str family; neither reads as the other."""
    assert decode(bytes.fromhex("c40161")) == b"a"
    assert decode(bytes.fromhex("a161")) == "a"
    assert encode(b"a") != encode("a")


@pytest.mark.parametrize(
    "hex_bytes",
    ["dc 00 01 01", "dd 00 00 00 01 01", "de 00 01 a1 61 01", "df 00 00 00 00"],
    ids=["array16-for-fixarray", "array32-for-fixarray", "map16-for-fixmap", "map32-for-fixmap"],
)
def test_decoder_refuses_non_shortest_containers(hex_bytes):
    refuses(hex_bytes, "canonical")


@pytest.mark.parametrize("hex_bytes", ["a2 c3 28", "a1 80", "a3 ed a0 80", "a2 c0 80"],
                         ids=["bad-continuation", "lone-continuation", "surrogate", "overlong-nul"])
def test_decoder_refuses_invalid_utf8(hex_bytes):
    refuses(hex_bytes)


def test_decoder_refuses_invalid_utf8_in_map_keys():
    refuses("81 a1 ff 01")


def test_decoder_refuses_the_never_used_byte_c1():
    refuses("c1")


def test_decoder_refuses_nesting_deeper_than_max_depth():
    refuses("91" * (MAX_DEPTH + 1) + "c0", "nested")
    refuses("81 a1 61" * (MAX_DEPTH + 1) + "c0", "nested")


def test_decoder_refuses_absurdly_deep_nesting_without_crashing():
    refuses("91" * 100_000 + "c0")


def test_decoder_refuses_a_length_prefix_longer_than_the_input():
    refuses("db ff ff ff ff 61")
    refuses("dd ff ff ff ff c0")


def test_ints_outside_the_64_bit_range_have_no_msgpack_form_at_all():
    """uint64 max and int64 min are the edges: the format cannot spell anything beyond them."""
    assert decode(encode(INT_MAX)) == INT_MAX
    assert decode(encode(INT_MIN)) == INT_MIN
    with pytest.raises(DecodeError):
        encode(INT_MAX + 1)
