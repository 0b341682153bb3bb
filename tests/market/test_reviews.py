"""review and review_reply: only the buyer of a completed order, once; rewards from the pool."""

from __future__ import annotations

from market_harness import POOL, Chain

from marketnode.market import codes, keys
from marketnode.market.accounts import REWARD_POOL
from marketnode.market.store import index_ids

RATINGS = dict(overall=5, quality=4, accuracy=5, delivery=3, service=5)


PRICE = 10_000  # the platform fee (1 %) is 100, so the 40 % rebate (40) covers the reward (10)


def _completed(chain: Chain, price: int = PRICE) -> tuple[int, int]:
    shop, _ = chain.market()
    listing = chain.listing("alice", shop, price=price)
    order = chain.shipped(listing)
    chain.ok("bob", "order_confirm", order=order)
    return listing, order


def test_review_updates_aggregates_and_pays_the_reward(chain: Chain) -> None:
    listing, order = _completed(chain)
    before = chain.balance("bob", "USD")
    receipt = chain.ok("bob", "review", order=order, ratings=RATINGS, text_hash=b"\x05" * 32)
    assert chain.balance("bob", "USD") == before + 10  # in the order's asset; the fee was MKT
    assert chain.balance(REWARD_POOL, "USD") == POOL - 10
    assert receipt.events[-1].attrs == {"account": chain.acct("bob"), "amount": 10, "asset": "USD", "reason": "review",
                                        "withheld": None}
    seller = chain.load(keys.seller_rating(chain.acct("alice")))
    assert seller == {"count": 1, "weight": PRICE, **{name: stars * PRICE for name, stars in RATINGS.items()}}
    assert chain.load(keys.listing_rating(listing)) == seller
    assert chain.load(keys.review(order))["weight"] == PRICE
    assert index_ids(chain.state, keys.reviews_by_listing(listing)) == [order]


def test_review_rejections(chain: Chain) -> None:
    _, listing = chain.market()
    order = chain.place("bob", listing)
    chain.fails(codes.BAD_TRANSITION, "bob", "review", order=order, ratings=RATINGS, text_hash=bytes(32))
    chain.ok("alice", "order_accept", order=order)
    chain.ok("alice", "order_ship", order=order)
    chain.ok("bob", "order_confirm", order=order)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "review", order=order, ratings=RATINGS, text_hash=bytes(32))
    chain.fails(codes.NOT_FOUND, "bob", "review", order=99, ratings=RATINGS, text_hash=bytes(32))
    chain.fails(codes.BAD_BODY, "bob", "review", order=order, ratings={**RATINGS, "overall": 6}, text_hash=bytes(32))
    chain.fails(codes.BAD_BODY, "bob", "review", order=order, ratings={"overall": 5}, text_hash=bytes(32))
    chain.ok("bob", "review", order=order, ratings=RATINGS, text_hash=bytes(32))
    chain.fails(codes.ALREADY_REVIEWED, "bob", "review", order=order, ratings=RATINGS, text_hash=bytes(32))


def test_seller_replies_once(chain: Chain) -> None:
    _, order = _completed(chain)
    chain.fails(codes.NOT_FOUND, "alice", "review_reply", order=order, text_hash=bytes(32))
    chain.ok("bob", "review", order=order, ratings=RATINGS, text_hash=bytes(32))
    chain.fails(codes.NOT_AUTHORIZED, "bob", "review_reply", order=order, text_hash=bytes(32))
    chain.ok("alice", "review_reply", order=order, text_hash=b"\x09" * 32)
    assert chain.load(keys.review(order))["reply_hash"] == b"\x09" * 32
    chain.fails(codes.ALREADY_REVIEWED, "alice", "review_reply", order=order, text_hash=bytes(32))


def test_inviter_earns_referral_on_first_completed_purchase_only(chain: Chain) -> None:
    chain.register("carol")
    chain.ok("dave", "register", name="Dave", commitment=bytes(32), inviter=chain.acct("carol"))
    shop, _ = chain.market()
    listing = chain.listing("alice", shop, price=PRICE)
    before = chain.balance("carol", "USD")
    for _ in range(2):
        order = chain.shipped(listing, buyer="dave")
        chain.ok("dave", "order_confirm", order=order)
    assert chain.balance("carol", "USD") == before + 20


def test_rewards_stop_when_the_pool_is_dry() -> None:
    from market_harness import make_genesis

    chain = Chain(make_genesis(review_reward=POOL + 1, platform_fee_bps=5_000))
    _, order = _completed(chain, price=10 * POOL)
    receipt = chain.ok("bob", "review", order=order, ratings=RATINGS, text_hash=bytes(32))
    assert receipt.events[-1].attrs["amount"] == POOL
    assert receipt.events[-1].attrs["withheld"] == "pool_dry"
    assert chain.balance(REWARD_POOL, "USD") == 0
