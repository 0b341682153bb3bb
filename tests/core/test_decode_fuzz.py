"""Whatever bytes arrive, decoding yields a valid object or raises DecodeError: never anything else."""

from __future__ import annotations

from chain_samples import block, nested_tx, vote
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError
from marketnode.core.types import Block, Certificate, Evidence, Header, Tx, Vote

DECODERS = (decode, Tx.decode, Vote.decode, Certificate.decode, Evidence.decode, Header.decode, Block.decode)
SAMPLES = (nested_tx().encode(), vote().encode(), block().encode())


def decodes_or_refuses(data: bytes) -> None:
    """Each decoder either refuses with DecodeError or returns what re-encodes to exactly ``data``."""
    for decoder in DECODERS:
        try:
            result = decoder(data)
        except DecodeError:
            continue
        assert (encode(result) if decoder is decode else result.encode()) == data


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_decode_error(data):
    decodes_or_refuses(data)


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    """A valid encoding with a few bytes overwritten, inserted or deleted: reaches deep into the decoders."""
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(("set", "insert", "delete")))
        if action == "set":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data.insert(at, draw(st.integers(0, 255)))
        elif len(data) > 1:
            del data[at]
    return bytes(data)


@settings(max_examples=400, deadline=None)
@given(mutated_samples())
def test_mutated_valid_encodings_decode_or_raise_decode_error(data):
    decodes_or_refuses(data)
