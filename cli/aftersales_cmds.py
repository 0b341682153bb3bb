"""`marketnode order refund-offer/refund-accept ...`: settling an order by agreement, without an arbiter.

Kept apart from order_cmds.py (placing and the main path); the commands join
the same ``order`` group.
"""

from __future__ import annotations

import click

from cli.order_cmds import order
from cli.wallet_common import Session, node_command
from wallet import kinds


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


COMMANDS: tuple[click.Command, ...] = ()
