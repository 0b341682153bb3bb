"""The mailbox on the p2p side: what is relayed, what costs a peer points, and what a new peer is offered."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from test_mailbox import BUYER, NOW, SELLER, chain_state, envelope

from marketnode.core.encoding import decode, encode
from marketnode.core.message import ReadMarker
from marketnode.node.config import MailboxSection
from marketnode.node.mailbox.service import MAIL_TOPIC, READ_TOPIC, SYNC_TOPIC, MailboxService
from marketnode.node.rpc.subscriptions import SubscriptionHub


class Peers:
    """The p2p host as the mailbox uses it: what it was told to send and whom it penalised."""

    def __init__(self) -> None:
        self.penalties: list[tuple[bytes, int, str]] = []
        self.sent: list[tuple[bytes, str, bytes]] = []
        self.broadcasts: list[tuple[str, bytes]] = []

    def penalize(self, peer: bytes, points: int, reason: str) -> None:
        self.penalties.append((peer, points, reason))

    def send(self, peer: bytes, topic: str, payload: bytes) -> bool:
        self.sent.append((peer, topic, payload))
        return True

    def broadcast(self, topic: str, payload: bytes) -> None:
        self.broadcasts.append((topic, payload))

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
        raise TimeoutError("no answer")  # a peer that does not answer mailsync


def service(tmp_path: Path, **limits: int) -> tuple[MailboxService, Peers]:
    state = chain_state()
    peers = Peers()
    node = SimpleNamespace(cfg=SimpleNamespace(mailbox=MailboxSection(**limits), data_path=tmp_path),
                           chain_id="test-chain", store=SimpleNamespace(state_reader=lambda: state), p2p=peers)
    return MailboxService(node, lambda: NOW, SubscriptionHub()), peers


PEER = b"\x09" * 32


def test_a_new_envelope_is_relayed_once_and_a_repeat_is_not(tmp_path):
    svc, peers = service(tmp_path)
    raw = envelope()
    assert svc.on_gossip(PEER, MAIL_TOPIC, raw) is True
    assert svc.on_gossip(PEER, MAIL_TOPIC, raw) is False
    assert peers.penalties == []
    svc.close()


def test_junk_costs_the_peer_points_and_a_rate_refusal_does_not(tmp_path):
    svc, peers = service(tmp_path, sender_per_minute=1)
    assert svc.on_gossip(PEER, MAIL_TOPIC, b"\x81\xa1x\x01") is False
    assert svc.on_gossip(PEER, MAIL_TOPIC, envelope()[:-3]) is False
    assert len(peers.penalties) == 2
    assert svc.on_gossip(PEER, MAIL_TOPIC, envelope(text="one")) is True
    assert svc.on_gossip(PEER, MAIL_TOPIC, envelope(text="two")) is False  # over the rate: an honest peer may relay it
    assert len(peers.penalties) == 2
    assert svc.on_gossip(PEER, READ_TOPIC, b"junk") is False and len(peers.penalties) == 3
    svc.close()


def test_a_wallet_message_is_broadcast_and_its_read_marker_too(tmp_path):
    svc, peers = service(tmp_path)
    accepted = svc.submit(envelope())
    assert peers.broadcasts == [(MAIL_TOPIC, accepted.message.raw)]
    marker = ReadMarker("test-chain", SELLER.public_key, (accepted.message.id,), NOW).sign(SELLER).encode()
    assert svc.mark_read(marker) == [accepted.message.id]
    assert peers.broadcasts[-1] == (READ_TOPIC, marker)
    assert svc.on_gossip(PEER, READ_TOPIC, marker) is False  # already applied: not relayed again
    svc.close()


def test_envelopes_and_arrival_numbers_survive_a_restart(tmp_path):
    svc, _ = service(tmp_path, offer_on_connect=2, sender_per_minute=100)
    raws = [svc.submit(envelope(text=f"{n}")).message.raw for n in range(3)]
    svc.close()
    again, _ = service(tmp_path, offer_on_connect=2)
    assert again.store.seq == 3 and again.store.count[BUYER.public_key] == 3
    answer = decode(again.serve_sync(encode({"after": 1})))
    assert answer == {"envelopes": [[2, raws[1]], [3, raws[2]]], "head": 3, "markers": []}
    first_contact = decode(again.serve_sync(encode({"after": None})))
    assert [seq for seq, _ in first_contact["envelopes"]] == [2, 3]  # the latest offer_on_connect
    again.close()


def test_a_damaged_mailbox_store_is_set_aside_and_the_node_still_starts(tmp_path):
    svc, _ = service(tmp_path)
    svc.submit(envelope())
    svc.close()
    for table in (tmp_path / "mailbox").glob("*.ldb"):
        table.write_bytes(b"\x00" * 64)
    for log_file in (tmp_path / "mailbox").glob("*.log"):
        log_file.write_bytes(b"\xff" * 64)
    (tmp_path / "mailbox" / "CURRENT").write_text("MANIFEST-999999\n")  # names a manifest that is not there
    again, _ = service(tmp_path)
    assert again.submit(envelope(text="after the damage")).new
    assert list(tmp_path.glob("mailbox.damaged-*"))
    again.close()


class Linked(Peers):
    """Peers whose requests are answered by another MailboxService, as the p2p host would."""

    def __init__(self) -> None:
        super().__init__()
        self.other: MailboxService | None = None
        self.requests = 0

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
        assert topic == SYNC_TOPIC and self.other is not None
        self.requests += 1
        return self.other.serve_sync(payload)


def linked_pair(tmp_path: Path, **limits: int) -> tuple[MailboxService, MailboxService, Linked]:
    a, _ = service(tmp_path / "a", **limits)
    b, _ = service(tmp_path / "b", **limits)
    link = Linked()
    b.node.p2p = link
    link.other = a
    return a, b, link


async def test_a_known_peer_pulls_everything_it_missed_in_rounds(tmp_path):
    a, b, link = linked_pair(tmp_path, offer_on_connect=5, sender_per_minute=10_000, max_per_pair=10_000,
                             max_messages_per_mailbox=10_000, accept_per_s=10_000)
    for n in range(3):
        a.submit(envelope(text=f"before {n}"))
    assert await b.pull_from(PEER) == 3  # first contact: a's latest offer_on_connect (5) covers all 3
    for n in range(600):  # b is away: more than offer_on_connect and than one answer
        a.submit(envelope(text=f"while away {n}", sent_ms=NOW + n))
    link.requests = 0
    assert await b.pull_from(PEER) == 600
    assert link.requests == 3  # 256 + 256 + 88
    assert b.store.count[SELLER.public_key] == 603
    assert await b.pull_from(PEER) == 0  # caught up: one round, nothing new
    a.close()
    b.close()


async def test_a_first_contact_starts_at_the_peers_latest_and_a_reset_peer_is_read_again(tmp_path):
    a, b, _ = linked_pair(tmp_path, offer_on_connect=5, sender_per_minute=100)
    for n in range(8):
        a.submit(envelope(text=f"{n}"))
    assert await b.pull_from(PEER) == 5
    b.store.set_peer_cursor(PEER, 10_000)  # as if a's store had been reset since
    a.submit(envelope(text="after the reset"))
    assert await b.pull_from(PEER) == 1  # a's latest 5 again: only the new one is new
    a.close()
    b.close()


async def test_junk_in_a_sync_answer_costs_the_peer_points(tmp_path):
    b, _ = service(tmp_path)

    class Liar(Peers):
        async def request(self, peer, topic, payload, timeout_s):
            return encode({"envelopes": [[1, b"abc"]], "head": 5, "markers": []})

    b.node.p2p = Liar()
    assert await b.pull_from(PEER) == 0
    assert b.node.p2p.penalties
    b.close()


async def test_a_pull_ends_with_the_peers_latest_read_markers_after_their_envelopes(tmp_path):
    a, b, link = linked_pair(tmp_path, offer_on_connect=2, sender_per_minute=100)
    ids = [a.submit(envelope(text=f"{n}")).message.id for n in range(3)]
    markers = [ReadMarker("test-chain", SELLER.public_key, (i,), NOW).sign(SELLER).encode() for i in ids]
    for marker in markers:
        a.mark_read(marker)
    assert a.store.recent_markers(10**6) == markers[1:]  # only the latest offer_on_connect are kept
    assert await b.pull_from(PEER) == 2
    assert b.store.count[SELLER.public_key] == 2 and b.store.unread(SELLER.public_key) == 0
    assert link.penalties == []
    a.close()
    b.close()
