"""`marketnode review ...`: the buyer's one review of a completed order, the seller's reply, the lists.

The text and photo live in the content store (their hashes go on chain); a
review that earns the reward says so, in units of the reward asset.
"""

from __future__ import annotations

from pathlib import Path

import click

from marketnode.cli.content_cmds import upload_file, upload_text, with_texts
from marketnode.cli.wallet_common import (
    Session,
    next_page_hint,
    node_command,
    page_options,
    short,
    table,
    when,
)
from marketnode.wallet import builders, kinds
from marketnode.wallet.account import TxResult


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
    given = {name: aspects[name] or rating for name in builders.RATINGS}
    scores = {name: score for name, score in given.items() if score is not None}
    missing = [name for name in given if name not in scores]
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


COMMANDS = (review,)
