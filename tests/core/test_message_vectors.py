"""messages.json and sealed.json match the code byte for byte, and the construction is the documented one.

Each envelope is rebuilt step by step from libsodium primitives (X25519,
AES-256-GCM) and the RFC 5869 HKDF, then compared with what ``seal_message``
makes and with the committed bytes; sealed.json is opened by libsodium's own
sealed box, so the spelled-out construction of PROTOCOL.md §12 is libsodium's.
"""

from __future__ import annotations

import json
from pathlib import Path

import nacl.bindings
import pytest

from marketnode.core.encoding import encode
from marketnode.core.hashing import digest, signing_message
from marketnode.core.keys import PrivateKey, curve25519_public, verify
from marketnode.core.message import Envelope, ReadMarker, hkdf_sha256, seal_message
from marketnode.core.sealed import open_sealed, seal_with_ephemeral

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "test-vectors"
MESSAGES = json.loads((VECTORS / "messages.json").read_text(encoding="utf-8"))
SEALED = json.loads((VECTORS / "sealed.json").read_text(encoding="utf-8"))
h = bytes.fromhex


def test_hkdf_matches_rfc5869_case_1():
    okm = hkdf_sha256(h("0b" * 22), h("000102030405060708090a0b0c"), h("f0f1f2f3f4f5f6f7f8f9"), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


@pytest.mark.parametrize("case", MESSAGES["envelopes"], ids=lambda c: c["name"])
def test_envelope_vectors_follow_the_documented_construction(case):
    chain_id = MESSAGES["chain_id"]
    sender = PrivateKey(h(case["sender_seed"]))
    to = [PrivateKey(h(s)) for s in case["to_seeds"]]
    esk, ckey, nonce = h(case["ephemeral_secret"]), h(case["content_key"]), h(case["nonce"])
    epk = nacl.bindings.crypto_scalarmult_base(esk)
    assert epk.hex() == case["ephemeral"]
    readers = sorted([sender.public_key] + [k.public_key for k in to])
    assert [r["account"] for r in case["readers"]] == [r.hex() for r in readers]
    for reader, row in zip(readers, case["readers"]):
        assert curve25519_public(reader).hex() == row["x25519"]
        shared = nacl.bindings.crypto_scalarmult(esk, h(row["x25519"]))
        wrap = hkdf_sha256(shared, epk + reader, b"marketnode-msg-key:" + chain_id.encode())
        assert nacl.bindings.crypto_aead_aes256gcm_encrypt(ckey, b"", bytes(12), wrap).hex() == row["wrapped_key"]
    header = {"about": case["about"], "chain_id": chain_id, "ephemeral": epk,
              "keys": [[r, h(row["wrapped_key"])] for r, row in zip(readers, case["readers"])], "nonce": nonce,
              "sender": sender.public_key, "sent_ms": case["sent_ms"], "to": sorted(k.public_key for k in to), "v": 1}
    assert encode(header).hex() == case["aad"]
    text = case["text"].encode()
    padded = text + b"\x80" + bytes(256 - (len(text) + 1) % 256 if (len(text) + 1) % 256 else 0)
    assert len(padded) % 256 == 0 and padded.hex() == case["padded_text"]
    ciphertext = nacl.bindings.crypto_aead_aes256gcm_encrypt(padded, h(case["aad"]), nonce, ckey)
    assert ciphertext.hex() == case["ciphertext"]
    message = signing_message("message", chain_id, encode({**header, "ciphertext": ciphertext}))
    assert message.hex() == case["signing_message"]
    assert verify(sender.public_key, message, h(case["signature"]))
    assert encode({**header, "ciphertext": ciphertext, "sig": h(case["signature"])}).hex() == case["envelope"]
    assert digest("message", h(case["envelope"])).hex() == case["id"]
    made = seal_message(sender, chain_id, [k.public_key for k in to], tuple(case["about"]), case["text"],
                        case["sent_ms"], ephemeral_secret=esk, content_key=ckey, nonce=nonce)
    assert made.encode().hex() == case["envelope"] and made.id.hex() == case["id"]


@pytest.mark.parametrize("case", MESSAGES["envelopes"], ids=lambda c: c["name"])
def test_every_reader_opens_the_vector_and_no_one_else(case):
    envelope = Envelope.decode(h(case["envelope"]))
    envelope.check(MESSAGES["chain_id"])
    for seed in [case["sender_seed"], *case["to_seeds"]]:
        assert envelope.open(PrivateKey(h(seed))) == case["text"]
    with pytest.raises(Exception, match="not a reader"):
        envelope.open(PrivateKey(bytes([0x7F]) * 32))


def test_read_marker_vector():
    case = MESSAGES["read_marker"]
    reader = PrivateKey(h(case["reader_seed"]))
    marker = ReadMarker(MESSAGES["chain_id"], reader.public_key, tuple(h(i) for i in case["ids"]), case["time_ms"])
    assert marker.signing_bytes().hex() == case["signing_message"]
    signed = marker.sign(reader)
    assert signed.sig.hex() == case["signature"] and signed.encode().hex() == case["canonical"]
    ReadMarker.decode(h(case["canonical"])).check(MESSAGES["chain_id"])


def test_sealed_address_vector_is_libsodiums_sealed_box():
    recipient = PrivateKey(h(SEALED["recipient_seed"]))
    assert recipient.public_key.hex() == SEALED["recipient_public_key"]
    assert curve25519_public(recipient.public_key).hex() == SEALED["recipient_x25519"]
    assert recipient.curve25519_private().hex() == SEALED["recipient_x25519_secret"]
    sealed = seal_with_ephemeral(recipient.public_key, h(SEALED["plaintext"]), h(SEALED["ephemeral_secret"]))
    assert sealed.hex() == SEALED["sealed"]
    assert len(sealed) == len(h(SEALED["plaintext"])) + SEALED["overhead"]
    assert open_sealed(recipient, h(SEALED["sealed"])) == h(SEALED["plaintext"])
