"""After-sales: returns after an order completed, refunded from the shop's after-sales deposit.

A return is its own small state machine beside the order (the order stays
``completed``: its review, rewards and fees stand). Like the order table, each
open state has a deadline and a claim, so no return can stall; ``owed`` is the
one open state without a deadline, because only the buyer waits in it and
``return_collect`` is its claim.

Money: a shop owner funds a deposit per asset (``aftersales_deposit``), held
by the ``AFTERSALES`` module account. A request holds the refund (the order's
total less its shipping price: the goods paid for) from the deposit as far as
it reaches; what is missing is owed. The refund is paid when the seller
confirms receipt of the goods (or fails to in time); a shortfall stays owed
until the deposit is topped up and the buyer collects it, and a shop that owes
cannot withdraw. The platform fee of the original sale is not returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.market import keys, store
from marketnode.market.accounts import module_account, move
from marketnode.market.assets import in_units
from marketnode.market.codes import (
    ALREADY_EXISTS,
    ASSET_NOT_ACCEPTED,
    BAD_TRANSITION,
    INSUFFICIENT_FUNDS,
    NO_RETURNS,
    NOT_AUTHORIZED,
    NOT_FOUND,
    OWES_BUYERS,
    TOO_EARLY,
    WINDOW_CLOSED,
    fail,
    require,
)
from marketnode.market.context import TxContext
from marketnode.market.orders import AFTER, ANY_TIME, ARBITER, BEFORE, BUYER, COMPLETED, SELLER, order_record
from marketnode.market.shops import owned_open_shop, shop_record

AFTERSALES = module_account("aftersales")

REQUESTED, ACCEPTED, DISPUTED, RETURNING, OWED = "requested", "accepted", "disputed", "returning", "owed"
REFUNDED, REJECTED, LAPSED = "refunded", "rejected", "lapsed"
OPEN = (REQUESTED, ACCEPTED, DISPUTED, RETURNING, OWED)
TERMINAL = (REFUNDED, REJECTED, LAPSED)


@dataclass(frozen=True)
class Transition:
    actors: dict[str, str]  # source state -> who may act from it
    timing: str


TRANSITIONS: dict[str, Transition] = {
    "return_answer": Transition({REQUESTED: SELLER}, BEFORE),  # accept, or refuse: to the arbiter if any
    "return_resolve": Transition({DISPUTED: ARBITER}, BEFORE),
    "return_ship": Transition({ACCEPTED: BUYER}, BEFORE),
    "return_receive": Transition({RETURNING: SELLER}, ANY_TIME),
    "return_collect": Transition({OWED: BUYER}, ANY_TIME),
    "return_claim": Transition({REQUESTED: BUYER, ACCEPTED: SELLER, DISPUTED: BUYER, RETURNING: BUYER}, AFTER),
}
CLAIMANT = TRANSITIONS["return_claim"].actors
# A seller who does not answer, or an arbiter who does not rule, lets the return go ahead (the goods
# still come back before any refund); a buyer who does not ship back lets it lapse; a seller who does
# not confirm receipt of goods shipped back with tracking pays.
CLAIM_OUTCOME = {REQUESTED: ACCEPTED, ACCEPTED: LAPSED, DISPUTED: ACCEPTED, RETURNING: REFUNDED}


def return_record(tx: TxContext, order_id: int) -> dict[str, Any]:
    record = store.load_record(tx.state, keys.order_return(order_id))
    if record is None:
        fail(NOT_FOUND, f"no return of order {order_id}")
    return record


def _admit(tx: TxContext, action: str, order_id: int) -> dict[str, Any]:
    rule = TRANSITIONS[action]
    record = return_record(tx, order_id)
    status = record["status"]
    actor = rule.actors.get(status)
    if actor is None:
        fail(BAD_TRANSITION, f"{action} is not allowed on a {status} return")
    require(record[actor] == tx.sender, NOT_AUTHORIZED, f"only the {actor} may {action} a {status} return")
    if rule.timing == BEFORE:
        require(tx.now_ms < record["deadline_ms"], WINDOW_CLOSED, f"the {status} window closed at "
                f"{record['deadline_ms']}")
    elif rule.timing == AFTER:
        require(tx.now_ms >= record["deadline_ms"], TOO_EARLY, f"claimable from {record['deadline_ms']}")
    return record


def _window(tx: TxContext, status: str) -> int:
    params = tx.params
    return {REQUESTED: params.return_answer_window_ms, ACCEPTED: params.return_ship_window_ms,
            DISPUTED: params.ruling_window_ms, RETURNING: params.return_receive_window_ms}.get(status, 0)


def _move_to(tx: TxContext, order_id: int, record: dict[str, Any], status: str) -> None:
    state = tx.state
    if record.get("status") is not None:
        state.delete(keys.returns_by_status(record["status"], order_id))
    record["status"] = status
    window = _window(tx, status)
    record["deadline_ms"] = tx.now_ms + window if window else 0
    record["updated_ms"] = tx.now_ms
    store.save(state, keys.order_return(order_id), record)
    if status in OPEN:
        store.index_add(state, keys.returns_by_status(status, order_id))
    tx.emit("return_" + status, order=order_id, buyer=record["buyer"], seller=record["seller"],
            deadline_ms=record["deadline_ms"], refund=record["refund"], owed=record["owed"])


# money -----------------------------------------------------------------------

def _release_hold(tx: TxContext, record: dict[str, Any]) -> None:
    """A return that ends without a refund gives its hold back to the shop's deposit."""
    key = keys.aftersales_deposit(record["shop"], record["asset"])
    store.save_int(tx.state, key, store.load_int(tx.state, key) + record["held"])
    record["held"] = 0


def _pay(tx: TxContext, record: dict[str, Any]) -> None:
    """Pay the hold to the buyer; what it lacked becomes the shop's debt (status owed) or the return ends."""
    move(tx.state, AFTERSALES, record["buyer"], record["asset"], record["held"])
    record["paid"] += record["held"]
    record["held"] = 0
    record["owed"] = record["refund"] - record["paid"]
    if record["owed"]:
        _add_owed(tx, record, record["owed"])


def _add_owed(tx: TxContext, record: dict[str, Any], amount: int) -> None:
    key = keys.aftersales_owed(record["shop"], record["asset"])
    store.save_int(tx.state, key, store.load_int(tx.state, key) + amount)


# handlers --------------------------------------------------------------------

def handle_deposit(tx: TxContext, body: dict[str, Any]) -> None:
    """The shop's owner adds to its after-sales deposit (in an asset the shop accepts)."""
    shop = owned_open_shop(tx, body["shop"])
    require(body["asset"] in shop["accepted_assets"], ASSET_NOT_ACCEPTED, f"the shop does not accept {body['asset']}")
    move(tx.state, tx.sender, AFTERSALES, body["asset"], body["amount"])
    key = keys.aftersales_deposit(body["shop"], body["asset"])
    store.save_int(tx.state, key, store.load_int(tx.state, key) + body["amount"])
    tx.emit("aftersales_deposit", shop=body["shop"], asset=body["asset"], amount=body["amount"])


def handle_withdraw(tx: TxContext, body: dict[str, Any]) -> None:
    """The owner takes free deposit back (also from a closed shop), unless the shop owes buyers."""
    shop = shop_record(tx.state, body["shop"])
    require(shop["owner"] == tx.sender, NOT_AUTHORIZED, "only the shop's owner may withdraw its deposit")
    asset = body["asset"]
    owed = store.load_int(tx.state, keys.aftersales_owed(body["shop"], asset))
    require(owed == 0, OWES_BUYERS, f"the shop owes buyers {in_units(tx.state, asset, owed)} for returns")
    key = keys.aftersales_deposit(body["shop"], asset)
    free = store.load_int(tx.state, key)
    require(body["amount"] <= free, INSUFFICIENT_FUNDS, f"the deposit holds {in_units(tx.state, asset, free)} free")
    store.save_int(tx.state, key, free - body["amount"])
    move(tx.state, AFTERSALES, tx.sender, asset, body["amount"])
    tx.emit("aftersales_withdraw", shop=body["shop"], asset=asset, amount=body["amount"])


def handle_request(tx: TxContext, body: dict[str, Any]) -> None:
    """The buyer of a completed order asks to return it within the listing's return window."""
    order_id = body["order"]
    order = order_record(tx.state, order_id)
    require(order["buyer"] == tx.sender, NOT_AUTHORIZED, "only the order's buyer may return it")
    require(order["status"] == COMPLETED, BAD_TRANSITION, f"only a completed order can be returned, not a "
            f"{order['status']} one")
    require(order.get("return_window_ms", 0) > 0, NO_RETURNS, "the listing took no returns when it was ordered")
    require(tx.now_ms < order["return_until_ms"], WINDOW_CLOSED, f"the return window closed at "
            f"{order['return_until_ms']}")
    require(tx.state.get(keys.order_return(order_id)) is None, ALREADY_EXISTS, "the order was already returned "
            "or a return is under way")
    refund = order["total"] - (order.get("shipping") or {}).get("price", 0)
    deposit_key = keys.aftersales_deposit(order["shop"], order["asset"])
    free = store.load_int(tx.state, deposit_key)
    held = min(free, refund)
    store.save_int(tx.state, deposit_key, free - held)
    record = {"shop": order["shop"], "buyer": order["buyer"], "seller": order["seller"], "arbiter": order["arbiter"],
              "asset": order["asset"], "refund": refund, "held": held, "paid": 0, "owed": 0,
              "reason_hash": body["reason_hash"], "tracking_hash": None, "ruling_hash": None,
              "requested_ms": tx.now_ms}
    _move_to(tx, order_id, record, REQUESTED)


def handle_answer(tx: TxContext, body: dict[str, Any]) -> None:
    """The seller accepts the return, or refuses it: the arbiter then rules, or without one it is rejected."""
    record = _admit(tx, "return_answer", body["order"])
    _decide(tx, body["order"], record, body["accept"], DISPUTED if record["arbiter"] is not None else REJECTED)


def handle_resolve(tx: TxContext, body: dict[str, Any]) -> None:
    """The order's arbiter rules on a refused return: it goes ahead, or it is rejected (no fee either way)."""
    record = _admit(tx, "return_resolve", body["order"])
    record["ruling_hash"] = body["ruling_hash"]
    _decide(tx, body["order"], record, body["accept"], REJECTED)


def _decide(tx: TxContext, order_id: int, record: dict[str, Any], accept: bool, refused: str) -> None:
    """Accepted: the buyer ships back. Refused: to ``refused`` (disputed, or rejected with the hold released)."""
    if accept:
        _move_to(tx, order_id, record, ACCEPTED)
        return
    if refused == REJECTED:
        _release_hold(tx, record)
    _move_to(tx, order_id, record, refused)


def handle_ship(tx: TxContext, body: dict[str, Any]) -> None:
    record = _admit(tx, "return_ship", body["order"])
    record["tracking_hash"] = body["tracking_hash"]
    _move_to(tx, body["order"], record, RETURNING)


def handle_receive(tx: TxContext, body: dict[str, Any]) -> None:
    """The seller has the goods back: the buyer is refunded from the hold; a shortfall is owed."""
    record = _admit(tx, "return_receive", body["order"])
    _pay(tx, record)
    _move_to(tx, body["order"], record, OWED if record["owed"] else REFUNDED)


def handle_collect(tx: TxContext, body: dict[str, Any]) -> None:
    """The buyer collects what the shop owes it from the deposit, as far as the deposit now reaches."""
    record = _admit(tx, "return_collect", body["order"])
    deposit_key = keys.aftersales_deposit(record["shop"], record["asset"])
    free = store.load_int(tx.state, deposit_key)
    require(free > 0, INSUFFICIENT_FUNDS, "the shop's deposit is empty: collect after it is topped up")
    pay = min(free, record["owed"])
    store.save_int(tx.state, deposit_key, free - pay)
    _add_owed(tx, record, -pay)
    move(tx.state, AFTERSALES, record["buyer"], record["asset"], pay)
    record["paid"] += pay
    record["owed"] -= pay
    if record["owed"]:
        record["updated_ms"] = tx.now_ms
        store.save(tx.state, keys.order_return(body["order"]), record)
        tx.emit("return_collected", order=body["order"], amount=pay, owed=record["owed"])
        return
    _move_to(tx, body["order"], record, REFUNDED)


def handle_claim(tx: TxContext, body: dict[str, Any]) -> None:
    record = _admit(tx, "return_claim", body["order"])
    outcome = CLAIM_OUTCOME[record["status"]]
    if outcome == LAPSED:
        _release_hold(tx, record)
    elif outcome == REFUNDED:
        _pay(tx, record)
        outcome = OWED if record["owed"] else REFUNDED
    _move_to(tx, body["order"], record, outcome)


HANDLERS = {
    "aftersales_deposit": handle_deposit, "aftersales_withdraw": handle_withdraw, "return_request": handle_request,
    "return_answer": handle_answer, "return_resolve": handle_resolve, "return_ship": handle_ship,
    "return_receive": handle_receive, "return_collect": handle_collect, "return_claim": handle_claim,
}
