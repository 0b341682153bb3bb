"""`marketnode order ...`: place, follow and settle orders whose payment waits in escrow."""

from __future__ import annotations

import re
from pathlib import Path

import click

from marketnode.cli.aftersales_view import return_lines, return_steps
from marketnode.cli.content_cmds import upload_file, upload_text, with_texts
from marketnode.cli.wallet_common import (
    Session,
    fields,
    head_time_ms,
    next_page_hint,
    node_command,
    own_address,
    page_options,
    short,
    table,
    when,
)
from marketnode.core.errors import RpcError
from marketnode.wallet import builders, kinds
from marketnode.wallet.account import TxResult
from marketnode.wallet.content import content_url

REGION_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")  # the chain's region pattern (market/fields.py REGION)


@click.group()
def order() -> None:
    """Orders: the total waits in escrow until the buyer confirms or an arbiter splits it.

    \b
    placed ─accept→ accepted ─ship→ shipped ─confirm→ completed (escrow to the seller)
    placed ─cancel (buyer) / decline (seller)→ refunded in full
    accepted|shipped ─dispute→ disputed ─resolve (arbiter)→ resolved (split)
    after any deadline, the waiting party may `claim` (see `order show`)

    \b
    marketnode order place 1 --quantity 2 --address "1 Main St, Berlin, DE" --arbiter mn1... \\
        --key-file testnet/accounts/bob.key
    marketnode order accept 7 --key-file testnet/accounts/alice.key
    marketnode order ship 7 --tracking DHL-123 --key-file testnet/accounts/alice.key
    marketnode order confirm 7 --key-file testnet/accounts/bob.key
    marketnode order dispute 8 --statement "arrived broken" --key-file testnet/accounts/bob.key
    marketnode order respond 8 --statement "sent intact, see photo" --evidence box.jpg --key-file testnet/accounts/alice.key
    marketnode order resolve 8 --buyer-amount 6.00 --ruling "half each" --key-file testnet/accounts/grace.key
    marketnode order list --buyer mn1...
    marketnode order show 7
    """


@node_command(order, "place", signs=True)
@click.argument("listing", type=int)
@click.option("--quantity", type=click.IntRange(1), default=1, show_default=True)
@click.option("--max-total", default=None, help="Refuse if the total (in units) is above this; default: the "
              "current price times quantity, so a price raised in flight is refused.")
@click.option("--address", "shipping_address", default="", help="Shipping address; sealed so only the seller and "
              "the arbiter can read it.")
@click.option("--region", default=None, metavar="CODE", help="Where the address is (e.g. DE), checked against "
              "the listing's 'ships to'; default: the address's last part after a comma.")
@click.option("--arbiter", default=None, metavar="ADDRESS", help="One of the shop's arbiters (none: no disputes).")
@click.option("--no-arbiter", is_flag=True, help="Place it without an arbiter, knowing it can never be disputed "
              "(skips the question).")
@click.option("--variant", default=None, metavar="SKU", help="Which variant (see `listing show`; required when "
              "the listing has variants).")
@click.option("--shipping", default=None, metavar="SERVICE", help="Which shipping option (see `listing show`; "
              "required when the listing has any); its price is added once.")
@click.option("--coupon", default=None, metavar="CODE", help="A coupon of the listing's shop (off the goods, "
              "not the shipping).")
def order_place(session: Session, listing: int, quantity: int, max_total: str | None, shipping_address: str,
                region: str | None, arbiter: str | None, no_arbiter: bool, variant: str | None,
                shipping: str | None, coupon: str | None) -> None:
    """Order QUANTITY of LISTING; the total moves into escrow.

    Physical goods need --address, in a region the listing ships to. Without --arbiter the order can
    never be disputed: the command asks first (--no-arbiter answers yes).
    """
    found = session.call("listing_get", listing=listing)
    where = check_delivery(found, shipping_address, region)
    if arbiter is None and not no_arbiter:
        confirm_no_arbiter(session, found)
    asset = found["asset"]
    code = coupon.upper() if coupon else None
    found_coupon = session.call("coupon_get", shop=found["shop"], coupon=code) if code else None
    expected = expected_total(found, quantity, variant, shipping, found_coupon)
    limit = session.assets.parse(max_total, asset, "max-total") if max_total else expected
    body = builders.order_place(listing, quantity, limit, found["seller"], shipping_address, arbiter=arbiter,
                                variant=variant, shipping=shipping, region=region or where, coupon=code)

    def done(result: TxResult) -> str:
        placed = result.event("order_placed")
        return (f"order {placed['order']} placed: {session.amount(placed['total'], asset)} in escrow; "
                f"the seller must accept by {when(placed['deadline_ms'])}")

    session.send("order_place", body, done)


def check_delivery(listing: dict, address: str, region: str | None) -> str | None:
    """A physical listing needs an address the seller can ship to: refuse (usage error) before anything is signed.

    Returns the region code to declare on chain (upper case), or None when there is nothing to check.
    """
    if listing.get("type") != "physical":
        return region.upper() if region else None
    if not address.strip():
        raise click.UsageError(f"listing {listing['id']} is physical goods: give --address so the seller can ship "
                               "it (sealed: only the seller and the arbiter can read it)")
    ships_to = [r for r in listing.get("regions") or []]
    if not ships_to and not listing.get("shipping"):
        return region.upper() if region else None  # ships anywhere
    where = (region or address.rsplit(",", 1)[-1]).strip()
    if ships_to and not any(where.upper() == r.upper() or where.upper().startswith(r.upper() + "-")
                            for r in ships_to):
        if region is None and "," not in address:
            raise click.UsageError(f"listing {listing['id']} ships to {', '.join(ships_to)} only: say where your "
                                   "address is with --region CODE")
        raise click.UsageError(f"listing {listing['id']} ships to {', '.join(ships_to)} only, not to {where!r}")
    if not REGION_CODE.fullmatch(where.upper()):
        if listing.get("shipping"):
            raise click.UsageError(f"listing {listing['id']} ships by region: say where your address is with "
                                   "--region CODE (e.g. DE or US-CA)")
        return None
    return where.upper()


def expected_total(listing: dict, quantity: int, variant: str | None, shipping: str | None,
                   coupon: dict | None = None) -> int:
    """What the order should cost now: the variant's unit price times quantity, less the coupon, plus shipping.

    An unknown variant or option, or a coupon not valid now, is refused here, naming what there is.
    """
    unit = unit_price(listing, variant)
    options = listing.get("shipping") or []
    extra = 0
    if options or shipping:
        match = [o for o in options if o["service"] == shipping]
        if not match:
            raise click.UsageError(f"listing {listing['id']}: choose --shipping from "
                                   f"{', '.join(repr(o['service']) for o in options) or 'none (it has none)'}")
        extra = match[0]["price"]
    goods = unit * quantity
    if coupon is not None:
        goods = discounted(goods, coupon, listing["asset"])
    return goods + extra


def unit_price(listing: dict, variant: str | None) -> int:
    """The listing's unit price for ``variant`` (its price plus the variant's change); a usage error naming the
    variants there are when it has some and ``variant`` is not one (or it has none and one is named)."""
    variants = listing.get("variants") or []
    if not variants and not variant:
        return int(listing["price"])
    match = [v for v in variants if v["sku"] == variant]
    if not match:
        raise click.UsageError(f"listing {listing['id']}: choose --variant from "
                               f"{', '.join(v['sku'] for v in variants) or 'none (it has no variants)'}")
    return int(listing["price"]) + int(match[0]["price_delta"])


def discounted(goods: int, coupon: dict, asset: str) -> int:
    """The goods' price after ``coupon`` (as coupon_get shows it), by the chain's rule: the discount rounds down."""
    if not coupon["valid"]:
        raise click.UsageError(f"coupon {coupon['coupon']} is revoked, expired or used up")
    if coupon["percent_bps"] is not None:
        return goods - goods * coupon["percent_bps"] // 10_000
    if coupon["asset"] != asset:
        raise click.UsageError(f"coupon {coupon['coupon']} is in {coupon['asset']}, the listing in {asset}")
    return goods - min(coupon["amount"], goods)


def confirm_no_arbiter(session: Session, listing: dict) -> None:
    """Say what an order without an arbiter gives up, name the shop's arbiters, and ask (stderr, default no)."""
    arbiters = session.call("shop_get", shop=listing["shop"]).get("arbiters") or []
    click.echo("warning: no --arbiter: this order can never be disputed; if what arrives is wrong, nobody can "
               "rule on it", err=True)
    if arbiters:
        click.echo(f"the shop's arbiters: {', '.join(arbiters)} (add --arbiter ADDRESS)", err=True)
    if not click.confirm("place the order without an arbiter?", default=False, err=True):
        raise click.ClickException("not placed (add --arbiter ADDRESS, or --no-arbiter to go without)")


def _simple(name: str, kind: str, doc: str, outcome: str) -> None:
    """An order action whose body is just the order id."""

    @node_command(order, name, signs=True, help=doc)
    @click.argument("order_id", metavar="ORDER", type=int)
    def action(session: Session, order_id: int) -> None:
        session.send(kind, builders.tx_body(kind, order=order_id), lambda r: f"order {order_id}: {outcome}")


_simple("accept", "order_accept", "Accept ORDER (seller), before the accept deadline.", "accepted; ship it next")
_simple("cancel", "order_cancel", "Cancel ORDER (buyer) before the seller accepts it: full refund.", "cancelled")
_simple("confirm", "order_confirm", "Confirm you received ORDER (buyer): escrow goes to the seller.",
        "completed; you can now review it")
_simple("claim", "order_claim", "Settle ORDER after its deadline passed (see `order show` for who may and what "
        "happens).", "settled")


@node_command(order, "decline", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--reason", default=None)
def order_decline(session: Session, order_id: int, reason: str | None) -> None:
    """Decline ORDER (seller): the buyer gets a full refund."""
    session.send("order_decline", kinds.order_decline(order=order_id, reason=reason),
                 lambda r: f"order {order_id}: declined and refunded")


@node_command(order, "ship", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--tracking", default=None, help="Carrier's tracking reference; only its hash goes on chain.")
@click.option("--content-key", default=None, metavar="HEX", help="Digital goods: the content key, sealed to the buyer.")
def order_ship(session: Session, order_id: int, tracking: str | None, content_key: str | None) -> None:
    """Mark ORDER shipped (seller); the buyer then confirms or disputes."""
    buyer = None
    key = bytes.fromhex(content_key) if content_key else None
    if key is not None:
        buyer = session.call("order_get", order=order_id)["buyer"]
    session.send("order_ship", builders.order_ship(order_id, tracking, key, buyer),
                 lambda r: f"order {order_id}: shipped")


@node_command(order, "dispute", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--reason", "--statement", "statement", required=True,
              help="What went wrong (UTF-8, ≤ 16 KiB): stored by the nodes for the arbiter, its hash on chain.")
@click.option("--evidence", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A file backing the statement: a photo (JPEG, PNG, WebP ≤ 2 MiB) or a text.")
def order_dispute(session: Session, order_id: int, statement: str, evidence: Path | None) -> None:
    """Open a dispute on ORDER (buyer or seller) before its deadline; the arbiter then rules."""
    upload_text(session, statement)
    evidence_hash = upload_file(session, evidence) if evidence is not None else None
    session.send("order_dispute", builders.order_dispute(order_id, statement, evidence_hash),
                 lambda r: f"order {order_id}: disputed; the arbiter rules by "
                           f"{when(r.event('order_disputed')['deadline_ms'])}")


@node_command(order, "respond", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--statement", required=True,
              help="Your answer to the dispute (UTF-8, ≤ 16 KiB): stored by the nodes, its hash on chain.")
@click.option("--evidence", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A file backing your answer: a photo (JPEG, PNG, WebP ≤ 2 MiB) or a text.")
def order_respond(session: Session, order_id: int, statement: str, evidence: Path | None) -> None:
    """Answer a dispute on ORDER once (the party that did not open it), before the arbiter's deadline."""
    upload_text(session, statement)
    evidence_hash = upload_file(session, evidence) if evidence is not None else None
    session.send("order_respond", builders.order_respond(order_id, statement, evidence_hash),
                 lambda r: f"order {order_id}: answered; the arbiter has both statements")


@node_command(order, "resolve", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
@click.option("--buyer-amount", required=True, help="Refund to the buyer, in units of the order's asset; the "
              "seller gets the rest after your fee.")
@click.option("--ruling", default=None, help="Your written ruling (UTF-8): stored by the nodes, its hash on chain.")
def order_resolve(session: Session, order_id: int, buyer_amount: str, ruling: str | None) -> None:
    """Split a disputed ORDER's escrow (its arbiter only)."""
    found = session.call("order_get", order=order_id)
    if ruling:
        upload_text(session, ruling)
    units = session.assets.parse(buyer_amount, found["asset"], "buyer-amount")
    session.send("order_resolve", builders.order_resolve(order_id, units, ruling),
                 lambda r: f"order {order_id}: resolved; {session.amount(units, found['asset'])} back to the buyer")


@node_command(order, "show")
@click.argument("order_id", metavar="ORDER", type=int)
def order_show(session: Session, order_id: int) -> None:
    """One order: parties, escrow, the next step with its deadline and who may take it, the dispute's texts, and its timeline."""
    found = with_texts(session, session.call("order_get", order=order_id), ("reason_hash", "response_hash", "ruling_hash"))

    def human() -> None:
        deadlines = found.get("deadlines") or {}
        listing = _listing_line(session, found)
        refund = found.get("buyer_amount")
        fields([
            ("order", found["id"]), ("status", found["status"]), ("listing", listing),
            ("quantity", found["quantity"]), ("total", session.amount(found["total"], found["asset"])),
            ("buyer", found["buyer"]), ("seller", found["seller"]),
            ("arbiter", found["arbiter"] or "none (this order cannot be disputed)"),
            *([("refund", session.amount(refund, found["asset"]))] if refund is not None else []),
            ("deadline", _deadline(session, deadlines.get("current_ms"))),
            *_dispute_lines(session, found),
            *_offer_line(session, found),
            *return_lines(session, found),
        ])
        click.echo("next step:")
        for line in next_steps(found) + return_steps(found):
            click.echo(f"  {line}")
        timeline = found.get("timeline") or []
        if timeline:
            click.echo("")
            table(timeline, [("status", lambda e: e["status"]), ("block", lambda e: e["height"]),
                             ("when", lambda e: when(e["time_ms"])), ("by", lambda e: short(e["by"])),
                             ("tx", lambda e: e["tx"][:16])])

    session.show(found, human)


ACTION_WORDS = {"order_accept": "accept", "order_decline": "decline", "order_cancel": "cancel", "order_ship": "ship",
                "order_confirm": "confirm receipt", "order_dispute": "dispute", "order_resolve": "rule on the dispute",
                "order_claim": "claim", "order_refund_offer": "offer a refund (--amount)",
                "order_refund_accept": "accept the other side's refund offer (--amount)"}
CLAIM_WORDS = {"refunded": "the buyer is refunded in full", "completed": "the escrow goes to the seller",
               "resolved": "the escrow is split as the chain's rule for an unruled dispute says"}


def next_steps(found: dict) -> list[str]:
    """Who may do what next, until when, and the command for it; for a finished order, that nothing is left."""
    deadlines = found.get("deadlines") or {}
    if deadlines.get("current_ms") is None:
        return [f"none: the order is {found['status']}"]
    order_id = found["id"]
    lines = []
    for step in deadlines.get("actions") or []:
        if step["action"] == "order_dispute" and not found.get("arbiter"):
            continue  # no arbiter was chosen: nobody could rule
        command = step["action"].removeprefix("order_").replace("_", "-")
        when_ = "before the deadline" if step["timing"] == "before deadline" else "any time"
        lines.append(f"{step['by']}: {ACTION_WORDS.get(step['action'], command)} ({when_}): "
                     f"marketnode order {command} {order_id}")
    if found["status"] == "disputed" and not found.get("response_hash") and found.get("dispute_by"):
        other = "seller" if found["dispute_by"] == found["buyer"] else "buyer"  # who did not open the dispute
        lines.append(f"{other}: answer the dispute once (before the deadline): marketnode order respond {order_id}")
    if deadlines.get("claimable_by"):
        on_claim = str(deadlines.get("on_claim"))
        outcome = CLAIM_WORDS.get(on_claim, on_claim)
        lines.append(f"at or after the deadline, {deadlines['claimable_by']} may claim: "
                     f"marketnode order claim {order_id} ({outcome})")
    return lines


def _listing_line(session: Session, found: dict) -> str:
    """``3: Oak dining table (shop 1, Alice Antiques)``; just the id when the listing cannot be read."""
    try:
        listing = session.call("listing_get", listing=found["listing"])
        shop = session.call("shop_get", shop=listing["shop"])
    except RpcError:
        return str(found["listing"])
    return f"{found['listing']}: {listing['title']} (shop {listing['shop']}, {shop['name']})"


def _dispute_lines(session: Session, found: dict) -> list[tuple[str, str]]:
    """The dispute's statement, response, ruling and evidence links: only those the order has."""
    def link(name: str) -> str | None:
        return content_url(session.rpc, bytes.fromhex(found[name])) if found.get(name) else None

    lines = [("dispute", found.get("reason_text")), ("evidence", link("evidence_hash")),
             ("response", found.get("response_text")), ("its evidence", link("response_evidence_hash")),
             ("ruling", found.get("ruling_text"))]
    return [(label, value) for label, value in lines if value is not None]


def _offer_line(session: Session, found: dict) -> list[tuple[str, str]]:
    """An open refund offer (one made in the order's current state), or nothing."""
    offer = found.get("refund_offer")
    if not offer or offer["status"] != found["status"]:
        return []
    side = "buyer" if offer["by"] == found["buyer"] else "seller"
    return [("refund offer", f"{session.amount(offer['buyer_amount'], found['asset'])} back to the buyer, by the "
                             f"{side}")]


def _deadline(session: Session, deadline_ms: int | None) -> str:
    if deadline_ms is None:
        return "-"
    left = deadline_ms - head_time_ms(session)
    return f"{when(deadline_ms)} ({'in ' + _span(left) if left > 0 else 'passed ' + _span(-left) + ' ago'})"


def _span(ms: int) -> str:
    minutes = ms // 60_000
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    return f"{days} d {hours} h" if days else f"{hours} h {mins} min" if hours else f"{mins} min"


@node_command(order, "address", signs=True)
@click.argument("order_id", metavar="ORDER", type=int)
def order_address(session: Session, order_id: int) -> None:
    """Read ORDER's shipping address, sealed to you as its seller or arbiter."""
    found = session.call("order_get", order=order_id)
    me = session.wallet.address
    sealed = {found["seller"]: found.get("address_seller"), found["arbiter"]: found.get("address_arbiter")}.get(me)
    if not sealed:
        raise click.ClickException(f"order {order_id} holds no address sealed to {me} (only its seller and arbiter)")
    text = session.wallet.open_sealed(sealed)
    session.show({"order": order_id, "address": text}, lambda: click.echo(text))


@node_command(order, "list")
@click.option("--buyer", default=None, metavar="ADDRESS")
@click.option("--seller", default=None, metavar="ADDRESS")
@click.option("--status", default=None, help="Only this status: placed, accepted, shipped, disputed, completed, ...")
@click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Without --buyer/--seller: your orders, for this keystore's address.")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Without --buyer/--seller: your orders, for this key file's address.")
@page_options()
def order_list(session: Session, buyer: str | None, seller: str | None, status: str | None,
               keystore: Path | None, key_file: Path | None, limit: int, cursor: str | None) -> None:
    """Orders, newest first: a buyer's or a seller's, by default yours (those you bought, then those you sold)."""
    if buyer is not None and seller is not None:
        raise click.UsageError("give one of --buyer, --seller (or neither, for your own orders)")
    if buyer is None and seller is None:
        if cursor:
            raise click.UsageError("--cursor continues a list of one side: give --buyer or --seller with it")
        me = own_address(keystore, key_file)
        pages = {side: session.call("order_list", **{side: me}, status=status, limit=limit)
                 for side in ("buyer", "seller")}

        def both() -> None:
            for side, page in pages.items():
                click.echo(f"{'bought' if side == 'buyer' else 'sold'} by {me}:")
                _order_table(session, page)
                if page.get("next_cursor"):
                    click.echo(f"more: --{side} {me} --cursor {page['next_cursor']}")
                click.echo("")

        session.show({"address": me, **pages}, both)
        return
    page = session.call("order_list", buyer=buyer, seller=seller, status=status, limit=limit, cursor=cursor)

    def human() -> None:
        _order_table(session, page)
        next_page_hint(page)

    session.show(page, human)


def _order_table(session: Session, page: dict) -> None:
    table(page["items"], [
        ("order", lambda o: o["id"]), ("status", lambda o: o["status"]), ("listing", lambda o: o["listing"]),
        ("qty", lambda o: o["quantity"]), ("total", lambda o: session.amount(o["total"], o["asset"])),
        ("buyer", lambda o: short(o["buyer"])), ("seller", lambda o: short(o["seller"])),
        ("deadline", lambda o: when(o.get("deadline_ms"))),
    ], empty="no orders")


COMMANDS = (order,)
