"""An integer amount in an asset's smallest unit, written for people: ``format_units(1250, 2, "USDX")``.

Shared by the market's messages and the wallet's output so that both write amounts one way. Exact
integer arithmetic, never float.
"""

from __future__ import annotations


def format_units(amount: int, decimals: int, asset: str | None = None) -> str:
    """``format_units(1250, 2, "USDX") == "12.50 USDX"``; ``format_units(2000, 0) == "2,000"``."""
    whole, frac = divmod(int(amount), 10**decimals) if decimals else (int(amount), 0)
    text = f"{whole:,}" + (f".{frac:0{decimals}d}" if decimals else "")
    return f"{text} {asset}" if asset else text
