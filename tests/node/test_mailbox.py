"""The mailbox's door: who may write to whom, and every limit at its edge (no node, no network)."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

from marketnode.core.encoding import encode
from marketnode.core.keys import PrivateKey
from marketnode.core.message import Envelope, ReadMarker, seal_message
from marketnode.market import keys
from marketnode.node.config import MailboxSection
from marketnode.node.mailbox.rules import Mailbox, MailboxRefused
from marketnode.node.mailbox.store import MINUTE_MS, MailboxStore
from marketnode.node.storage.memory import MemoryKV

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


def refused(box: Mailbox, raw: bytes, catch_up: bool = False) -> str:
    with pytest.raises(MailboxRefused) as info:
        box.accept(raw, catch_up)
    return info.value.reason


def test_buyer_writes_to_seller_who_sees_it_unread_until_marked():
    box, _ = make_mailbox()
    accepted = box.accept(envelope())
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
    assert box.accept(raw).new and not box.accept(raw).new
    assert box.store.count[SELLER.public_key] == 1


def test_only_parties_write_about_an_order_and_the_arbiter_only_in_a_dispute():
    box, _ = make_mailbox()
    assert refused(box, envelope(sender=STRANGER)) == "unauthorised"
    assert refused(box, envelope(to=(SELLER, STRANGER))) == "unauthorised"
    assert refused(box, envelope(sender=ARBITER, to=(BUYER,))) == "unauthorised"
    assert refused(box, envelope(to=(SELLER, ARBITER))) == "unauthorised"
    disputed, _ = make_mailbox(chain_state("disputed", BUYER.public_key))
    assert disputed.accept(envelope(sender=ARBITER, to=(BUYER, SELLER))).new
    assert disputed.accept(envelope(to=(ARBITER, SELLER))).new
    assert refused(box, envelope(about=("order", 2))) == "unauthorised"


def test_anyone_asks_a_seller_about_a_listing_and_the_seller_answers_anyone():
    box, _ = make_mailbox()
    assert box.accept(envelope(sender=STRANGER, about=("listing", 7))).new
    assert box.accept(envelope(sender=SELLER, to=(STRANGER,), about=("listing", 7))).new
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
    assert at_limit.accept(raw).new
    below, _ = make_mailbox(max_envelope_bytes=len(raw) - 1)
    assert refused(below, raw) == "too_large"


def test_sender_rate_per_minute_at_its_edge_counted_on_sent_time():
    box, clock = make_mailbox(sender_per_minute=3)
    minute = NOW - NOW % MINUTE_MS
    clock.ms = minute + 30_000
    for n in range(3):
        box.accept(envelope(text=f"m{n}", sent_ms=minute + n))
    assert refused(box, envelope(text="m3", sent_ms=minute + 3)) == "rate"
    clock.ms = minute + MINUTE_MS
    assert box.accept(envelope(text="next minute", sent_ms=minute + MINUTE_MS)).new


def test_per_pair_share_of_a_mailbox_at_its_edge():
    box, _clock = make_mailbox(max_per_pair=2, sender_per_minute=100)
    box.accept(envelope(text="1"))
    box.accept(envelope(text="2"))
    assert refused(box, envelope(text="3")) == "pair_full"
    assert box.accept(envelope(sender=SELLER, to=(BUYER,), text="the other way")).new


def test_a_full_mailbox_drops_its_oldest_message():
    box, _ = make_mailbox(max_messages_per_mailbox=2, sender_per_minute=100)
    first = box.accept(envelope(text="1")).message
    box.accept(envelope(text="2"))
    assert box.store.count[SELLER.public_key] == 2
    box.accept(envelope(text="3"))
    assert box.store.count[SELLER.public_key] == 2
    assert box.store.get(first.id) is None
    assert [m.seq for m in box.store.inbox(SELLER.public_key)] == [2, 3]


def test_a_mailbox_byte_limit_drops_oldest_to_fit():
    raw = envelope(text="a" * 500)
    box, _ = make_mailbox(max_bytes_per_mailbox=2 * len(raw) + 10, sender_per_minute=100)
    box.accept(raw)
    box.accept(envelope(text="b" * 500))
    box.accept(envelope(text="c" * 500))
    assert box.store.count[SELLER.public_key] == 2
    assert box.store.size[SELLER.public_key] <= 2 * len(raw) + 10


def test_time_edges_retention_and_clock():
    box, clock = make_mailbox(retention_s=3600, max_clock_skew_ms=1000)
    assert refused(box, envelope(sent_ms=NOW + 1001)) == "clock"
    assert box.accept(envelope(text="ahead", sent_ms=NOW + 1000)).new
    assert refused(box, envelope(text="old", sent_ms=NOW - 1001)) == "clock"  # a wallet sends now
    old = envelope(text="gossiped late", sent_ms=NOW - 3_600_000)
    assert refused(box, old) == "clock"  # live gossip is recent ...
    assert box.accept(old, catch_up=True).new  # ... but catch-up pulled from a peer may be older, within retention
    assert refused(box, envelope(text="too old", sent_ms=NOW - 3_600_001), catch_up=True) == "expired"
    clock.ms = NOW + 1
    assert box.prune() == 1
    assert box.store.get(Envelope.decode(old).id) is None


def test_node_wide_admission_rate_refuses_as_busy_then_recovers():
    box, clock = make_mailbox(accept_per_s=2, sender_per_minute=100, max_per_pair=100)
    box.accept(envelope(text="1"))
    box.accept(envelope(text="2"))
    assert refused(box, envelope(text="3")) == "busy"
    clock.mono += 1.0
    assert box.accept(envelope(text="3")).new


def test_a_flood_of_garbage_is_refused_one_by_one_and_leaves_the_store_empty():
    box, _ = make_mailbox()
    good = envelope()
    for n in range(2000):
        at = n % len(good)
        junk = good[:at] + bytes([good[at] ^ (1 + n % 255)]) + good[at + 1:]  # every byte of it, changed
        with contextlib.suppress(MailboxRefused):
            box.accept(junk)
    assert box.store.count[SELLER.public_key] == 0
    assert sum(box.refused.values()) == 2000


def test_counters_are_rebuilt_when_the_store_reopens():
    kv = MemoryKV()
    state = chain_state()
    clock = Clock()
    box = Mailbox(MailboxSection(max_per_pair=2), CHAIN, MailboxStore(kv), lambda: state, lambda: clock.ms,
                  lambda: clock.mono)
    box.accept(envelope(text="1"))
    box.accept(envelope(text="2"))
    again = Mailbox(MailboxSection(max_per_pair=2), CHAIN, MailboxStore(kv), lambda: state, lambda: clock.ms,
                    lambda: clock.mono)
    assert refused(again, envelope(text="3")) == "pair_full"
    assert again.store.seq == 2


def test_a_full_mailbox_drops_its_oldest_message_for_its_owner_only():
    box, _ = make_mailbox(max_messages_per_mailbox=2, sender_per_minute=100)
    first = box.accept(envelope(text="to seller, kept by buyer")).message  # readers: buyer and seller
    box.accept(envelope(sender=STRANGER, to=(SELLER,), about=("listing", 7), text="s1"))
    box.accept(envelope(sender=STRANGER, to=(SELLER,), about=("listing", 7), text="s2"))
    assert [m.id for m in box.store.inbox(SELLER.public_key)][:1] != [first.id]
    assert [m.id for m in box.store.inbox(BUYER.public_key)] == [first.id]  # the buyer's copy stays
    assert box.store.count[SELLER.public_key] == 2 and box.store.count[BUYER.public_key] == 1
    assert box.store.pairs[(BUYER.public_key, SELLER.public_key)] == 0
    reopened = MailboxStore(box.store.kv)
    assert reopened.count == box.store.count and reopened.pairs == box.store.pairs


def recount_unread(box: Mailbox, reader: bytes) -> int:
    return sum(1 for m in box.store.inbox(reader) if reader in m.envelope.to and not box.store.is_read(reader, m.id))


def test_the_unread_count_follows_arrivals_reads_evictions_expiry_and_a_reopen():
    box, clock = make_mailbox(max_messages_per_mailbox=3, sender_per_minute=100, retention_s=3600)
    seller, buyer = SELLER.public_key, BUYER.public_key
    ids = [box.accept(envelope(text=f"{n}", sent_ms=NOW - 1000 + n)).message.id for n in range(3)]
    assert box.store.unread(seller) == recount_unread(box, seller) == 3 and box.store.unread(buyer) == 0
    box.mark_read(ReadMarker(CHAIN, SELLER.public_key, (ids[0],), NOW).sign(SELLER).encode())
    box.mark_read(ReadMarker(CHAIN, BUYER.public_key, (ids[1],), NOW).sign(BUYER).encode())  # the sender's own
    assert box.store.unread(seller) == recount_unread(box, seller) == 2 and box.store.unread(buyer) == 0
    box.accept(envelope(text="evicts the read one"))  # the seller's mailbox is full: its oldest (read) goes
    assert box.store.unread(seller) == recount_unread(box, seller) == 3
    box.accept(envelope(text="evicts an unread one"))
    assert box.store.unread(seller) == recount_unread(box, seller) == 3
    assert MailboxStore(box.store.kv).unread(seller) == 3
    clock.ms = NOW + 3_600_000 - 500
    box.prune()
    assert box.store.unread(seller) == recount_unread(box, seller)
