"""account_*, asset_list and arbiter_list: who holds what, who may do what, and who arbitrates.

Handlers read state without awaiting, so each answer sees one committed head
(the node commits blocks on the same event loop, between handlers).
"""

from __future__ import annotations

from typing import Any

from marketnode.core.encoding import decode
from marketnode.core.errors import ValidationError
from marketnode.core.jsonable import to_json
from marketnode.core.keys import address_from_pubkey, pubkey_from_address
from marketnode.core.stateproof import MAX_PROOF_KEYS
from marketnode.market import keys, store
from marketnode.market.accounts import account_record, next_nonce
from marketnode.market.arbiters import arbiter_record
from marketnode.market.engine import load_params
from marketnode.market.genesis import ROLES
from marketnode.market.roles import has_role
from marketnode.node.api.proofs import PROOF_PARAM, state_proof
from marketnode.node.api.views import PAGE_DEFAULT, PAGE_MAX, addr, arbiter_json, kyc_json, page_json, rating_json
from marketnode.node.boundary import NodeApi, committed_head
from marketnode.node.rpc.errors import invalid_params
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result


def limit_param(default: int = PAGE_DEFAULT) -> Param:
    return Param("limit", "integer", f"Page size (default {default}).", required=False, default=default, minimum=1,
                 maximum=PAGE_MAX)


def cursor_param() -> Param:
    return Param("cursor", "string", "next_cursor of the previous page (absent: first page).", required=False,
                 max_length=128)


PAGE_RESULT = {"type": "object", "properties": {"items": {"type": "array"},
                                                "next_cursor": {"type": ["string", "null"]}}}


def account_json(reader: Any, account: bytes, now_ms: int = 0) -> dict[str, Any]:
    prefix = keys.balance(account)
    balances: dict[str, int] = {}
    for key, value in reader.iterate(prefix):
        tail = key[len(prefix):]
        asset = tail[1:1 + tail[0]].decode()
        balances[asset] = decode(value)
    record = account_record(reader, account)
    arbiter = arbiter_record(reader, account)
    return {
        "address": address_from_pubkey(account),
        "public_key": account.hex(),
        "nonce": next_nonce(reader, account),
        "balances": balances,
        "registered": record is not None,
        "profile": _profile(record),
        "roles": [role for role in ROLES if has_role(reader, role, account)],
        "kyc": kyc_json(reader, account, now_ms),
        "arbiter": None if arbiter is None else arbiter_json(account, arbiter),
        "seller_rating": rating_json(store.load(reader, keys.seller_rating(account))),
    }


def _profile(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    out = to_json(record)
    out["inviter"] = addr(record["inviter"])
    return out


def register(registry: Registry) -> None:
    @registry.method(
        "account_get",
        summary="Balances, next nonce, roles, KYC level and expiry, arbiter terms and seller rating of one account.",
        description="`kyc.level` is the level valid at the head's block time (0 once expired); "
                    "`seller_rating.avg_x100` holds averages times 100 as integers, each review weighted by "
                    "its order's total (docs/MARKET.md).",
        params=[Param("address", "address", "The account (mn1...)."), PROOF_PARAM],
        result=Result("account", "{address, public_key, nonce, balances, registered, profile, roles, kyc, arbiter, "
                      "seller_rating}", {"type": "object"}),
        tags=("accounts",),
    )
    async def account_get(ctx: CallContext[NodeApi], address: bytes, proof: bool) -> dict[str, Any]:
        store_ = ctx.node.store
        out = account_json(store_.state_reader(), address, committed_head(store_).timestamp_ms)
        if proof:
            native = load_params(store_.state_reader()).native_asset
            assets = [native, *sorted(set(out["balances"]) - {native})]
            proved = [keys.nonce(address), keys.account(address)]
            proved += [keys.balance(address, a) for a in assets[:MAX_PROOF_KEYS - len(proved)]]
            out["proof"] = state_proof(ctx.node, proved).to_json()
        return out

    @registry.method(
        "asset_list",
        summary="Every asset: id, name, decimals, issuer, supply and cap.",
        params=[limit_param(50), cursor_param()],
        result=Result("page", "{items: [asset], next_cursor}", PAGE_RESULT),
        tags=("accounts",),
    )
    async def asset_list(ctx: CallContext[NodeApi], limit: int, cursor: str | None = None) -> dict[str, Any]:
        reader = ctx.node.store.state_reader()
        start = None if cursor is None else keys.asset(cursor) + b"\x00"
        items: list[dict[str, Any]] = []
        next_cursor = None
        for key, value in reader.iterate(keys.ASSET_PREFIX, start):
            asset_id = key[len(keys.ASSET_PREFIX) + 1:].decode()
            if len(items) == limit:
                next_cursor = items[-1]["asset"]
                break
            record = decode(value)
            items.append({"asset": asset_id, "name": record["name"], "decimals": record["decimals"],
                          "issuer": addr(record["issuer"]), "supply": record["supply"],
                          "max_supply": record["max_supply"]})
        return page_json(items, next_cursor)

    @registry.method(
        "arbiter_list",
        summary="Arbiters with their fees and terms, so a buyer can pick one its shop accepts.",
        params=[Param("include_inactive", "boolean", "Also list arbiters that take no new orders.", required=False,
                      default=False),
                limit_param(50), cursor_param()],
        result=Result("page", "{items: [{address, active, fee_fixed, fee_bps, description, since_ms}], next_cursor}",
                      PAGE_RESULT),
        tags=("accounts",),
    )
    async def arbiter_list(ctx: CallContext[NodeApi], include_inactive: bool, limit: int,
                           cursor: str | None = None) -> dict[str, Any]:
        reader = ctx.node.store.state_reader()
        start = None
        if cursor is not None:
            start = keys.arbiter(_cursor_account(cursor)) + b"\x00"
        items: list[dict[str, Any]] = []
        next_cursor = None
        for key, value in reader.iterate(keys.ARBITER_PREFIX, start):
            record = decode(value)
            if not (record["active"] or include_inactive):
                continue
            if len(items) == limit:
                next_cursor = items[-1]["address"]
                break
            items.append(arbiter_json(key[len(keys.ARBITER_PREFIX):], record))
        return page_json(items, next_cursor)


def _cursor_account(cursor: str) -> bytes:
    """The account a previous page ended with; -32602 for anything this method did not return."""
    try:
        return pubkey_from_address(cursor)
    except ValidationError:
        raise invalid_params(f"cursor {cursor!r} is not one this query returned", "cursor") from None
