"""Marketplace commands: kyc, asset, arbiter, shop, listing and review.

Each action builds its body with wallet/ (``wallet.kinds`` / ``wallet.builders``)
and sends it through ``Session.send``; each query calls one RPC method and
prints a table (or JSON with --json). Amounts are typed and shown in units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from marketnode.cli import terms_opts
from marketnode.cli.content_cmds import image_refs, upload_file, upload_text, with_texts
from marketnode.cli.wallet_common import (
    DAY_MS,
    Session,
    fields,
    head_time_ms,
    next_page_hint,
    node_command,
    page_options,
    short,
    stars,
    table,
    when,
)
from marketnode.wallet import builders, kinds
from marketnode.wallet.account import TxResult
from marketnode.wallet.amounts import AssetBook
from marketnode.wallet.content import content_url

LISTING_TYPES = kinds.KINDS["listing_create"].field("type").choices


# --- kyc --------------------------------------------------------------------------------------


@click.group()
def kyc() -> None:
    """KYC attestations (sent by an account with the kyc_attester role).

    \b
    marketnode kyc attest mn1... --level 2 --days 365 --key-file testnet/accounts/erin.key
    marketnode kyc revoke mn1... --key-file testnet/accounts/erin.key
    """


@node_command(kyc, "attest", signs=True)
@click.argument("account", metavar="ADDRESS")
@click.option("--level", type=click.IntRange(1, 3), required=True, help="1 basic, 2 verified identity, 3 enhanced.")
@click.option("--days", type=click.IntRange(1, 36500), default=365, show_default=True,
              help="Valid for this many days of chain time.")
def kyc_attest(session: Session, account: str, level: int, days: int) -> None:
    """Attest ADDRESS's KYC LEVEL until DAYS from the chain's current time."""
    expires = head_time_ms(session) + days * DAY_MS
    session.send("kyc_attest", kinds.kyc_attest(account=account, level=level, expires_ms=expires),
                 lambda r: f"{account} has KYC level {level} until {when(expires)}")


@node_command(kyc, "revoke", signs=True)
@click.argument("account", metavar="ADDRESS")
def kyc_revoke(session: Session, account: str) -> None:
    """Remove ADDRESS's KYC attestation."""
    session.send("kyc_revoke", kinds.kyc_revoke(account=account), lambda r: f"{account}: attestation removed")


# --- assets -----------------------------------------------------------------------------------


@click.group()
def asset() -> None:
    """Assets: list them; issue and mint (asset_issuer role).

    \b
    marketnode asset list
    marketnode asset issue GOLD --name "Gold gram" --decimals 3 --key-file testnet/accounts/heidi.key
    marketnode asset mint GOLD mn1... 10.5 --key-file testnet/accounts/heidi.key
    """


@node_command(asset, "list")
@page_options(50)
def asset_list(session: Session, limit: int, cursor: str | None) -> None:
    """Every asset with its decimals, supply and issuer."""
    page = session.call("asset_list", limit=limit, cursor=cursor)

    def human() -> None:
        table(page["items"], [
            ("asset", lambda a: a["asset"]), ("name", lambda a: a["name"]), ("decimals", lambda a: a["decimals"]),
            ("supply", lambda a: session.amount(a["supply"], a["asset"])), ("issuer", lambda a: short(a["issuer"])),
        ])
        next_page_hint(page)

    session.show(page, human)


@node_command(asset, "issue", signs=True)
@click.argument("asset_id", metavar="ASSET")
@click.option("--name", required=True)
@click.option("--decimals", type=click.IntRange(0, 18), default=2, show_default=True)
@click.option("--max-supply", default=None, help="Cap, in units of the new asset (e.g. 1000000.000 with --decimals 3).")
def asset_issue(session: Session, asset_id: str, name: str, decimals: int, max_supply: str | None) -> None:
    """Create ASSET (you become its issuer)."""
    cap = AssetBook({asset_id: decimals}).parse(max_supply, asset_id, "max-supply", low=1) if max_supply else None
    session.send("asset_issue", kinds.asset_issue(asset=asset_id, name=name, decimals=decimals,
                                                  max_supply=cap), lambda r: f"asset {asset_id} created")


@node_command(asset, "mint", signs=True)
@click.argument("asset_id", metavar="ASSET")
@click.argument("to", metavar="TO_ADDRESS")
@click.argument("amount")
def asset_mint(session: Session, asset_id: str, to: str, amount: str) -> None:
    """Create AMOUNT (in units) of ASSET for TO_ADDRESS."""
    asset_id = session.assets.resolve(asset_id)
    units = session.assets.parse(amount, asset_id, low=1)
    session.send("asset_mint", kinds.asset_mint(asset=asset_id, to=to, amount=units),
                 lambda r: f"minted {session.amount(units, asset_id)} to {to}")


# --- arbiters -----------------------------------------------------------------------------------


@click.group()
def arbiter() -> None:
    """Arbiters settle disputed orders for a published fee.

    \b
    marketnode arbiter list
    marketnode arbiter register --fee-bps 200 --fee-fixed 0.50 --fee-asset USDX \\
        --description "EN/DE, art and crafts" --key-file testnet/accounts/grace.key
    marketnode arbiter update --inactive --key-file testnet/accounts/grace.key
    """


@node_command(arbiter, "list")
@click.option("--all", "include_inactive", is_flag=True, help="Also arbiters that take no new orders.")
@page_options(50)
def arbiter_list(session: Session, include_inactive: bool, limit: int, cursor: str | None) -> None:
    """Arbiters with their fees: a fixed part plus a share of the escrow.

    The chain keeps the fixed part as a count of the order's asset's smallest unit, so it is worth a
    different amount in each asset: the table shows it in each."""
    page = session.call("arbiter_list", include_inactive=include_inactive, limit=limit, cursor=cursor)

    def human() -> None:
        table(page["items"], [
            ("address", lambda a: a["address"]), ("active", lambda a: a["active"]),
            ("fee", lambda a: arbiter_fee_text(session, a["fee_fixed"], a["fee_bps"])),
            ("terms", lambda a: a["description"]),
        ])
        next_page_hint(page)

    session.show(page, human)


def arbiter_fee_text(session: Session, fee_fixed: int, fee_bps: int) -> str:
    """``0.50 USDX / 50 MKT + 2%``: the fixed part as it is worth in each asset, then the share."""
    fixed = " / ".join(session.amount(fee_fixed, asset) for asset in session.assets.assets()) or str(fee_fixed)
    return f"{fixed} + {fee_bps / 100:g}%"


FEE_FIXED_OPTIONS = (
    click.option("--fee-fixed", default=None, help="Fixed fee per dispute, in units of --fee-asset, e.g. 0.50."),
    click.option("--fee-asset", default=None, help="The asset --fee-fixed is written in (default: the native "
                 "MKT). The chain keeps the count of its smallest unit and charges that count in the order's asset."),
)


def _fee_fixed(session: Session, fee_fixed: str | None, fee_asset: str | None) -> int | None:
    if fee_fixed is None:
        return None
    return session.assets.parse(fee_fixed, session.assets.resolve(fee_asset or "MKT"), "fee-fixed")


@node_command(arbiter, "register", signs=True)
@FEE_FIXED_OPTIONS[0]
@FEE_FIXED_OPTIONS[1]
@click.option("--fee-bps", type=click.IntRange(0, 10_000), required=True, help="Share of the escrow, basis points.")
@click.option("--description", default="", help="Languages, expertise, terms.")
def arbiter_register(session: Session, fee_fixed: str | None, fee_asset: str | None, fee_bps: int,
                     description: str) -> None:
    """Offer arbitration (your account must be registered)."""
    units = _fee_fixed(session, fee_fixed, fee_asset) or 0
    session.send("arbiter_register", kinds.arbiter_register(fee_fixed=units, fee_bps=fee_bps,
                                                            description=description),
                 lambda r: f"{session.wallet.address} is an arbiter: {arbiter_fee_text(session, units, fee_bps)}")


@node_command(arbiter, "update", signs=True)
@FEE_FIXED_OPTIONS[0]
@FEE_FIXED_OPTIONS[1]
@click.option("--fee-bps", type=click.IntRange(0, 10_000), default=None)
@click.option("--description", default=None)
@click.option("--active/--inactive", default=None, help="Inactive: no new orders may name you.")
def arbiter_update(session: Session, fee_fixed: str | None, fee_asset: str | None, fee_bps: int | None,
                   description: str | None, active: bool | None) -> None:
    """Change your terms; options left out stay as they are."""
    session.send("arbiter_update", kinds.arbiter_update(fee_fixed=_fee_fixed(session, fee_fixed, fee_asset),
                                                        fee_bps=fee_bps, description=description, active=active))


# --- shops ---------------------------------------------------------------------------------------


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


# --- listings ---------------------------------------------------------------------------------------


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
    asset_id = body.get("asset")
    if asset_id is None and any(n in body for n in ("price", "variants", "shipping")):
        asset_id = session.call("listing_get", listing=body["listing"])["asset"]
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


# --- reviews ----------------------------------------------------------------------------------------


@click.group()
def review() -> None:
    """Reviews: the buyer of a completed order rates it once (and may earn the review reward).

    \b
    marketnode review write 7 --rating 5 --text "Fresh and fast" --key-file testnet/accounts/bob.key
    marketnode review write 7 --overall 4 --quality 5 --accuracy 4 --delivery 3 --service 5
    marketnode review reply 7 --text "Thank you!" --key-file testnet/accounts/alice.key
    marketnode review list --listing 1
    """


@node_command(review, "write", signs=True)
@click.argument("order", type=int)
@click.option("--rating", type=click.IntRange(1, 5), default=None, help="One score, 1..5, for every aspect.")
@click.option("--overall", type=click.IntRange(1, 5), default=None)
@click.option("--quality", type=click.IntRange(1, 5), default=None)
@click.option("--accuracy", type=click.IntRange(1, 5), default=None)
@click.option("--delivery", type=click.IntRange(1, 5), default=None)
@click.option("--service", type=click.IntRange(1, 5), default=None)
@click.option("--text", default="", help="The review text (UTF-8, ≤ 16 KiB): stored by the nodes, its hash on chain.")
@click.option("--photo", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A photo of what you received (JPEG, PNG, WebP ≤ 2 MiB).")
def review_write(session: Session, order: int, rating: int | None, text: str, photo: Path | None,
                 **aspects: int | None) -> None:
    """Rate ORDER (completed, yours); use --rating for all aspects or set each one."""
    scores = {name: aspects[name] or rating for name in builders.RATINGS}
    missing = [name for name, score in scores.items() if score is None]
    if missing:
        raise click.UsageError(f"give --rating N, or every one of --{' --'.join(missing)}")
    if text:
        upload_text(session, text)
    photo_hash = upload_file(session, photo, "image") if photo is not None else None
    session.send("review", builders.review(order, scores, text, photo_hash), lambda r: _reward_line(session, r))


def _reward_line(session: Session, result: TxResult) -> str:
    try:
        reward = result.event("reward")
    except KeyError:
        return "reviewed"
    paid = f"reviewed; reward {session.amount(reward['amount'], reward['asset'])} paid"
    withheld = reward.get("withheld")  # why not (in full): docs/MARKET.md, "Reviews and rewards"
    return f"{paid} ({withheld})" if withheld else paid


@node_command(review, "reply", signs=True)
@click.argument("order", type=int)
@click.option("--text", required=True, help="The reply (UTF-8): stored by the nodes, its hash on chain.")
def review_reply(session: Session, order: int, text: str) -> None:
    """Reply once, as the seller, to the review of ORDER."""
    upload_text(session, text)
    session.send("review_reply", kinds.review_reply(order=order, text_hash=builders.text_hash(text)))


@node_command(review, "list")
@click.option("--listing", type=int, default=None)
@click.option("--seller", default=None, metavar="ADDRESS")
@page_options()
def review_list(session: Session, listing: int | None, seller: str | None, limit: int, cursor: str | None) -> None:
    """Reviews of one listing or one seller, newest first."""
    if (listing is None) == (seller is None):
        raise click.UsageError("give exactly one of --listing, --seller")
    page = session.call("review_list", listing=listing, seller=seller, limit=limit, cursor=cursor)
    page = {**page, "items": [with_texts(session, r, ("text_hash", "reply_hash")) for r in page["items"]]}

    def human() -> None:
        table(page["items"], [
            ("order", lambda r: r["order"]), ("listing", lambda r: r["listing"]),
            ("overall", lambda r: r["ratings"]["overall"]), ("reviewer", lambda r: short(r["reviewer"])),
            ("when", lambda r: when(r["time_ms"])), ("replied", lambda r: r["reply_hash"] is not None),
            ("photo", lambda r: (r.get("photo") or "")[:16] or None),
        ], empty="no reviews")
        for r in page["items"]:
            click.echo(f"\norder {r['order']}: {r['text_text'] or '(no text)'}")
            if r.get("reply_text"):
                click.echo(f"  seller replied: {r['reply_text']}")
        next_page_hint(page)

    session.show(page, human)


COMMANDS = (kyc, asset, arbiter, shop, listing, review)
