"""Chain parameters set in genesis: windows, fees, rewards, KYC rules.

All amounts are integers in the smallest unit, shares in basis points
(1/10000), durations in milliseconds of block time.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.core.errors import ConfigError
from marketnode.core.types import MAX_TX_SIGS

DAY_MS = 24 * 60 * 60 * 1000
BPS = 10_000
# An order deadline is block time + a window; bounded so it stays far inside u64, SQLite and JavaScript dates.
MAX_WINDOW_MS = 100 * 365 * DAY_MS
ASSET_ID_RE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")


@dataclass(frozen=True, slots=True)
class Params:
    """Tunable rules; every field has a safe default for a testnet."""

    native_asset: str = "MKT"
    min_fee: int = 0
    accept_window_ms: int = 3 * DAY_MS
    ship_window_ms: int = 7 * DAY_MS
    confirm_window_ms: int = 14 * DAY_MS
    ruling_window_ms: int = 14 * DAY_MS
    ruling_timeout_buyer_bps: int = 5_000
    platform_fee_bps: int = 0
    max_arbiter_fee_bps: int = 2_000
    review_reward: int = 0
    referral_reward: int = 0
    review_reward_fee_bps: int = 4_000
    referral_reward_fee_bps: int = 4_000
    reward_min_total: int = 1_000
    reward_period_ms: int = DAY_MS
    reward_max_per_buyer: int = 10
    reward_max_per_seller: int = 100
    reward_max_per_inviter: int = 10
    shop_kyc_level: int = 0
    order_kyc_level: int = 0
    order_kyc_threshold: int = 0
    return_answer_window_ms: int = 3 * DAY_MS
    return_ship_window_ms: int = 7 * DAY_MS
    return_receive_window_ms: int = 14 * DAY_MS
    # accounts (market/authority.py, market/recovery.py): bounds on key sets, signatures and guardians
    max_account_keys: int = 8
    max_tx_signers: int = 16
    max_guardians: int = 8
    recovery_min_delay_ms: int = 60_000
    recovery_approval_window_ms: int = 7 * DAY_MS
    single_key_period_ms: int = DAY_MS

    def __post_init__(self) -> None:
        if not ASSET_ID_RE.match(self.native_asset):
            raise ConfigError(f"params.native_asset {self.native_asset!r} must match {ASSET_ID_RE.pattern}")
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.type == "int" and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT_MAX):
                raise ConfigError(f"params.{spec.name} must be an unsigned 64-bit integer, got {value!r}")
        for name in ("ruling_timeout_buyer_bps", "platform_fee_bps", "max_arbiter_fee_bps",
                     "review_reward_fee_bps", "referral_reward_fee_bps"):
            if getattr(self, name) > BPS:
                raise ConfigError(f"params.{name} is in basis points and at most {BPS}")
        if self.review_reward_fee_bps + self.referral_reward_fee_bps >= BPS:
            raise ConfigError("params.review_reward_fee_bps + referral_reward_fee_bps must be below "
                              f"{BPS}: rewards must give back less than the platform fee, or farming them pays")
        for name in ("accept_window_ms", "ship_window_ms", "confirm_window_ms", "ruling_window_ms",
                     "return_answer_window_ms", "return_ship_window_ms", "return_receive_window_ms"):
            if not 0 < getattr(self, name) <= MAX_WINDOW_MS:
                raise ConfigError(f"params.{name} must be positive and at most {MAX_WINDOW_MS} (100 years)")
        for name, cap in (("max_account_keys", MAX_TX_SIGS), ("max_tx_signers", MAX_TX_SIGS), ("max_guardians", 64)):
            if not 1 <= getattr(self, name) <= cap:
                raise ConfigError(f"params.{name} must be 1..{cap}")
        if self.recovery_min_delay_ms > MAX_WINDOW_MS:
            raise ConfigError(f"params.recovery_min_delay_ms must be at most {MAX_WINDOW_MS} (100 years)")
        for name in ("recovery_approval_window_ms", "single_key_period_ms"):
            if not 0 < getattr(self, name) <= MAX_WINDOW_MS:
                raise ConfigError(f"params.{name} must be positive and at most {MAX_WINDOW_MS} (100 years)")
        if self.reward_period_ms == 0:
            raise ConfigError("params.reward_period_ms must be positive")

    def platform_fee(self, total: int) -> int:
        """The treasury's share of an order's released escrow (rewards are capped by it)."""
        return total * self.platform_fee_bps // BPS

    def to_obj(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_obj(cls, obj: Any) -> Params:
        """Missing keys take their default; unknown keys are refused (a typo must not pass)."""
        if not isinstance(obj, dict):
            raise ConfigError("params must be a map")
        unknown = sorted(set(obj) - {spec.name for spec in fields(cls)})
        if unknown:
            raise ConfigError(f"params: unknown fields {unknown}")
        return cls(**obj)
