"""`marketnode listing ...`: create, update, delist, search, recommend and show listings.

Prices are typed and shown in units of the listing's asset; ``--text`` and
images are uploaded to the node's content store first and referenced by hash.
Each query calls one RPC method and prints a table (or JSON with --json).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from marketnode.cli import terms_opts
from marketnode.cli.content_cmds import image_refs
from marketnode.cli.wallet_common import (
    Session,
    fields,
    next_page_hint,
    node_command,
    page_options,
    stars,
    table,
)
from marketnode.wallet import builders, kinds
from marketnode.wallet.content import content_url

LISTING_TYPES = kinds.KINDS["listing_create"].field("type").choices


@click.group()
def listing() -> None:
    """Listings: goods and services a shop offers. Prices are typed in units (12.50 USDX).

    \b
    marketnode listing create --shop 1 --title "Huila coffee, 250 g" --price 12.50 --asset USDX --stock 40 \\
        --category coffee --tag huila --tag single-origin --key-file testnet/accounts/alice.key
    marketnode listing search coffee --max-price 20 --asset USDX --sort price_asc
    marketnode listing show 1
    marketnode listing update 1 --price 11.90 --key-file testnet/accounts/alice.key
    marketnode listing delist 1 --key-file testnet/accounts/alice.key
    """


def _listing_body(session: Session, create: bool, values: Mapping[str, Any]) -> dict[str, Any]:
    """The listing fields from options: prices parsed in the listing's asset, empty lists left out on update."""
    body = {name: value for name, value in values.items() if value not in (None, ())}
    if "images" in body:  # files are uploaded to the node's content store first; hashes are used as given
        body["images"] = [h.hex() for h in image_refs(session, body["images"])]
    for name in ("tags", "regions", "images"):
        if name in body:
            body[name] = list(body[name])
        elif create:
            body[name] = []
    if "asset" in body:
        body["asset"] = session.assets.resolve(body["asset"])
    asset_id = ""  # only read below when a price, variants or shipping are given
    if any(n in body for n in ("price", "variants", "shipping")):
        asset_id = body["asset"] if "asset" in body else session.call("listing_get", listing=body["listing"])["asset"]
    if "price" in body:
        body["price"] = session.assets.parse(body["price"], asset_id, "price")
    if "return_days" in body:
        body["return_window_ms"] = body.pop("return_days") * terms_opts.DAY_MS
    if "options" in body:
        body["options"] = terms_opts.parse_options(body["options"])
    if "variants" in body:
        body["variants"] = terms_opts.parse_variants(body["variants"], session.assets, asset_id)
        if create and "stock" not in body:
            body["stock"] = sum(v["stock"] for v in body["variants"])
    if "shipping" in body:
        body["shipping"] = terms_opts.parse_shipping(body["shipping"], session.assets, asset_id)
    return builders.tx_body("listing_create" if create else "listing_update", **body)


def _listing_options(create: bool) -> Any:
    def decorate(fn: Any) -> Any:
        options = [
            click.option("--title", required=create, default=None),
            click.option("--description", default="" if create else None),
            click.option("--category", required=create, default=None, help="Label, e.g. coffee, art."),
            click.option("--tag", "tags", multiple=True, help="Search tag (repeat for more)."),
            click.option("--price", required=create, default=None, help="Unit price in units of --asset, e.g. 12.50."),
            click.option("--asset", required=create, default=None, help="Asset of the price; the shop must accept it."),
            click.option("--stock", type=click.IntRange(0), default=None,
                         help="Units available (with --variant: their sum, which is the default)."),
            click.option("--region", "regions", multiple=True, help="Region shipped to (repeat; none: anywhere)."),
            click.option("--image", "images", multiple=True, metavar="FILE|SHA256",
                         help="Image file to upload (JPEG, PNG, WebP ≤ 2 MiB), or the hash of one already "
                              "uploaded (repeat, up to 10; the first is the cover)."),
            click.option("--option", "options", multiple=True, help=terms_opts.OPTION_HELP),
            click.option("--variant", "variants", multiple=True, help=terms_opts.VARIANT_HELP),
            click.option("--shipping", "shipping", multiple=True, help=terms_opts.SHIPPING_HELP),
            click.option("--return-days", type=click.IntRange(0, 36_500), default=None,
                         help="Days after completion the buyer may ask to return it (0: no returns)."),
            click.option("--record", default=None, help="Provenance record of the item."),
            click.option("--certificate", type=int, default=None, help="Certificate id of the item."),
        ]
        if create:
            options[:0] = [click.option("--shop", type=int, required=True, help="Your shop's id."),
                           click.option("--type", "type_", type=click.Choice(LISTING_TYPES), default="physical",
                                        show_default=True)]
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


@node_command(listing, "create", signs=True)
@_listing_options(create=True)
def listing_create(session: Session, shop: int, type_: str, **values: Any) -> None:
    """List goods in your shop."""
    body = _listing_body(session, True, {"shop": shop, "type": type_, **values})
    session.send("listing_create", body, lambda r: f"listing {r.event('listing_created')['listing']} is live")


@node_command(listing, "update", signs=True)
@click.argument("listing_id", metavar="LISTING", type=int)
@_listing_options(create=False)
def listing_update(session: Session, listing_id: int, **values: Any) -> None:
    """Change LISTING; options left out stay as they are (--tag/--region/--image replace the whole list)."""
    body = _listing_body(session, False, {"listing": listing_id, **values})
    session.send("listing_update", body, lambda r: f"listing {listing_id} updated")


@node_command(listing, "delist", signs=True)
@click.argument("listing_id", metavar="LISTING", type=int)
def listing_delist(session: Session, listing_id: int) -> None:
    """Withdraw LISTING; open orders continue."""
    session.send("listing_delist", kinds.listing_delist(listing=listing_id),
                 lambda r: f"listing {listing_id} withdrawn")


def listing_rows(session: Session, items: Sequence[Mapping[str, Any]]) -> None:
    table(items, [
        ("listing", lambda x: x["id"]), ("title", lambda x: x["title"][:40]),
        ("price", lambda x: session.amount(x["price"], x["asset"])), ("stock", lambda x: x["stock"]),
        ("category", lambda x: x["category"]), ("shop", lambda x: x["shop"]),
        ("rating", lambda x: stars(x["rating"]["overall_avg_x100"], x["rating"]["count"])),
    ], empty="no listings match")


@node_command(listing, "search")
@click.argument("words", nargs=-1)
@click.option("--category", default=None)
@click.option("--shop", type=int, default=None)
@click.option("--seller", default=None, metavar="ADDRESS")
@click.option("--type", "type_", type=click.Choice(LISTING_TYPES), default=None)
@click.option("--asset", default=None, help="Only prices in this asset (needed for --min/--max-price).")
@click.option("--min-price", default=None, help="In units of --asset.")
@click.option("--max-price", default=None, help="In units of --asset.")
@click.option("--in-stock", is_flag=True)
@click.option("--sort", type=click.Choice(("newest", "price_asc", "price_desc", "rating", "relevance")), default=None)
@page_options()
def listing_search(session: Session, words: Sequence[str], category: str | None, shop: int | None,
                   seller: str | None, type_: str | None, asset: str | None, min_price: str | None,
                   max_price: str | None, in_stock: bool, sort: str | None, limit: int, cursor: str | None) -> None:
    """Find listings by WORDS (prefixes of words in title, description and tags) and filters."""
    asset = session.assets.resolve(asset) if asset else None
    if (min_price or max_price) and not asset:
        raise click.UsageError("--min-price/--max-price are in units of an asset: add --asset")
    low = session.assets.parse(min_price, asset, "min-price") if min_price and asset else None
    high = session.assets.parse(max_price, asset, "max-price") if max_price and asset else None
    page = session.call("listing_search", q=" ".join(words) or None, category=category, shop=shop, seller=seller,
                        type=type_, asset=asset, min_price=low, max_price=high, in_stock=in_stock or None,
                        sort=sort, limit=limit, cursor=cursor)

    def human() -> None:
        listing_rows(session, page["items"])
        next_page_hint(page)

    session.show(page, human)


@node_command(listing, "recommend")
@click.argument("address", metavar="ADDRESS")
@click.option("--limit", type=click.IntRange(1, 50), default=10, show_default=True)
def listing_recommend(session: Session, address: str, limit: int) -> None:
    """Listings for ADDRESS: what buyers of its items also bought, then what sells in its categories."""
    page = session.call("listing_recommend", address=address, limit=limit)
    session.show(page, lambda: listing_rows(session, page["items"]))


@node_command(listing, "show")
@click.argument("listing_id", metavar="LISTING", type=int)
def listing_show(session: Session, listing_id: int) -> None:
    """One listing: price, stock, seller and rating, shop, provenance and certificate."""
    found = session.call("listing_get", listing=listing_id)

    def human() -> None:
        seller = found.get("seller_profile") or {}
        rating = found.get("rating") or {}
        prov = found.get("provenance") or {}
        cert = prov.get("certificate")
        fields([
            ("listing", found["id"]), ("title", found["title"]), ("type", found["type"]),
            ("price", session.amount(found["price"], found["asset"])), ("stock", found["stock"]),
            ("available", found.get("available")), ("category", found["category"]), ("tags", found["tags"]),
            ("ships to", ", ".join(found.get("regions") or []) or "anywhere"),
            ("returns", f"within {found['return_window_ms'] // terms_opts.DAY_MS} days of completion"
             if found.get("return_window_ms") else "none"),
            ("shop", f"{found['shop']} {(found.get('shop_info') or {}).get('name', '')}".strip()),
            ("seller", f"{seller.get('name') or ''} {found['seller']}".strip()),
            ("rating", stars(rating.get("avg_x100", {}).get("overall"), rating.get("count"))),
            ("record", (prov.get("record") or {}).get("id")),
            ("certificate", None if cert is None else f"{cert['id']} ({'valid' if cert['valid'] else 'NOT valid'})"),
            ("description", found["description"]),
            ("images", [content_url(session.rpc, bytes.fromhex(h)) for h in found.get("images") or []] or None),
            ("options", [f"{o['name']}: {', '.join(o['values'])}" for o in found.get("options") or []] or None),
            ("variants", [terms_opts.describe_variant(v, session.amount, found["asset"], found["price"])
                          for v in found.get("variants") or []] or None),
            ("shipping", [terms_opts.describe_shipping(o, session.amount, found["asset"])
                          for o in found.get("shipping") or []] or None),
        ])

    session.show(found, human)


COMMANDS = (listing,)
