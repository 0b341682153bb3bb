"""Listings: goods a shop offers, with stock kept under its own key.

Stock lives apart from the listing so an order touches one small integer,
not the whole listing record.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store, terms
from marketnode.market.codes import ASSET_NOT_ACCEPTED, LISTING_INACTIVE, NOT_AUTHORIZED, NOT_FOUND, fail, require
from marketnode.market.context import TxContext
from marketnode.market.shops import owned_open_shop
from marketnode.market.state import StateReader

DESCRIPTIVE = ("title", "description", "category", "tags", "price", "asset", "regions", "images", "record", "certificate")
TERMS = ("options", "shipping")  # variants are kept apart: their stock lives under keys.variant_stock


def listing_record(state: StateReader, listing_id: int) -> dict[str, Any]:
    record = store.load_record(state, keys.listing(listing_id))
    if record is None:
        fail(NOT_FOUND, f"no listing {listing_id}")
    return record


def _check(tx: TxContext, shop: dict[str, Any], record: dict[str, Any]) -> None:
    require(record["asset"] in shop["accepted_assets"], ASSET_NOT_ACCEPTED,
            f"the shop does not accept {record['asset']}")
    if record["record"] is not None:
        require(tx.state.get(keys.record(record["record"])) is not None, NOT_FOUND, "no such provenance record")
    if record["certificate"] is not None:
        require(tx.state.get(keys.certificate(record["certificate"])) is not None, NOT_FOUND,
                "no such certificate")


def handle_create(tx: TxContext, body: dict[str, Any]) -> None:
    state = tx.state
    shop = owned_open_shop(tx, body["shop"])
    record = {name: body[name] for name in DESCRIPTIVE}
    record.update({name: body[name] or [] for name in TERMS})
    record["return_window_ms"] = body["return_window_ms"] or 0
    record.update(shop=body["shop"], seller=tx.sender, type=body["type"], active=True, created_ms=tx.now_ms)
    _check(tx, shop, record)
    variants = body["variants"] or []
    stock = terms.check_terms({**record, "variants": variants}, None if not variants else body["stock"])
    record["variants"] = _without_stock(variants)
    listing_id = store.next_id(state, "listing")
    store.save(state, keys.listing(listing_id), record)
    store.save_int(state, keys.stock(listing_id), body["stock"] if stock is None else stock)
    terms.save_variant_stock(state, listing_id, [], variants)
    store.index_add(state, keys.listings_by_shop(body["shop"], listing_id))
    store.index_add(state, keys.listings_by_seller(tx.sender, listing_id))
    store.index_add(state, keys.listings_by_category(record["category"], listing_id))
    tx.emit("listing_created", listing=listing_id, shop=body["shop"], seller=tx.sender, category=record["category"])


def _without_stock(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: v[name] for name in ("sku", "choice", "price_delta")} for v in variants]


def _own_active(tx: TxContext, listing_id: int) -> dict[str, Any]:
    record = listing_record(tx.state, listing_id)
    require(record["seller"] == tx.sender, NOT_AUTHORIZED, "only the seller may change the listing")
    require(record["active"], LISTING_INACTIVE, f"listing {listing_id} is delisted")
    return record


def handle_update(tx: TxContext, body: dict[str, Any]) -> None:
    state, listing_id = tx.state, body["listing"]
    record = _own_active(tx, listing_id)
    shop = owned_open_shop(tx, record["shop"])
    old_category = record["category"]
    old_variants = record.get("variants") or []
    record.update({name: body[name] for name in DESCRIPTIVE + TERMS + ("return_window_ms",) if body[name] is not None})
    _check(tx, shop, record)
    variants = body["variants"]
    if variants is None:  # the current variants with their current stock, checked against the new terms
        variants = [{**v, "stock": store.load_int(state, keys.variant_stock(listing_id, v["sku"]))}
                    for v in old_variants]
    stock = terms.check_terms({**record, "variants": variants}, body["stock"])
    record["variants"] = _without_stock(variants)
    store.save(state, keys.listing(listing_id), record)
    if body["variants"] is not None:
        terms.save_variant_stock(state, listing_id, old_variants, variants)
    if stock is not None:
        store.save_int(state, keys.stock(listing_id), stock)
    if record["category"] != old_category:
        state.delete(keys.listings_by_category(old_category, listing_id))
        store.index_add(state, keys.listings_by_category(record["category"], listing_id))
    tx.emit("listing_updated", listing=listing_id)


def handle_delist(tx: TxContext, body: dict[str, Any]) -> None:
    listing_id = body["listing"]
    record = _own_active(tx, listing_id)
    record["active"] = False
    store.save(tx.state, keys.listing(listing_id), record)
    tx.state.delete(keys.listings_by_category(record["category"], listing_id))
    tx.emit("listing_delisted", listing=listing_id)


HANDLERS = {"listing_create": handle_create, "listing_update": handle_update, "listing_delist": handle_delist}
