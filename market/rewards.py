"""Rewards paid from the genesis-funded reward pool: reviews and referrals.

Rewards are transfers from the pool, so supply is conserved; when the pool
runs dry the reward is skipped (the event says how much was paid).
"""

from __future__ import annotations

from market import keys, store
from market.accounts import REWARD_POOL, account_record, balance, move
from market.context import TxContext


def pay_reward(tx: TxContext, account: bytes, amount: int, reason: str) -> int:
    """Pay up to ``amount`` of the native asset from the pool; return what was paid."""
    asset = tx.params.native_asset
    paid = min(amount, balance(tx.state, REWARD_POOL, asset))
    if paid:
        move(tx.state, REWARD_POOL, account, asset, paid)
    tx.emit("reward", account=account, amount=paid, asset=asset, reason=reason)
    return paid


def on_purchase_completed(tx: TxContext, buyer: bytes) -> None:
    """On a buyer's first completed purchase, reward whoever invited them."""
    marker = keys.first_purchase(buyer)
    if tx.state.get(marker) is not None:
        return
    store.index_add(tx.state, marker)
    record = account_record(tx.state, buyer)
    if record is not None and record["inviter"] is not None and tx.params.referral_reward:
        pay_reward(tx, record["inviter"], tx.params.referral_reward, "referral")
