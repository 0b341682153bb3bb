"""The genesis file: the chain's first state and its rules' parameters.

JSON for humans (bytes as hex, accounts as ``mn1...`` addresses), a
canonical map for hashing (``Genesis.hash``). See docs/GENESIS.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from marketnode.core.encoding import INT_MAX, encode
from marketnode.core.errors import ConfigError, DecodeError, ValidationError
from marketnode.core.hashing import digest
from marketnode.core.keys import PUBKEY_SIZE, address_from_pubkey, check_chain_id, pubkey_from_address
from marketnode.market.params import ASSET_ID_RE, Params

ROLES = ("asset_issuer", "certifier", "kyc_attester")


@dataclass(frozen=True, slots=True)
class GenesisValidator:
    name: str
    public_key: bytes
    p2p_address: str


@dataclass(frozen=True, slots=True)
class GenesisAsset:
    """An asset that exists from the start; ``issuer`` None means no one can mint."""

    asset: str
    name: str
    decimals: int = 0
    issuer: bytes | None = None
    max_supply: int | None = None


@dataclass(frozen=True, slots=True)
class GenesisAccount:
    address: bytes
    balances: dict[str, int]


@dataclass(frozen=True)
class Genesis:
    """Everything a node needs to build block 0's state."""

    chain_id: str
    genesis_time_ms: int
    validators: tuple[GenesisValidator, ...]
    accounts: tuple[GenesisAccount, ...] = ()
    assets: tuple[GenesisAsset, ...] = ()
    roles: dict[str, tuple[bytes, ...]] = field(default_factory=dict)
    reward_pool: dict[str, int] = field(default_factory=dict)
    params: Params = field(default_factory=Params)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError for anything a node could not start from."""
        try:
            check_chain_id(self.chain_id)
        except ValidationError as exc:
            raise ConfigError(str(exc)) from None
        _uint(self.genesis_time_ms, "genesis_time_ms")
        if not self.validators:
            raise ConfigError("genesis needs at least one validator")
        keys = [v.public_key for v in self.validators]
        if len(set(keys)) != len(keys) or any(not isinstance(k, bytes) or len(k) != PUBKEY_SIZE for k in keys):
            raise ConfigError("validator public keys must be 32 bytes and unique")
        for v in self.validators:
            if not (isinstance(v.name, str) and v.name and isinstance(v.p2p_address, str) and v.p2p_address):
                raise ConfigError(f"validator {v.public_key.hex()[:16]}: name and p2p_address must be non-empty strings")
        if not isinstance(self.params, Params):
            raise ConfigError("genesis params must be a Params")
        ids = [a.asset for a in self.assets]
        if len(set(ids)) != len(ids):
            raise ConfigError("asset ids must be unique")
        for asset_id in ids:
            if not ASSET_ID_RE.match(asset_id):
                raise ConfigError(f"asset id {asset_id!r} must match {ASSET_ID_RE.pattern}")
        holders = [a.address for a in self.accounts]
        if len(set(holders)) != len(holders) or any(len(h) != PUBKEY_SIZE for h in holders):
            raise ConfigError("genesis accounts must be 32-byte keys, each listed once")
        supply = self.supply()
        for a in self.assets:
            if a.max_supply is not None and supply[a.asset] > a.max_supply:
                raise ConfigError(f"asset {a.asset}: genesis balances exceed max_supply")
        for role, members in self.roles.items():
            if role not in ROLES:
                raise ConfigError(f"unknown role {role!r}; roles are {list(ROLES)}")
            if any(not isinstance(m, bytes) or len(m) != PUBKEY_SIZE for m in members):
                raise ConfigError(f"role {role}: members must be 32-byte account keys")
        for a in self.assets:
            _uint(a.decimals, f"asset {a.asset} decimals")
            if a.issuer is not None and len(a.issuer) != PUBKEY_SIZE:
                raise ConfigError(f"asset {a.asset}: issuer must be a 32-byte account key")

    def supply(self) -> dict[str, int]:
        """Each asset's total genesis supply (balances plus reward pool)."""
        totals = dict.fromkeys([self.params.native_asset, *(a.asset for a in self.assets)], 0)
        for holder in self.accounts:
            _add_balances(totals, holder.balances, "accounts")
        _add_balances(totals, self.reward_pool, "reward_pool")
        return totals

    def to_obj(self) -> dict[str, Any]:
        """The canonical map (raw bytes) that ``hash`` covers."""
        return {
            "accounts": [{"address": a.address, "balances": dict(a.balances)} for a in self.accounts],
            "assets": [
                {"asset": a.asset, "decimals": a.decimals, "issuer": a.issuer, "max_supply": a.max_supply, "name": a.name}
                for a in self.assets
            ],
            "chain_id": self.chain_id,
            "genesis_time_ms": self.genesis_time_ms,
            "params": self.params.to_obj(),
            "reward_pool": dict(self.reward_pool),
            "roles": {role: list(members) for role, members in sorted(self.roles.items())},
            "validators": [
                {"name": v.name, "p2p_address": v.p2p_address, "public_key": v.public_key} for v in self.validators
            ],
        }

    @property
    def hash(self) -> bytes:
        return digest("genesis", encode(self.to_obj()))

    def to_json(self) -> str:
        obj = self.to_obj()
        for a in obj["accounts"]:
            a["address"] = address_from_pubkey(a["address"])
        for a in obj["assets"]:
            a["issuer"] = None if a["issuer"] is None else address_from_pubkey(a["issuer"])
        obj["roles"] = {r: [address_from_pubkey(m) for m in ms] for r, ms in obj["roles"].items()}
        for v in obj["validators"]:
            v["public_key"] = v["public_key"].hex()
        return json.dumps(obj, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Genesis:
        """Parse and validate; any problem is a ConfigError naming the field."""
        try:
            obj = json.loads(text)
            return cls(
                chain_id=obj["chain_id"],
                genesis_time_ms=obj["genesis_time_ms"],
                validators=tuple(
                    GenesisValidator(v["name"], bytes.fromhex(v["public_key"]), v["p2p_address"])
                    for v in obj["validators"]
                ),
                accounts=tuple(
                    GenesisAccount(pubkey_from_address(a["address"]), dict(a.get("balances", {})))
                    for a in obj.get("accounts", [])
                ),
                assets=tuple(
                    GenesisAsset(
                        a["asset"], a.get("name", a["asset"]), a.get("decimals", 0),
                        None if a.get("issuer") is None else pubkey_from_address(a["issuer"]), a.get("max_supply"),
                    )
                    for a in obj.get("assets", [])
                ),
                roles={r: tuple(pubkey_from_address(m) for m in ms) for r, ms in obj.get("roles", {}).items()},
                reward_pool=dict(obj.get("reward_pool", {})),
                params=Params.from_obj(obj.get("params", {})),
            )
        except ConfigError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError, DecodeError) as exc:
            raise ConfigError(f"genesis is malformed: {type(exc).__name__}: {exc}") from None


def _uint(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT_MAX:
        raise ConfigError(f"genesis {what} must be an unsigned 64-bit integer, got {value!r}")


def _add_balances(totals: dict[str, int], balances: dict[str, int], what: str) -> None:
    for asset_id, amount in balances.items():
        if asset_id not in totals:
            raise ConfigError(f"genesis {what}: unknown asset {asset_id!r}")
        _uint(amount, f"{what} balance of {asset_id}")
        totals[asset_id] += amount
        if totals[asset_id] > INT_MAX:
            raise ConfigError(f"genesis: total supply of {asset_id} exceeds 2**64-1")
