"""The encrypted link after the handshake: ChaCha20-Poly1305 with a counter nonce per direction.

The counter is implicit (never sent): frame n in a direction is sealed with
nonce n, so a replayed, dropped, reordered or forged frame fails to open and
the link is torn down. Never reuse a SessionCipher across connections.
"""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions

from marketnode.core.errors import P2PError

KEY_SIZE = 32
TAG_SIZE = 16
_MAX_COUNTER = 2**64 - 1


def _nonce(counter: int) -> bytes:
    """12-byte IETF nonce: 4 zero bytes then the 64-bit counter, little-endian (as WireGuard)."""
    return b"\x00\x00\x00\x00" + counter.to_bytes(8, "little")


class SessionCipher:
    """Seals outgoing frames and opens incoming ones, each direction with its own key and counter."""

    __slots__ = ("_recv_counter", "_recv_key", "_send_counter", "_send_key")

    def __init__(self, send_key: bytes, recv_key: bytes) -> None:
        if len(send_key) != KEY_SIZE or len(recv_key) != KEY_SIZE or send_key == recv_key:
            raise ValueError("a session needs two distinct 32-byte keys")
        self._send_key = send_key
        self._recv_key = recv_key
        self._send_counter = 0
        self._recv_counter = 0

    def seal(self, plaintext: bytes) -> bytes:
        if self._send_counter >= _MAX_COUNTER:
            raise P2PError("session send counter exhausted; reconnect")
        nonce = _nonce(self._send_counter)
        self._send_counter += 1
        return nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, None, nonce, self._send_key)

    def open(self, ciphertext: bytes) -> bytes:
        """Decrypt the next frame; raise P2PError if it is not exactly the next sealed frame."""
        if len(ciphertext) < TAG_SIZE:
            raise P2PError("frame shorter than an authentication tag")
        if self._recv_counter >= _MAX_COUNTER:
            raise P2PError("session receive counter exhausted; reconnect")
        try:
            plaintext = nacl.bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
                ciphertext, None, _nonce(self._recv_counter), self._recv_key
            )
        except (nacl.exceptions.CryptoError, ValueError, TypeError):
            raise P2PError("frame failed authentication (forged, replayed or reordered)") from None
        self._recv_counter += 1
        return plaintext
