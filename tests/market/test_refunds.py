"""Mutual refunds: one side offers an amount back, the other accepts it, escrow splits without an arbiter."""

from __future__ import annotations

import pytest
from market_harness import Chain

from marketnode.market import codes, keys
from marketnode.market.accounts import ESCROW, TREASURY


@pytest.fixture
def market(chain: Chain) -> tuple[Chain, int]:
    _, listing = chain.market()
    return chain, listing


def test_seller_offers_buyer_accepts_after_shipping(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    bob, alice, treasury = chain.balance("bob"), chain.balance("alice"), chain.balance(TREASURY)
    chain.ok("alice", "order_refund_offer", order=order, buyer_amount=40)
    assert chain.order(order)["status"] == "shipped" and chain.order(order)["refund_offer"]["buyer_amount"] == 40
    receipt = chain.ok("bob", "order_refund_accept", order=order, buyer_amount=40)
    assert receipt.events[-1].kind == "order_settled"
    fee = 60 * 100 // 10_000  # the platform fee on the seller's part only
    assert chain.balance("bob") - bob == 40 and chain.balance("alice") - alice == 60 - fee
    assert chain.balance(TREASURY) - treasury == fee and chain.balance(ESCROW) == 0
    assert chain.order(order)["status"] == "settled" and chain.order(order)["buyer_amount"] == 40
    assert chain.load(keys.stock(listing)) == 9  # shipped goods do not come back on the shelf
    chain.fails(codes.BAD_TRANSITION, "bob", "order_refund_accept", order=order, buyer_amount=40)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_refund_offer", order=order, buyer_amount=1)


def test_buyer_offers_in_a_dispute_and_the_arbiter_is_not_paid(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.ok("bob", "order_dispute", order=order, reason_hash=bytes(32))
    arb = chain.balance("arb")
    chain.ok("bob", "order_refund_offer", order=order, buyer_amount=100)
    chain.ok("alice", "order_refund_accept", order=order, buyer_amount=100)
    assert chain.balance("arb") == arb and chain.balance(ESCROW) == 0


def test_unshipped_settlement_restocks(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_refund_offer", order=order, buyer_amount=50)  # placed: cancel
    chain.ok("alice", "order_accept", order=order)
    chain.ok("bob", "order_refund_offer", order=order, buyer_amount=90)
    chain.ok("alice", "order_refund_accept", order=order, buyer_amount=90)
    assert chain.load(keys.stock(listing)) == 10


def test_refund_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.fails(codes.NOT_FOUND, "bob", "order_refund_offer", order=99, buyer_amount=1)
    chain.fails(codes.NOT_AUTHORIZED, "carol", "order_refund_offer", order=order, buyer_amount=1)
    chain.fails(codes.BAD_SPLIT, "bob", "order_refund_offer", order=order, buyer_amount=101)
    chain.fails(codes.NO_OFFER, "alice", "order_refund_accept", order=order, buyer_amount=50)  # none yet
    chain.ok("bob", "order_refund_offer", order=order, buyer_amount=50)
    chain.fails(codes.NO_OFFER, "bob", "order_refund_accept", order=order, buyer_amount=50)  # its own offer
    chain.fails(codes.NO_OFFER, "alice", "order_refund_accept", order=order, buyer_amount=49)  # not that amount
    chain.fails(codes.NOT_AUTHORIZED, "carol", "order_refund_accept", order=order, buyer_amount=50)
    chain.fails(codes.NOT_FOUND, "alice", "order_refund_accept", order=99, buyer_amount=50)
    chain.ok("alice", "order_refund_offer", order=order, buyer_amount=30)  # a counter-offer replaces it
    chain.fails(codes.NO_OFFER, "alice", "order_refund_accept", order=order, buyer_amount=50)
    chain.ok("bob", "order_dispute", order=order, reason_hash=bytes(32))
    chain.fails(codes.NO_OFFER, "bob", "order_refund_accept", order=order, buyer_amount=30)  # made while shipped
