"""Measure the mailbox's door under a flood (docs/RELIABILITY.md, "message floods"); not a test, prints figures.

Run: ``.venv/bin/python tests/node/mailbox_flood.py``. Uses a MemoryKV store and the helpers of
test_mailbox.py: 5,000 junk envelopes (each a one-byte change of a valid one), 2,000 valid ones from one
sender with the limits lifted, and 200 from one sender in one minute under the default limits.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import contextlib

from test_mailbox import BUYER, CHAIN, NOW, SELLER, envelope, make_mailbox

from marketnode.core.message import seal_message
from marketnode.node.mailbox.rules import MailboxRefused


def main() -> None:
    box, _ = make_mailbox(sender_per_minute=10**6, max_per_pair=10**6, accept_per_s=10**6)
    good = envelope()
    junk = [good[:n % len(good)] + bytes([good[n % len(good)] ^ 0x5A]) + good[n % len(good) + 1:] for n in range(5000)]
    started = time.perf_counter()
    for raw in junk:
        with contextlib.suppress(MailboxRefused):
            box.accept(raw)
    elapsed = time.perf_counter() - started
    print(f"junk: {len(junk)} in {elapsed:.3f} s = {len(junk) / elapsed:.0f}/s; refused {box.refused}")
    valid = [seal_message(BUYER, CHAIN, [SELLER.public_key], ("order", 1), f"m{n}", NOW + n).encode()
             for n in range(2000)]
    started = time.perf_counter()
    for raw in valid:
        box.accept(raw)
    elapsed = time.perf_counter() - started
    print(f"valid: {len(valid)} in {elapsed:.3f} s = {len(valid) / elapsed:.0f}/s; "
          f"the recipient's mailbox holds {box.store.count[SELLER.public_key]}")
    defaults, _ = make_mailbox()
    outcomes: dict[str, int] = {}
    for raw in valid[:200]:
        try:
            defaults.accept(raw)
            outcomes["stored"] = outcomes.get("stored", 0) + 1
        except MailboxRefused as exc:
            outcomes[exc.reason] = outcomes.get(exc.reason, 0) + 1
    print(f"default limits, 200 from one sender in one minute: {outcomes}")


if __name__ == "__main__":
    main()
