"""Reviews: one per completed order, by its buyer, with one seller reply.

Only a completed purchase can be reviewed, so reviews cannot be faked by
non-buyers; they live in state, so no one can hide them. Rating sums per
seller and per listing are kept up to date for queries, each review weighted
by the value of its purchase, so many cheap orders cannot outvote a real one.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.market.codes import ALREADY_REVIEWED, BAD_TRANSITION, NOT_AUTHORIZED, NOT_FOUND, fail, require
from marketnode.market.context import TxContext
from marketnode.market.orders import COMPLETED, order_record
from marketnode.market.rewards import on_review
from marketnode.market.schema import RATINGS
from marketnode.market.state import State

# One review weighs its order's total, at most MAX_WEIGHT; when a weight sum would pass MAX_WEIGHT_SUM every sum
# is halved (older reviews count half), so star sums stay below 5 * 2^50 < 2^53: exact in JSON and JavaScript.
MAX_WEIGHT = 2**48
MAX_WEIGHT_SUM = 2**50
MAX_STARS = 5


def review_weight(order: dict[str, Any]) -> int:
    """What a review of ``order`` counts for: the value bought, in units of the order's asset."""
    total: int = order["total"]
    return min(total, MAX_WEIGHT)


def _add_rating(state: State, key: bytes, ratings: dict[str, int], weight: int) -> None:
    """Add stars x weight to each aspect's sum and weight to the weight sum."""
    totals = store.load(state, key) or {"count": 0, "weight": 0, **dict.fromkeys(RATINGS, 0)}
    totals.setdefault("weight", totals["count"])  # sums written before weighting counted one each
    while totals["weight"] + weight > MAX_WEIGHT_SUM:
        for name in ("weight", *RATINGS):
            totals[name] //= 2
    totals["count"] += 1
    totals["weight"] += weight
    for name in RATINGS:
        totals[name] += ratings[name] * weight
    store.save(state, key, totals)


def average(totals: dict[str, int] | None, aspect: str, scale: int) -> int:
    """The value-weighted average of one aspect times ``scale`` (an integer; 0 when unrated).

    The one formula every display uses (RPC ``avg_x100``, the query index's ``rating_milli``).
    """
    if not totals or not totals["count"]:
        return 0
    weight = totals.get("weight", totals["count"])
    return min(totals[aspect] * scale // weight, MAX_STARS * scale) if weight else 0


def handle_review(tx: TxContext, body: dict[str, Any]) -> None:
    state, order_id = tx.state, body["order"]
    order = order_record(state, order_id)
    require(order["buyer"] == tx.sender, NOT_AUTHORIZED, "only the order's buyer may review it")
    require(order["status"] == COMPLETED, BAD_TRANSITION, "only a completed order can be reviewed")
    require(state.get(keys.review(order_id)) is None, ALREADY_REVIEWED, f"order {order_id} was already reviewed")
    weight = review_weight(order)
    review = {"listing": order["listing"], "ratings": body["ratings"], "reply_hash": None,
              "reviewer": tx.sender, "seller": order["seller"], "text_hash": body["text_hash"], "time_ms": tx.now_ms,
              "weight": weight}
    if body["photo"] is not None:  # only when given: reviews stored before photos existed keep their bytes
        review["photo"] = body["photo"]
    store.save(state, keys.review(order_id), review)
    store.index_add(state, keys.reviews_by_listing(order["listing"], order_id))
    _add_rating(state, keys.seller_rating(order["seller"]), body["ratings"], weight)
    _add_rating(state, keys.listing_rating(order["listing"]), body["ratings"], weight)
    tx.emit("reviewed", order=order_id, listing=order["listing"], seller=order["seller"],
            overall=body["ratings"]["overall"])
    on_review(tx, order)


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
