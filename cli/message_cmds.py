"""`marketnode message ...`: encrypted messages between buyer, seller and arbiter (thin over wallet/messages.py)."""

from __future__ import annotations

import click

from marketnode.cli.wallet_common import Session, node_command, short, table, when
from marketnode.wallet.messages import Messenger, OpenedMessage


@click.group()
def message() -> None:
    """Messages encrypted to their readers: nodes store and forward them but cannot read them.

    \b
    marketnode message send --listing 3 "Is it still available?" --key-file testnet/accounts/bob.key
    marketnode message send --order 7 --to mn1... "Shipped today" --key-file testnet/accounts/alice.key
    marketnode message inbox --key-file testnet/accounts/alice.key
    """


def _messenger(session: Session) -> Messenger:
    return Messenger(session.wallet.key, session.client)


def _default_recipients(session: Session, me: str, order_id: int | None, listing_id: int | None) -> list[str]:
    """Without --to: the other parties of the order (its arbiter once disputed), or the listing's seller."""
    if listing_id is not None:
        seller = session.call("listing_get", listing=listing_id)["seller"]
        if seller == me:
            raise click.UsageError("you sell this listing: name who you answer with --to")
        return [seller]
    found = session.call("order_get", order=order_id)
    parties = [found["buyer"], found["seller"]]
    if found.get("dispute_by") or found["status"] in ("disputed", "resolved"):
        parties.append(found["arbiter"])
    return [p for p in parties if p and p != me]


@node_command(message, "send", signs=True)
@click.argument("text")
@click.option("--to", "to", multiple=True, metavar="ADDRESS", help="A recipient (repeat for more); default: the "
              "order's other parties, or the listing's seller.")
@click.option("--order", "order_id", type=click.IntRange(1), default=None, help="The order this is about.")
@click.option("--listing", "listing_id", type=click.IntRange(1), default=None,
              help="The listing this asks about (a pre-sale question to its seller).")
def message_send(session: Session, text: str, to: tuple[str, ...], order_id: int | None,
                 listing_id: int | None) -> None:
    """Encrypt TEXT to its recipients (and to you), sign it, and hand it to the node."""
    if (order_id is None) == (listing_id is None):
        raise click.UsageError("say what the message is about: exactly one of --order N or --listing N")
    me = session.wallet.address
    recipients = list(to) or _default_recipients(session, me, order_id, listing_id)
    about: tuple[str, int] = ("order", order_id) if order_id is not None else ("listing", listing_id or 0)
    sent = _messenger(session).send(recipients, about, text)
    session.show({**sent, "to": recipients}, lambda: click.echo(
        f"message {sent['id'][:16]}… sent to {', '.join(short(r) for r in recipients)} about {about[0]} {about[1]}"
        + ("" if sent["new"] else " (the node already had it)")))


def _row(m: OpenedMessage) -> dict[str, object]:
    mark = "" if m.read or m.direction == "out" else "*"
    who = f"to {', '.join(short(t) for t in m.to)}" if m.direction == "out" else f"from {short(m.sender)}"
    return {"seq": m.seq, "new": mark, "sent": when(m.sent_ms), "who": who, "about": f"{m.about[0]} {m.about[1]}",
            "text": m.text if m.text is not None else f"[cannot be read: {m.problem}]"}


@node_command(message, "inbox", signs=True)
@click.option("--after", type=click.IntRange(0), default=0, help="Only messages after this seq (catch up).")
@click.option("--unread", "unread_only", is_flag=True, help="Only received messages not yet marked read.")
@click.option("--mark-read", is_flag=True, help="Mark the received messages shown as read (on every node).")
def message_inbox(session: Session, after: int, unread_only: bool, mark_read: bool) -> None:
    """Your messages, received (* = unread) and sent, opened with your key."""
    messenger = _messenger(session)
    messages, unread = messenger.inbox(after)
    if unread_only:
        messages = [m for m in messages if m.direction == "in" and not m.read]
    marked = 0
    if mark_read:
        marked = messenger.mark_read([m.id for m in messages if m.direction == "in" and not m.read]).get("marked", 0)
    data = {"unread": unread - marked, "marked": marked, "items": [m.__dict__ for m in messages]}

    def human() -> None:
        columns = [(name, lambda row, name=name: row[name]) for name in ("seq", "new", "sent", "who", "about", "text")]
        table([_row(m) for m in messages], columns, empty="(no messages)")
        click.echo(f"{unread - marked} unread" + (f"; {marked} marked read" if marked else ""))

    session.show(data, human)


COMMANDS = (message,)
