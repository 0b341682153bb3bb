"""Shops: an owner's storefront with accepted assets and accepted arbiters."""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.market.accounts import require_registered
from marketnode.market.assets import require_asset
from marketnode.market.codes import BAD_BODY, NOT_AUTHORIZED, NOT_FOUND, SHOP_CLOSED, fail, require
from marketnode.market.context import TxContext
from marketnode.market.kyc import require_kyc
from marketnode.market.state import StateReader

MUTABLE = ("name", "description", "region", "accepted_assets", "arbiters")


def shop_record(state: StateReader, shop_id: int) -> dict[str, Any]:
    record = store.load_record(state, keys.shop(shop_id))
    if record is None:
        fail(NOT_FOUND, f"no shop {shop_id}")
    return record


def owned_open_shop(tx: TxContext, shop_id: int) -> dict[str, Any]:
    """The shop, if the sender owns it and it is open."""
    record = shop_record(tx.state, shop_id)
    require(record["owner"] == tx.sender, NOT_AUTHORIZED, "only the shop's owner may do this")
    require(record["open"], SHOP_CLOSED, f"shop {shop_id} is closed")
    return record


def _check_terms(state: StateReader, record: dict[str, Any]) -> None:
    require(bool(record["accepted_assets"]), BAD_BODY, "a shop must accept at least one asset")
    for asset in record["accepted_assets"]:
        require_asset(state, asset)


def handle_create(tx: TxContext, body: dict[str, Any]) -> None:
    state = tx.state
    require_registered(state, tx.sender)
    require_kyc(state, tx.sender, tx.params.shop_kyc_level, tx.now_ms, "opening a shop")
    record = {name: body[name] for name in MUTABLE}
    _check_terms(state, record)
    shop_id = store.next_id(state, "shop")
    record.update(owner=tx.sender, open=True, created_ms=tx.now_ms)
    store.save(state, keys.shop(shop_id), record)
    store.index_add(state, keys.shops_by_owner(tx.sender, shop_id))
    tx.emit("shop_created", shop=shop_id, owner=tx.sender)


def handle_update(tx: TxContext, body: dict[str, Any]) -> None:
    record = owned_open_shop(tx, body["shop"])
    record.update({name: body[name] for name in MUTABLE if body[name] is not None})
    _check_terms(tx.state, record)
    store.save(tx.state, keys.shop(body["shop"]), record)
    tx.emit("shop_updated", shop=body["shop"])


def handle_close(tx: TxContext, body: dict[str, Any]) -> None:
    record = owned_open_shop(tx, body["shop"])
    record["open"] = False
    store.save(tx.state, keys.shop(body["shop"]), record)
    tx.emit("shop_closed", shop=body["shop"])


HANDLERS = {"shop_create": handle_create, "shop_update": handle_update, "shop_close": handle_close}
