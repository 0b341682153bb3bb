"""The message envelope, read marker and sealed-address vectors (messages.json, sealed.json).

Imported by generate.py; every random input (ephemeral secret, content key,
nonce) is fixed here so the bytes can be recomputed by another implementation.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.encoding import encode
from marketnode.core.keys import PrivateKey, curve25519_public
from marketnode.core.message import ReadMarker, pad, seal_message
from marketnode.core.sealed import SEAL_OVERHEAD, seal_with_ephemeral

CHAIN_ID = "marketnode-testnet-1"


def _key(n: int) -> PrivateKey:
    return PrivateKey(bytes([n]) * 32)


def messages_file() -> dict[str, Any]:
    buyer, seller, arbiter = _key(1), _key(2), _key(3)
    cases = [
        ("buyer asks the seller about listing 7", buyer, [seller], ("listing", 7),
         "Is the red pair still in stock in size M? ✓", 0x11, 0x21, 0x31),
        ("arbiter writes to both parties of disputed order 4", arbiter, [buyer, seller], ("order", 4),
         "Please each send a photo of the parcel.", 0x12, 0x22, 0x32),
    ]
    out = []
    for name, sender, to, about, text, e, c, n in cases:
        esk, ckey, nonce = bytes([e]) * 32, bytes([c]) * 32, bytes([n]) * 12
        env = seal_message(sender, CHAIN_ID, [k.public_key for k in to], about, text, 1_735_689_600_000,
                           ephemeral_secret=esk, content_key=ckey, nonce=nonce)
        out.append({
            "name": name,
            "sender_seed": sender.seed.hex(),
            "to_seeds": [k.seed.hex() for k in to],
            "about": list(about),
            "sent_ms": env.sent_ms,
            "text": text,
            "ephemeral_secret": esk.hex(),
            "content_key": ckey.hex(),
            "nonce": nonce.hex(),
            "ephemeral": env.ephemeral.hex(),
            "readers": [{"account": a.hex(), "x25519": curve25519_public(a).hex(), "wrapped_key": w.hex()}
                        for a, w in env.keys],
            "aad": encode(env.header_obj()).hex(),
            "padded_text": pad(text.encode()).hex(),
            "ciphertext": env.ciphertext.hex(),
            "signing_message": env.signing_bytes().hex(),
            "signature": env.sig.hex(),
            "envelope": env.encode().hex(),
            "id": env.id.hex(),
        })
    marker = ReadMarker(CHAIN_ID, seller.public_key, tuple(sorted(bytes.fromhex(c["id"]) for c in out[:1])),
                        1_735_689_700_000).sign(seller)
    return {
        "chain_id": CHAIN_ID,
        "envelopes": out,
        "read_marker": {"reader_seed": seller.seed.hex(), "ids": [i.hex() for i in marker.ids],
                        "time_ms": marker.time_ms, "signing_message": marker.signing_bytes().hex(),
                        "signature": marker.sig.hex(), "canonical": marker.encode().hex()},
    }


def sealed_file() -> dict[str, Any]:
    seller = _key(2)
    esk = bytes([0x41]) * 32
    plaintext = "Ana Souza, Rua das Flores 12, 01000-000 São Paulo".encode()
    sealed = seal_with_ephemeral(seller.public_key, plaintext, esk)
    return {
        "note": "order_place's address_seller: a libsodium sealed box to the seller's X25519 key",
        "recipient_seed": seller.seed.hex(),
        "recipient_public_key": seller.public_key.hex(),
        "recipient_x25519": curve25519_public(seller.public_key).hex(),
        "recipient_x25519_secret": seller.curve25519_private().hex(),
        "plaintext": plaintext.hex(),
        "ephemeral_secret": esk.hex(),
        "ephemeral_public": sealed[:32].hex(),
        "overhead": SEAL_OVERHEAD,
        "sealed": sealed.hex(),
    }
