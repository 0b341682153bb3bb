"""Accounts: nonces, balances, registration, transfers, and the module accounts.

Module accounts (escrow, reward pool, treasury) are hashes no one holds a key
for, so only the rules can move their funds.
"""

from __future__ import annotations

import hashlib
from typing import Any

from marketnode.market import keys, store
from marketnode.market.assets import in_units, require_asset
from marketnode.market.codes import ALREADY_EXISTS, INSUFFICIENT_FUNDS, NOT_REGISTERED, SELF_DEALING, fail, require
from marketnode.market.context import TxContext
from marketnode.market.state import State, StateReader


def module_account(name: str) -> bytes:
    return hashlib.sha256(b"marketnode-module-account:" + name.encode()).digest()


ESCROW = module_account("escrow")
REWARD_POOL = module_account("reward_pool")
TREASURY = module_account("treasury")


def next_nonce(state: StateReader, account: bytes) -> int:
    return store.load_int(state, keys.nonce(account))


def bump_nonce(state: State, account: bytes, nonce: int) -> None:
    store.save_int(state, keys.nonce(account), nonce + 1)


def balance(state: StateReader, account: bytes, asset: str) -> int:
    return store.load_int(state, keys.balance(account, asset))


def move(state: State, source: bytes, target: bytes, asset: str, amount: int) -> None:
    """Move ``amount`` of ``asset``; INSUFFICIENT_FUNDS if the source is short.

    Supply is conserved, so a credit can never overflow 2^64-1.
    """
    if amount == 0 or source == target:
        require(balance(state, source, asset) >= amount, INSUFFICIENT_FUNDS, f"balance of {asset} too low")
        return
    have = balance(state, source, asset)
    if have < amount:
        fail(INSUFFICIENT_FUNDS, f"balance of {asset} is {in_units(state, asset, have)}, "
                                 f"needs {in_units(state, asset, amount)}")
    store.save_int(state, keys.balance(source, asset), have - amount)
    store.save_int(state, keys.balance(target, asset), balance(state, target, asset) + amount)


def account_record(state: StateReader, account: bytes) -> dict[str, Any] | None:
    return store.load_record(state, keys.account(account))


def require_registered(state: StateReader, account: bytes, who: str = "sender") -> dict[str, Any]:
    record = account_record(state, account)
    if record is None:
        fail(NOT_REGISTERED, f"the {who} has not registered")
    return record


def handle_register(tx: TxContext, body: dict[str, Any]) -> None:
    state = tx.state
    require(account_record(state, tx.sender) is None, ALREADY_EXISTS, "the sender is already registered")
    inviter = body["inviter"]
    if inviter is not None:
        require(inviter != tx.sender, SELF_DEALING, "an account cannot invite itself")
        require_registered(state, inviter, "inviter")
    record = {"commitment": body["commitment"], "inviter": inviter, "name": body["name"], "registered_ms": tx.now_ms}
    store.save(state, keys.account(tx.sender), record)
    tx.emit("registered", account=tx.sender, name=body["name"], inviter=inviter)


def handle_transfer(tx: TxContext, body: dict[str, Any]) -> None:
    require_asset(tx.state, body["asset"])
    move(tx.state, tx.sender, body["to"], body["asset"], body["amount"])
    tx.emit("transfer", sender=tx.sender, to=body["to"], asset=body["asset"], amount=body["amount"])


HANDLERS = {"register": handle_register, "transfer": handle_transfer}
