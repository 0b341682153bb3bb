"""After-sales from the CLI: mutual refunds, returns, and the shop's after-sales deposit.

\b
marketnode order refund-offer 7 --amount 4.00          either side offers an amount back
marketnode order refund-accept 7 --amount 4.00         the other side accepts it: escrow splits
marketnode shop deposit 1 --asset USDX --amount 50     the seller funds refunds of returns
marketnode order return 7 --reason "too small"         the buyer asks, within the return window
marketnode order return-answer 7 --accept              the seller (or --refuse: the arbiter rules)
marketnode order return-ship 7 --tracking DHL-9        the buyer ships it back
marketnode order return-receive 7                      the seller has it: the refund is paid
marketnode shop coupon-issue 1 SPRING-10 --percent 10 --uses 100 --days 30
marketnode order place 3 --coupon SPRING-10 ...        applied to the goods, not the shipping
marketnode order cart --item 3:2:TEE-M --item 5 --shipping DHL --address "..., DE"   one shop, one escrow

Kept apart from order_cmds.py and shop_cmds.py; the commands join their
``order`` and ``shop`` groups.
"""

from __future__ import annotations

import click

from marketnode.cli.content_cmds import upload_text
from marketnode.cli.order_cmds import check_delivery, confirm_no_arbiter, discounted, order, unit_price
from marketnode.cli.shop_cmds import shop
from marketnode.cli.terms_opts import DAY_MS
from marketnode.cli.wallet_common import Session, fields, head_time_ms, node_command, when
from marketnode.wallet import commerce, kinds
from marketnode.wallet.account import TxResult
from marketnode.wallet.amounts import parse_amount


def _units(session: Session, order_id: int, amount: str, what: str) -> tuple[int, str]:
    asset = session.call("order_get", order=order_id)["asset"]
    return session.assets.parse(amount, asset, what), asset


@node_command(order, "refund-offer", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--amount", required=True, help="What goes back to the buyer, in units of the order's asset (0 up "
              "to the total); the seller keeps the rest less the platform fee.")
def refund_offer(session: Session, order_id: int, amount: str) -> None:
    """Offer to settle ORDER (buyer or seller; accepted, shipped or disputed) by returning AMOUNT to the buyer.

    The other side accepts with `order refund-accept ORDER --amount AMOUNT`; a new offer replaces it.
    """
    units, asset = _units(session, order_id, amount, "amount")
    session.send("order_refund_offer", kinds.order_refund_offer(order=order_id, buyer_amount=units),
                 lambda r: f"order {order_id}: offered {session.amount(units, asset)} back to the buyer; the other "
                           f"side accepts with: marketnode order refund-accept {order_id} --amount {amount}")


@node_command(order, "refund-accept", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--amount", required=True, help="The offer's amount, repeated (a changed offer is refused).")
def refund_accept(session: Session, order_id: int, amount: str) -> None:
    """Accept the other side's refund offer on ORDER: the escrow splits and the order is settled."""
    units, asset = _units(session, order_id, amount, "amount")
    session.send("order_refund_accept", kinds.order_refund_accept(order=order_id, buyer_amount=units),
                 lambda r: f"order {order_id}: settled; {session.amount(units, asset)} back to the buyer")


# --- the after-sales deposit ------------------------------------------------------------------------


def _deposit_command(name: str, kind: str, doc: str) -> None:
    @node_command(shop, name, signs=True, help=doc)
    @click.argument("shop_id", metavar="SHOP", type=int)
    @click.option("--asset", required=True, help="An asset the shop accepts.")
    @click.option("--amount", required=True, help="In units of --asset.")
    def command(session: Session, shop_id: int, asset: str, amount: str) -> None:
        asset_id = session.assets.resolve(asset)
        units = session.assets.parse(amount, asset_id, "amount", low=1)
        body = getattr(kinds, kind)(shop=shop_id, asset=asset_id, amount=units)
        session.send(kind, body, lambda r: f"shop {shop_id}: {name} {session.amount(units, asset_id)}")


_deposit_command("deposit", "aftersales_deposit", "Add to SHOP's after-sales deposit (owner): it pays refunds of "
                 "returns; without enough, a refund is owed and the deposit cannot be withdrawn.")
_deposit_command("withdraw", "aftersales_withdraw", "Take free after-sales deposit of SHOP back (owner), unless the "
                 "shop owes buyers refunds.")


# --- returns ------------------------------------------------------------------------------------


@node_command(order, "return", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--reason", required=True, help="Why (UTF-8, ≤ 16 KiB): stored by the nodes, its hash on chain.")
def return_request(session: Session, order_id: int, reason: str) -> None:
    """Ask to return a completed ORDER (buyer), within the listing's return window."""
    upload_text(session, reason)
    session.send("return_request", commerce.return_request(order_id, reason),
                 lambda r: f"order {order_id}: return requested; the seller answers by "
                           f"{when(r.event('return_requested')['deadline_ms'])}")


@node_command(order, "return-answer", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--accept/--refuse", required=True, help="Accept the return, or refuse it (the order's arbiter then "
              "rules; without one it is rejected).")
def return_answer(session: Session, order_id: int, accept: bool) -> None:
    """Answer a requested return of ORDER (seller), before its deadline."""
    session.send("return_answer", kinds.return_answer(order=order_id, accept=accept),
                 lambda r: f"order {order_id}: return {_outcome(r)[0]}")


@node_command(order, "return-resolve", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--accept/--reject", required=True, help="Let the return go ahead, or reject it.")
@click.option("--ruling", default=None, help="Your written ruling (UTF-8): stored by the nodes, its hash on chain.")
def return_resolve(session: Session, order_id: int, accept: bool, ruling: str | None) -> None:
    """Rule on a refused return of ORDER (the order's arbiter)."""
    if ruling:
        upload_text(session, ruling)
    session.send("return_resolve", commerce.return_resolve(order_id, accept, ruling),
                 lambda r: f"order {order_id}: return {'goes ahead' if accept else 'rejected'}")


@node_command(order, "return-ship", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--tracking", required=True, help="Carrier's tracking reference; only its hash goes on chain.")
def return_ship(session: Session, order_id: int, tracking: str) -> None:
    """Ship the goods of an accepted return of ORDER back (buyer), before its deadline."""
    session.send("return_ship", commerce.return_ship(order_id, tracking),
                 lambda r: f"order {order_id}: shipped back; the seller confirms receipt by "
                           f"{when(r.event('return_returning')['deadline_ms'])}")


def _outcome(result: TxResult) -> tuple[str, int]:
    """The return's state after the tx (from its last return event) and what is still owed."""
    for event in reversed(result.events):
        if event.get("kind", "").startswith("return_"):
            attrs = event.get("attrs", {})
            return event["kind"].removeprefix("return_"), attrs.get("owed", 0)
    return "updated", 0


def _return_simple(name: str, kind: str, doc: str) -> None:
    @node_command(order, name, signs=True, help=doc)
    @click.argument("order_id", metavar="ORDER", type=int)
    def command(session: Session, order_id: int) -> None:
        asset = session.call("order_get", order=order_id)["asset"]

        def done(result: TxResult) -> str:
            status, owed = _outcome(result)
            line = f"order {order_id}: return {status}"
            return f"{line}; still owed: {session.amount(owed, asset)}" if owed else line

        session.send(kind, getattr(kinds, kind)(order=order_id), done)


_return_simple("return-receive", "return_receive", "Confirm the goods of ORDER's return came back (seller): the "
               "refund is paid from the shop's deposit (a shortfall is owed).")
_return_simple("return-collect", "return_collect", "Collect a refund of ORDER's return the deposit could not pay, "
               "after the shop topped it up (buyer).")
_return_simple("return-claim", "return_claim", "Settle ORDER's return after its deadline (see `order show`).")


# --- carts --------------------------------------------------------------------------------------


def _item(text: str) -> tuple[int, int, str | None]:
    listing, _, rest = text.partition(":")
    quantity, _, sku = rest.partition(":")
    if not listing.isdigit() or (quantity and not quantity.isdigit()):
        raise click.BadParameter(f"--item {text!r}: expected LISTING[:QUANTITY[:SKU]], e.g. 3:2:TEE-M")
    return int(listing), int(quantity or 1), sku or None


@node_command(order, "cart", signs=True)
@click.option("--item", "items", multiple=True, required=True, metavar="LISTING[:QTY[:SKU]]",
              help="A line of the cart (repeat, up to 20; all of one shop), e.g. 3:2:TEE-M.")
@click.option("--address", "shipping_address", default="", help="Shipping address, sealed to the seller and arbiter.")
@click.option("--region", default=None, metavar="CODE", help="Where the address is (e.g. DE); checked against "
              "every line. Default: the address's last part after a comma.")
@click.option("--shipping", default=None, metavar="SERVICE", help="One service every line with shipping options "
              "offers; the highest of their prices is paid once.")
@click.option("--coupon", default=None, metavar="CODE", help="A coupon of the shop, off all the goods.")
@click.option("--arbiter", default=None, metavar="ADDRESS", help="One of the shop's arbiters (none: no disputes).")
@click.option("--no-arbiter", is_flag=True, help="Place it without an arbiter, knowing it can never be disputed.")
@click.option("--max-total", default=None, help="Refuse if the total (in units) is above this; default: what it "
              "costs now.")
def order_cart(session: Session, items: tuple[str, ...], shipping_address: str, region: str | None,
               shipping: str | None, coupon: str | None, arbiter: str | None, no_arbiter: bool,
               max_total: str | None) -> None:
    """Order several listings of one shop in one order: one escrow, shipped and confirmed together.

    Orders in several shops are several carts: run this once per shop.
    """
    lines = [_item(text) for text in items]
    listings = [session.call("listing_get", listing=listing) for listing, _, _ in lines]
    first = listings[0]
    for found in listings[1:]:
        if (found["shop"], found["asset"], found["type"]) != (first["shop"], first["asset"], first["type"]):
            raise click.UsageError(f"listing {found['id']} is not of listing {first['id']}'s shop, asset and type: "
                                   "place a separate cart for it")
    wheres = [check_delivery(found, shipping_address, region) for found in listings]
    if arbiter is None and not no_arbiter:
        confirm_no_arbiter(session, first)
    goods = sum(unit_price(found, sku) * quantity for found, (_, quantity, sku) in zip(listings, lines))
    code = coupon.upper() if coupon else None
    if code:
        goods = discounted(goods, session.call("coupon_get", shop=first["shop"], coupon=code), first["asset"])
    prices = [option["price"] for found in listings for option in found.get("shipping") or []
              if option["service"] == shipping]
    for found in listings:
        services = [option["service"] for option in found.get("shipping") or []]
        if services and shipping not in services:
            raise click.UsageError(f"listing {found['id']} ships by {', '.join(map(repr, services))}: choose "
                                   "--shipping that every line with shipping options offers")
    if shipping and not prices:
        raise click.UsageError(f"no listing in the cart ships by {shipping!r}")
    total = goods + max(prices, default=0)
    limit = session.assets.parse(max_total, first["asset"], "max-total") if max_total else total
    body = commerce.order_cart(lines, limit, first["seller"], shipping_address, arbiter=arbiter, shipping=shipping,
                               region=region.upper() if region else next((w for w in wheres if w), None),
                               coupon=code)

    def done(result: TxResult) -> str:
        placed = result.event("order_placed")
        return (f"order {placed['order']} placed: {len(lines)} lines, {session.amount(placed['total'], first['asset'])}"
                f" in escrow; the seller must accept by {when(placed['deadline_ms'])}")

    session.send("order_cart", body, done)


# --- coupons ------------------------------------------------------------------------------------


@node_command(shop, "coupon-issue", signs=True)
@click.argument("shop_id", metavar="SHOP", type=int)
@click.argument("code")
@click.option("--percent", default=None, help="Percent off the goods, e.g. 10 or 12.5 (the discount is rounded "
              "down to a whole smallest unit; shipping is never discounted).")
@click.option("--amount", default=None, help="A fixed amount off the goods, in units of --asset.")
@click.option("--asset", default=None, help="The fixed amount's asset (only listings priced in it).")
@click.option("--uses", type=click.IntRange(1, 1_000_000), required=True, help="How many orders may use it.")
@click.option("--days", type=click.IntRange(1, 36_500), required=True, help="Valid for this many days of chain time.")
def coupon_issue(session: Session, shop_id: int, code: str, percent: str | None, amount: str | None,
                 asset: str | None, uses: int, days: int) -> None:
    """Issue coupon CODE (upper-case letters, digits, '-') for SHOP (owner): --percent or --amount with --asset."""
    if (percent is None) == (amount is None):
        raise click.UsageError("give either --percent or --amount (with --asset)")
    if (amount is None) != (asset is None):
        raise click.UsageError("--amount needs --asset, and --percent takes none")
    bps = parse_amount(percent, 2, "--percent") if percent is not None else None
    if bps is not None and not 1 <= bps <= 10_000:
        raise click.UsageError("--percent must be more than 0 and at most 100")
    asset_id = session.assets.resolve(asset) if asset else None
    units = session.assets.parse(amount, asset_id, "--amount", low=1) if amount and asset_id else None
    expires = head_time_ms(session) + days * DAY_MS
    body = kinds.coupon_issue(shop=shop_id, coupon=code.upper(), percent_bps=bps, amount=units, asset=asset_id,
                              max_uses=uses, expires_ms=expires)
    session.send("coupon_issue", body, lambda r: f"coupon {code.upper()} of shop {shop_id}: {uses} uses until "
                                                 f"{when(expires)}")


@node_command(shop, "coupon-revoke", signs=True)
@click.argument("shop_id", metavar="SHOP", type=int)
@click.argument("code")
def coupon_revoke(session: Session, shop_id: int, code: str) -> None:
    """Withdraw coupon CODE of SHOP for good (owner)."""
    session.send("coupon_revoke", kinds.coupon_revoke(shop=shop_id, coupon=code.upper()),
                 lambda r: f"coupon {code.upper()} of shop {shop_id} revoked")


@node_command(shop, "coupon-show")
@click.argument("shop_id", metavar="SHOP", type=int)
@click.argument("code")
def coupon_show(session: Session, shop_id: int, code: str) -> None:
    """Coupon CODE of SHOP: what it takes off, uses left, expiry, and whether it is valid now."""
    found = session.call("coupon_get", shop=shop_id, coupon=code.upper())

    def human() -> None:
        bps = found["percent_bps"]
        off = (f"{bps // 100}.{bps % 100:02d}% of the goods" if bps is not None
               else f"{session.amount(found['amount'], found['asset'])} off the goods")
        fields([("coupon", found["coupon"]), ("shop", found["shop"]), ("takes", off),
                ("uses", f"{found['used']} of {found['max_uses']}"), ("expires", when(found["expires_ms"])),
                ("valid now", found["valid"])])

    session.show(found, human)


COMMANDS: tuple[click.Command, ...] = ()
