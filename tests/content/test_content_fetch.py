"""Fetching referenced blobs from peers: the plan as a table of steps, and the fetcher against scripted peers."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from content_samples import CHAIN_ID, limits
from waiting import wait_for_async

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, P2PError
from marketnode.core.upload import content_hash
from marketnode.node.content.blobs import MemoryBlobs
from marketnode.node.content.fetch import (
    CHUNK_BYTES,
    MAX_BACKOFF_S,
    MAX_HAVE,
    WRONG_BYTES_PENALTY,
    Fetcher,
    FetchPlan,
    backoff_s,
    chunk_reply,
    have_payload,
    parse_chunk,
    parse_have,
)
from marketnode.node.content.store import ContentStore
from marketnode.node.storage.memory import MemoryKV

BLOB, OTHER = content_hash(b"blob"), content_hash(b"other")
P1, P2, P3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def plan(concurrency: int = 4) -> FetchPlan:
    return FetchPlan(concurrency, random.Random(1))


def test_each_blob_is_asked_of_one_peer_at_a_time() -> None:
    p = plan()
    p.want(BLOB)
    first = p.due(0.0, [P1, P2])
    assert len(first) == 1 and first[0][0] == BLOB
    assert p.due(0.0, [P1, P2]) == []  # in flight: not asked twice


def test_every_peer_is_tried_once_per_round_then_the_blob_waits_with_backoff() -> None:
    p = plan()
    p.want(BLOB)
    asked = []
    for _ in range(3):
        [(blob, peer)] = p.due(0.0, [P1, P2, P3])
        asked.append(peer)
        p.on_result(blob, peer, False, 0.0, [P1, P2, P3])
    assert sorted(asked) == [P1, P2, P3]
    assert p.due(0.5, [P1, P2, P3]) == []
    assert p.due(backoff_s(1), [P1, P2, P3]) != []


def test_backoff_doubles_to_a_cap() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_s(40) == MAX_BACKOFF_S


def test_concurrency_bounds_the_blobs_in_flight() -> None:
    p = plan(concurrency=2)
    for i in range(5):
        p.want(content_hash(b"%d" % i))
    assert len(p.due(0.0, [P1])) == 2
    assert p.due(0.0, [P1]) == []


def test_a_peer_that_announces_it_holds_a_blob_is_asked_first_and_at_once() -> None:
    p = plan()
    p.want(BLOB)
    for _ in (P1, P2):
        [(blob, asked)] = p.due(0.0, [P1, P2])
        p.on_result(blob, asked, False, 0.0, [P1, P2])
    assert p.due(0.1, [P1, P2]) == []  # the round ended: waiting
    p.on_have(BLOB, P3, 0.2)
    assert p.due(0.2, [P1, P2, P3]) == [(BLOB, P3)]


def test_a_new_peer_ends_the_wait() -> None:
    p = plan()
    p.want(BLOB)
    [(blob, peer)] = p.due(0.0, [P1])
    p.on_result(blob, peer, False, 0.0, [P1])
    assert p.due(0.1, [P1, P2]) == []
    p.peer_joined(0.1)
    assert p.due(0.1, [P1, P2]) != []


def test_a_peer_that_sent_wrong_bytes_is_never_asked_for_that_blob_again() -> None:
    p = plan()
    p.want(BLOB)
    [(blob, peer)] = p.due(0.0, [P1])
    p.on_result(blob, peer, False, 0.0, [P1], lied=True)
    assert p.due(100.0, [P1]) == []
    p.peer_joined(100.0)
    assert p.due(100.0, [P1, P2]) == [(BLOB, P2)]


def test_a_fetched_blob_leaves_the_plan() -> None:
    p = plan()
    p.want(BLOB)
    [(blob, peer)] = p.due(0.0, [P1])
    p.on_result(blob, peer, True, 0.0, [P1])
    assert p.wants == {}


@dataclass
class _Info:
    pubkey: bytes


@dataclass
class ScriptedPeers:
    """Peers that answer content requests from a fixed table (the network, not the thing under test)."""

    answers: dict[bytes, dict[bytes, bytes | None]]
    penalties: list[tuple[bytes, int, str]] = field(default_factory=list)
    asked: list[bytes] = field(default_factory=list)
    haves: list[bytes] = field(default_factory=list)

    def peers(self) -> list[Any]:
        return [_Info(k) for k in self.answers]

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
        assert topic == "content"
        self.asked.append(peer)
        request = decode(payload)
        table = self.answers[peer]
        if request["hash"] not in table:
            raise P2PError("peer timed out")
        return chunk_reply(table[request["hash"]], request["offset"])

    def penalize(self, peer: bytes, points: int, reason: str) -> None:
        self.penalties.append((peer, points, reason))

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None:
        self.haves.append(payload)


def wanting(*blobs: bytes) -> ContentStore:
    from marketnode.core.keys import PrivateKey
    from marketnode.core.types import Tx

    key = PrivateKey(bytes([9]) * 32)
    store = ContentStore(MemoryKV(), MemoryBlobs(), limits(), CHAIN_ID)
    txs = [Tx(CHAIN_ID, key.public_key, i, "review_reply", {"order": i, "text_hash": b}, 0) for i, b in enumerate(blobs)]
    store.scan_block(1, txs, [True] * len(txs))
    return store


async def run_until(fetcher: Fetcher, done: Any, timeout_s: float = 5.0) -> None:
    task = asyncio.create_task(fetcher.run())
    try:
        await wait_for_async(done, timeout_s, "the fetcher to reach the test's condition")
    finally:
        task.cancel()


async def test_wrong_bytes_from_a_peer_are_dropped_the_peer_penalised_and_an_honest_peer_used() -> None:
    store = wanting(BLOB)
    peers = ScriptedPeers({P1: {BLOB: b"not the blob"}})
    fetcher = Fetcher(store, peers, 4, 1.0, 100, lambda: 0)
    task = asyncio.create_task(fetcher.run())
    try:
        await wait_for_async(lambda: peers.penalties, 5, "the peer sending wrong bytes to be penalised")
        assert store.get(BLOB) is None and store.is_wanted(BLOB) and fetcher.wrong_bytes == 1
        assert peers.penalties[0][:2] == (P1, WRONG_BYTES_PENALTY) and "wrong bytes" in peers.penalties[0][2]
        peers.answers[P2] = {BLOB: b"blob"}  # an honest peer connects
        fetcher.peer_joined()
        await wait_for_async(lambda: store.get(BLOB) is not None, 5, "the blob from the honest peer")
    finally:
        task.cancel()
    assert store.get(BLOB)[0] == b"blob" and not store.is_wanted(BLOB)
    assert [p for p, _, _ in peers.penalties] == [P1]
    assert peers.haves  # the node tells its peers it now holds the blob


async def test_only_liars_means_nothing_is_stored_and_the_blob_stays_wanted() -> None:
    store = wanting(BLOB)
    peers = ScriptedPeers({P1: {BLOB: b"lie one"}, P2: {BLOB: b"lie two"}})
    fetcher = Fetcher(store, peers, 4, 1.0, 100, lambda: 0)
    await run_until(fetcher, lambda: len(peers.penalties) >= 2)
    assert store.get(BLOB) is None and store.is_wanted(BLOB)
    assert {p for p, _, _ in peers.penalties} == {P1, P2}


async def test_a_peer_without_the_blob_is_not_penalised_and_the_holder_serves_it() -> None:
    store = wanting(BLOB, OTHER)
    peers = ScriptedPeers({P1: {BLOB: None}, P2: {BLOB: b"blob", OTHER: b"other"}})
    fetcher = Fetcher(store, peers, 1, 1.0, 100, lambda: 0)
    await run_until(fetcher, lambda: store.get(BLOB) is not None and store.get(OTHER) is not None)
    assert peers.penalties == []


async def test_right_bytes_that_are_not_acceptable_content_are_refused_for_good() -> None:
    bad = b"\xff\xfe binary, not text"
    store = wanting(content_hash(bad))
    peers = ScriptedPeers({P1: {content_hash(bad): bad}})
    fetcher = Fetcher(store, peers, 4, 1.0, 100, lambda: 0)
    await run_until(fetcher, lambda: store.refused(content_hash(bad)) is not None)
    assert not store.is_wanted(content_hash(bad)) and peers.penalties == []


@pytest.mark.parametrize("reply", [encode({"data": 5}), encode({"nope": 1}), b"\xc1"])
async def test_a_malformed_reply_stores_nothing_and_does_not_crash_the_fetcher(reply: bytes) -> None:
    store = wanting(BLOB)

    class Garbled(ScriptedPeers):
        async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
            self.asked.append(peer)
            return reply

    peers = Garbled({P1: {}})
    fetcher = Fetcher(store, peers, 4, 1.0, 100, lambda: 0)
    await run_until(fetcher, lambda: len(peers.asked) >= 1)
    assert store.get(BLOB) is None and store.is_wanted(BLOB)


def test_a_have_message_holds_at_most_256_hashes() -> None:
    hashes = [content_hash(b"%d" % i) for i in range(MAX_HAVE + 1)]
    assert parse_have(have_payload(hashes)) == hashes[:MAX_HAVE]
    with pytest.raises(DecodeError):
        parse_have(encode(hashes))
    with pytest.raises(DecodeError):
        parse_have(encode([b"short"]))


def test_a_content_reply_is_one_chunk_of_a_blob_within_the_limit() -> None:
    assert parse_chunk(chunk_reply(b"x" * 1000, 0), 1000) == (b"x" * 1000, 1000)
    assert parse_chunk(chunk_reply(None, 0), 1000) is None
    with pytest.raises(DecodeError):
        parse_chunk(chunk_reply(b"x" * 1001, 0), 1000)  # a blob over the limit
    with pytest.raises(DecodeError):
        parse_chunk(encode({"data": b"x" * (CHUNK_BYTES + 1), "size": CHUNK_BYTES + 1}), 10 * CHUNK_BYTES)
    big = bytes(range(256)) * 1200
    assert parse_chunk(chunk_reply(big, CHUNK_BYTES), len(big)) == (big[CHUNK_BYTES:2 * CHUNK_BYTES], len(big))


async def test_a_blob_larger_than_a_chunk_arrives_in_pieces_and_is_checked_whole() -> None:
    from content_samples import padded_png

    photo = padded_png(3 * CHUNK_BYTES + 5)
    store = wanting(content_hash(photo))
    peers = ScriptedPeers({P1: {content_hash(photo): photo}})
    fetcher = Fetcher(store, peers, 4, 1.0, 100, lambda: 0)
    await run_until(fetcher, lambda: store.get(content_hash(photo)) is not None)
    assert store.get(content_hash(photo))[0] == photo and len(peers.asked) == 4 and peers.penalties == []


async def test_a_peer_whose_chunks_do_not_add_up_is_penalised() -> None:
    store = wanting(BLOB)

    class Shifty(ScriptedPeers):
        async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
            offset = decode(payload)["offset"]
            self.asked.append(peer)
            return encode({"data": b"x" * CHUNK_BYTES, "size": CHUNK_BYTES * 2 + offset})  # a size that grows

    peers = Shifty({P1: {}})
    fetcher = Fetcher(store, peers, 4, 1.0, 100, lambda: 0)
    await run_until(fetcher, lambda: peers.penalties)
    assert store.get(BLOB) is None and peers.penalties[0][0] == P1


def test_the_fetcher_tracks_at_most_max_wanted_blobs() -> None:
    store = wanting(*(content_hash(b"w%d" % i) for i in range(5)))
    fetcher = Fetcher(store, ScriptedPeers({}), 4, 1.0, 3, lambda: 0)
    fetcher.reload()
    assert len(fetcher.plan.wants) == 3


def test_a_node_serves_a_content_request_chunk_by_chunk_and_refuses_a_malformed_one() -> None:
    from marketnode.node.content.fetch import serve_content

    data = bytes(range(256)) * 1000
    read = {content_hash(data): data}.get
    first = parse_chunk(serve_content(read, encode({"hash": content_hash(data), "offset": 0})), len(data))
    last = parse_chunk(serve_content(read, encode({"hash": content_hash(data), "offset": 2 * CHUNK_BYTES})), len(data))
    assert first == (data[:CHUNK_BYTES], len(data)) and last == (data[2 * CHUNK_BYTES:], len(data))
    assert parse_chunk(serve_content(read, encode({"hash": BLOB, "offset": 0})), len(data)) is None
    for bad in (encode({"hash": b"short", "offset": 0}), encode({"hash": BLOB}), encode({"hash": BLOB, "offset": -1})):
        with pytest.raises(DecodeError):
            serve_content(read, bad)
