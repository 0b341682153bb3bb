"""Building signed txs: bodies for every market tx kind, and the private parts a wallet adds.

``wallet.kinds`` has one generated builder per kind (``kinds.order_accept(order=7)``);
``tx_body(kind, **fields)`` is the same by name. The functions here add what
only the wallet can do before a body is built: seal a shipping address to the
seller's and arbiter's keys (only ciphertext goes on chain), commit to private
data with a salted hash, and hash free text that stays off chain.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from marketnode.core import sealed
from marketnode.core.encoding import encode
from marketnode.core.keys import PrivateKey, check_chain_id
from marketnode.core.types import Tx
from marketnode.wallet import kinds
from marketnode.wallet.bodies import Account, TxBuildError, account_bytes, make_body

SALT_BYTES = 16
RATINGS = kinds.KINDS["review"].field("ratings").members  # overall, quality, accuracy, delivery, service


def build_tx(key: PrivateKey, chain_id: str, nonce: int, kind: str, body: Mapping[str, Any], fee: int,
             sender: bytes | None = None, cosigners: Sequence[PrivateKey] = ()) -> Tx:
    """A tx from ``sender`` (default: ``key``'s own account) signed by ``key`` and each of ``cosigners``.

    One signer that is the sender's own key gives the single-``sig`` form;
    anything else (a rotated account's key, several keys) gives ``sigs``
    (docs/PROTOCOL.md §13). ``tx.encode().hex()`` is what tx_send takes.
    """
    tx = Tx(chain_id=check_chain_id(chain_id), sender=key.public_key if sender is None else sender, nonce=nonce,
            kind=kind, body=dict(body), fee=fee)
    for signer in (key, *cosigners):
        tx = tx.cosign(signer)
    Tx.decode(tx.encode())  # refuse now, not at the node, a body that has no canonical form
    return tx


def cosign_raw(raw_hex: str, key: PrivateKey) -> str:
    """Add ``key``'s signature to a (partly) signed tx given as hex: how a second device signs offline."""
    try:
        tx = Tx.decode(bytes.fromhex(raw_hex))
    except ValueError as exc:
        raise TxBuildError(f"not a tx in hex: {exc}") from None
    return tx.cosign(key).encode().hex()


def tx_body(kind: str, **fields: Any) -> dict[str, Any]:
    """The body of any kind by name, checked like the per-kind builders in ``wallet.kinds``."""
    spec = kinds.KINDS.get(kind)
    if spec is None:
        raise TxBuildError(f"no tx kind {kind!r}; kinds are: {', '.join(kinds.KINDS)}")
    return make_body(spec, fields)


# --- private data ---------------------------------------------------------------------------


def text_hash(text: str) -> bytes:
    """sha256 of UTF-8 text kept off chain (review text, dispute statement, ruling, tracking number)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def commitment(private_data: Mapping[str, str], salt: bytes | None = None) -> tuple[bytes, bytes]:
    """``(sha256(salt ‖ canonical encoding of private_data), salt)``.

    The chain sees only the hash; whoever holds the salt and the data (the
    account, or someone it shows them to) can prove what was committed.
    """
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    data = {str(k): str(v) for k, v in private_data.items()}
    return hashlib.sha256(salt + encode(data)).digest(), salt


def seal_to(account: Account, plaintext: str | bytes) -> bytes:
    """Encrypt ``plaintext`` so that only ``account``'s key opens it (X25519 sealed box)."""
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    return sealed.seal(account_bytes(account), data)


# --- bodies that need the wallet's help -----------------------------------------------------------


def register(name: str, private_data: Mapping[str, str] | None = None, inviter: Account | None = None,
             salt: bytes | None = None) -> tuple[dict[str, Any], bytes]:
    """A ``register`` body committing to ``private_data`` (email, legal name, ...), and the salt to keep."""
    digest, salt = commitment(private_data or {}, salt)
    return kinds.register(name=name, commitment=digest, inviter=inviter), salt


def order_place(listing: int, quantity: int, max_total: int, seller: Account, shipping_address: str = "",
                arbiter: Account | None = None, variant: str | None = None, shipping: str | None = None,
                region: str | None = None, coupon: str | None = None) -> dict[str, Any]:
    """An ``order_place`` body whose shipping address is sealed to the seller and to the arbiter.

    An empty address (digital goods, services) goes on chain empty for the seller. ``variant`` names a
    variant's SKU, ``shipping`` a shipping option's service; ``region`` is the only part of the
    address the chain sees in the clear (the rules check the listing ships there); ``coupon`` is a code of
    the listing's shop.
    """
    to_seller = seal_to(seller, shipping_address) if shipping_address else b""
    to_arbiter = seal_to(arbiter, shipping_address) if shipping_address and arbiter is not None else None
    return kinds.order_place(listing=listing, quantity=quantity, max_total=max_total, arbiter=arbiter,
                             address_seller=to_seller, address_arbiter=to_arbiter, variant=variant,
                             shipping=shipping, region=region, coupon=coupon)


def order_ship(order: int, tracking: str | None = None, content_key: bytes | None = None,
               buyer: Account | None = None) -> dict[str, Any]:
    """An ``order_ship`` body: the tracking reference hashed, a digital item's content key sealed to the buyer."""
    delivery = None
    if content_key is not None:
        if buyer is None:
            raise TxBuildError("order_ship: a content key is sealed to the buyer; name the buyer")
        delivery = seal_to(buyer, content_key)
    return kinds.order_ship(order=order, tracking_hash=text_hash(tracking) if tracking else None, delivery=delivery)


def order_dispute(order: int, statement: str, evidence: bytes | None = None) -> dict[str, Any]:
    """An ``order_dispute`` body; the statement (and ``evidence``, a content hash) are stored by the nodes'
    content store (wallet/content.py), their hashes on chain."""
    return kinds.order_dispute(order=order, reason_hash=text_hash(statement), evidence=evidence)


def order_respond(order: int, statement: str, evidence: bytes | None = None) -> dict[str, Any]:
    """An ``order_respond`` body: the other party's answer to a dispute (stored like the statement)."""
    return kinds.order_respond(order=order, response_hash=text_hash(statement), evidence=evidence)


def order_resolve(order: int, buyer_amount: int, ruling: str | None = None) -> dict[str, Any]:
    """An ``order_resolve`` body: ``buyer_amount`` back to the buyer, the rest (after the fee) to the seller."""
    return kinds.order_resolve(order=order, buyer_amount=buyer_amount,
                               ruling_hash=text_hash(ruling) if ruling else None)


def review(order: int, ratings: Mapping[str, int] | int, text: str = "", photo: bytes | None = None) -> dict[str, Any]:
    """A ``review`` body; ``ratings`` is one 1..5 score for every aspect or a map of all five; ``photo`` is
    the content hash of an uploaded image (wallet/content.py)."""
    scores = dict.fromkeys(RATINGS, ratings) if isinstance(ratings, int) else dict(ratings)
    return kinds.review(order=order, ratings=scores, text_hash=text_hash(text), photo=photo)
