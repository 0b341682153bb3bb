"""Multi-signature tx vectors (multisig.json): a rotated account and a 2-of-2 account.

Imported by generate.py. Seeds are ``bytes([n]) * 32``; every signature is
ed25519 over the same ``signing_message`` as a single-signature tx.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.encoding import encode
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx

CHAIN_ID = "marketnode-testnet-1"


def _key(n: int) -> PrivateKey:
    return PrivateKey(bytes([n]) * 32)


def _vector(name: str, sender: PrivateKey, signer_seeds: list[int], kind: str, body: dict[str, Any],
            nonce: int, fee: int) -> dict[str, Any]:
    unsigned = Tx(CHAIN_ID, sender.public_key, nonce, kind, body, fee)
    tx = unsigned
    for n in signer_seeds:
        tx = tx.cosign(_key(n))
    return {
        "name": name,
        "sender_seed": sender.seed.hex(),
        "signer_seeds": [(bytes([n]) * 32).hex() for n in signer_seeds],
        "unsigned_canonical": encode(unsigned.unsigned_obj()).hex(),
        "signing_message": tx.signing_bytes().hex(),
        "sigs": [[key.hex(), sig.hex()] for key, sig in tx.sigs],
        "signed_canonical": tx.encode().hex(),
        "hash": tx.hash.hex(),
    }


def multisig_file() -> dict[str, Any]:
    owner, phone, new = _key(1), _key(5), _key(6)
    return {
        "chain_id": CHAIN_ID,
        "valid": [
            _vector("rotation: the address key and the new key both sign", owner, [1, 6], "account_rotate",
                    {"new_key": new.public_key}, 3, 2),
            _vector("rotated account: the new key alone signs for the old address", owner, [6], "transfer",
                    {"amount": 250, "asset": "MKT", "to": phone.public_key}, 4, 1),
            _vector("2-of-2 account: address key and phone key", owner, [5, 1], "transfer",
                    {"amount": 1_000_000, "asset": "MKT", "to": new.public_key}, 5, 2),
        ],
        "invalid": _invalid(owner, phone, new),
    }


def _invalid(owner: PrivateKey, phone: PrivateKey, new: PrivateKey) -> list[dict[str, Any]]:
    """Encodings a decoder must refuse: each breaks one rule of tx.sigs."""
    tx = Tx(CHAIN_ID, owner.public_key, 0, "transfer", {}, 1)
    message = tx.signing_bytes()
    pair = {k.public_key: [k.public_key, k.sign(message)] for k in (owner, phone, new)}
    ordered = [pair[k] for k in sorted(pair)]

    def obj(sigs: Any, **extra: Any) -> str:
        return encode({**tx.unsigned_obj(), "sigs": sigs, **extra}).hex()

    return [
        {"reason": "keys not ascending", "bytes": obj(list(reversed(ordered)))},
        {"reason": "a key twice", "bytes": obj([ordered[0], ordered[0]])},
        {"reason": "empty list", "bytes": obj([])},
        {"reason": "the sender's key alone (must use sig)", "bytes": obj([pair[owner.public_key]])},
        {"reason": "both sig and sigs", "bytes": obj(ordered, sig=ordered[0][1])},
        {"reason": "a 31-byte key", "bytes": obj([[ordered[0][0][:31], ordered[0][1]]])},
        {"reason": "17 signatures", "bytes": obj([[bytes([i]) * 32, bytes(64)] for i in range(1, 18)])},
    ]
