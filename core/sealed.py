"""Sealed boxes to an account: encrypt data only the holder of an ed25519 key can read.

The wallet seals a shipping address to the seller's (and arbiter's) account
key, or a content key to the buyer's; the chain only ever stores ciphertext.
Uses nacl SealedBox with the X25519 keys converted from the ed25519 ones.
"""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions
import nacl.public

from marketnode.core.errors import ValidationError
from marketnode.core.keys import PrivateKey, curve25519_public

SEAL_OVERHEAD = 48  # ephemeral public key (32) + MAC (16)


def seal(recipient: bytes, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` to the account ``recipient`` (a 32-byte ed25519 public key)."""
    box = nacl.public.SealedBox(nacl.public.PublicKey(curve25519_public(recipient)))
    return box.encrypt(plaintext)


def open_sealed(key: PrivateKey, ciphertext: bytes) -> bytes:
    """Decrypt a box sealed to ``key``'s account; ValidationError if it was not."""
    box = nacl.public.SealedBox(nacl.public.PrivateKey(key.curve25519_private()))
    try:
        return box.decrypt(ciphertext)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError) as exc:
        raise ValidationError(f"cannot open the sealed box: {exc}") from None


def seal_with_ephemeral(recipient: bytes, plaintext: bytes, ephemeral_secret: bytes) -> bytes:
    """libsodium's sealed box spelled out, with the ephemeral X25519 secret given (docs/PROTOCOL.md §12).

    ``epk ‖ crypto_box(plaintext, nonce = blake2b-24(epk ‖ rpk), rpk, esk)``; the
    same bytes ``seal`` makes when its random ephemeral key is ``ephemeral_secret``.
    Only the test vectors use it: a real seal must draw a fresh ephemeral key.
    """
    rpk = curve25519_public(recipient)
    epk = nacl.bindings.crypto_scalarmult_base(ephemeral_secret)
    nonce = nacl.bindings.crypto_generichash_blake2b_salt_personal(epk + rpk, digest_size=24)
    return epk + nacl.bindings.crypto_box(plaintext, nonce, rpk, ephemeral_secret)
