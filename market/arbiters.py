"""Arbiters: accounts offering dispute resolution for a published fee.

The fee is fixed when an order is placed, so an arbiter cannot raise it on
an order already in flight.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.market.accounts import require_registered
from marketnode.market.codes import ALREADY_EXISTS, BAD_BODY, NOT_FOUND, fail, require
from marketnode.market.context import TxContext
from marketnode.market.params import BPS
from marketnode.market.state import StateReader


def arbiter_record(state: StateReader, account: bytes) -> dict[str, Any] | None:
    return store.load_record(state, keys.arbiter(account))


def arbiter_fee(arbiter: dict[str, Any], total: int) -> int:
    """fee_fixed + fee_bps of ``total``, never more than ``total``."""
    fee: int = arbiter["fee_fixed"] + total * arbiter["fee_bps"] // BPS
    return min(total, fee)


def _check_fee(tx: TxContext, fee_bps: int) -> None:
    limit = tx.params.max_arbiter_fee_bps
    require(fee_bps <= limit, BAD_BODY, f"fee_bps above params.max_arbiter_fee_bps ({limit})")


def handle_register(tx: TxContext, body: dict[str, Any]) -> None:
    require_registered(tx.state, tx.sender)
    require(arbiter_record(tx.state, tx.sender) is None, ALREADY_EXISTS, "the sender is already an arbiter")
    _check_fee(tx, body["fee_bps"])
    record = {"active": True, "description": body["description"], "fee_bps": body["fee_bps"],
              "fee_fixed": body["fee_fixed"], "since_ms": tx.now_ms}
    store.save(tx.state, keys.arbiter(tx.sender), record)
    tx.emit("arbiter_registered", arbiter=tx.sender, fee_fixed=body["fee_fixed"], fee_bps=body["fee_bps"])


def handle_update(tx: TxContext, body: dict[str, Any]) -> None:
    record = arbiter_record(tx.state, tx.sender)
    if record is None:
        fail(NOT_FOUND, "the sender is not an arbiter")
    if body["fee_bps"] is not None:
        _check_fee(tx, body["fee_bps"])
    record.update({name: value for name, value in body.items() if value is not None})
    store.save(tx.state, keys.arbiter(tx.sender), record)
    tx.emit("arbiter_updated", arbiter=tx.sender, active=record["active"])


HANDLERS = {"arbiter_register": handle_register, "arbiter_update": handle_update}
