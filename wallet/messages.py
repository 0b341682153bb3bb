"""Encrypted messages from a wallet: seal and send, fetch and open, mark read (docs/WALLET.md, "Messages").

The node never sees a plaintext: this module encrypts before ``message_send``
and decrypts what ``message_inbox`` returns, after checking each envelope's
signature and chain, so a node that serves a forged or altered envelope is
caught here (``OpenedMessage.problem``), never shown as a message.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from marketnode.core.errors import MarketnodeError
from marketnode.core.keys import PrivateKey, pubkey_from_address
from marketnode.core.message import Envelope, ReadMarker, seal_message
from marketnode.wallet.client import RpcClient, result_object


@dataclass(frozen=True)
class OpenedMessage:
    """One inbox item as this wallet read it; ``text`` is None and ``problem`` says why when it cannot be read."""

    id: str
    seq: int
    sender: str
    to: tuple[str, ...]
    about: tuple[str, int]
    sent_ms: int
    direction: str
    read: bool
    text: str | None
    problem: str | None = None


def open_item(key: PrivateKey, item: Mapping[str, Any], chain_id: str) -> OpenedMessage:
    """Verify and decrypt one ``message_inbox`` item; a bad envelope gives a ``problem``, not an exception."""
    text: str | None = None
    problem: str | None = None
    try:
        envelope = Envelope.decode(bytes.fromhex(item["envelope"]))
        envelope.check(chain_id)
        if envelope.id.hex() != item["id"]:
            raise MarketnodeError("the node named the message by another id")
        text = envelope.open(key)
    except (MarketnodeError, ValueError, KeyError) as exc:
        problem = str(exc)
    about = item.get("about") or {}
    return OpenedMessage(id=item["id"], seq=item["seq"], sender=item["sender"], to=tuple(item.get("to", ())),
                         about=(about.get("kind", "?"), about.get("id", 0)), sent_ms=item["sent_ms"],
                         direction=item.get("direction") or "in", read=bool(item.get("read")), text=text,
                         problem=problem)


class Messenger:
    """Messages of one account through one node."""

    def __init__(self, key: PrivateKey, client: RpcClient, chain_id: str | None = None) -> None:
        self.key = key
        self.client = client
        self._chain_id = chain_id

    @property
    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = self.client.call("node_status")["chain_id"]
        return self._chain_id

    def seal(self, to: Iterable[str], about: tuple[str, int], text: str, sent_ms: int | None = None) -> Envelope:
        recipients = [pubkey_from_address(address) for address in to]
        return seal_message(self.key, self.chain_id, recipients, about, text,
                            sent_ms if sent_ms is not None else time.time_ns() // 1_000_000)

    def send(self, to: Iterable[str], about: tuple[str, int], text: str) -> dict[str, Any]:
        """Encrypt to ``to`` (and to this account, to read it back), sign, and hand to the node."""
        envelope = self.seal(to, about, text)
        return result_object(self.client.call("message_send", envelope=envelope.encode().hex()), "message_send")

    def inbox(self, after: int = 0, limit: int = 100, max_pages: int = 50) -> tuple[list[OpenedMessage], int]:
        """Every message after ``after`` (all pages), opened; and the unread count."""
        out: list[OpenedMessage] = []
        unread = 0
        for _ in range(max_pages):
            page = self.client.call("message_inbox", address=self.key.address, after=after, limit=limit)
            out += [open_item(self.key, item, self.chain_id) for item in page["items"]]
            unread = page["unread"]
            if page["next_after"] is None:
                break
            after = page["next_after"]
        return out, unread

    def mark_read(self, ids: Iterable[str]) -> dict[str, Any]:
        chosen = sorted({bytes.fromhex(i) for i in ids})
        if not chosen:
            return {"marked": 0}
        marker = ReadMarker(self.chain_id, self.key.public_key, tuple(chosen[:256]), time.time_ns() // 1_000_000)
        return result_object(self.client.call("message_markRead", marker=marker.sign(self.key).encode().hex()), "message_markRead")
