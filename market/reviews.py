"""Reviews: one per completed order, by its buyer, with one seller reply.

Only a completed purchase can be reviewed, so reviews cannot be faked by
non-buyers; they live in state, so no one can hide them. Rating sums per
seller and per listing are kept up to date for queries.
"""

from __future__ import annotations

from typing import Any

from market import keys, store
from market.codes import ALREADY_REVIEWED, BAD_TRANSITION, NOT_AUTHORIZED, NOT_FOUND, fail, require
from market.context import TxContext
from market.orders import COMPLETED, order_record
from market.rewards import pay_reward
from market.schema import RATINGS
from market.state import State


def _add_rating(state: State, key: bytes, ratings: dict[str, int]) -> None:
    totals = store.load(state, key) or {"count": 0, **dict.fromkeys(RATINGS, 0)}
    totals["count"] += 1
    for name in RATINGS:
        totals[name] += ratings[name]
    store.save(state, key, totals)


def handle_review(tx: TxContext, body: dict[str, Any]) -> None:
    state, order_id = tx.state, body["order"]
    order = order_record(state, order_id)
    require(order["buyer"] == tx.sender, NOT_AUTHORIZED, "only the order's buyer may review it")
    require(order["status"] == COMPLETED, BAD_TRANSITION, "only a completed order can be reviewed")
    require(state.get(keys.review(order_id)) is None, ALREADY_REVIEWED, f"order {order_id} was already reviewed")
    review = {"listing": order["listing"], "ratings": body["ratings"], "reply_hash": None,
              "reviewer": tx.sender, "seller": order["seller"], "text_hash": body["text_hash"], "time_ms": tx.now_ms}
    store.save(state, keys.review(order_id), review)
    store.index_add(state, keys.reviews_by_listing(order["listing"], order_id))
    _add_rating(state, keys.seller_rating(order["seller"]), body["ratings"])
    _add_rating(state, keys.listing_rating(order["listing"]), body["ratings"])
    tx.emit("reviewed", order=order_id, listing=order["listing"], seller=order["seller"],
            overall=body["ratings"]["overall"])
    if tx.params.review_reward:
        pay_reward(tx, tx.sender, tx.params.review_reward, "review")


def handle_reply(tx: TxContext, body: dict[str, Any]) -> None:
    key = keys.review(body["order"])
    review = store.load(tx.state, key)
    if review is None:
        fail(NOT_FOUND, f"order {body['order']} has no review")
    require(review["seller"] == tx.sender, NOT_AUTHORIZED, "only the seller may reply")
    require(review["reply_hash"] is None, ALREADY_REVIEWED, "the seller has already replied")
    review["reply_hash"] = body["text_hash"]
    store.save(tx.state, key, review)
    tx.emit("review_replied", order=body["order"], seller=tx.sender)


HANDLERS = {"review": handle_review, "review_reply": handle_reply}
