"""Websocket notifications after each committed block: newBlocks, tx, order and account topics.

Called by the node (a block subscriber) right after the block is stored and
indexed; only queues text on subscribers' bounded queues, never awaits, and
does nothing at all while no one is subscribed. Payloads (``result``):

- newBlocks: {height, hash, time_ms, view, proposer, tx_count, state_root}
- tx, account: {hash, status: committed|failed, height, index, kind, sender, code, message, fee_paid,
  events: [{kind, attrs}]} — account gets one per tx the address sent or an event names it in
- order: {order, event (e.g. order_shipped, reviewed), attrs, tx, height, time_ms}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketnode.core.jsonable import address_json
from marketnode.core.keys import PUBKEY_SIZE
from marketnode.node.chain.executor import Executed
from marketnode.node.rpc.subscriptions import SubscriptionHub

# Event attributes that name an account (others, like a fingerprint, are 32-byte hashes).
ACCOUNT_ATTRS = ("account", "arbiter", "buyer", "by", "inviter", "issuer", "owner", "previous", "receiver", "seller",
                 "sender", "to")


def block_summary(executed: Executed) -> dict[str, Any]:
    header = executed.block.header
    return {"height": header.height, "hash": executed.block.hash.hex(), "time_ms": header.timestamp_ms,
            "view": header.view, "proposer": header.proposer.hex(), "tx_count": len(executed.block.txs),
            "state_root": executed.head.state_root.hex()}


def accounts_touched(sender: bytes, events: Any, arbiter_of: Callable[[int], bytes | None] | None = None) -> set[bytes]:
    """The sender and every account an event names; the arbiter of an order a dispute opened (it is not in the
    event's attrs, and must hear of the dispute to rule on it)."""
    touched = {sender}
    for event in events:
        if event.kind == "order_disputed" and arbiter_of is not None:
            arbiter = arbiter_of(event.attrs.get("order"))
            if arbiter is not None:
                touched.add(arbiter)
        for name in ACCOUNT_ATTRS:
            value = event.attrs.get(name)
            if isinstance(value, bytes) and len(value) == PUBKEY_SIZE:
                touched.add(value)
    return touched


def publish_block(hub: SubscriptionHub | None, executed: Executed, arbiter_of: Callable[[int], bytes | None] | None = None) -> None:
    """Fan one committed block out to every matching subscription."""
    if hub is None or hub.count() == 0:
        return
    block = executed.block
    summary = block_summary(executed)
    hub.publish("newBlocks", summary)
    for index, (tx, receipt) in enumerate(zip(block.txs, executed.receipts)):
        status = {"hash": tx.hash.hex(), "status": "committed" if receipt.ok else "failed", "height": block.height,
                  "index": index, "kind": tx.kind, "sender": address_json(tx.sender), "code": receipt.code,
                  "message": receipt.message, "fee_paid": receipt.fee_paid,
                  "events": receipt.events}  # converted by the hub only if someone listens
        hub.publish("tx", status, match=tx.hash)
        hub.publish("account", status, match=sorted(accounts_touched(tx.sender, receipt.events, arbiter_of)))
        for event in receipt.events:
            order_id = event.attrs.get("order")
            if isinstance(order_id, int) and not isinstance(order_id, bool):
                hub.publish("order", {"order": order_id, "event": event.kind, "attrs": event.attrs,
                                      "tx": tx.hash.hex(), "height": block.height, "time_ms": summary["time_ms"]},
                            match=order_id)
