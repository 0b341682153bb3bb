"""`marketnode order ...`: place, follow and settle orders whose payment waits in escrow."""

from __future__ import annotations

from pathlib import Path

import click

from cli.content_cmds import upload_file, upload_text, with_texts
from cli.wallet_common import Session, fields, next_page_hint, node_command, page_options, short, table, when
from wallet import builders, kinds
from wallet.account import TxResult
from wallet.content import content_url


@click.group()
def order() -> None:
    """Orders: the total waits in escrow until the buyer confirms or an arbiter splits it.

    \b
    placed ─accept→ accepted ─ship→ shipped ─confirm→ completed (escrow to the seller)
    placed ─cancel (buyer) / decline (seller)→ refunded in full
    accepted|shipped ─dispute→ disputed ─resolve (arbiter)→ resolved (split)
    after any deadline, the waiting party may `claim` (see `order show`)

    \b
    marketnode order place 1 --quantity 2 --address "1 Main St, Berlin" --arbiter mn1... \\
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
@click.option("--arbiter", default=None, metavar="ADDRESS", help="One of the shop's arbiters (none: no disputes).")
def order_place(session: Session, listing: int, quantity: int, max_total: str | None, shipping_address: str,
                arbiter: str | None) -> None:
    """Order QUANTITY of LISTING; the total moves into escrow."""
    found = session.call("listing_get", listing=listing)
    asset = found["asset"]
    limit = session.assets.parse(max_total, asset, "max-total") if max_total else found["price"] * quantity
    body = builders.order_place(listing, quantity, limit, found["seller"], shipping_address, arbiter=arbiter)

    def done(result: TxResult) -> str:
        placed = result.event("order_placed")
        return (f"order {placed['order']} placed: {session.amount(placed['total'], asset)} in escrow; "
                f"the seller must accept by {when(placed['deadline_ms'])}")

    session.send("order_place", body, done)


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
    """One order: parties, escrow, deadline and who may act, the dispute's texts, and its timeline."""
    found = with_texts(session, session.call("order_get", order=order_id), ("reason_hash", "response_hash", "ruling_hash"))

    def human() -> None:
        deadlines = found.get("deadlines") or {}
        waiting = deadlines.get("waiting_for")
        fields([
            ("order", found["id"]), ("status", found["status"]), ("listing", found["listing"]),
            ("quantity", found["quantity"]), ("total", session.amount(found["total"], found["asset"])),
            ("buyer", found["buyer"]), ("seller", found["seller"]), ("arbiter", found["arbiter"]),
            ("deadline", when(deadlines.get("current_ms"))),
            ("waiting for", waiting), ("then", None if not waiting else
                                       f"{deadlines['claimable_by']} may claim: {deadlines['on_claim']}"),
            ("refund", None if found.get("buyer_amount") is None else session.amount(found["buyer_amount"],
                                                                                    found["asset"])),
            ("dispute", found.get("reason_text")),
            ("evidence", None if not found.get("evidence_hash") else content_url(session.rpc, bytes.fromhex(found["evidence_hash"]))),
            ("response", found.get("response_text")),
            ("its evidence", None if not found.get("response_evidence_hash")
             else content_url(session.rpc, bytes.fromhex(found["response_evidence_hash"]))),
            ("ruling", found.get("ruling_text")),
        ])
        timeline = found.get("timeline") or []
        if timeline:
            click.echo("")
            table(timeline, [("status", lambda e: e["status"]), ("block", lambda e: e["height"]),
                             ("when", lambda e: when(e["time_ms"])), ("by", lambda e: short(e["by"])),
                             ("tx", lambda e: e["tx"][:16])])

    session.show(found, human)


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
@page_options()
def order_list(session: Session, buyer: str | None, seller: str | None, status: str | None, limit: int,
               cursor: str | None) -> None:
    """A buyer's or a seller's orders, newest first."""
    if (buyer is None) == (seller is None):
        raise click.UsageError("give exactly one of --buyer, --seller")
    page = session.call("order_list", buyer=buyer, seller=seller, status=status, limit=limit, cursor=cursor)

    def human() -> None:
        table(page["items"], [
            ("order", lambda o: o["id"]), ("status", lambda o: o["status"]), ("listing", lambda o: o["listing"]),
            ("qty", lambda o: o["quantity"]), ("total", lambda o: session.amount(o["total"], o["asset"])),
            ("buyer", lambda o: short(o["buyer"])), ("seller", lambda o: short(o["seller"])),
            ("deadline", lambda o: when(o.get("deadline_ms"))),
        ], empty="no orders")
        next_page_hint(page)

    session.show(page, human)


COMMANDS = (order,)
