"""Amounts as people write them ("12.50 USDX") and as the chain keeps them (1250).

The chain stores integers in an asset's smallest unit; an asset's ``decimals``
says where the point goes. Conversion is exact string arithmetic, never float.
"""

from __future__ import annotations

import re
from typing import Any

from marketnode.core.errors import RpcError, ValidationError
from marketnode.core.units import format_units

U64_MAX = 2**64 - 1  # every amount on chain is a u64 in the smallest unit
_AMOUNT_RE = re.compile(r"\A(\d+)(?:\.(\d*))?\Z")


def format_amount(amount: int, decimals: int, asset: str | None = None) -> str:
    """``format_amount(1250, 2, "USDX") == "12.50 USDX"``."""
    return format_units(amount, decimals, asset)


def parse_amount(text: str, decimals: int, what: str = "amount") -> int:
    """``parse_amount("12.5", 2) == 1250``; refuses more digits after the point than the asset has."""
    cleaned = str(text).strip().replace(",", "").replace("_", "")
    match = _AMOUNT_RE.match(cleaned)
    if not match:
        raise ValidationError(f"{what}: {text!r} is not an amount like 12 or 12.50")
    whole, frac = match.group(1), match.group(2) or ""
    if len(frac) > decimals:
        raise ValidationError(f"{what}: {text!r} has more than {decimals} decimals")
    scale: int = 10**decimals
    return int(whole) * scale + (int(frac.ljust(decimals, "0")) if decimals else 0)


class AssetBook:
    """Each asset's decimals, read once from the node (``asset_list``, else the genesis)."""

    def __init__(self, decimals: dict[str, int] | None = None) -> None:
        self._decimals = decimals

    @classmethod
    def from_node(cls, client: Any) -> AssetBook:
        return cls(_fetch_decimals(client))

    def decimals(self, asset: str) -> int:
        if self._decimals is None:
            return 0
        return self._decimals.get(asset, 0)

    def resolve(self, asset: str) -> str:
        """The chain's spelling of an asset a person typed in any case (``usdx`` -> ``USDX``)."""
        for name in self._decimals or {}:
            if name.lower() == asset.strip().lower():
                return name
        return asset.strip()

    def known(self, asset: str) -> bool:
        return self._decimals is None or asset in self._decimals

    def format(self, amount: int, asset: str) -> str:
        return format_amount(amount, self.decimals(asset), asset)

    def parse(self, text: str, asset: str, what: str = "amount", low: int = 0) -> int:
        """``text`` in units of ``asset`` as the integer the chain keeps; refused (in units) below ``low``
        smallest units or above what a u64 holds."""
        if not self.known(asset):
            raise ValidationError(f"{what}: the chain has no asset {asset!r} (assets: {', '.join(self.assets())})")
        units = parse_amount(text, self.decimals(asset), f"{what} in {asset}")
        if units < low:
            raise ValidationError(f"{what}: {text} {asset} is too little: at least {self.format(low, asset)}")
        if units > U64_MAX:
            raise ValidationError(f"{what}: {text} {asset} is too much: at most {self.format(U64_MAX, asset)}")
        return units

    def assets(self) -> list[str]:
        return sorted(self._decimals or {})


def _fetch_decimals(client: Any) -> dict[str, int]:
    """asset_list pages when the node has it; the genesis assets (native: 0 decimals) otherwise."""
    try:
        out: dict[str, int] = {}
        cursor = None
        while True:
            page = client.call("asset_list", limit=100, cursor=cursor)
            for item in page["items"]:
                out[item["asset"]] = int(item.get("decimals", 0))
            cursor = page.get("next_cursor")
            if not cursor:
                return out
    except RpcError as exc:
        if exc.code != -32601:  # method not found: an older node
            raise
    genesis = client.call("chain_getGenesis")["genesis"]
    out = {genesis.get("params", {}).get("native_asset", "MKT"): 0}
    out.update({a["asset"]: int(a["decimals"]) for a in genesis.get("assets", [])})
    return out
