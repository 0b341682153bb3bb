"""Bench workload: actors, their setup, and pre-signed txs of a realistic marketplace mix.

Signing runs in worker processes before any clock starts (``sign_specs``),
so the measured window contains only submission, consensus and execution.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx

# steady mix (fractions of the steady load)
MIX = {"transfer": 0.40, "order_place": 0.30, "order_ship": 0.15, "order_confirm": 0.15}
PRICE = 100
STOCK = 10**9

Spec = tuple[bytes, str, int, str, dict[str, Any]]  # (seed, chain_id, nonce, kind, body)


def _sign_chunk(specs: list[Spec]) -> list[bytes]:
    out = []
    for seed, chain_id, nonce, kind, body in specs:
        key = PrivateKey(seed)
        out.append(Tx(chain_id, key.public_key, nonce, kind, body, 0).sign(key).encode())
    return out


def sign_specs(specs: list[Spec], workers: int) -> list[bytes]:
    """Sign in ``workers`` processes; order preserved."""
    if len(specs) < 2000 or workers <= 1:
        return _sign_chunk(specs)
    size = (len(specs) + workers * 4 - 1) // (workers * 4)
    chunks = [specs[i:i + size] for i in range(0, len(specs), size)]
    with ProcessPoolExecutor(workers) as pool:
        return [raw for part in pool.map(_sign_chunk, chunks) for raw in part]


@dataclass
class Actor:
    key: PrivateKey
    nonce: int = 0

    @property
    def pub(self) -> bytes:
        return self.key.public_key

    def spec(self, chain_id: str, kind: str, body: dict[str, Any]) -> Spec:
        spec = (self.key.seed, chain_id, self.nonce, kind, body)
        self.nonce += 1
        return spec


def make_actors(prefix: str, count: int) -> list[Actor]:
    return [Actor(PrivateKey(hashlib.sha256(f"{prefix}-{i}".encode()).digest())) for i in range(count)]


def register_body(name: str) -> dict[str, Any]:
    return {"commitment": hashlib.sha256(name.encode()).digest(), "name": name}


def shop_body(name: str) -> dict[str, Any]:
    return {"accepted_assets": ["MKT"], "arbiters": [], "description": "bench shop", "name": name, "region": "DE"}


def listing_body(shop: int, i: int) -> dict[str, Any]:
    return {
        "asset": "MKT", "category": "bench", "description": "bench item", "images": [], "price": PRICE,
        "regions": [], "shop": shop, "stock": STOCK, "tags": ["bench"], "title": f"bench item {i}", "type": "physical",
    }


def order_body(listing: int) -> dict[str, Any]:
    return {"address_seller": b"", "listing": listing, "max_total": PRICE, "quantity": 1}


def steady_specs(chain_id: str, buyers: list[Actor], sellers: list[Actor], listings: dict[bytes, int],
                 to_ship: Iterable[tuple[bytes, int]], to_confirm: Iterable[tuple[bytes, int]],
                 count: int) -> list[Spec]:
    """``count`` txs interleaved by the MIX; ship/confirm consume the prepared orders (transfers when none are left)."""
    by_pub = {a.pub: a for a in buyers + sellers}
    plan: list[str] = []
    credit = dict.fromkeys(MIX, 0.0)
    for _ in range(count):
        for kind, share in MIX.items():
            credit[kind] += share
        kind = max(credit, key=credit.__getitem__)
        credit[kind] -= 1
        plan.append(kind)
    ships, confirms = iter(to_ship), iter(to_confirm)
    seller_list = list(listings.items())
    specs: list[Spec] = []
    for i, kind in enumerate(plan):
        buyer = buyers[i % len(buyers)]
        if kind == "order_ship":
            item = next(ships, None)
            if item is not None:
                specs.append(by_pub[item[0]].spec(chain_id, "order_ship", {"order": item[1]}))
                continue
            kind = "transfer"
        if kind == "order_confirm":
            item = next(confirms, None)
            if item is not None:
                specs.append(by_pub[item[0]].spec(chain_id, "order_confirm", {"order": item[1]}))
                continue
            kind = "transfer"
        if kind == "order_place":
            _, listing = seller_list[i % len(seller_list)]
            specs.append(buyer.spec(chain_id, "order_place", order_body(listing)))
            continue
        to = buyers[(i + 1) % len(buyers)].pub
        specs.append(buyer.spec(chain_id, "transfer", {"amount": 1, "asset": "MKT", "to": to}))
    return specs
