"""Orders with escrow: a state machine whose every open state has a deadline.

The table ``TRANSITIONS`` is the whole machine (docs/MARKET.md shows it with
money moves). Before a state's deadline only the party it waits for may act;
at or after it, ``order_claim`` settles it for the other side, so no escrow
can stay locked for ever. Time is block time only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.market import coupons, keys, store, terms
from marketnode.market.accounts import ESCROW, TREASURY, move, require_registered
from marketnode.market.arbiters import arbiter_fee, arbiter_record
from marketnode.market.assets import in_units
from marketnode.market.codes import (
    ALREADY_EXISTS,
    AMOUNT_OVERFLOW,
    ARBITER_NOT_ACCEPTED,
    BAD_SPLIT,
    BAD_TRANSITION,
    DELIVERY_REQUIRED,
    LISTING_INACTIVE,
    NO_ARBITER,
    NO_OFFER,
    NOT_AUTHORIZED,
    NOT_FOUND,
    PRICE_CHANGED,
    SELF_DEALING,
    SHOP_CLOSED,
    TOO_EARLY,
    WINDOW_CLOSED,
    fail,
    require,
)
from marketnode.market.context import TxContext
from marketnode.market.kyc import require_kyc
from marketnode.market.listings import listing_record
from marketnode.market.params import BPS
from marketnode.market.rewards import on_purchase_completed
from marketnode.market.shops import shop_record
from marketnode.market.state import StateReader

PLACED, ACCEPTED, SHIPPED, DISPUTED = "placed", "accepted", "shipped", "disputed"
COMPLETED, DECLINED, CANCELLED, REFUNDED, RESOLVED = "completed", "declined", "cancelled", "refunded", "resolved"
SETTLED = "settled"  # buyer and seller agreed a split (a mutual refund), no arbiter
OPEN = (PLACED, ACCEPTED, SHIPPED, DISPUTED)
TERMINAL = (COMPLETED, DECLINED, CANCELLED, REFUNDED, RESOLVED, SETTLED)

BUYER, SELLER, PARTY, ARBITER = "buyer", "seller", "buyer or seller", "arbiter"
BEFORE, ANY_TIME, AFTER = "before deadline", "any time", "at or after deadline"


@dataclass(frozen=True)
class Transition:
    """From which states ``action`` is allowed, who may take it in each, and when."""

    actors: dict[str, str]  # source state -> who may act from it
    timing: str


TRANSITIONS: dict[str, Transition] = {
    "order_accept": Transition({PLACED: SELLER}, BEFORE),
    "order_decline": Transition({PLACED: SELLER, ACCEPTED: SELLER}, ANY_TIME),
    "order_cancel": Transition({PLACED: BUYER}, ANY_TIME),
    "order_ship": Transition({ACCEPTED: SELLER}, BEFORE),
    "order_confirm": Transition({SHIPPED: BUYER}, ANY_TIME),
    # Before shipping only the buyer disputes: a seller who will not ship declines instead.
    "order_dispute": Transition({ACCEPTED: BUYER, SHIPPED: PARTY}, BEFORE),
    "order_resolve": Transition({DISPUTED: ARBITER}, BEFORE),
    "order_claim": Transition({PLACED: BUYER, ACCEPTED: BUYER, SHIPPED: SELLER, DISPUTED: PARTY}, AFTER),
    # A mutual refund: one side offers (the state does not change), the other accepts the same amount.
    # Any time while open: the accepting side gives up what a claim would give it, by its own signature.
    "order_refund_offer": Transition({ACCEPTED: PARTY, SHIPPED: PARTY, DISPUTED: PARTY}, ANY_TIME),
    "order_refund_accept": Transition({ACCEPTED: PARTY, SHIPPED: PARTY, DISPUTED: PARTY}, ANY_TIME),
}
CLAIMANT = TRANSITIONS["order_claim"].actors
# Where a claim leads. A disputed order the arbiter left unruled is split by
# params.ruling_timeout_buyer_bps if it had shipped, refunded in full if not.
CLAIM_OUTCOME = {PLACED: REFUNDED, ACCEPTED: REFUNDED, SHIPPED: COMPLETED, DISPUTED: RESOLVED}


def order_record(state: StateReader, order_id: int) -> dict[str, Any]:
    record = store.load_record(state, keys.order(order_id))
    if record is None:
        fail(NOT_FOUND, f"no order {order_id}")
    return record


def claimable_by(order: dict[str, Any], now_ms: int) -> str | None:
    """Who may ``order_claim`` the order at block time ``now_ms`` (for wallets and RPC), or None."""
    if order["status"] not in OPEN or now_ms < order["deadline_ms"]:
        return None
    return CLAIMANT[order["status"]]


def _is(order: dict[str, Any], actor: str, account: bytes) -> bool:
    if actor == PARTY:
        return account in (order["buyer"], order["seller"])
    return bool(order[actor] == account)


def _admit(tx: TxContext, action: str, order_id: int) -> dict[str, Any]:
    """Load the order and check the transition table for ``action``; reject otherwise."""
    rule = TRANSITIONS[action]
    order = order_record(tx.state, order_id)
    status = order["status"]
    actor = rule.actors.get(status)
    if actor is None:
        fail(BAD_TRANSITION, f"{action} is not allowed on a {status} order")
    require(_is(order, actor, tx.sender), NOT_AUTHORIZED, f"only the {actor} may {action} a {status} order")
    if rule.timing == BEFORE:
        require(tx.now_ms < order["deadline_ms"], WINDOW_CLOSED, f"the {status} window closed at {order['deadline_ms']}")
    elif rule.timing == AFTER:
        require(tx.now_ms >= order["deadline_ms"], TOO_EARLY, f"claimable from {order['deadline_ms']}")
    return order


def _move_to(
    tx: TxContext, order_id: int, order: dict[str, Any], status: str, window_ms: int = 0, **extra: Any
) -> None:
    """Change status (and its index entry), set the next deadline, save, emit."""
    state = tx.state
    state.delete(keys.orders_by_status(order["status"], order_id))
    order["status"] = status
    order["deadline_ms"] = tx.now_ms + window_ms if status in OPEN else 0
    order["updated_ms"] = tx.now_ms
    store.save(state, keys.order(order_id), order)
    if status in OPEN:
        store.index_add(state, keys.orders_by_status(status, order_id))
    tx.emit("order_" + status, order=order_id, buyer=order["buyer"], seller=order["seller"],
            deadline_ms=order["deadline_ms"], **extra)


# money moves -----------------------------------------------------------------

def _refund(tx: TxContext, order: dict[str, Any]) -> None:
    """Whole escrow back to the buyer and the reserved stock back to the listing."""
    move(tx.state, ESCROW, order["buyer"], order["asset"], order["total"])
    _restock(tx, order)


def _restock(tx: TxContext, order: dict[str, Any]) -> None:
    for item in order.get("items") or [order]:  # a cart puts back each of its lines
        terms.restock(tx.state, item["listing"], item.get("variant"), item["quantity"])


def _release(tx: TxContext, order: dict[str, Any]) -> None:
    """Escrow to the seller minus the platform fee; may trigger a referral reward."""
    platform_fee = tx.params.platform_fee(order["total"])
    move(tx.state, ESCROW, TREASURY, order["asset"], platform_fee)
    move(tx.state, ESCROW, order["seller"], order["asset"], order["total"] - platform_fee)
    on_purchase_completed(tx, order)
    if order.get("return_window_ms"):  # after-sales (market/returns.py): the buyer may ask to return it until then
        order["return_until_ms"] = tx.now_ms + order["return_window_ms"]


def _split(tx: TxContext, order: dict[str, Any], buyer_amount: int, fee: int) -> None:
    """Arbiter fee first, then ``buyer_amount`` to the buyer, the rest to the seller.

    Goods that never shipped go back on the shelf.
    """
    asset = order["asset"]
    if order["shipped_ms"] is None:
        _restock(tx, order)
    move(tx.state, ESCROW, order["arbiter"] or TREASURY, asset, fee)
    move(tx.state, ESCROW, order["buyer"], asset, buyer_amount)
    move(tx.state, ESCROW, order["seller"], asset, order["total"] - fee - buyer_amount)
    order["buyer_amount"] = buyer_amount


# handlers --------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One listing (and quantity) of an order; a plain order has one, a cart (market/carts.py) several."""

    listing_id: int
    listing: dict[str, Any]
    quantity: int
    quote: terms.Quote


def open_listing(tx: TxContext, listing_id: int) -> dict[str, Any]:
    """The listing, if it can be bought now by the sender: active and not the sender's own."""
    listing = listing_record(tx.state, listing_id)
    require(listing["active"], LISTING_INACTIVE, f"listing {listing_id} is delisted")
    require(listing["seller"] != tx.sender, SELF_DEALING, "a seller cannot buy its own listing")
    return listing


def handle_place(tx: TxContext, body: dict[str, Any]) -> None:
    listing = open_listing(tx, body["listing"])
    shop = shop_record(tx.state, listing["shop"])
    require(shop["open"], SHOP_CLOSED, f"shop {listing['shop']} is closed")
    require_registered(tx.state, tx.sender)
    quote = terms.quote(listing, body)
    place(tx, body, shop, [Line(body["listing"], listing, body["quantity"], quote)], quote.shipping)


def place(tx: TxContext, body: dict[str, Any], shop: dict[str, Any], lines: list[Line],
          shipping: dict[str, Any] | None, cart: bool = False) -> None:
    """Price the lines (goods, coupon, shipping once), reserve their stock and move the total into escrow.

    The first line names the order's listing; a cart also records every line under ``items``.
    """
    state, buyer = tx.state, tx.sender
    listing = lines[0].listing
    shipping_price = shipping["price"] if shipping else 0
    goods = sum(line.quote.unit_price * line.quantity for line in lines)
    require(goods + shipping_price <= INT_MAX, AMOUNT_OVERFLOW, "price * quantity + shipping exceeds 2^64-1")
    coupon = None if body["coupon"] is None else coupons.discount(tx, listing, body["coupon"], goods)
    total = goods - (coupon["discount"] if coupon else 0) + shipping_price
    require(total <= body["max_total"], PRICE_CHANGED, f"total {in_units(state, listing['asset'], total)} exceeds max_total "
            f"{in_units(state, listing['asset'], body['max_total'])}")
    if total > tx.params.order_kyc_threshold:
        require_kyc(state, buyer, tx.params.order_kyc_level, tx.now_ms, "an order of this value")
    fee = _arbiter_fee(tx, body["arbiter"], shop, listing["seller"], total)
    for line in lines:
        terms.reserve(state, line.listing_id, line.quote.variant, line.quantity)
    move(state, buyer, ESCROW, listing["asset"], total)
    order_id = store.next_id(state, "order")
    order = {
        "listing": lines[0].listing_id, "shop": listing["shop"], "type": listing["type"], "buyer": buyer,
        "seller": listing["seller"], "arbiter": body["arbiter"], "arbiter_fee": fee,
        "quantity": sum(line.quantity for line in lines),
        "asset": listing["asset"], "total": total, "status": PLACED, "placed_ms": tx.now_ms, "shipped_ms": None,
        "address_seller": body["address_seller"], "address_arbiter": body["address_arbiter"],
        "tracking_hash": None, "delivery": None, "dispute_by": None, "reason_hash": None,
        "ruling_hash": None, "buyer_amount": None,
    }
    if cart:
        order["items"] = [{"listing": line.listing_id, "quantity": line.quantity, "variant": line.quote.variant,
                           "unit_price": line.quote.unit_price} for line in lines]
    elif lines[0].quote.variant is not None:  # only when chosen: plain orders keep the bytes they always had
        order.update(variant=lines[0].quote.variant, unit_price=lines[0].quote.unit_price)
    if shipping is not None:
        order["shipping"] = shipping
    if coupon is not None:
        order["coupon"] = coupon
    window = min(line.listing.get("return_window_ms") or 0 for line in lines)
    if window:  # the terms at the time of sale bind, not later edits; a cart takes returns if every line does
        order["return_window_ms"] = window
    store.index_add(state, keys.orders_by_buyer(buyer, order_id))
    store.index_add(state, keys.orders_by_seller(listing["seller"], order_id))
    _move_to(tx, order_id, order, PLACED, tx.params.accept_window_ms,
             listing=lines[0].listing_id, asset=listing["asset"], total=total)


def _arbiter_fee(tx: TxContext, arbiter: bytes | None, shop: dict[str, Any], seller: bytes, total: int) -> int:
    """Check the buyer's arbiter choice and return its fee for this order (0 without one)."""
    if arbiter is None:
        return 0
    require(arbiter not in (tx.sender, seller), SELF_DEALING, "a party cannot arbitrate its own order")
    require(arbiter in shop["arbiters"], ARBITER_NOT_ACCEPTED, "the shop does not accept this arbiter")
    record = arbiter_record(tx.state, arbiter)
    require(record is not None and record["active"], ARBITER_NOT_ACCEPTED, "the arbiter is not active")
    return arbiter_fee(record, total)  # type: ignore[arg-type]


def handle_accept(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_accept", body["order"])
    _move_to(tx, body["order"], order, ACCEPTED, tx.params.ship_window_ms)


def handle_decline(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_decline", body["order"])
    _refund(tx, order)
    _move_to(tx, body["order"], order, DECLINED)


def handle_cancel(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_cancel", body["order"])
    _refund(tx, order)
    _move_to(tx, body["order"], order, CANCELLED)


def handle_ship(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_ship", body["order"])
    if order["type"] == "digital":
        require(body["delivery"] is not None, DELIVERY_REQUIRED, "a digital order ships its sealed content key")
    order["tracking_hash"], order["delivery"] = body["tracking_hash"], body["delivery"]
    order["shipped_ms"] = tx.now_ms
    _move_to(tx, body["order"], order, SHIPPED, tx.params.confirm_window_ms)


def handle_confirm(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_confirm", body["order"])
    _release(tx, order)
    _move_to(tx, body["order"], order, COMPLETED)


def handle_dispute(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_dispute", body["order"])
    require(order["arbiter"] is not None, NO_ARBITER, "the order was placed without an arbiter")
    order["dispute_by"], order["reason_hash"] = tx.sender, body["reason_hash"]
    if body["evidence"] is not None:  # only when given: orders disputed before evidence existed keep their bytes
        order["evidence_hash"] = body["evidence"]
    _move_to(tx, body["order"], order, DISPUTED, tx.params.ruling_window_ms)


def handle_respond(tx: TxContext, body: dict[str, Any]) -> None:
    """The party that did not open the dispute answers its statement once, before the ruling deadline.

    Not a transition (the order stays disputed): the arbiter then has both statements to rule on.
    """
    order = order_record(tx.state, body["order"])
    require(order["status"] == DISPUTED, BAD_TRANSITION, f"only a disputed order takes a response, not a "
            f"{order['status']} one")
    other = order["seller"] if order["dispute_by"] == order["buyer"] else order["buyer"]
    require(tx.sender == other, NOT_AUTHORIZED, "only the party that did not open the dispute may respond")
    require(tx.now_ms < order["deadline_ms"], WINDOW_CLOSED, f"the ruling window closed at {order['deadline_ms']}")
    require(order.get("response_hash") is None, ALREADY_EXISTS, "the dispute was already answered")
    order["response_hash"] = body["response_hash"]
    if body["evidence"] is not None:
        order["response_evidence_hash"] = body["evidence"]
    order["updated_ms"] = tx.now_ms
    store.save(tx.state, keys.order(body["order"]), order)
    tx.emit("dispute_answered", order=body["order"], by=tx.sender)


def handle_resolve(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_resolve", body["order"])
    fee = order["arbiter_fee"]
    left = order["total"] - fee
    asset = order["asset"]
    require(body["buyer_amount"] <= left, BAD_SPLIT, f"at most {in_units(tx.state, asset, left)} is left after the "
                                                     f"arbiter fee of {in_units(tx.state, asset, fee)}")
    _split(tx, order, body["buyer_amount"], fee)
    order["ruling_hash"] = body["ruling_hash"]
    _move_to(tx, body["order"], order, RESOLVED)


def handle_refund_offer(tx: TxContext, body: dict[str, Any]) -> None:
    """Offer to settle for ``buyer_amount`` back to the buyer; replaces the sender's or the other side's offer."""
    order = _admit(tx, "order_refund_offer", body["order"])
    asset = order["asset"]
    require(body["buyer_amount"] <= order["total"], BAD_SPLIT,
            f"at most the escrow of {in_units(tx.state, asset, order['total'])} can go back")
    order["refund_offer"] = {"by": tx.sender, "buyer_amount": body["buyer_amount"], "status": order["status"],
                             "time_ms": tx.now_ms}
    order["updated_ms"] = tx.now_ms
    store.save(tx.state, keys.order(body["order"]), order)
    tx.emit("refund_offered", order=body["order"], by=tx.sender, buyer_amount=body["buyer_amount"])


def handle_refund_accept(tx: TxContext, body: dict[str, Any]) -> None:
    """Accept the other side's offer: ``buyer_amount`` to the buyer, the rest to the seller less the platform fee.

    The amount is repeated so a changed offer cannot be accepted by mistake. No arbiter fee: nobody ruled.
    """
    order = _admit(tx, "order_refund_accept", body["order"])
    offer = order.get("refund_offer")
    require(offer is not None and offer["by"] != tx.sender and offer["status"] == order["status"]
            and offer["buyer_amount"] == body["buyer_amount"], NO_OFFER,
            "accept an open offer of the other side, in this state, for its exact amount")
    asset, buyer_amount = order["asset"], body["buyer_amount"]
    if order["shipped_ms"] is None:
        _restock(tx, order)
    seller_part = order["total"] - buyer_amount
    platform_fee = tx.params.platform_fee(seller_part)
    move(tx.state, ESCROW, order["buyer"], asset, buyer_amount)
    move(tx.state, ESCROW, TREASURY, asset, platform_fee)
    move(tx.state, ESCROW, order["seller"], asset, seller_part - platform_fee)
    order["buyer_amount"] = buyer_amount
    _move_to(tx, body["order"], order, SETTLED, buyer_amount=buyer_amount)


def handle_claim(tx: TxContext, body: dict[str, Any]) -> None:
    order = _admit(tx, "order_claim", body["order"])
    outcome = CLAIM_OUTCOME[order["status"]]
    if outcome == REFUNDED:
        _refund(tx, order)
    elif outcome == COMPLETED:
        _release(tx, order)
    else:  # the arbiter did not rule in time: no fee; shipped goods split by params, unshipped refunded
        share = tx.params.ruling_timeout_buyer_bps if order["shipped_ms"] is not None else BPS
        _split(tx, order, order["total"] * share // BPS, 0)
    _move_to(tx, body["order"], order, outcome)


HANDLERS = {
    "order_place": handle_place, "order_accept": handle_accept, "order_decline": handle_decline,
    "order_cancel": handle_cancel, "order_ship": handle_ship, "order_confirm": handle_confirm,
    "order_dispute": handle_dispute, "order_respond": handle_respond, "order_resolve": handle_resolve,
    "order_claim": handle_claim, "order_refund_offer": handle_refund_offer,
    "order_refund_accept": handle_refund_accept,
}
