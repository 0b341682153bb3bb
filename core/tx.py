"""A signed transaction (``Tx``) and the hash of its canonical bytes.

Byte layout and test vectors: docs/PROTOCOL.md ("Transactions"). Re-exported by core/types.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from marketnode.core import fields as f
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import DecodeError, ValidationError
from marketnode.core.hashing import digest, signing_message
from marketnode.core.keys import PUBKEY_SIZE, SIGNATURE_SIZE, PrivateKey, verify

MAX_TX_BYTES = 64 * 1024
MAX_KIND_LEN = 32
MAX_TX_SIGS = 16  # signatures one tx may carry: bounds its verification cost (params.max_tx_signers may lower it)


@dataclass(frozen=True, slots=True)
class Tx:
    """A signed transaction: ``kind`` names the market rule, ``body`` its arguments.

    ``sender`` is the account's address. A tx signed only by the key the
    address was made from carries ``sig`` (the original form); any other
    signing — a rotated key, several keys of a multi-key account — carries
    ``sigs``, a list of [public key, signature] sorted by key, and no ``sig``.
    Every signature covers the same ``signing_bytes``. Whether the signing
    keys may act for the sender is the market's question (market/authority.py),
    answered from state; ``verify`` only checks the signatures themselves.
    """

    chain_id: str
    sender: bytes
    nonce: int
    kind: str
    body: dict[str, Any]
    fee: int
    sig: bytes = b""
    sigs: tuple[tuple[bytes, bytes], ...] = ()
    _cache: dict[str, bytes] = field(default_factory=dict, init=False, repr=False, compare=False)

    FIELDS: ClassVar[tuple[str, ...]] = ("body", "chain_id", "fee", "kind", "nonce", "sender", "sig")
    MULTI_FIELDS: ClassVar[tuple[str, ...]] = ("body", "chain_id", "fee", "kind", "nonce", "sender", "sigs")

    def unsigned_obj(self) -> dict[str, Any]:
        return {
            "body": self.body, "chain_id": self.chain_id, "fee": self.fee,
            "kind": self.kind, "nonce": self.nonce, "sender": self.sender,
        }

    def to_obj(self) -> dict[str, Any]:
        obj = self.unsigned_obj()
        if self.sigs:
            obj["sigs"] = [[key, sig] for key, sig in self.sigs]
        else:
            obj["sig"] = self.sig
        return obj

    def signing_bytes(self) -> bytes:
        return signing_message("tx", self.chain_id, encode_value(self.unsigned_obj()))

    def sign(self, key: PrivateKey) -> Tx:
        """Sign with the sender's own key (the original single-signature form)."""
        if key.public_key != self.sender:
            raise ValidationError("the signing key does not match the tx sender")
        return replace(self, sig=key.sign(self.signing_bytes()), sigs=())

    def cosign(self, key: PrivateKey) -> Tx:
        """Add ``key``'s signature (replacing an earlier one by the same key); the result carries ``sigs``.

        A ``sig`` already present counts as the sender key's entry. The
        result has the one canonical form: a tx whose only signer is the
        sender's own key goes back to ``sig``.
        """
        pairs = dict(self.signatures())
        pairs[key.public_key] = key.sign(self.signing_bytes())
        if len(pairs) > MAX_TX_SIGS:
            raise ValidationError(f"a tx carries at most {MAX_TX_SIGS} signatures")
        if set(pairs) == {self.sender}:
            return replace(self, sig=pairs[self.sender], sigs=())
        return replace(self, sig=b"", sigs=tuple(sorted(pairs.items())))

    def signatures(self) -> tuple[tuple[bytes, bytes], ...]:
        """(public key, signature) pairs, sorted by key: the sender's own for a ``sig`` tx."""
        if self.sigs:
            return self.sigs
        return ((self.sender, self.sig),) if self.sig else ()

    def signers(self) -> tuple[bytes, ...]:
        """The public keys that signed (unverified until ``verify``)."""
        return tuple(key for key, _ in self.signatures())

    def fee_floor(self, min_fee: int) -> int:
        """The least fee this tx may pay where each signature costs ``min_fee``: verification work is paid per key."""
        return min_fee * max(1, len(self.signatures()))

    def verify(self) -> bool:
        """Every carried signature is valid over ``signing_bytes`` (at least one, at most MAX_TX_SIGS)."""
        pairs = self.signatures()
        if not pairs or len(pairs) > MAX_TX_SIGS:
            return False
        message = self.signing_bytes()
        return all(verify(key, message, sig) for key, sig in pairs)

    def encode(self) -> bytes:
        cached = self._cache.get("enc")
        if cached is None:
            cached = self._cache["enc"] = encode_value(self.to_obj())
        return cached

    @property
    def hash(self) -> bytes:
        cached = self._cache.get("hash")
        if cached is None:
            cached = self._cache["hash"] = tx_hash_of(self.encode())
        return cached

    @classmethod
    def from_obj(cls, obj: Any) -> Tx:
        what = "tx"
        multi = isinstance(obj, dict) and "sigs" in obj
        obj = f.expect_map(obj, what, cls.MULTI_FIELDS if multi else cls.FIELDS)
        kind = f.text(obj, "kind", what, MAX_KIND_LEN)
        if not kind:
            raise DecodeError("tx.kind: empty")
        sender = f.raw(obj, "sender", what, PUBKEY_SIZE)
        return cls(
            chain_id=f.chain_id(obj, what),
            sender=sender,
            nonce=f.u64(obj, "nonce", what),
            kind=kind,
            body=f.mapping(obj, "body", what),
            fee=f.u64(obj, "fee", what),
            sig=b"" if multi else f.raw(obj, "sig", what, SIGNATURE_SIZE),
            sigs=_signature_list(obj, sender) if multi else (),
        )

    @classmethod
    def decode(cls, data: bytes, max_bytes: int = MAX_TX_BYTES) -> Tx:
        tx = cls.from_obj(decode_value(data, max_bytes))
        tx._cache["enc"] = bytes(data)
        return tx


def _signature_list(obj: dict[str, Any], sender: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """tx.sigs: 1..MAX_TX_SIGS [key, signature] pairs, keys strictly ascending; not the sender's key alone."""
    entries = f.seq(obj, "sigs", "tx", MAX_TX_SIGS)
    if not entries:
        raise DecodeError("tx.sigs: empty (an unsigned tx carries sig)")
    pairs = f.signature_pairs(entries, "tx.sigs", "public key")
    if len(pairs) == 1 and pairs[0][0] == sender:
        raise DecodeError("tx.sigs: a tx signed by the sender's own key alone carries sig, not sigs")
    return pairs


def tx_hash_of(raw: bytes) -> bytes:
    """The hash of the tx whose encoding is ``raw``, without decoding it.

    The decoder accepts only canonical bytes, so a tx that decodes from
    ``raw`` has exactly this hash; bytes that do not decode have no tx.
    """
    return digest("tx", raw)
