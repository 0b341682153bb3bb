"""After-sales returns: every transition of the return table, its money, and every rejection."""

from __future__ import annotations

import pytest
from market_harness import Chain

from marketnode.market import codes, keys
from marketnode.market.params import DAY_MS, Params
from marketnode.market.returns import AFTERSALES

P = Params()
WINDOW = 30 * DAY_MS


@pytest.fixture
def sale(chain: Chain) -> tuple[Chain, int]:
    """alice's listing with a 30-day return window, a 500 deposit, and bob's completed order of it."""
    shop, _ = chain.market()
    listing = chain.listing("alice", shop, return_window_ms=WINDOW)
    chain.ok("alice", "aftersales_deposit", shop=shop, asset="USD", amount=500)
    order = chain.shipped(listing)
    chain.ok("bob", "order_confirm", order=order)
    return chain, order


def ret(chain: Chain, order: int) -> dict:
    return chain.load(keys.order_return(order))


def deposit(chain: Chain, shop: int = 1) -> int:
    return chain.load(keys.aftersales_deposit(shop, "USD")) or 0


def test_the_whole_return_refunds_the_goods_from_the_deposit(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    assert chain.order(order)["return_until_ms"] == chain.now_ms - 1_000 + WINDOW
    bob, alice = chain.balance("bob"), chain.balance("alice")
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    assert (ret(chain, order)["status"], ret(chain, order)["held"], deposit(chain)) == ("requested", 100, 400)
    assert ret(chain, order)["deadline_ms"] == chain.now_ms - 1_000 + P.return_answer_window_ms
    chain.ok("alice", "return_answer", order=order, accept=True)
    assert ret(chain, order)["deadline_ms"] == chain.now_ms - 1_000 + P.return_ship_window_ms
    chain.ok("bob", "return_ship", order=order, tracking_hash=b"DHL-1")
    assert ret(chain, order)["deadline_ms"] == chain.now_ms - 1_000 + P.return_receive_window_ms
    chain.ok("alice", "return_receive", order=order)
    assert ret(chain, order)["status"] == "refunded" and ret(chain, order)["paid"] == 100
    assert chain.balance("bob") - bob == 100 and chain.balance("alice") == alice  # from the deposit
    assert chain.balance(AFTERSALES) == 400 == deposit(chain)
    assert chain.order(order)["status"] == "completed"  # the sale's record stands


def test_refund_excludes_shipping(chain: Chain) -> None:
    shop, _ = chain.market()
    listing = chain.listing("alice", shop, return_window_ms=WINDOW, shipping=[
        {"service": "post", "regions": [], "price": 9, "min_days": 1, "max_days": 2}])
    order = chain.shipped(listing, shipping="post", region="DE")
    chain.ok("bob", "order_confirm", order=order)
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    assert ret(chain, order)["refund"] == 100 and ret(chain, order)["held"] == 0  # no deposit: all owed later


def test_refused_goes_to_the_arbiter(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    chain.ok("alice", "return_answer", order=order, accept=False)
    assert ret(chain, order)["status"] == "disputed"
    assert ret(chain, order)["deadline_ms"] == chain.now_ms - 1_000 + P.ruling_window_ms
    chain.ok("arb", "return_resolve", order=order, accept=False, ruling_hash=bytes(32))
    assert ret(chain, order)["status"] == "rejected" and deposit(chain) == 500  # the hold is back


def test_arbiter_lets_it_go_ahead(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    chain.ok("alice", "return_answer", order=order, accept=False)
    chain.ok("arb", "return_resolve", order=order, accept=True)
    assert ret(chain, order)["status"] == "accepted"


def test_refused_without_an_arbiter_is_rejected(chain: Chain) -> None:
    shop, _ = chain.market()
    listing = chain.listing("alice", shop, return_window_ms=WINDOW)
    order = chain.shipped(listing, arbiter=None)
    chain.ok("bob", "order_confirm", order=order)
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    chain.ok("alice", "return_answer", order=order, accept=False)
    assert ret(chain, order)["status"] == "rejected"


def test_a_shortfall_is_owed_and_collected_after_a_top_up(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    chain.ok("alice", "aftersales_withdraw", shop=1, asset="USD", amount=470)
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    assert ret(chain, order)["held"] == 30
    chain.ok("alice", "return_answer", order=order, accept=True)
    chain.ok("bob", "return_ship", order=order, tracking_hash=b"DHL-1")
    bob = chain.balance("bob")
    chain.ok("alice", "return_receive", order=order)
    assert (ret(chain, order)["status"], ret(chain, order)["owed"]) == ("owed", 70)
    assert chain.load(keys.aftersales_owed(1, "USD")) == 70 and ret(chain, order)["deadline_ms"] == 0
    chain.fails(codes.OWES_BUYERS, "alice", "aftersales_withdraw", shop=1, asset="USD", amount=1)
    chain.fails(codes.INSUFFICIENT_FUNDS, "bob", "return_collect", order=order)  # the deposit is empty
    chain.ok("alice", "aftersales_deposit", shop=1, asset="USD", amount=50)
    chain.ok("bob", "return_collect", order=order)
    assert (ret(chain, order)["status"], ret(chain, order)["owed"]) == ("owed", 20)
    chain.ok("alice", "aftersales_deposit", shop=1, asset="USD", amount=100)
    chain.ok("bob", "return_collect", order=order)
    assert ret(chain, order)["status"] == "refunded" and chain.balance("bob") - bob == 100
    assert chain.state.get(keys.aftersales_owed(1, "USD")) is None and deposit(chain) == 80
    chain.ok("alice", "aftersales_withdraw", shop=1, asset="USD", amount=80)
    assert chain.balance(AFTERSALES) == 0


def test_claims_at_each_deadline(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    chain.fails(codes.TOO_EARLY, "bob", "return_claim", order=order)
    chain.advance(P.return_answer_window_ms)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "return_claim", order=order)
    chain.ok("bob", "return_claim", order=order)  # the seller was silent: the return goes ahead
    assert ret(chain, order)["status"] == "accepted"
    chain.advance(P.return_ship_window_ms)
    chain.ok("alice", "return_claim", order=order)  # the buyer never shipped it back
    assert ret(chain, order)["status"] == "lapsed" and deposit(chain) == 500
    chain.fails(codes.BAD_TRANSITION, "alice", "return_claim", order=order)


def test_unconfirmed_receipt_and_unruled_dispute_are_claimed_by_the_buyer(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    chain.ok("alice", "return_answer", order=order, accept=False)
    chain.advance(P.ruling_window_ms)
    chain.ok("bob", "return_claim", order=order)
    chain.ok("bob", "return_ship", order=order, tracking_hash=b"DHL-2")
    chain.advance(P.return_receive_window_ms)
    bob = chain.balance("bob")
    chain.ok("bob", "return_claim", order=order)
    assert ret(chain, order)["status"] == "refunded" and chain.balance("bob") - bob == 100


def test_request_rejections(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    reason = dict(reason_hash=bytes(32))
    chain.fails(codes.NOT_FOUND, "bob", "return_request", order=99, **reason)
    chain.fails(codes.NOT_AUTHORIZED, "carol", "return_request", order=order, **reason)
    open_order = chain.place("bob", 2)
    chain.fails(codes.BAD_TRANSITION, "bob", "return_request", order=open_order, **reason)
    plain = chain.shipped(1)  # listing 1 declared no return window
    chain.ok("bob", "order_confirm", order=plain)
    chain.fails(codes.NO_RETURNS, "bob", "return_request", order=plain, **reason)
    chain.ok("bob", "return_request", order=order, **reason)
    chain.fails(codes.ALREADY_EXISTS, "bob", "return_request", order=order, **reason)
    late = chain.shipped(2)
    chain.ok("bob", "order_confirm", order=late)
    chain.advance(WINDOW)
    chain.fails(codes.WINDOW_CLOSED, "bob", "return_request", order=late, **reason)


def test_step_rejections(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    # nothing requested yet
    chain.fails(codes.NOT_FOUND, "alice", "return_answer", order=order, accept=True)
    chain.fails(codes.NOT_FOUND, "arb", "return_resolve", order=order, accept=True)
    chain.fails(codes.NOT_FOUND, "bob", "return_ship", order=order, tracking_hash=b"x")
    chain.fails(codes.NOT_FOUND, "alice", "return_receive", order=order)
    chain.fails(codes.NOT_FOUND, "bob", "return_collect", order=order)
    chain.fails(codes.NOT_FOUND, "bob", "return_claim", order=order)
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    chain.fails(codes.NOT_AUTHORIZED, "bob", "return_answer", order=order, accept=True)
    chain.fails(codes.BAD_TRANSITION, "arb", "return_resolve", order=order, accept=True)
    chain.fails(codes.BAD_TRANSITION, "bob", "return_ship", order=order, tracking_hash=b"x")
    chain.fails(codes.BAD_TRANSITION, "alice", "return_receive", order=order)
    chain.fails(codes.BAD_TRANSITION, "bob", "return_collect", order=order)
    chain.advance(P.return_answer_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "alice", "return_answer", order=order, accept=True)
    chain.ok("bob", "return_claim", order=order)
    chain.fails(codes.BAD_TRANSITION, "alice", "return_answer", order=order, accept=True)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "return_ship", order=order, tracking_hash=b"x")
    chain.advance(P.return_ship_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "bob", "return_ship", order=order, tracking_hash=b"x")


def test_dispute_and_receipt_rejections(sale: tuple[Chain, int]) -> None:
    chain, order = sale
    chain.ok("alice", "aftersales_withdraw", shop=1, asset="USD", amount=500)  # nothing to hold: all owed
    chain.ok("bob", "return_request", order=order, reason_hash=bytes(32))
    chain.ok("alice", "return_answer", order=order, accept=False)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "return_resolve", order=order, accept=True)
    chain.advance(P.ruling_window_ms)
    chain.fails(codes.WINDOW_CLOSED, "arb", "return_resolve", order=order, accept=True)
    chain.ok("bob", "return_claim", order=order)
    chain.ok("bob", "return_ship", order=order, tracking_hash=b"x")
    chain.fails(codes.NOT_AUTHORIZED, "bob", "return_receive", order=order)
    chain.ok("alice", "return_receive", order=order)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "return_collect", order=order)


def test_deposit_rejections(sale: tuple[Chain, int]) -> None:
    chain, _ = sale
    chain.fails(codes.NOT_FOUND, "alice", "aftersales_deposit", shop=99, asset="USD", amount=1)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "aftersales_deposit", shop=1, asset="USD", amount=1)
    chain.fails(codes.ASSET_NOT_ACCEPTED, "alice", "aftersales_deposit", shop=1, asset="EUR", amount=1)
    chain.fails(codes.INSUFFICIENT_FUNDS, "alice", "aftersales_deposit", shop=1, asset="USD", amount=10**7)
    chain.fails(codes.NOT_FOUND, "alice", "aftersales_withdraw", shop=99, asset="USD", amount=1)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "aftersales_withdraw", shop=1, asset="USD", amount=1)
    chain.fails(codes.INSUFFICIENT_FUNDS, "alice", "aftersales_withdraw", shop=1, asset="USD", amount=501)
    chain.ok("alice", "shop_close", shop=1)
    chain.fails(codes.SHOP_CLOSED, "alice", "aftersales_deposit", shop=1, asset="USD", amount=1)
    chain.ok("alice", "aftersales_withdraw", shop=1, asset="USD", amount=500)  # a closed shop can still withdraw
