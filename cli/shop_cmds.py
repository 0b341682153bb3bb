"""`marketnode shop ...`: a seller's storefront, the assets it accepts and the arbiters it trusts.

A group of its own because commerce_cmds.py attaches more commands to it
(terms, opening hours); the actions build their bodies with wallet/ and send
them through ``Session.send``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from marketnode.cli.wallet_common import (
    Session,
    fields,
    next_page_hint,
    node_command,
    page_options,
    short,
    table,
)
from marketnode.wallet import kinds


@click.group()
def shop() -> None:
    """Shops: a seller's storefront, the assets it accepts and the arbiters it trusts.

    \b
    marketnode shop create --name "Alice's Roastery" --region DE --asset USDX --arbiter mn1... \\
        --key-file testnet/accounts/alice.key
    marketnode shop update 1 --description "Single-origin coffee" --key-file testnet/accounts/alice.key
    marketnode shop show 1
    marketnode shop list --owner mn1...
    marketnode shop close 1 --key-file testnet/accounts/alice.key
    """


def _shop_options(create: bool) -> Any:
    def decorate(fn: Any) -> Any:
        for option in reversed((
            click.option("--name", required=create, default=None),
            click.option("--description", default="" if create else None),
            click.option("--region", required=create, default=None, help="ISO 3166, e.g. DE or US-CA."),
            click.option("--asset", "assets", multiple=True, required=create,
                         help="An accepted asset (repeat for more)."),
            click.option("--arbiter", "arbiters", multiple=True, metavar="ADDRESS",
                         help="An arbiter buyers may choose (repeat for more)."),
        )):
            fn = option(fn)
        return fn

    return decorate


@node_command(shop, "create", signs=True)
@_shop_options(create=True)
def shop_create(session: Session, name: str, description: str, region: str, assets: Sequence[str],
                arbiters: Sequence[str]) -> None:
    """Open a shop (your account must be registered)."""
    body = kinds.shop_create(name=name, description=description, region=region,
                             accepted_assets=[session.assets.resolve(a) for a in assets], arbiters=list(arbiters))
    session.send("shop_create", body, lambda r: f"shop {r.event('shop_created')['shop']} is open")


@node_command(shop, "update", signs=True)
@click.argument("shop_id", metavar="SHOP", type=int)
@_shop_options(create=False)
def shop_update(session: Session, shop_id: int, name: str | None, description: str | None, region: str | None,
                assets: Sequence[str], arbiters: Sequence[str]) -> None:
    """Change SHOP; options left out stay as they are (--asset/--arbiter replace the whole list)."""
    body = kinds.shop_update(shop=shop_id, name=name, description=description, region=region,
                             accepted_assets=[session.assets.resolve(a) for a in assets] or None,
                             arbiters=list(arbiters) or None)
    session.send("shop_update", body, lambda r: f"shop {shop_id} updated")


@node_command(shop, "close", signs=True)
@click.argument("shop_id", metavar="SHOP", type=int)
def shop_close(session: Session, shop_id: int) -> None:
    """Close SHOP: no new listings or orders; open orders continue."""
    session.send("shop_close", kinds.shop_close(shop=shop_id), lambda r: f"shop {shop_id} is closed")


@node_command(shop, "show")
@click.argument("shop_id", metavar="SHOP", type=int)
def shop_show(session: Session, shop_id: int) -> None:
    """One shop and its terms."""
    found = session.call("shop_get", shop=shop_id)
    session.show(found, lambda: fields([
        ("shop", found["id"]), ("name", found["name"]), ("owner", found["owner"]), ("region", found["region"]),
        ("open", found["open"]), ("accepts", found["accepted_assets"]), ("arbiters", found["arbiters"]),
        ("listings", found.get("listing_count")), ("description", found["description"]),
    ]))


@node_command(shop, "list")
@click.option("--owner", default=None, metavar="ADDRESS")
@click.option("--region", default=None)
@click.option("--closed", "include_closed", is_flag=True, help="Include closed shops.")
@page_options()
def shop_list(session: Session, owner: str | None, region: str | None, include_closed: bool, limit: int,
              cursor: str | None) -> None:
    """Shops, newest first."""
    page = session.call("shop_list", owner=owner, region=region, include_closed=include_closed, limit=limit,
                        cursor=cursor)

    def human() -> None:
        table(page["items"], [("shop", lambda s: s["id"]), ("name", lambda s: s["name"]),
                              ("region", lambda s: s["region"]), ("open", lambda s: s["open"]),
                              ("owner", lambda s: short(s["owner"]))])
        next_page_hint(page)

    session.show(page, human)


COMMANDS = (shop,)
