"""message_* methods: send an encrypted envelope, page through an inbox, mark messages read.

The node answers with envelopes as they were signed (hex): a wallet verifies
and opens them itself. Nothing here can read a message, and nothing needs to.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.errors import RpcError
from marketnode.core.message import MAX_ENVELOPE_BYTES, ReadMarker
from marketnode.node.api.views import PAGE_MAX
from marketnode.node.boundary import NodeApi
from marketnode.node.mailbox.rules import MailboxRefused
from marketnode.node.rpc.errors import INVALID_INPUT, LIMIT_EXCEEDED, RESOURCE_NOT_FOUND, limit_exceeded, not_found
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result

LIMIT_REASONS = ("rate", "pair_full", "busy")
ITEM = ("{id, seq, sender, to, about: {kind, id}, sent_ms, received_ms, size, direction: in|out, read, "
        "envelope (hex)}")


def _refused(exc: MailboxRefused) -> Exception:
    if exc.reason in LIMIT_REASONS:
        return limit_exceeded(str(exc), code=exc.reason)
    return RpcError(INVALID_INPUT, str(exc), {"code": exc.reason})


def register(registry: Registry) -> None:
    @registry.method(
        "message_send",
        summary="Store and forward one signed, encrypted message envelope (docs/PROTOCOL.md §11).",
        description="The node checks the envelope's shape, signature, time and sender (docs/MARKET.md has no rule "
                    "for it: messages are not on chain), keeps it in each reader's mailbox and gossips it, so the "
                    "recipients read it through any node. Sending the same envelope again is harmless "
                    "(`new: false`). Refusals carry `data.code`: malformed, signature, invalid, too_large, clock, "
                    "expired, unauthorised (-32000), rate, pair_full, busy (-32005).",
        params=[Param("envelope", "hex", "The signed envelope's canonical bytes.", max_length=MAX_ENVELOPE_BYTES)],
        result=Result("sent", "{id, seq, new}", {"type": "object"}),
        errors=(INVALID_INPUT, LIMIT_EXCEEDED),
        tags=("messages",),
    )
    async def message_send(ctx: CallContext[NodeApi], envelope: bytes) -> dict[str, Any]:
        try:
            accepted = ctx.node.mailbox.submit(envelope)
        except MailboxRefused as exc:
            raise _refused(exc) from None
        return {"id": accepted.message.id.hex(), "seq": accepted.message.seq, "new": accepted.new}

    @registry.method(
        "message_inbox",
        summary="One account's messages, received and sent, oldest first, after a position in this node's mailbox.",
        description="`seq` numbers arrivals at this node: pass the last `seq` you saw as `after` to page on, or to "
                    "catch up after a websocket reconnect (subscribe to topic `messages` first, then fetch "
                    "`after` your last seq, so nothing falls between). `unread` counts received messages without "
                    "a read marker. Anyone may ask: an envelope's text is encrypted, but who wrote to whom, about "
                    "what, when and how long in 256-byte blocks is not (docs/PROTOCOL.md §11.2).",
        params=[Param("address", "address", "The account (mn1...)."),
                Param("after", "integer", "Return messages with seq above this (default 0: from the start).",
                      required=False, default=0, minimum=0),
                Param("limit", "integer", f"Page size (default 50, at most {PAGE_MAX}).", required=False, default=50,
                      minimum=1, maximum=PAGE_MAX)],
        result=Result("inbox", f"{{items: [{ITEM}], next_after, unread}}", {"type": "object"}),
        tags=("messages",),
    )
    async def message_inbox(ctx: CallContext[NodeApi], address: bytes, after: int, limit: int) -> dict[str, Any]:
        service = ctx.node.mailbox
        items: list[dict[str, Any]] = []
        more = False
        for message in service.store.inbox(address, after):
            if len(items) == limit:
                more = True
                break
            items.append(service.mailbox.item_json(message, address))
        return {"items": items, "next_after": items[-1]["seq"] if more else None,
                "last_seq": items[-1]["seq"] if items else after, "unread": service.store.unread(address)}

    @registry.method(
        "message_get",
        summary="One message envelope by id.",
        params=[Param("id", "hash", "The message id (docs/PROTOCOL.md §11).")],
        result=Result("message", ITEM.replace("direction: in|out, read, ", ""), {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND,),
        tags=("messages",),
    )
    async def message_get(ctx: CallContext[NodeApi], id: bytes) -> dict[str, Any]:
        found = ctx.node.mailbox.store.get(id)
        if found is None:
            raise not_found(f"message {id.hex()}")
        return ctx.node.mailbox.mailbox.item_json(found, None)

    @registry.method(
        "message_stats",
        summary="This node's mailboxes in numbers: envelopes and accounts held, refusals by reason since start.",
        description="For operators watching a flood: `refused` counts each reason of docs/OPERATIONS.md "
                    "\"Mailboxes\" (wallet and peer envelopes alike) since the node started.",
        result=Result("stats", "{envelopes, accounts, last_seq, limits, refused: {reason: count}}", {"type": "object"}),
        tags=("messages",),
    )
    async def message_stats(ctx: CallContext[NodeApi]) -> dict[str, Any]:
        service = ctx.node.mailbox
        store = service.store
        limits = service.limits
        return {"envelopes": store.envelopes, "accounts": len(store.count), "last_seq": store.seq,
                "limits": {"max_envelope_bytes": limits.max_envelope_bytes,
                           "max_messages_per_mailbox": limits.max_messages_per_mailbox,
                           "sender_per_minute": limits.sender_per_minute, "retention_s": limits.retention_s},
                "refused": dict(sorted(service.mailbox.refused.items()))}

    @registry.method(
        "message_markRead",
        summary="Apply a reader's signed read marker (docs/PROTOCOL.md §11.4) and gossip it.",
        description="Ids the reader cannot read, or that this node does not hold, are skipped.",
        params=[Param("marker", "hex", "The signed read marker's canonical bytes.", max_length=16 * 1024)],
        result=Result("marked", "{marked: number of ids newly marked read, unread}", {"type": "object"}),
        errors=(INVALID_INPUT,),
        tags=("messages",),
    )
    async def message_markRead(ctx: CallContext[NodeApi], marker: bytes) -> dict[str, Any]:
        service = ctx.node.mailbox
        try:
            fresh = service.mark_read(marker)
        except MailboxRefused as exc:
            raise _refused(exc) from None
        return {"marked": len(fresh), "unread": service.store.unread(ReadMarker.decode(marker).reader)}
