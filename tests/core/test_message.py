"""Envelope rules at their edges: sizes, recipients, forged senders and tampered bytes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketnode.core.errors import DecodeError, SignatureError, ValidationError
from marketnode.core.keys import PrivateKey
from marketnode.core.message import MAX_ENVELOPE_BYTES, MAX_TEXT_BYTES, MAX_TO, Envelope, ReadMarker, seal_message

CHAIN = "test-chain"
KEYS = [PrivateKey(bytes([n]) * 32) for n in range(1, 7)]
A, B = KEYS[0], KEYS[1]


def sealed(text: str = "hi", to: list[PrivateKey] | None = None, sender: PrivateKey = A) -> Envelope:
    return seal_message(sender, CHAIN, [k.public_key for k in (to or [B])], ("order", 1), text, 1000)


def roundtrip(env: Envelope) -> Envelope:
    decoded = Envelope.decode(env.encode())
    decoded.check(CHAIN)
    return decoded


def test_text_at_the_limit_is_sealed_and_one_byte_more_is_refused():
    assert roundtrip(sealed("é" * (MAX_TEXT_BYTES // 2))).open(B) == "é" * (MAX_TEXT_BYTES // 2)
    with pytest.raises(ValidationError, match=f"at most {MAX_TEXT_BYTES} bytes"):
        sealed("x" * (MAX_TEXT_BYTES + 1))


def test_the_largest_envelope_fits_the_envelope_limit():
    env = sealed("x" * MAX_TEXT_BYTES, to=KEYS[1:1 + MAX_TO])
    assert len(env.encode()) <= MAX_ENVELOPE_BYTES
    roundtrip(env)


def test_recipients_one_to_three_and_never_the_sender():
    roundtrip(sealed(to=KEYS[1:1 + MAX_TO]))
    too_many = sealed(to=KEYS[1:2 + MAX_TO])
    with pytest.raises((DecodeError, ValidationError)):
        roundtrip(too_many)
    with pytest.raises(ValidationError, match="sender cannot be a recipient"):
        roundtrip(sealed(to=[A]))


def test_a_forged_sender_is_refused():
    env = sealed()
    forged = replace(env, sender=KEYS[2].public_key)
    with pytest.raises((SignatureError, ValidationError)):
        Envelope.decode(forged.encode()).check(CHAIN)
    resigned_by_other = replace(env, sig=KEYS[2].sign(env.signing_bytes()))
    with pytest.raises(SignatureError):
        Envelope.decode(resigned_by_other.encode()).check(CHAIN)


def test_a_ciphertext_moved_to_another_order_does_not_open():
    env = sealed()
    moved = replace(env, about=("order", 2))
    moved = replace(moved, sig=A.sign(moved.signing_bytes()))  # even re-signed by the sender
    roundtrip(moved)
    with pytest.raises(ValidationError, match="does not decrypt"):
        moved.open(B)


def test_another_chain_and_a_bad_shape_are_refused():
    with pytest.raises(ValidationError, match="chain"):
        Envelope.decode(sealed().encode()).check("other-chain")
    with pytest.raises(DecodeError):
        Envelope.decode(b"\x80")
    with pytest.raises(DecodeError, match="at most"):
        Envelope.decode(b"\x00" * (MAX_ENVELOPE_BYTES + 1))


def test_read_marker_signed_by_someone_else_is_refused():
    env = sealed()
    marker = ReadMarker(CHAIN, B.public_key, (env.id,), 5)
    with pytest.raises(ValidationError):
        marker.sign(A)
    forged = replace(marker, sig=A.sign(marker.signing_bytes()))
    with pytest.raises(SignatureError):
        ReadMarker.decode(forged.encode()).check(CHAIN)
    ReadMarker.decode(marker.sign(B).encode()).check(CHAIN)


def test_the_text_is_padded_to_whole_blocks_so_nodes_see_its_length_only_roughly():
    from marketnode.core.message import PAD_BLOCK, TAG_SIZE, pad, unpad

    sizes = {n: len(sealed("x" * n).ciphertext) - TAG_SIZE for n in (0, 1, PAD_BLOCK - 1, PAD_BLOCK, MAX_TEXT_BYTES)}
    assert sizes == {0: PAD_BLOCK, 1: PAD_BLOCK, PAD_BLOCK - 1: PAD_BLOCK, PAD_BLOCK: 2 * PAD_BLOCK,
                     MAX_TEXT_BYTES: MAX_TEXT_BYTES + PAD_BLOCK}
    assert unpad(pad(b"ab\x80\x00")) == b"ab\x80\x00"  # the text may itself end like padding
    for bad in (b"\x00" * PAD_BLOCK, b"x" * PAD_BLOCK, pad(b"x")[:-1]):
        with pytest.raises(ValidationError, match="padding"):
            unpad(bad)


def test_a_ciphertext_that_is_not_whole_blocks_is_refused_before_any_decryption():
    env = sealed()
    for ciphertext in (env.ciphertext[:-1], env.ciphertext + b"\x00", b"\x00" * 16):
        forged = replace(env, ciphertext=ciphertext)
        forged = replace(forged, sig=A.sign(forged.signing_bytes()))
        with pytest.raises(ValidationError, match="padded"):
            Envelope.decode(forged.encode()).check(CHAIN)
