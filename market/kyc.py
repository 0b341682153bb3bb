"""KYC: attesters set an account's level and expiry; rules read the valid level."""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, roles, store
from marketnode.market.codes import KYC_REQUIRED, NOT_FOUND, require
from marketnode.market.context import TxContext
from marketnode.market.state import StateReader


def kyc_level(state: StateReader, account: bytes, now_ms: int) -> int:
    """The account's level, 0 if none or expired at block time ``now_ms``."""
    record = store.load(state, keys.kyc(account))
    if record is None or record["expires_ms"] <= now_ms:
        return 0
    level: int = record["level"]
    return level


def require_kyc(state: StateReader, account: bytes, level: int, now_ms: int, purpose: str) -> None:
    if level:
        have = kyc_level(state, account, now_ms)
        require(have >= level, KYC_REQUIRED, f"{purpose} needs KYC level {level}, the account has {have}")


def handle_attest(tx: TxContext, body: dict[str, Any]) -> None:
    roles.require_role(tx.state, roles.KYC_ATTESTER, tx.sender)
    record = {"attester": tx.sender, "expires_ms": body["expires_ms"], "level": body["level"], "set_ms": tx.now_ms}
    store.save(tx.state, keys.kyc(body["account"]), record)
    tx.emit("kyc_attested", account=body["account"], level=body["level"], expires_ms=body["expires_ms"])


def handle_revoke(tx: TxContext, body: dict[str, Any]) -> None:
    roles.require_role(tx.state, roles.KYC_ATTESTER, tx.sender)
    key = keys.kyc(body["account"])
    require(tx.state.get(key) is not None, NOT_FOUND, "the account has no KYC attestation")
    tx.state.delete(key)
    tx.emit("kyc_revoked", account=body["account"])


HANDLERS = {"kyc_attest": handle_attest, "kyc_revoke": handle_revoke}
