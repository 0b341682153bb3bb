import pytest

from core.encoding import decode, encode
from core.errors import DecodeError


def test_round_trip_of_every_allowed_type():
    value = {"b": b"\x00\x01", "i": -5, "l": [1, "x", None, True], "m": {"z": 1, "a": 2}, "u": 2**64 - 1}
    assert decode(encode(value)) == value


def test_float_is_refused():
    with pytest.raises(DecodeError):
        encode(1.5)
