"""Rewards paid from the genesis-funded reward pool: reviews and referrals, priced so farming loses.

Rewards are transfers from the pool, so supply is conserved. Colluding
buyers and sellers get an order's price back, so the only thing farming
costs them is fees; hence a reward is a rebate of at most a share of the
platform fee the qualifying order paid, in the same asset (the two shares
together below 100 %, checked in ``Params``), only completed orders of at
least ``reward_min_total`` qualify, and each buyer, seller and inviter earns
a capped number of rewards per period of block time. docs/MARKET.md works
the numbers through.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.market.accounts import REWARD_POOL, account_record, balance, move
from marketnode.market.context import TxContext
from marketnode.market.params import BPS

REVIEW, REFERRAL = "review", "referral"
AS_BUYER, AS_SELLER, AS_INVITER = "buyer", "seller", "inviter"

# Why a reward was not paid in full: the ``withheld`` attr of the ``reward`` event (None: paid in full).
BELOW_MINIMUM = "below_minimum"  # the order's total is under params.reward_min_total
NO_FEE = "no_fee"  # the order paid no platform fee, so its rebate is 0
RELATED = "related"  # buyer and seller invited one another; for a referral: the purchase was from the inviter
CAP_BUYER, CAP_SELLER, CAP_INVITER = "cap_buyer", "cap_seller", "cap_inviter"  # this period's cap reached
POOL_DRY = "pool_dry"  # the pool held less of the order's asset than the reward
WITHHELD = (BELOW_MINIMUM, NO_FEE, RELATED, CAP_BUYER, CAP_SELLER, CAP_INVITER, POOL_DRY)


def _rebate(tx: TxContext, order: dict[str, Any], share_bps: int) -> int:
    """The most a reward for ``order`` may pay: ``share_bps`` of the platform fee it paid."""
    return tx.params.platform_fee(order["total"]) * share_bps // BPS


def _period(tx: TxContext) -> int:
    return tx.now_ms // tx.params.reward_period_ms


def _earned(tx: TxContext, role: str, account: bytes) -> int:
    """How many rewards ``account`` earned as ``role`` in the current period."""
    counted = store.load(tx.state, keys.rewards_counted(role, account))
    return counted[1] if counted is not None and counted[0] == _period(tx) else 0


def _count(tx: TxContext, role: str, account: bytes) -> None:
    store.save(tx.state, keys.rewards_counted(role, account), [_period(tx), _earned(tx, role, account) + 1])


def _inviter(tx: TxContext, account: bytes) -> bytes | None:
    record = account_record(tx.state, account)
    return None if record is None else record["inviter"]


def _pay(tx: TxContext, order: dict[str, Any], account: bytes, amount: int, reason: str,
         withheld: str | None) -> int:
    """Pay up to ``amount`` of the order's asset from the pool unless withheld; emit what was paid and why not.

    In the order's asset, because its fee was paid in it: the rebate never needs an exchange rate.
    """
    asset = order["asset"]
    if withheld is None and amount == 0:
        withheld = NO_FEE
    paid = 0 if withheld is not None else min(amount, balance(tx.state, REWARD_POOL, asset))
    if withheld is None and paid < amount:
        withheld = POOL_DRY
    if paid:
        move(tx.state, REWARD_POOL, account, asset, paid)
    tx.emit("reward", account=account, amount=paid, asset=asset, reason=reason, withheld=withheld)
    return paid


def _review_withheld(tx: TxContext, order: dict[str, Any]) -> str | None:
    buyer, seller, params = order["buyer"], order["seller"], tx.params
    if order["total"] < params.reward_min_total:
        return BELOW_MINIMUM
    if _inviter(tx, buyer) == seller or _inviter(tx, seller) == buyer:
        return RELATED
    if _earned(tx, AS_BUYER, buyer) >= params.reward_max_per_buyer:
        return CAP_BUYER
    if _earned(tx, AS_SELLER, seller) >= params.reward_max_per_seller:
        return CAP_SELLER
    return None


def on_review(tx: TxContext, order: dict[str, Any]) -> None:
    """The buyer reviewed a completed order: pay the review reward if the order qualifies."""
    params = tx.params
    if not params.review_reward:
        return
    withheld = _review_withheld(tx, order)
    amount = min(params.review_reward, _rebate(tx, order, params.review_reward_fee_bps))
    if _pay(tx, order, order["buyer"], amount, REVIEW, withheld):
        _count(tx, AS_BUYER, order["buyer"])
        _count(tx, AS_SELLER, order["seller"])


def on_purchase_completed(tx: TxContext, order: dict[str, Any]) -> None:
    """On a buyer's first real purchase (total at least the minimum, not from its inviter), reward the inviter.

    A smaller purchase, or one from the inviter's own shop, leaves the referral
    waiting for a real one; a capped or dry-pool referral is spent.
    """
    buyer, params = order["buyer"], tx.params
    marker = keys.first_purchase(buyer)
    if tx.state.get(marker) is not None or order["total"] < params.reward_min_total:
        return
    inviter = _inviter(tx, buyer)
    if inviter is not None and inviter == order["seller"]:
        if params.referral_reward:
            _pay(tx, order, inviter, 0, REFERRAL, RELATED)
        return
    store.index_add(tx.state, marker)
    if inviter is None or not params.referral_reward:
        return
    withheld = CAP_INVITER if _earned(tx, AS_INVITER, inviter) >= params.reward_max_per_inviter else None
    amount = min(params.referral_reward, _rebate(tx, order, params.referral_reward_fee_bps))
    if _pay(tx, order, inviter, amount, REFERRAL, withheld):
        _count(tx, AS_INVITER, inviter)
