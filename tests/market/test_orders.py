"""The order state machine: every action's success path and every rejection, money included."""

from __future__ import annotations

import pytest
from market_harness import Chain, make_genesis

from marketnode.market import codes, keys
from marketnode.market.accounts import ESCROW, TREASURY
from marketnode.market.orders import OPEN
from marketnode.market.params import Params
from marketnode.market.store import index_ids

P = Params()


@pytest.fixture
def market(chain: Chain) -> tuple[Chain, int]:
    _, listing = chain.market()
    return chain, listing


def _in_escrow(chain: Chain) -> int:
    return chain.balance(ESCROW)


def test_place_moves_total_into_escrow_and_reserves_stock(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing, quantity=3)
    record = chain.order(order)
    assert (record["status"], record["total"], record["arbiter_fee"]) == ("placed", 300, 5 + 15)
    assert record["deadline_ms"] == chain.now_ms - 1_000 + P.accept_window_ms
    assert _in_escrow(chain) == 300 and chain.balance("bob") == 1_000_000 - 300
    assert chain.load(keys.stock(listing)) == 7
    assert index_ids(chain.state, keys.orders_by_buyer(chain.acct("bob"))) == [order]
    assert index_ids(chain.state, keys.orders_by_seller(chain.acct("alice"))) == [order]
    assert index_ids(chain.state, keys.orders_by_status("placed")) == [order]


def test_place_without_arbiter(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing, arbiter=None)
    assert chain.order(order)["arbiter"] is None and chain.order(order)["arbiter_fee"] == 0


def _place_body(chain: Chain, listing: int, **fields: object) -> dict:
    body = dict(listing=listing, quantity=1, max_total=10**9, address_seller=b"x", arbiter=chain.acct("arb"))
    body.update(fields)
    return body


def test_place_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    chain.fails(codes.NOT_FOUND, "bob", "order_place", **_place_body(chain, 99))
    chain.fails(codes.SELF_DEALING, "alice", "order_place", **_place_body(chain, listing))
    chain.fails(codes.NOT_REGISTERED, "carol", "order_place", **_place_body(chain, listing))
    chain.fails(codes.PRICE_CHANGED, "bob", "order_place", **_place_body(chain, listing, max_total=99))
    chain.fails(codes.OUT_OF_STOCK, "bob", "order_place", **_place_body(chain, listing, quantity=11))
    chain.fails(codes.SELF_DEALING, "bob", "order_place", **_place_body(chain, listing, arbiter=chain.acct("bob")))
    chain.fails(codes.ARBITER_NOT_ACCEPTED, "bob", "order_place",
                **_place_body(chain, listing, arbiter=chain.acct("arb2")))
    chain.fails(codes.BAD_BODY, "bob", "order_place", **_place_body(chain, listing, quantity=0))
    chain.fails(codes.BAD_BODY, "bob", "order_place", **_place_body(chain, listing, address_seller=b"x" * 1025))
    chain.ok("alice", "listing_update", listing=listing, price=2_000_000)
    chain.fails(codes.INSUFFICIENT_FUNDS, "bob", "order_place", **_place_body(chain, listing))
    chain.ok("alice", "listing_update", listing=listing, price=2**63)
    chain.fails(codes.AMOUNT_OVERFLOW, "bob", "order_place", **_place_body(chain, listing, quantity=2))
    chain.ok("arb", "arbiter_update", active=False)
    chain.ok("alice", "listing_update", listing=listing, price=100)
    chain.fails(codes.ARBITER_NOT_ACCEPTED, "bob", "order_place", **_place_body(chain, listing))
    chain.ok("alice", "listing_delist", listing=listing)
    chain.fails(codes.LISTING_INACTIVE, "bob", "order_place", **_place_body(chain, listing))


def test_place_in_a_closed_shop_is_refused(market: tuple[Chain, int]) -> None:
    chain, listing = market
    chain.ok("alice", "shop_close", shop=1)
    chain.fails(codes.SHOP_CLOSED, "bob", "order_place", **_place_body(chain, listing))


def test_large_orders_need_kyc_when_genesis_says_so() -> None:
    chain = Chain(make_genesis(order_kyc_level=1, order_kyc_threshold=150))
    _, listing = chain.market()
    chain.place("bob", listing, quantity=1)
    chain.fails(codes.KYC_REQUIRED, "bob", "order_place", **_place_body(chain, listing, quantity=2))
    chain.ok("attester", "kyc_attest", account=chain.acct("bob"), level=1, expires_ms=chain.now_ms + 10**6)
    chain.place("bob", listing, quantity=2)


def test_accept_then_ship_then_confirm_releases_escrow_minus_platform_fee(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.ok("alice", "order_accept", order=order)
    assert chain.order(order)["deadline_ms"] == chain.now_ms - 1_000 + P.ship_window_ms
    chain.ok("alice", "order_ship", order=order, tracking_hash=b"\x01" * 32)
    assert chain.order(order)["status"] == "shipped"
    chain.ok("bob", "order_confirm", order=order)
    assert chain.order(order)["status"] == "completed"
    assert chain.balance("alice") == 1_000_000 + 99 and chain.balance(TREASURY) == 1
    assert _in_escrow(chain) == 0
    assert index_ids(chain.state, keys.orders_by_status("completed")) == []
    assert all(index_ids(chain.state, keys.orders_by_status(s)) == [] for s in OPEN)


def test_accept_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.fails(codes.NOT_FOUND, "alice", "order_accept", order=42)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "order_accept", order=order)
    chain.advance(P.accept_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "alice", "order_accept", order=order)
    second = chain.place("bob", listing)
    chain.ok("alice", "order_accept", order=second)
    chain.fails(codes.BAD_TRANSITION, "alice", "order_accept", order=second)


@pytest.mark.parametrize("accept_first", [False, True])
def test_decline_refunds_in_full_and_restores_stock(market: tuple[Chain, int], accept_first: bool) -> None:
    chain, listing = market
    order = chain.place("bob", listing, quantity=2)
    if accept_first:
        chain.ok("alice", "order_accept", order=order)
    chain.ok("alice", "order_decline", order=order, reason="sold out")
    assert chain.order(order)["status"] == "declined"
    assert chain.balance("bob") == 1_000_000 and chain.load(keys.stock(listing)) == 10 and _in_escrow(chain) == 0


def test_decline_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "order_decline", order=order)
    chain.ok("alice", "order_accept", order=order)
    chain.ok("alice", "order_ship", order=order)
    chain.fails(codes.BAD_TRANSITION, "alice", "order_decline", order=order)


def test_cancel_before_acceptance_refunds(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.ok("bob", "order_cancel", order=order)
    assert chain.order(order)["status"] == "cancelled" and chain.balance("bob") == 1_000_000


def test_cancel_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "order_cancel", order=order)
    chain.ok("alice", "order_accept", order=order)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_cancel", order=order)


def test_ship_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.fails(codes.BAD_TRANSITION, "alice", "order_ship", order=order)
    chain.ok("alice", "order_accept", order=order)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "order_ship", order=order)
    chain.advance(P.ship_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "alice", "order_ship", order=order)


def test_digital_orders_ship_a_sealed_content_key(market: tuple[Chain, int]) -> None:
    chain, _ = market
    listing = chain.listing("alice", 1, type="digital", regions=[])
    order = chain.place("bob", listing)
    chain.ok("alice", "order_accept", order=order)
    chain.fails(codes.DELIVERY_REQUIRED, "alice", "order_ship", order=order)
    chain.ok("alice", "order_ship", order=order, delivery=b"sealed key")
    assert chain.order(order)["delivery"] == b"sealed key"


def test_confirm_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.ok("alice", "order_accept", order=order)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_confirm", order=order)
    chain.ok("alice", "order_ship", order=order)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "order_confirm", order=order)


def test_buyer_may_still_confirm_after_the_confirm_deadline(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.advance(P.confirm_window_ms)
    chain.ok("bob", "order_confirm", order=order)


@pytest.mark.parametrize("who", ["bob", "alice"])
def test_dispute_then_resolve_splits_after_the_arbiter_fee(market: tuple[Chain, int], who: str) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.ok(who, "order_dispute", order=order, reason_hash=bytes(32))
    assert chain.order(order)["status"] == "disputed"
    chain.ok("arb", "order_resolve", order=order, buyer_amount=60, ruling_hash=b"\x02" * 32)
    # fee: 5 fixed + 5% of 100
    assert chain.balance("arb") == 1_000_000 + 10
    assert chain.balance("bob") == 1_000_000 - 100 + 60
    assert chain.balance("alice") == 1_000_000 + 30
    assert chain.order(order)["status"] == "resolved" and _in_escrow(chain) == 0


def test_dispute_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_dispute", order=order, reason_hash=bytes(32))
    chain.ok("alice", "order_accept", order=order)
    chain.fails(codes.NOT_AUTHORIZED, "carol", "order_dispute", order=order, reason_hash=bytes(32))
    chain.advance(P.ship_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "bob", "order_dispute", order=order, reason_hash=bytes(32))
    plain = chain.place("bob", listing, arbiter=None)
    chain.ok("alice", "order_accept", order=plain)
    chain.fails(codes.NO_ARBITER, "bob", "order_dispute", order=plain, reason_hash=bytes(32))


def test_the_other_party_answers_a_dispute_once_with_optional_evidence(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.ok("bob", "order_dispute", order=order, reason_hash=b"\x01" * 32, evidence=b"\x03" * 32)
    chain.ok("alice", "order_respond", order=order, response_hash=b"\x02" * 32, evidence=b"\x04" * 32)
    record = chain.order(order)
    assert record["status"] == "disputed" and record["evidence_hash"] == b"\x03" * 32
    assert record["response_hash"] == b"\x02" * 32 and record["response_evidence_hash"] == b"\x04" * 32
    chain.fails(codes.ALREADY_EXISTS, "alice", "order_respond", order=order, response_hash=b"\x05" * 32)
    chain.ok("arb", "order_resolve", order=order, buyer_amount=0)


def test_respond_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    chain.fails(codes.NOT_FOUND, "alice", "order_respond", order=99, response_hash=bytes(32))
    order = chain.shipped(listing)
    chain.fails(codes.BAD_TRANSITION, "alice", "order_respond", order=order, response_hash=bytes(32))
    chain.ok("alice", "order_dispute", order=order, reason_hash=bytes(32))  # the seller opened it: the buyer answers
    chain.fails(codes.NOT_AUTHORIZED, "alice", "order_respond", order=order, response_hash=bytes(32))
    chain.fails(codes.NOT_AUTHORIZED, "carol", "order_respond", order=order, response_hash=bytes(32))
    chain.advance(P.ruling_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "bob", "order_respond", order=order, response_hash=bytes(32))


def test_a_dispute_without_evidence_stores_no_evidence_field(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.ok("bob", "order_dispute", order=order, reason_hash=bytes(32))
    assert "evidence_hash" not in chain.order(order)


def test_resolve_rejections(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.fails(codes.BAD_TRANSITION, "arb", "order_resolve", order=order, buyer_amount=0)
    chain.ok("bob", "order_dispute", order=order, reason_hash=bytes(32))
    chain.fails(codes.NOT_AUTHORIZED, "bob", "order_resolve", order=order, buyer_amount=90)
    chain.fails(codes.BAD_SPLIT, "arb", "order_resolve", order=order, buyer_amount=91)
    chain.advance(P.ruling_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "arb", "order_resolve", order=order, buyer_amount=90)


@pytest.mark.parametrize("accept_first", [False, True])
def test_buyer_claims_refund_when_seller_does_not_accept_or_ship(market: tuple[Chain, int], accept_first: bool) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    window = P.accept_window_ms
    if accept_first:
        chain.ok("alice", "order_accept", order=order)
        window = P.ship_window_ms
    chain.advance(window - 2_000)
    chain.fails(codes.TOO_EARLY, "bob", "order_claim", order=order)
    chain.advance(1_000)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "order_claim", order=order)
    chain.ok("bob", "order_claim", order=order)
    assert chain.order(order)["status"] == "refunded" and chain.balance("bob") == 1_000_000
    assert chain.load(keys.stock(listing)) == 10


def test_seller_claims_release_when_buyer_neither_confirms_nor_disputes(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.fails(codes.TOO_EARLY, "alice", "order_claim", order=order)
    chain.advance(P.confirm_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "bob", "order_dispute", order=order, reason_hash=bytes(32))
    chain.fails(codes.NOT_AUTHORIZED, "bob", "order_claim", order=order)
    chain.ok("alice", "order_claim", order=order)
    assert chain.order(order)["status"] == "completed" and chain.balance("alice") == 1_000_000 + 99


@pytest.mark.parametrize("claimant", ["bob", "alice"])
def test_either_party_claims_when_the_arbiter_does_not_rule(market: tuple[Chain, int], claimant: str) -> None:
    chain, listing = market
    order = chain.shipped(listing)
    chain.ok("bob", "order_dispute", order=order, reason_hash=bytes(32))
    chain.fails(codes.TOO_EARLY, claimant, "order_claim", order=order)
    chain.advance(P.ruling_window_ms)
    chain.fails(codes.NOT_AUTHORIZED, "arb", "order_claim", order=order)
    chain.ok(claimant, "order_claim", order=order)
    assert chain.order(order)["status"] == "resolved"
    assert chain.balance("bob") == 1_000_000 - 50 and chain.balance("alice") == 1_000_050
    assert chain.balance("arb") == 1_000_000


def test_terminal_orders_accept_no_action(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.ok("bob", "order_cancel", order=order)
    chain.advance(P.accept_window_ms * 10)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_claim", order=order)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_cancel", order=order)
    chain.fails(codes.BAD_TRANSITION, "alice", "order_accept", order=order)
    chain.fails(codes.BAD_TRANSITION, "alice", "order_decline", order=order)
    chain.fails(codes.BAD_TRANSITION, "bob", "order_confirm", order=order)


def test_unknown_orders_are_not_found(chain: Chain) -> None:
    chain.fails(codes.NOT_FOUND, "alice", "order_decline", order=5)
    chain.fails(codes.NOT_FOUND, "bob", "order_cancel", order=5)
    chain.fails(codes.NOT_FOUND, "alice", "order_ship", order=5)
    chain.fails(codes.NOT_FOUND, "bob", "order_confirm", order=5)
    chain.fails(codes.NOT_FOUND, "bob", "order_dispute", order=5, reason_hash=bytes(32))
    chain.fails(codes.NOT_FOUND, "arb", "order_resolve", order=5, buyer_amount=0)
    chain.fails(codes.NOT_FOUND, "bob", "order_claim", order=5)


def test_claimable_by_tells_who_may_claim_and_from_when(market: tuple[Chain, int]) -> None:
    from marketnode.market.orders import claimable_by

    chain, listing = market
    order = chain.order(chain.place("bob", listing))
    assert claimable_by(order, order["deadline_ms"] - 1) is None
    assert claimable_by(order, order["deadline_ms"]) == "buyer"


def test_seller_cannot_dispute_an_order_it_has_not_shipped(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.ok("alice", "order_accept", order=order)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "order_dispute", order=order, reason_hash=bytes(32))


def test_unruled_dispute_over_unshipped_goods_refunds_the_buyer_in_full(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing, quantity=2)
    chain.ok("alice", "order_accept", order=order)
    chain.ok("bob", "order_dispute", order=order, reason_hash=bytes(32))
    chain.advance(P.ruling_window_ms)
    chain.ok("alice", "order_claim", order=order)
    assert chain.balance("bob") == 1_000_000 and chain.balance("alice") == 1_000_000
    assert chain.load(keys.stock(listing)) == 10 and chain.order(order)["status"] == "resolved"


def test_ruling_on_unshipped_goods_puts_them_back_in_stock(market: tuple[Chain, int]) -> None:
    chain, listing = market
    order = chain.place("bob", listing)
    chain.ok("alice", "order_accept", order=order)
    chain.ok("bob", "order_dispute", order=order, reason_hash=bytes(32))
    chain.ok("arb", "order_resolve", order=order, buyer_amount=90)
    assert chain.load(keys.stock(listing)) == 10 and chain.balance("arb") == 1_000_010
