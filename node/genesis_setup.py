"""Dev and testnet genesis documents: funded demo accounts and the roles a demo needs."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from marketnode.market.genesis import Genesis, GenesisAccount, GenesisAsset, GenesisValidator
from marketnode.market.params import Params

STABLE_ASSET = "USDX"
REWARD_POOL = 10**15
# Rewards are rebates of at most 40 % each of the 2 % platform fee, so farming them loses (docs/MARKET.md).
DEV_PARAMS = Params(review_reward=1_000, referral_reward=5_000, platform_fee_bps=200,
                    recovery_min_delay_ms=1_000)  # a testnet shows a recovery in seconds

# Which demo account holds which genesis role (the rest are plain users).
DEMO_ROLES = {"kyc_attester": ("erin",), "certifier": ("frank",), "asset_issuer": ("heidi",)}


def dev_genesis(chain_id: str, validators: Sequence[tuple[str, bytes, str]], accounts: Mapping[str, bytes],
                balance: int, genesis_time_ms: int | None = None) -> Genesis:
    """A genesis where every named account holds ``balance`` of MKT and of the stable asset."""
    issuer = accounts.get("heidi")
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=genesis_time_ms if genesis_time_ms is not None else time.time_ns() // 1_000_000,
        validators=tuple(GenesisValidator(name, key, addr) for name, key, addr in validators),
        accounts=tuple(GenesisAccount(key, {"MKT": balance, STABLE_ASSET: balance}) for key in accounts.values()),
        assets=(GenesisAsset(STABLE_ASSET, "Stable unit (testnet)", 2, issuer, None),),
        roles={role: tuple(accounts[n] for n in names if n in accounts) for role, names in DEMO_ROLES.items()},
        reward_pool={"MKT": REWARD_POOL, STABLE_ASSET: REWARD_POOL},  # rewards are paid in the order's asset
        params=DEV_PARAMS,
    )


def write_dev_genesis(chain_id: str, validators: Sequence[tuple[str, bytes, str]], accounts: Mapping[str, bytes],
                      balance: int) -> str:
    return dev_genesis(chain_id, validators, accounts, balance).to_json()
