"""Assets: records with issuer and supply; issue and mint are the only ways supply grows."""

from __future__ import annotations

from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.core.units import format_units
from marketnode.market import keys, roles, store
from marketnode.market.codes import ALREADY_EXISTS, AMOUNT_OVERFLOW, NOT_AUTHORIZED, NOT_FOUND, fail, require
from marketnode.market.context import TxContext
from marketnode.market.state import State, StateReader


def require_asset(state: StateReader, asset: str) -> dict[str, Any]:
    record = store.load_record(state, keys.asset(asset))
    if record is None:
        fail(NOT_FOUND, f"no asset {asset}")
    return record


def in_units(state: StateReader, asset: str, amount: int) -> str:
    """``amount`` of ``asset`` as a person reads it (``23.71 USDX``), for rule messages."""
    record = store.load_record(state, keys.asset(asset))
    return format_units(amount, record["decimals"] if record else 0, asset)


def create_asset(state: State, asset: str, name: str, decimals: int, issuer: bytes | None,
                 max_supply: int | None, supply: int = 0) -> None:
    record = {"decimals": decimals, "issuer": issuer, "max_supply": max_supply, "name": name, "supply": supply}
    store.save(state, keys.asset(asset), record)


def handle_issue(tx: TxContext, body: dict[str, Any]) -> None:
    roles.require_role(tx.state, roles.ASSET_ISSUER, tx.sender)
    asset = body["asset"]
    require(tx.state.get(keys.asset(asset)) is None, ALREADY_EXISTS, f"asset {asset} exists")
    create_asset(tx.state, asset, body["name"], body["decimals"], tx.sender, body["max_supply"])
    tx.emit("asset_issued", asset=asset, issuer=tx.sender)


def handle_mint(tx: TxContext, body: dict[str, Any]) -> None:
    asset, amount = body["asset"], body["amount"]
    record = require_asset(tx.state, asset)
    require(record["issuer"] == tx.sender, NOT_AUTHORIZED, f"only the issuer of {asset} may mint it")
    cap = INT_MAX if record["max_supply"] is None else record["max_supply"]
    require(record["supply"] + amount <= cap, AMOUNT_OVERFLOW, f"minting would exceed the cap of {in_units(tx.state, asset, cap)}")
    record["supply"] += amount
    store.save(tx.state, keys.asset(asset), record)
    target = keys.balance(body["to"], asset)
    store.save_int(tx.state, target, store.load_int(tx.state, target) + amount)
    tx.emit("asset_minted", asset=asset, to=body["to"], amount=amount)


HANDLERS = {"asset_issue": handle_issue, "asset_mint": handle_mint}
