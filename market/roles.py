"""Genesis roles (asset issuers, certifiers, KYC attesters) as state entries."""

from __future__ import annotations

from marketnode.market import keys, store
from marketnode.market.codes import NOT_AUTHORIZED, fail
from marketnode.market.state import State, StateReader

ASSET_ISSUER = "asset_issuer"
CERTIFIER = "certifier"
KYC_ATTESTER = "kyc_attester"


def grant(state: State, role: str, account: bytes) -> None:
    store.index_add(state, keys.role(role, account))


def has_role(state: StateReader, role: str, account: bytes) -> bool:
    return state.get(keys.role(role, account)) is not None


def require_role(state: StateReader, role: str, account: bytes) -> None:
    if not has_role(state, role, account):
        fail(NOT_AUTHORIZED, f"the sender does not hold the {role} role")
