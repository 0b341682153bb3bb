"""account_* methods: balances, nonce, roles and registration of one account."""

from __future__ import annotations

from typing import Any

from core.encoding import decode
from core.jsonable import to_json
from core.keys import address_from_pubkey
from market import keys
from market.accounts import account_record, next_nonce
from market.genesis import ROLES
from market.roles import has_role
from node.rpc.registry import CallContext, Param, Registry, Result


def account_json(reader: Any, account: bytes) -> dict[str, Any]:
    prefix = keys.balance(account)
    balances: dict[str, int] = {}
    for key, value in reader.iterate(prefix):
        tail = key[len(prefix):]
        asset = tail[1:1 + tail[0]].decode()
        balances[asset] = decode(value)
    record = account_record(reader, account)
    return {
        "address": address_from_pubkey(account),
        "public_key": account.hex(),
        "nonce": next_nonce(reader, account),
        "balances": balances,
        "registered": record is not None,
        "profile": _plain(record),
        "roles": [role for role in ROLES if has_role(reader, role, account)],
    }


def _plain(value: Any) -> Any:
    return to_json(value)


def register(registry: Registry) -> None:
    @registry.method(
        "account_get",
        summary="Balances, next nonce, roles and registration of one account.",
        params=[Param("address", "address", "The account (mn1...).")],
        result=Result("account", "The account.", {"type": "object"}),
        tags=("accounts",),
    )
    async def account_get(ctx: CallContext, address: bytes) -> dict[str, Any]:
        return account_json(ctx.node.store.state_reader(), address)
