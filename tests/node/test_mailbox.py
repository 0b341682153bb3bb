"""The mailbox's door: who may write to whom, and every limit at its edge (no node, no network)."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

from core.encoding import encode
from core.keys import PrivateKey
from core.message import Envelope, ReadMarker, seal_message
from market import keys
from node.config import MailboxSection
from node.mailbox import Mailbox, MailboxRefused
from node.mailbox_store import MINUTE_MS, MailboxStore
from node.storage.memory import MemoryKV

CHAIN = "test-chain"
NOW = 1_800_000_000_000
BUYER, SELLER, ARBITER, STRANGER, UNREGISTERED = (PrivateKey(bytes([n]) * 32) for n in range(1, 6))


class Clock:
    def __init__(self) -> None:
        self.ms = NOW
        self.mono = 0.0


def chain_state(order_status: str = "shipped", dispute_by: bytes | None = None) -> dict[bytes, bytes]:
    state = {keys.account(k.public_key): encode({"name": "x"}) for k in (BUYER, SELLER, ARBITER, STRANGER)}
    state[keys.order(1)] = encode({"buyer": BUYER.public_key, "seller": SELLER.public_key,
                                   "arbiter": ARBITER.public_key, "status": order_status, "dispute_by": dispute_by})
    state[keys.listing(7)] = encode({"seller": SELLER.public_key})
    return state


def make_mailbox(state: dict[bytes, bytes] | None = None, **limits: int) -> tuple[Mailbox, Clock]:
    clock = Clock()
    reads = state if state is not None else chain_state()
    box = Mailbox(MailboxSection(**limits), CHAIN, MailboxStore(MemoryKV()), lambda: reads,
                  lambda: clock.ms, lambda: clock.mono)
    return box, clock


def envelope(sender=BUYER, to=(SELLER,), about=("order", 1), text="hello", sent_ms=NOW) -> bytes:
    return seal_message(sender, CHAIN, [k.public_key for k in to], about, text, sent_ms).encode()


def refused(box: Mailbox, raw: bytes, from_wallet: bool = True) -> str:
    with pytest.raises(MailboxRefused) as info:
        box.accept(raw, from_wallet)
    return info.value.reason


def test_buyer_writes_to_seller_who_sees_it_unread_until_marked():
    box, _ = make_mailbox()
    accepted = box.accept(envelope(), True)
    assert accepted.new
    assert [m.id for m in box.store.inbox(SELLER.public_key)] == [accepted.message.id]
    assert [m.id for m in box.store.inbox(BUYER.public_key)] == [accepted.message.id]  # the sender's copy
    assert box.store.unread(SELLER.public_key) == 1 and box.store.unread(BUYER.public_key) == 0
    marker = ReadMarker(CHAIN, SELLER.public_key, (accepted.message.id,), NOW).sign(SELLER)
    assert box.mark_read(marker.encode()) == [accepted.message.id]
    assert box.store.unread(SELLER.public_key) == 0
    assert box.mark_read(marker.encode()) == []  # replaying it changes nothing


def test_the_same_envelope_twice_is_stored_once():
    box, _ = make_mailbox()
    raw = envelope()
    assert box.accept(raw, True).new and not box.accept(raw, False).new
    assert box.store.count[SELLER.public_key] == 1


def test_only_parties_write_about_an_order_and_the_arbiter_only_in_a_dispute():
    box, _ = make_mailbox()
    assert refused(box, envelope(sender=STRANGER)) == "unauthorised"
    assert refused(box, envelope(to=(SELLER, STRANGER))) == "unauthorised"
    assert refused(box, envelope(sender=ARBITER, to=(BUYER,))) == "unauthorised"
    assert refused(box, envelope(to=(SELLER, ARBITER))) == "unauthorised"
    disputed, _ = make_mailbox(chain_state("disputed", BUYER.public_key))
    assert disputed.accept(envelope(sender=ARBITER, to=(BUYER, SELLER)), True).new
    assert disputed.accept(envelope(to=(ARBITER, SELLER)), True).new
    assert refused(box, envelope(about=("order", 2))) == "unauthorised"


def test_anyone_asks_a_seller_about_a_listing_and_the_seller_answers_anyone():
    box, _ = make_mailbox()
    assert box.accept(envelope(sender=STRANGER, about=("listing", 7)), True).new
    assert box.accept(envelope(sender=SELLER, to=(STRANGER,), about=("listing", 7)), True).new
    assert refused(box, envelope(sender=STRANGER, to=(BUYER,), about=("listing", 7))) == "unauthorised"
    assert refused(box, envelope(sender=STRANGER, to=(SELLER, BUYER), about=("listing", 7))) == "unauthorised"
    assert refused(box, envelope(sender=UNREGISTERED, about=("listing", 7))) == "unauthorised"


def test_a_forged_sender_or_changed_bytes_are_refused():
    box, _ = make_mailbox()
    env = Envelope.decode(envelope())
    assert refused(box, replace(env, sender=STRANGER.public_key).encode()) in ("signature", "invalid")
    assert refused(box, replace(env, sig=STRANGER.sign(env.signing_bytes())).encode()) == "signature"
    assert refused(box, replace(env, ciphertext=b"\x00" + env.ciphertext[1:]).encode()) == "signature"
    assert refused(box, b"\x93\x01\x02\x03") == "malformed"
    assert refused(box, envelope()[:-1]) == "malformed"


def test_envelope_size_limit_at_its_edge():
    raw = envelope(text="x" * 1000)
    at_limit, _ = make_mailbox(max_envelope_bytes=len(raw))
    assert at_limit.accept(raw, True).new
    below, _ = make_mailbox(max_envelope_bytes=len(raw) - 1)
    assert refused(below, raw) == "too_large"


def test_sender_rate_per_minute_at_its_edge_counted_on_sent_time():
    box, clock = make_mailbox(sender_per_minute=3)
    minute = NOW - NOW % MINUTE_MS
    clock.ms = minute + 30_000
    for n in range(3):
        box.accept(envelope(text=f"m{n}", sent_ms=minute + n), True)
    assert refused(box, envelope(text="m3", sent_ms=minute + 3)) == "rate"
    clock.ms = minute + MINUTE_MS
    assert box.accept(envelope(text="next minute", sent_ms=minute + MINUTE_MS), True).new


def test_per_pair_share_of_a_mailbox_at_its_edge():
    box, _clock = make_mailbox(max_per_pair=2, sender_per_minute=100)
    box.accept(envelope(text="1"), True)
    box.accept(envelope(text="2"), True)
    assert refused(box, envelope(text="3")) == "pair_full"
    assert box.accept(envelope(sender=SELLER, to=(BUYER,), text="the other way"), True).new


def test_a_full_mailbox_drops_its_oldest_message():
    box, _ = make_mailbox(max_messages_per_mailbox=2, sender_per_minute=100)
    first = box.accept(envelope(text="1"), True).message
    box.accept(envelope(text="2"), True)
    assert box.store.count[SELLER.public_key] == 2
    box.accept(envelope(text="3"), True)
    assert box.store.count[SELLER.public_key] == 2
    assert box.store.get(first.id) is None
    assert [m.seq for m in box.store.inbox(SELLER.public_key)] == [2, 3]


def test_a_mailbox_byte_limit_drops_oldest_to_fit():
    raw = envelope(text="a" * 500)
    box, _ = make_mailbox(max_bytes_per_mailbox=2 * len(raw) + 10, sender_per_minute=100)
    box.accept(raw, True)
    box.accept(envelope(text="b" * 500), True)
    box.accept(envelope(text="c" * 500), True)
    assert box.store.count[SELLER.public_key] == 2
    assert box.store.size[SELLER.public_key] <= 2 * len(raw) + 10


def test_time_edges_retention_and_clock():
    box, clock = make_mailbox(retention_s=3600, max_clock_skew_ms=1000)
    assert refused(box, envelope(sent_ms=NOW + 1001)) == "clock"
    assert box.accept(envelope(text="ahead", sent_ms=NOW + 1000), True).new
    assert refused(box, envelope(text="old", sent_ms=NOW - 1001)) == "clock"  # a wallet sends now
    old = envelope(text="gossiped late", sent_ms=NOW - 3_600_000)
    assert box.accept(old, from_wallet=False).new  # a peer may forward an older one, within retention
    assert refused(box, envelope(text="too old", sent_ms=NOW - 3_600_001), from_wallet=False) == "expired"
    clock.ms = NOW + 1
    assert box.prune() == 1
    assert box.store.get(Envelope.decode(old).id) is None


def test_node_wide_admission_rate_refuses_as_busy_then_recovers():
    box, clock = make_mailbox(accept_per_s=2, sender_per_minute=100, max_per_pair=100)
    box.accept(envelope(text="1"), True)
    box.accept(envelope(text="2"), True)
    assert refused(box, envelope(text="3")) == "busy"
    clock.mono += 1.0
    assert box.accept(envelope(text="3"), True).new


def test_a_flood_of_garbage_is_refused_one_by_one_and_leaves_the_store_empty():
    box, _ = make_mailbox()
    good = envelope()
    for n in range(2000):
        at = n % len(good)
        junk = good[:at] + bytes([good[at] ^ (1 + n % 255)]) + good[at + 1:]  # every byte of it, changed
        with contextlib.suppress(MailboxRefused):
            box.accept(junk, False)
    assert box.store.count[SELLER.public_key] == 0
    assert sum(box.refused.values()) == 2000


def test_counters_are_rebuilt_when_the_store_reopens():
    kv = MemoryKV()
    state = chain_state()
    clock = Clock()
    box = Mailbox(MailboxSection(max_per_pair=2), CHAIN, MailboxStore(kv), lambda: state, lambda: clock.ms,
                  lambda: clock.mono)
    box.accept(envelope(text="1"), True)
    box.accept(envelope(text="2"), True)
    again = Mailbox(MailboxSection(max_per_pair=2), CHAIN, MailboxStore(kv), lambda: state, lambda: clock.ms,
                    lambda: clock.mono)
    assert refused(again, envelope(text="3")) == "pair_full"
    assert again.store.seq == 2


def test_recent_offers_the_latest_arrivals_oldest_first_and_forgets_deleted_ones():
    box, _ = make_mailbox(sender_per_minute=100)
    stored = [box.accept(envelope(text=f"{n}"), True).message for n in range(5)]
    assert [m.seq for m in box.store.recent(3)] == [3, 4, 5]
    box.store.delete(stored[4].id)
    assert [m.seq for m in box.store.recent(3)] == [2, 3, 4]
    assert box.store.recent(0) == []


def test_a_full_mailbox_drops_its_oldest_message_for_its_owner_only():
    box, _ = make_mailbox(max_messages_per_mailbox=2, sender_per_minute=100)
    first = box.accept(envelope(text="to seller, kept by buyer"), True).message  # readers: buyer and seller
    box.accept(envelope(sender=STRANGER, to=(SELLER,), about=("listing", 7), text="s1"), True)
    box.accept(envelope(sender=STRANGER, to=(SELLER,), about=("listing", 7), text="s2"), True)
    assert [m.id for m in box.store.inbox(SELLER.public_key)][:1] != [first.id]
    assert [m.id for m in box.store.inbox(BUYER.public_key)] == [first.id]  # the buyer's copy stays
    assert box.store.count[SELLER.public_key] == 2 and box.store.count[BUYER.public_key] == 1
    assert box.store.pairs[(BUYER.public_key, SELLER.public_key)] == 0
    reopened = MailboxStore(box.store.kv)
    assert reopened.count == box.store.count and reopened.pairs == box.store.pairs
