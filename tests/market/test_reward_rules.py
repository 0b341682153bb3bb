"""Each rule that prices rewards against farming, at its edge (docs/MARKET.md, "Reviews and rewards")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from market_harness import Chain, make_genesis

from marketnode.core.errors import ConfigError
from marketnode.market import keys, store
from marketnode.market.params import DAY_MS, Params
from marketnode.market.reviews import MAX_WEIGHT, MAX_WEIGHT_SUM, _add_rating, average
from marketnode.market.rewards import WITHHELD
from marketnode.market.schema import RATINGS
from marketnode.market.state import MemoryState

STARS = dict.fromkeys(RATINGS, 4)
PRICE = 10_000  # 1 % platform fee = 100; a 40 % rebate = 40 covers the review reward (10) and the referral (20)


def _chain(**params: Any) -> tuple[Chain, int]:
    chain = Chain(make_genesis(**params))
    shop, _ = chain.market()
    return chain, shop


def _bought(chain: Chain, listing: int, buyer: str = "bob", seller: str = "alice") -> int:
    order = chain.shipped(listing, buyer=buyer, seller=seller)
    chain.ok(buyer, "order_confirm", order=order)
    return order


def _review_reward(chain: Chain, order: int, buyer: str = "bob") -> dict[str, Any]:
    receipt = chain.ok(buyer, "review", order=order, ratings=STARS, text_hash=bytes(32))
    return receipt.events[-1].attrs


def test_an_order_below_the_minimum_earns_nothing_but_its_review_counts() -> None:
    chain, shop = _chain()
    reward = _review_reward(chain, _bought(chain, chain.listing("alice", shop, price=999)))
    assert (reward["amount"], reward["withheld"]) == (0, "below_minimum")
    assert chain.load(keys.seller_rating(chain.acct("alice")))["weight"] == 999
    reward = _review_reward(chain, _bought(chain, chain.listing("alice", shop, price=1_000)))
    assert (reward["amount"], reward["withheld"]) == (4, None)  # 40 % of the 10 fee, under the reward of 10


def test_a_reward_is_at_most_its_share_of_the_platform_fee_the_order_paid() -> None:
    chain, shop = _chain(review_reward=10**6)
    reward = _review_reward(chain, _bought(chain, chain.listing("alice", shop, price=PRICE)))
    assert (reward["amount"], reward["withheld"]) == (40, None)


def test_without_a_platform_fee_there_is_no_reward() -> None:
    chain, shop = _chain(platform_fee_bps=0)
    reward = _review_reward(chain, _bought(chain, chain.listing("alice", shop, price=PRICE)))
    assert (reward["amount"], reward["withheld"]) == (0, "no_fee")


@pytest.mark.parametrize("inviter_of", ["buyer", "seller"])
def test_a_buyer_and_seller_who_invited_each_other_earn_no_review_reward(inviter_of: str) -> None:
    chain = Chain(make_genesis())
    chain.arbiter("arb")
    invited, inviter = ("bob", "alice") if inviter_of == "buyer" else ("alice", "bob")
    chain.register(inviter)
    chain.ok(invited, "register", name="X", commitment=bytes(32), inviter=chain.acct(inviter))
    listing = chain.listing("alice", chain.shop("alice"), price=PRICE)
    reward = _review_reward(chain, _bought(chain, listing))
    assert (reward["amount"], reward["withheld"]) == (0, "related")


def test_a_buyer_earns_at_most_its_cap_per_period_then_again_in_the_next() -> None:
    chain, shop = _chain(reward_max_per_buyer=2)
    listing = chain.listing("alice", shop, price=PRICE)
    paid = [_review_reward(chain, _bought(chain, listing))["withheld"] for _ in range(3)]
    assert paid == [None, None, "cap_buyer"]
    chain.advance(DAY_MS)
    assert _review_reward(chain, _bought(chain, listing))["withheld"] is None


def test_a_seller_is_reviewed_for_a_reward_at_most_its_cap_per_period() -> None:
    chain, shop = _chain(reward_max_per_seller=1)
    chain.register("carol")
    listing = chain.listing("alice", shop, price=PRICE)
    assert _review_reward(chain, _bought(chain, listing))["withheld"] is None
    assert _review_reward(chain, _bought(chain, listing, buyer="carol"), buyer="carol")["withheld"] == "cap_seller"


def _invited(chain: Chain, invitee: str, inviter: str = "carol") -> None:
    chain.ok(invitee, "register", name=invitee.title(), commitment=bytes(32), inviter=chain.acct(inviter))


def _referrals(chain: Chain, order_receipt_events: list[Any]) -> list[dict[str, Any]]:
    return [e.attrs for e in order_receipt_events if e.kind == "reward" and e.attrs["reason"] == "referral"]


def _confirm(chain: Chain, listing: int, buyer: str, seller: str = "alice") -> list[dict[str, Any]]:
    order = chain.shipped(listing, buyer=buyer, seller=seller)
    return _referrals(chain, list(chain.ok(buyer, "order_confirm", order=order).events))


def test_a_referral_waits_for_the_invitees_first_purchase_at_the_minimum() -> None:
    chain, shop = _chain()
    chain.register("carol")
    _invited(chain, "dave")
    before = chain.balance("carol")
    assert _confirm(chain, chain.listing("alice", shop, price=999), "dave") == []
    assert chain.state.get(keys.first_purchase(chain.acct("dave"))) is None
    real = chain.listing("alice", shop, price=PRICE)
    assert [(r["amount"], r["withheld"]) for r in _confirm(chain, real, "dave")] == [(20, None)]
    assert _confirm(chain, real, "dave") == []
    assert chain.balance("carol") == before + 20


def test_a_purchase_from_the_inviters_own_shop_pays_no_referral_and_leaves_it_waiting() -> None:
    chain, alice_shop = _chain()
    chain.register("carol")
    _invited(chain, "dave")
    own = chain.listing("carol", chain.shop("carol"), price=PRICE)
    assert [(r["amount"], r["withheld"]) for r in _confirm(chain, own, "dave", seller="carol")] == [(0, "related")]
    elsewhere = chain.listing("alice", alice_shop, price=PRICE)
    assert [r["withheld"] for r in _confirm(chain, elsewhere, "dave")] == [None]


def test_an_inviter_earns_at_most_its_cap_of_referrals_per_period() -> None:
    chain, shop = _chain(reward_max_per_inviter=1)
    chain.register("carol")
    _invited(chain, "dave")
    _invited(chain, "erin")
    listing = chain.listing("alice", shop, price=PRICE)
    assert [r["withheld"] for r in _confirm(chain, listing, "dave")] == [None]
    assert [r["withheld"] for r in _confirm(chain, listing, "erin")] == ["cap_inviter"]
    chain.advance(DAY_MS)
    assert _confirm(chain, listing, "erin") == []  # spent: the referral is not paid later


def test_an_order_refunded_or_cancelled_earns_no_reward() -> None:
    chain, shop = _chain()
    chain.register("carol")
    _invited(chain, "dave")
    listing = chain.listing("alice", shop, price=PRICE)
    order = chain.place("dave", listing)
    chain.ok("dave", "order_cancel", order=order)
    assert chain.send("dave", "review", order=order, ratings=STARS, text_hash=bytes(32)).code == "bad_transition"
    assert chain.state.get(keys.first_purchase(chain.acct("dave"))) is None


def test_rating_sums_halve_before_they_pass_what_javascript_holds_exactly() -> None:
    state, key = MemoryState(), b"rating/test"
    store.save(state, key, {"count": 3, "weight": MAX_WEIGHT_SUM - 1, **{n: 2 * (MAX_WEIGHT_SUM - 1) for n in RATINGS}})
    _add_rating(state, key, dict.fromkeys(RATINGS, 5), MAX_WEIGHT)
    totals = store.load(state, key)
    assert totals["count"] == 4 and totals["weight"] <= MAX_WEIGHT_SUM
    assert max(totals[n] for n in RATINGS) < 2**53
    assert 200 < average(totals, "overall", 100) < 500  # the new 5-star review moved the average up, not past 5


def test_sums_written_before_weighting_read_as_one_per_review() -> None:
    assert average({"count": 2, **dict.fromkeys(RATINGS, 9)}, "overall", 100) == 450
    assert average(None, "overall", 100) == 0


@pytest.mark.parametrize("bad", [
    dict(review_reward_fee_bps=5_000, referral_reward_fee_bps=5_000),
    dict(review_reward_fee_bps=10_001, referral_reward_fee_bps=0),
    dict(reward_period_ms=0),
])
def test_params_refuse_rewards_that_give_back_the_whole_fee(bad: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        Params(**bad)


def test_docs_market_md_explains_every_reason_a_reward_is_withheld() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "MARKET.md").read_text()
    section = text.split("## Reviews and rewards", 1)[1].split("\n## ", 1)[0]
    assert [code for code in WITHHELD if f"`{code}`" not in section] == []
