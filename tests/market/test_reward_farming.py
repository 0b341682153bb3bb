"""Reward farming (issue 13 item 6): colluding accounts and sybils must not profit from the reward pool.

The attack as it was run on the testnet: a seller and a buyer who are the same
person trade a cheap item back and forth and review every order, and a crowd
of fresh accounts, all invited by the seller, each make one purchase. The
price goes round in a circle, so what the ring pays is only fees; what it
gets is the pool's rewards. Run against the testnet's own params.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from market_harness import Chain, key_of, make_genesis

from marketnode.core.types import Block
from marketnode.market import keys
from marketnode.market.accounts import REWARD_POOL, TREASURY
from marketnode.node.api.views import rating_json
from marketnode.node.genesis_setup import DEV_PARAMS
from marketnode.node.queries import schema as query_schema
from marketnode.node.queries.indexer import Indexer

RATINGS_5 = dict.fromkeys(("overall", "quality", "accuracy", "delivery", "service"), 5)
RATINGS_1 = dict.fromkeys(RATINGS_5, 1)
POOL = 10**9
SYBILS = 6
ROUNDS = 4


def _testnet_chain(**overrides: object) -> Chain:
    """A chain with the testnet's params (min_fee 0) and a pool as deep as the testnet's."""
    genesis = make_genesis(**{**DEV_PARAMS.to_obj(), **overrides})
    return Chain(dataclasses.replace(genesis, reward_pool={"MKT": POOL}))


class Ring:
    """The colluders: ``alice`` sells, ``bob`` buys, sybils are invited by ``inviter``; every tx pays min_fee.

    Invited by alice, the seller, the ring is plainly related; invited by bob,
    who buys from alice, it looks like strangers to the rules.
    """

    def __init__(self, chain: Chain, price: int, inviter: str = "alice") -> None:
        self.chain, self.fee = chain, chain.genesis.params.min_fee
        self.sybils = [f"sybil-{i}" for i in range(SYBILS)]
        for name in self.sybils:
            chain.keys[name] = key_of(name)
        self.members = ["alice", "bob", *self.sybils]
        self.before = self.holdings()
        self.send("alice", "register", name="Alice", commitment=bytes(32))
        self.inviter = chain.acct(inviter)
        bob_inviter = None if inviter == "bob" else self.inviter
        self.send("bob", "register", name="Bob", commitment=bytes(32), inviter=bob_inviter)
        shop = self.send("alice", "shop_create", name="Ring", description="", region="DE",
                         accepted_assets=["MKT"], arbiters=[]).events[0].attrs["shop"]
        self.listing = self.send("alice", "listing_create", shop=shop, type="digital", title="Token", description="",
                                 category="art", tags=[], price=price, asset="MKT", stock=10**6, regions=[],
                                 images=[]).events[0].attrs["listing"]
        self.price = price

    def send(self, who: str, kind: str, **body: object):  # type: ignore[no-untyped-def]
        receipt = self.chain.block([self.chain.tx(who, kind, fee=self.fee, **body)])[0]
        assert receipt.ok, f"{who} {kind}: {receipt.code} {receipt.message}"
        return receipt

    def holdings(self) -> int:
        """Everything the ring owns, in MKT (the item is priced in MKT, so this is exact)."""
        return sum(self.chain.balance(name, "MKT") for name in self.members)

    def purchase(self, buyer: str, stars: dict[str, int] = RATINGS_5) -> int:
        order = self.send(buyer, "order_place", listing=self.listing, quantity=1, max_total=self.price,
                          address_seller=b"", arbiter=None).events[-1].attrs["order"]
        self.send("alice", "order_accept", order=order)
        self.send("alice", "order_ship", order=order, delivery=b"key")
        self.send(buyer, "order_confirm", order=order)
        self.send(buyer, "review", order=order, ratings=stars, text_hash=bytes(32))
        return order

    def farm(self) -> None:
        for _ in range(ROUNDS):
            self.purchase("bob")
        for name in self.sybils:
            self.send("alice", "transfer", to=self.chain.acct(name), asset="MKT", amount=self.price + 10 * self.fee)
            self.send(name, "register", name=name, commitment=bytes(32), inviter=self.inviter)
            self.purchase(name)


@pytest.mark.parametrize("inviter", ["alice", "bob"])
@pytest.mark.parametrize("price", [1, 999, 1_000, 2_500, 100_000, 200_000])
def test_a_ring_of_colluders_and_sybils_loses_money_farming_rewards(price: int, inviter: str) -> None:
    chain = _testnet_chain()
    ring = Ring(chain, price, inviter)
    ring.farm()
    taken = POOL - chain.balance(REWARD_POOL, "MKT")
    profit = ring.holdings() - ring.before
    # Before the fix: price 1 took 16,000+ MKT at zero cost (profit == taken > 0).
    assert profit < 0 or taken == 0, f"the ring took {taken} from the pool and made {profit}"
    assert profit <= 0
    assert taken < chain.balance(TREASURY, "MKT") or taken == 0, "rewards must give back less than the fees paid"


def _index(chain: Chain) -> sqlite3.Connection:
    """The node's query index over the chain's blocks (what listing_search serves)."""
    conn = sqlite3.connect(":memory:")
    query_schema.create(conn)
    indexer = Indexer(conn)
    for (ctx, txs), receipts in zip(chain.blocks, chain.receipts):
        block = Block.build(chain_id=ctx.chain_id, height=ctx.height, view=0, timestamp_ms=ctx.timestamp_ms,
                            parent_hash=bytes(32), proposer=ctx.proposer, state_root=bytes(32), txs=txs,
                            last_cert=None)
        indexer.apply(chain.state, block, receipts)
    return conn


def test_cheap_orders_cannot_outvote_a_real_purchase_in_any_display() -> None:
    """Ratings are weighted by the value bought: 30 one-unit 5-star orders do not bury one real 1-star one."""
    chain = _testnet_chain()
    ring = Ring(chain, 1)
    chain.ok("carol", "register", name="Carol", commitment=bytes(32))
    order = chain.place("carol", ring.listing, arbiter=None, quantity=50_000)
    chain.ok("alice", "order_accept", order=order)
    chain.ok("alice", "order_ship", order=order, delivery=b"key")
    chain.ok("carol", "order_confirm", order=order)
    chain.ok("carol", "review", order=order, ratings=RATINGS_1, text_hash=bytes(32))
    for _ in range(30):
        ring.purchase("bob")
    seller = rating_json(chain.load(keys.seller_rating(chain.acct("alice"))))
    listing = rating_json(chain.load(keys.listing_rating(ring.listing)))
    assert seller == listing and seller["count"] == 31
    assert seller["avg_x100"]["overall"] == 100, seller  # unweighted this read 487
    row = _index(chain).execute("SELECT rating_count, rating_milli FROM listings WHERE id = ?",
                                (ring.listing,)).fetchone()
    assert row == (31, 1002)  # (1 x 50,000 + 5 x 30) / 50,030; unweighted 4870
