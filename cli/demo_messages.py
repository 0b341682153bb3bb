"""The demo's conversation: a pre-sale question and its answer, and the arbiter writing to both parties.

Each character reads through its own node, so every message crosses the
network before it is read; the text is shown as the reader decrypted it.
"""

from __future__ import annotations

import time
from typing import Any

from marketnode.wallet.messages import Messenger

READ_TIMEOUT_S = 20.0


def _messenger(story: Any, name: str) -> Messenger:
    wallet = story.cast[name]
    return Messenger(wallet.key, wallet.client)


def _read(story: Any, name: str, message_id: str) -> str:
    """Wait until ``name``'s node holds the message, then open it with ``name``'s key."""
    reader = _messenger(story, name)
    deadline = time.monotonic() + READ_TIMEOUT_S
    while True:
        messages, _ = reader.inbox()
        found = next((m for m in messages if m.id == message_id), None)
        if found is not None and found.text is not None:
            reader.mark_read([message_id])
            return found.text
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not get message {message_id[:16]}… through {reader.client.url}")
        time.sleep(0.3)


def exchange(story: Any) -> None:
    ids = story.outcome.ids
    coffee, dispute = ids["coffee_listing"], ids["dispute_order"]
    bob, alice = story.addr("bob"), story.addr("alice")
    asked = _messenger(story, "bob").send([alice], ("listing", coffee), "Is the coffee roasted to order?")
    story.tell("bob", f"asks alice about listing {coffee}, encrypted to her key (message {asked['id'][:12]}…)")
    story.tell("alice", f"reads it through her own node: {_read(story, 'alice', asked['id'])!r}")
    answer = _messenger(story, "alice").send([bob], ("listing", coffee), "Yes: every Monday, shipped Tuesday.")
    story.tell("bob", f"reads alice's answer: {_read(story, 'bob', answer['id'])!r}")
    ruling = _messenger(story, "grace").send([alice, bob], ("order", dispute),
                                             "I split it: the packaging was thin and the carrier rough.")
    story.tell("alice", f"reads grace's note on order {dispute}: {_read(story, 'alice', ruling['id'])!r}")
    ids["messages"] = [asked["id"], answer["id"], ruling["id"]]
