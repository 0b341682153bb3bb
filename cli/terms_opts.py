"""The listing terms as CLI options: ``--option``, ``--variant`` and ``--shipping`` strings to body values.

Prices are typed in units of the listing's asset (like ``--price``); the
chain's rules check the terms against each other, this only reads them.

\b
--option "size=S,M,L"                       an option and its values (repeat, ≤ 3)
--variant "TEE-S-RED=S/red:-0.20:5"         sku=choice per option (/):price change:stock (repeat, ≤ 64)
--shipping "DHL standard=DE,AT:7.00:2-4"    service=regions (* anywhere):price:min-max days (repeat, ≤ 16)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from marketnode.wallet.amounts import AssetBook

DAY_MS = 24 * 60 * 60 * 1000

OPTION_HELP = 'An option and its values, e.g. "size=S,M,L" (repeat; replaces all options on update).'
VARIANT_HELP = ('A variant: "SKU=S/red:-0.20:5" = one value per option (/), price change in units (+/-), stock '
                "(repeat; replaces all variants on update; --stock must be their sum, or leave it out).")
SHIPPING_HELP = ('A shipping option: "DHL standard=DE,AT:7.00:2-4" = service, regions (* for anywhere the '
                 "listing ships), price per order in units, delivery days (repeat; replaces all on update).")


def _split(text: str, what: str) -> tuple[str, str]:
    name, sep, rest = text.partition("=")
    if not sep or not name.strip():
        raise click.BadParameter(f"{what} {text!r}: expected NAME=...")
    return name.strip(), rest


def _parts(text: str, what: str, shape: str) -> tuple[str, list[str]]:
    """``NAME=A:B:C`` as the name and its three parts, or a usage error naming the expected ``shape``."""
    name, sep, rest = text.partition("=")
    parts = rest.split(":")
    if not sep or not name.strip() or len(parts) != 3:
        raise click.BadParameter(f"{what} {text!r}: expected {shape}")
    return name.strip(), parts


def parse_options(values: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for text in values:
        name, rest = _split(text, "--option")
        out.append({"name": name, "values": [v.strip() for v in rest.split(",") if v.strip()]})
    return out


def parse_variants(values: Sequence[str], assets: AssetBook, asset: str) -> list[dict[str, Any]]:
    out = []
    for text in values:
        sku, (choice, delta, stock) = _parts(text, "--variant", "SKU=CHOICE/CHOICE:PRICE_CHANGE:STOCK")
        sign = -1 if delta.strip().startswith("-") else 1
        units = assets.parse(delta.strip().lstrip("+-") or "0", asset, f"--variant {sku} price change")
        if not stock.strip().isdigit():
            raise click.BadParameter(f"--variant {text!r}: stock {stock!r} is not a whole number")
        out.append({"sku": sku, "choice": [c.strip() for c in choice.split("/")], "price_delta": sign * units,
                    "stock": int(stock)})
    return out


def parse_shipping(values: Sequence[str], assets: AssetBook, asset: str) -> list[dict[str, Any]]:
    out = []
    for text in values:
        service, (regions, price, days) = _parts(text, "--shipping", "SERVICE=REGIONS:PRICE:MIN-MAX")
        low, _, high = days.partition("-")
        if not (low.strip().isdigit() and high.strip().isdigit()):
            raise click.BadParameter(f"--shipping {text!r}: days {days!r} must be like 2-4")
        out.append({"service": service,
                    "regions": [] if regions.strip() == "*" else [r.strip() for r in regions.split(",") if r.strip()],
                    "price": assets.parse(price, asset, f"--shipping {service} price"),
                    "min_days": int(low), "max_days": int(high)})
    return out


def describe_variant(variant: dict[str, Any], amount: Any, asset: str, price: int) -> str:
    """One line for ``listing show``: sku, choice, unit price, stock."""
    return (f"{variant['sku']}: {' / '.join(variant['choice'])} at {amount(price + variant['price_delta'], asset)}, "
            f"{variant['stock']} in stock")


def describe_shipping(option: dict[str, Any], amount: Any, asset: str) -> str:
    regions = ", ".join(option["regions"]) or "anywhere"
    return (f"{option['service']}: {amount(option['price'], asset)} to {regions}, "
            f"{option['min_days']}-{option['max_days']} days")
