"""The commerce tx vectors (commerce.json): every body kind and field the commerce rules added, signed.

Imported by generate.py. Unlike txs.json these bodies are valid for the
market rules (tests/market/test_commerce_vectors.py checks them with
``validate_body`` as well as byte for byte), so a wallet in another language
can check its builders against them: variants with a negative price change
(a msgpack negative fixint / int), nested lists of maps, flags and hashes.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.encoding import encode
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx

CHAIN_ID = "marketnode-testnet-1"
SELLER, BUYER = 2, 1
DAY_MS = 86_400_000


def _key(n: int) -> PrivateKey:
    return PrivateKey(bytes([n]) * 32)


def _json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


# Append new cases at the end: a case's nonce is its index, and PROTOCOL.md §13 works through "refund offer".
CASES: list[tuple[str, int, str, dict[str, Any]]] = [
    ("listing with options, variants, shipping and a return window", SELLER, "listing_create", {
        "shop": 1, "type": "physical", "title": "Linen shirt", "description": "", "category": "clothes",
        "tags": ["linen"], "price": 4_500, "asset": "USDX", "stock": 5, "regions": ["DE", "AT"], "images": [],
        "options": [{"name": "size", "values": ["S", "M"]}, {"name": "colour", "values": ["white", "blue"]}],
        "variants": [{"sku": "LIN-S-W", "choice": ["S", "white"], "price_delta": -500, "stock": 2},
                     {"sku": "LIN-M-B", "choice": ["M", "blue"], "price_delta": 250, "stock": 3}],
        "shipping": [{"service": "DHL Paket", "regions": ["DE"], "price": 499, "min_days": 1, "max_days": 3},
                     {"service": "Post EU", "regions": [], "price": 1_250, "min_days": 4, "max_days": 10}],
        "return_window_ms": 14 * DAY_MS}),
    ("order naming a variant, a shipping option, a region and a coupon", BUYER, "order_place", {
        "listing": 3, "quantity": 2, "max_total": 9_999, "address_seller": b"\x00" * 48, "variant": "LIN-M-B",
        "shipping": "DHL Paket", "region": "DE", "coupon": "SPRING-10"}),
    ("cart of two lines of one shop", BUYER, "order_cart", {
        "items": [{"listing": 3, "quantity": 1, "variant": "LIN-S-W"}, {"listing": 4, "quantity": 2, "variant": ""}],
        "max_total": 20_000, "address_seller": b"\x01" * 48, "shipping": "DHL Paket", "region": "DE"}),
    ("refund offer", SELLER, "order_refund_offer", {"order": 7, "buyer_amount": 1_500}),
    ("refund accept", BUYER, "order_refund_accept", {"order": 7, "buyer_amount": 1_500}),
    ("after-sales deposit", SELLER, "aftersales_deposit", {"shop": 1, "asset": "USDX", "amount": 20_000}),
    ("after-sales withdraw", SELLER, "aftersales_withdraw", {"shop": 1, "asset": "USDX", "amount": 5_000}),
    ("return request", BUYER, "return_request", {"order": 8, "reason_hash": bytes(range(32))}),
    ("return answer (refuse)", SELLER, "return_answer", {"order": 8, "accept": False}),
    ("return ruling", 3, "return_resolve", {"order": 8, "accept": True, "ruling_hash": bytes([7]) * 32}),
    ("return shipped back", BUYER, "return_ship", {"order": 8, "tracking_hash": bytes([9]) * 32}),
    ("return received", SELLER, "return_receive", {"order": 8}),
    ("return owed, collected", BUYER, "return_collect", {"order": 8}),
    ("return claim", BUYER, "return_claim", {"order": 8}),
    ("percent coupon", SELLER, "coupon_issue", {"shop": 1, "coupon": "SPRING-10", "percent_bps": 1_000,
                                                "max_uses": 100, "expires_ms": 1_767_225_600_000}),
    ("fixed coupon", SELLER, "coupon_issue", {"shop": 1, "coupon": "FIVE-OFF", "amount": 500, "asset": "USDX",
                                              "max_uses": 1, "expires_ms": 1_767_225_600_000}),
    ("coupon revoke", SELLER, "coupon_revoke", {"shop": 1, "coupon": "FIVE-OFF"}),
]


def commerce_file() -> dict[str, Any]:
    out = []
    for nonce, (name, seed_n, kind, body) in enumerate(CASES):
        signer = _key(seed_n)
        unsigned = Tx(CHAIN_ID, signer.public_key, nonce, kind, body, 10)
        tx = unsigned.sign(signer)
        out.append({"name": name, "seed": signer.seed.hex(), "fields": _json(unsigned.unsigned_obj()),
                    "unsigned_canonical": encode(unsigned.unsigned_obj()).hex(),
                    "signing_message": tx.signing_bytes().hex(), "signature": tx.sig.hex(),
                    "signed_canonical": tx.encode().hex(), "hash": tx.hash.hex()})
    return {"chain_id": CHAIN_ID, "txs": out}
