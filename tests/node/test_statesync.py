"""State sync (issue 16 item 6): snapshots cut into chunks, verified against a certified root, restored.

The fetching machine (node/snapshot/fetch.py) is sans-IO, so most tests wire
it to real serving objects in memory: a source ChainStore with real
certificates, its SnapshotOffers and serve_blocks. The asyncio client is run
over a fake p2p whose peers answer from those same objects, one of them
tampering with what it serves.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from storage_samples import GENESIS_HASH, VALIDATOR_KEYS, block, certificate

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, MarketnodeError, P2PError, RpcError, StorageError
from marketnode.core.types import Block
from marketnode.node.api.chain import block_json
from marketnode.node.chain.sync import parse_blocks, serve_blocks
from marketnode.node.config import SyncSection
from marketnode.node.snapshot.client import StateSyncClient, parse_offers
from marketnode.node.snapshot.fetch import (
    ChunkFetch,
    Limits,
    Offer,
    SnapshotError,
    check_manifest,
    choose_offer,
    verify_anchor,
)
from marketnode.node.snapshot.format import ENTRY_OVERHEAD, Manifest, chunk_hash, cut_chunks, decode_chunk, encode_chunk
from marketnode.node.snapshot.offers import SnapshotGone, SnapshotOffers
from marketnode.node.storage import integrity, statetree
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.memory import MemoryKV
from marketnode.p2p.peer import PeerInfo

CHAIN_ID = "storage-test"
VALIDATORS = [k.public_key for k in VALIDATOR_KEYS]
LIMITS = Limits(max_chunk_bytes=1 << 20, max_chunks=1000, max_attempts=3)
PEERS = [bytes([n]) * 32 for n in (1, 2, 3)]


def changes_at(height: int) -> dict[bytes, bytes | None]:
    """What block ``height`` changes: a new key, a rewritten key and (from 3 on) a deleted one."""
    out: dict[bytes, bytes | None] = {b"acct/a": b"%d" % height, b"k/%03d" % height: b"v" * 40}
    if height > 2:
        out[b"k/%03d" % (height - 2)] = None
    return out


def commit(store: ChainStore, height: int, offers: SnapshotOffers | None = None) -> Block:
    head = store.head()
    assert head is not None
    b = block(height, head.block_hash, (), head.state_root)
    head = store.commit_block(b, certificate(b), [], changes_at(height))
    if offers is not None:
        offers.on_commit(head.height, head.state_root)
    return b


def source(blocks: int, interval: int = 4, chunk_bytes: int = 120) -> tuple[ChainStore, SnapshotOffers]:
    kv = MemoryKV()
    store = ChainStore(kv)
    store.init_genesis(GENESIS_HASH, {b"acct/a": b"100", **{b"g/%02d" % i: b"x" * 30 for i in range(20)}})
    offers = SnapshotOffers(kv, interval, 2, chunk_bytes)
    for height in range(1, blocks + 1):
        commit(store, height, offers)
    return store, offers


def fresh() -> ChainStore:
    store = ChainStore(MemoryKV())
    store.init_genesis(GENESIS_HASH, {b"acct/a": b"100", **{b"g/%02d" % i: b"x" * 30 for i in range(20)}})
    return store


def state_of(store: ChainStore) -> dict[bytes, bytes]:
    return dict(store.state_reader().iterate())


class Peer:
    """One serving node, as the p2p request channel sees it; ``tamper`` rewrites its chunk answers."""

    def __init__(self, store: ChainStore, offers: SnapshotOffers, tamper=None) -> None:
        self.store, self.offers, self.tamper = store, offers, tamper
        self.asked: list[tuple[str, bytes]] = []

    def serve(self, topic: str, payload: bytes) -> bytes:
        self.asked.append((topic, payload))
        if topic == "blocks":
            return serve_blocks(self.store, payload)
        answer = self.offers.serve(topic, payload, self.store.head().height)
        if topic == "snapshot_chunk" and self.tamper is not None:
            return self.tamper(decode(payload)["index"], answer)
        return answer


def flip(index: int, data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def drive(peers: dict[bytes, Peer], offer: Offer) -> tuple[object, dict[bytes, bytes], ChunkFetch]:
    """The fetch machine against in-memory peers, answers in request order (what client.py does over p2p)."""
    first = peers[sorted(peers)[0]]
    served = parse_blocks(first.serve("blocks", encode({"from": offer.height, "max": 2})), 1 << 24)
    anchor = verify_anchor(CHAIN_ID, VALIDATORS, offer.height, served)
    manifest = check_manifest(first.serve("snapshot_manifest", encode({"height": offer.height})), offer, anchor,
                              LIMITS)
    fetch = ChunkFetch(manifest, sorted(peers), LIMITS)
    while not fetch.done:
        requests = fetch.next_requests()
        assert requests, fetch.stuck()
        for peer, index in requests:
            fetch.on_chunk(peer, index, peers[peer].serve("snapshot_chunk", encode({"height": offer.height,
                                                                                   "index": index})))
    return anchor, fetch.entries(), fetch


def offer_of(offers: SnapshotOffers, head: int) -> Offer:
    height, manifest = offers.offers(head)[0]
    return Offer(height, manifest)


# -- the format ---------------------------------------------------------------


def test_chunks_are_cut_exactly_at_the_budget():
    entries = [(b"k%d" % i, b"v" * 10) for i in range(4)]  # each costs 2 + 10 + overhead
    cost = 12 + ENTRY_OVERHEAD
    assert [len(c) for c in cut_chunks(entries, 2 * cost)] == [2, 2]  # exactly two fit
    assert [len(c) for c in cut_chunks(entries, 2 * cost - 1)] == [1, 1, 1, 1]  # one byte less: one each
    big = [(b"a", b"v"), (b"b", b"x" * 500), (b"c", b"v")]
    assert [len(c) for c in cut_chunks(big, 100)] == [1, 1, 1]  # an entry over the budget is a chunk alone


def test_a_chunk_decodes_only_as_ascending_pairs_within_its_size_limit():
    good = encode_chunk([(b"a", b"1"), (b"b", b"2")])
    assert decode_chunk(good, len(good)) == [(b"a", b"1"), (b"b", b"2")]
    with pytest.raises(DecodeError, match="exceeds"):
        decode_chunk(good, len(good) - 1)
    for bad in (encode([[b"b", b"1"], [b"a", b"2"]]), encode([[b"a", b"1"], [b"a", b"2"]]), encode([]),
                encode([[b"a", "text"]]), encode({"a": b"1"}), encode([[b"a"]])):
        with pytest.raises(DecodeError):
            decode_chunk(bad, 1 << 20)


def test_a_manifest_round_trips_and_is_refused_past_the_chunk_limit():
    manifest = Manifest(7, b"\x05" * 32, 10, tuple(bytes([i]) * 32 for i in range(5)))
    assert Manifest.decode(manifest.encode(), 5) == manifest
    with pytest.raises(DecodeError, match=r"exceeds|more than 4"):
        Manifest.decode(manifest.encode(), 4)
    with pytest.raises(DecodeError, match="no chunks"):
        Manifest.decode(replace(manifest, chunks=()).encode(), 5)


# -- the serving side -----------------------------------------------------------


def test_a_snapshot_is_offered_only_once_its_successor_block_exists_and_only_the_last_kept():
    store, offers = source(8)  # views after blocks 4 and 8
    assert [h for h, _ in offers.offers(8)] == [4]  # 8 has no certified root yet
    commit(store, 9, offers)
    assert [h for h, _ in offers.offers(9)] == [8, 4]
    for height in range(10, 13):
        commit(store, height, offers)  # a view after 12: the one after 4 is released
    assert [h for h, _ in offers.offers(12)] == [8]
    with pytest.raises(SnapshotGone):
        offers.serve("snapshot_manifest", encode({"height": 4}), 12)
    with pytest.raises(DecodeError):
        offers.serve("snapshot_chunk", encode({"height": 8, "index": 10**6}), 12)


def test_manifests_prepared_in_a_worker_thread_are_the_ones_served_and_a_released_view_is_gone():
    import threading

    store, offers = source(9)
    worker = threading.Thread(target=offers.prepare, args=(9,))
    worker.start()
    worker.join()
    prepared = offers.offers(9)
    assert [h for h, _ in prepared] == [8, 4]
    for height in range(10, 12):
        commit(store, height)  # the live state moves on; the prepared manifests stay those of their views
    assert Manifest.decode(offers.serve("snapshot_manifest", encode({"height": 8}), 9), 1000).hash == prepared[0][1]
    offers.close()
    offers.close()  # releasing twice is harmless
    with pytest.raises(SnapshotGone):
        offers.serve("snapshot_manifest", encode({"height": 8}), 9)


def test_served_chunks_hold_the_state_after_their_block_not_the_live_one():
    store, offers = source(9)
    expected = state_of(store)
    for height in range(10, 13):
        commit(store, height)  # the live state moves on; the view of block 8 does not
    offer = offer_of(offers, 12)
    assert offer.height == 8
    manifest = Manifest.decode(offers.serve("snapshot_manifest", encode({"height": 8}), 12), 1000)
    assert manifest.hash == offer.manifest_hash and len(manifest.chunks) > 3
    served: dict[bytes, bytes] = {}
    for index, want in enumerate(manifest.chunks):
        data = offers.serve("snapshot_chunk", encode({"height": 8, "index": index}), 12)
        assert chunk_hash(data) == want
        served.update(decode_chunk(data, 1 << 20))
    fresh_store = fresh()
    commit_free = {k: v for k, v in expected.items()}
    assert len(served) == manifest.entries
    # the state after block 8 is the live state after block 9 minus block 9's changes
    commit_free.update({b"acct/a": b"8", b"k/007": b"v" * 40})
    commit_free.pop(b"k/009")
    assert served == commit_free
    assert fresh_store.head().height == 0


# -- choosing, anchoring, checking -------------------------------------------------


def test_the_highest_offer_wins_then_the_most_offered_and_refused_ones_never():
    a, b = Offer(8, b"\x01" * 32), Offer(8, b"\x02" * 32)
    offers = {PEERS[0]: [a, Offer(4, b"\x03" * 32)], PEERS[1]: [b], PEERS[2]: [b, Offer(0, b"\x04" * 32)]}
    assert choose_offer(offers, set()) == (b, [PEERS[1], PEERS[2]])
    assert choose_offer(offers, {b.manifest_hash}) == (a, [PEERS[0]])
    assert choose_offer({PEERS[0]: [Offer(0, b"\x04" * 32)]}, set()) is None  # the genesis is no snapshot


def test_the_anchor_needs_a_quorum_certificate_of_the_successor_naming_the_block():
    store, _ = source(9)
    good = parse_blocks(serve_blocks(store, encode({"from": 8, "max": 2})), 1 << 24)
    anchor = verify_anchor(CHAIN_ID, VALIDATORS, 8, good)
    assert (anchor.height, anchor.block.height) == (8, 8)
    assert anchor.state_root == good[1][0].header.state_root == statetree.root_entry(store.kv, 8).hash
    (b8, c8), (b9, c9) = good
    weak = certificate(b9, signers=2)  # 2 of 4: no quorum
    cases = {
        "no quorum": [(b8, c8), (b9, weak)],
        "another chain": [(b8, c8), (b9, c9)],
        "not the parent": [(good[0][0], c8), (block(9, b"\x07" * 32, (), b9.header.state_root), c9)],
        "heights": [(b9, c9), (b9, c9)],
        "one block": [(b8, c8)],
    }
    for name, served in cases.items():
        chain = "other" if name == "another chain" else CHAIN_ID
        with pytest.raises(SnapshotError):
            verify_anchor(chain, VALIDATORS, 8, served)
    with pytest.raises(SnapshotError):
        verify_anchor(CHAIN_ID, [k.public_key for k in VALIDATOR_KEYS[1:]] + [b"\x09" * 32], 8, good)


def test_a_manifest_must_be_the_offered_one_for_the_certified_root():
    store, offers = source(9)
    offer = offer_of(offers, 9)
    anchor = verify_anchor(CHAIN_ID, VALIDATORS, 8, parse_blocks(serve_blocks(store, encode({"from": 8, "max": 2})),
                                                                 1 << 24))
    data = offers.serve("snapshot_manifest", encode({"height": 8}), 9)
    assert check_manifest(data, offer, anchor, LIMITS).height == 8
    lie = Manifest.decode(data, 1000)
    for forged in (replace(lie, state_root=b"\x01" * 32), replace(lie, height=7)):
        with pytest.raises(SnapshotError):
            check_manifest(forged.encode(), offer, anchor, LIMITS)  # not the offered hash
        with pytest.raises(SnapshotError):
            check_manifest(forged.encode(), Offer(8, forged.hash), anchor, LIMITS)  # offered, but not certified
    with pytest.raises(SnapshotError, match="decode"):
        check_manifest(data, offer, anchor, replace(LIMITS, max_chunks=len(lie.chunks) - 1))


# -- fetching chunks -------------------------------------------------------------


def test_a_fresh_store_restores_the_snapshot_and_then_follows_blocks_to_the_same_root():
    store, offers = source(9)
    peers = {p: Peer(store, offers) for p in PEERS}
    anchor, state, _ = drive(peers, offer_of(offers, 9))
    joined = fresh()
    head = joined.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)
    assert (head.height, head.state_root) == (8, store.get_block(9).header.state_root)
    assert joined.base_height() == 8
    nine = store.get_block(9)
    joined.commit_block(nine, store.get_certificate(9), [], changes_at(9))
    commit(joined, 10)
    commit(store, 10)
    assert joined.head().state_root == store.head().state_root
    assert state_of(joined) == state_of(store)
    check = integrity.verify_chain(joined, full=True)  # from the base: no blocks below it are asked for
    assert (check.first_height, check.head_height) == (9, 10)
    reopened = ChainStore(joined.kv)
    assert reopened.head() == joined.head() and reopened.base_height() == 8


def test_a_tampered_chunk_is_rejected_its_peer_dropped_and_the_chunk_fetched_elsewhere():
    store, offers = source(9)
    liar = PEERS[0]
    peers = {p: Peer(store, offers, tamper=flip if p == liar else None) for p in PEERS}
    offer = offer_of(offers, 9)
    anchor, state, fetch = drive(peers, offer)
    assert fetch.bad == {liar}
    chunk_asks = [p for p in PEERS for t, _ in peers[p].asked if t == "snapshot_chunk"]
    assert chunk_asks.count(liar) == 1  # asked once, never again
    joined = fresh()
    joined.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)
    assert joined.head().height == 8


def test_a_chunk_that_hashes_right_is_all_a_fetcher_needs_but_a_failed_request_moves_it():
    _, offers = source(9)
    offer = offer_of(offers, 9)
    manifest = Manifest.decode(offers.serve("snapshot_manifest", encode({"height": 8}), 9), 1000)
    fetch = ChunkFetch(manifest, PEERS[:2], LIMITS)
    (p0, i0), (p1, i1) = fetch.next_requests()
    assert {i0, i1} == {0, 1} and fetch.next_requests() == []  # one request per peer at a time
    fetch.on_failure(p0, i0)  # a timeout: no blame, but that chunk goes to the other peer next
    data = offers.serve("snapshot_chunk", encode({"height": offer.height, "index": i1}), 9)
    assert fetch.on_chunk(p1, i1, data) is None
    assert (p1, i0) in fetch.next_requests() and not fetch.bad


def test_a_snapshot_is_given_up_after_the_attempt_limit_or_when_every_peer_lied():
    _, offers = source(9)
    manifest = Manifest.decode(offers.serve("snapshot_manifest", encode({"height": 8}), 9), 1000)
    fetch = ChunkFetch(manifest, [PEERS[0]], replace(LIMITS, max_attempts=2))
    for _ in range(2):
        [(peer, index)] = fetch.next_requests()
        assert fetch.stuck() is None
        fetch.on_failure(peer, index)
    assert "failed 2 times" in fetch.stuck()
    fetch = ChunkFetch(manifest, PEERS[:2], LIMITS)
    for peer, index in fetch.next_requests():
        assert fetch.on_chunk(peer, index, b"\x90") is not None  # wrong hash
    assert "bad chunk" in fetch.stuck()
    big = ChunkFetch(manifest, PEERS[:1], replace(LIMITS, max_chunk_bytes=4))
    [(peer, index)] = big.next_requests()
    data = offers.serve("snapshot_chunk", encode({"height": 8, "index": index}), 9)
    assert "over the limit" in big.on_chunk(peer, index, data)


def test_chunks_that_hash_right_but_do_not_join_up_are_refused():
    pairs = [[(b"b", b"1")], [(b"a", b"2")]]
    chunks = [encode_chunk(p) for p in pairs]
    manifest = Manifest(3, b"\x00" * 32, 2, tuple(chunk_hash(c) for c in chunks))
    fetch = ChunkFetch(manifest, PEERS[:2], LIMITS)
    for peer, index in fetch.next_requests():
        assert fetch.on_chunk(peer, index, chunks[index]) is None
    with pytest.raises(SnapshotError, match="does not start after"):
        fetch.entries()


# -- restoring --------------------------------------------------------------------


def test_a_state_that_does_not_hash_to_the_certified_root_is_refused_and_nothing_written():
    store, offers = source(9)
    anchor, state, _ = drive({p: Peer(store, offers) for p in PEERS}, offer_of(offers, 9))
    joined = fresh()
    before = state_of(joined)
    for forged in ({**state, b"acct/a": b"1000000"}, {k: v for k, v in state.items() if k != b"acct/a"}):
        with pytest.raises(StorageError, match="certified state root"):
            joined.restore_snapshot(anchor.block, anchor.certificate, forged, anchor.state_root)
        assert joined.head().height == 0 and state_of(joined) == before
    joined.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)
    with pytest.raises(StorageError, match="genesis"):  # only ever into a fresh store
        joined.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)


def test_blocks_below_a_restored_snapshot_answer_a_clear_error():
    store, offers = source(9)
    anchor, state, _ = drive({p: Peer(store, offers) for p in PEERS}, offer_of(offers, 9))
    joined = fresh()
    joined.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)
    node = SimpleNamespace(store=joined)
    with pytest.raises(RpcError, match="snapshot of height 8"):
        block_json(node, 3)
    assert block_json(node, 8)["height"] == 8  # the anchor block itself is kept
    assert parse_blocks(serve_blocks(joined, encode({"from": 1, "max": 5})), 1 << 24) == []  # a replayer asks another
    assert [b.height for b, _ in parse_blocks(serve_blocks(joined, encode({"from": 8, "max": 5})), 1 << 24)] == [8]


# -- the asyncio client over a fake p2p ------------------------------------------


class FakeP2P:
    def __init__(self, peers: dict[bytes, Peer], silent: set[bytes] = frozenset()) -> None:
        self.nodes = peers
        self.silent = silent
        self.penalties: list[tuple[bytes, str]] = []

    def peers(self) -> list[PeerInfo]:
        return [PeerInfo(k, None, "outbound", 0.0, 0.0, 0, 0, 0, 0, 0, reserved=False) for k in self.nodes]

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
        if peer in self.silent:
            raise P2PError("timed out")
        try:
            return self.nodes[peer].serve(topic, payload)
        except MarketnodeError as exc:  # what the remote handler's error becomes on the wire
            raise P2PError(f"refused: {exc}") from None

    def penalize(self, peer: bytes, points: int, reason: str) -> None:
        self.penalties.append((peer, reason))


async def test_the_client_restores_through_a_liar_and_a_silent_peer_penalising_only_the_liar():
    store, offers = source(9)
    liar, silent = PEERS[0], PEERS[1]
    peers = {p: Peer(store, offers, tamper=flip if p == liar else None) for p in PEERS}
    p2p = FakeP2P(peers, silent={silent})
    joined = fresh()

    async def restore(anchor, state):
        joined.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)

    cfg = SyncSection(mode="snapshot", max_chunk_attempts=10)
    assert await StateSyncClient(p2p, CHAIN_ID, VALIDATORS, cfg, 1 << 24, restore).run()
    assert joined.head().height == 8
    assert {p for p, _ in p2p.penalties} == {liar}


async def test_the_client_gives_up_on_a_snapshot_whose_state_is_a_lie_and_replays_instead():
    store, offers = source(9)
    peers = {p: Peer(store, offers) for p in PEERS}
    p2p = FakeP2P(peers)

    async def restore(anchor, state):
        raise StorageError("does not hash to the certified state root")

    client = StateSyncClient(p2p, CHAIN_ID, VALIDATORS, SyncSection(mode="snapshot", discovery_s=0), 1 << 24,
                             restore)
    assert not await client.run()
    assert {p for p, _ in p2p.penalties} == set(PEERS)  # everyone who offered that manifest
    assert client.refused == {m for _, m in offers.offers(9)}  # the one at 8, then the older one at 4


def test_an_offers_reply_is_bounded():
    assert parse_offers(encode({"snapshots": [{"height": 3, "manifest": b"\x01" * 32}]})) == [Offer(3, b"\x01" * 32)]
    with pytest.raises(DecodeError):
        parse_offers(encode({"snapshots": [{"height": 3, "manifest": b"\x01" * 32}] * 17}))
    with pytest.raises(DecodeError):
        parse_offers(encode({"snapshots": [{"height": 3, "manifest": b"\x01" * 31}]}))


@pytest.mark.parametrize("text, message", [
    ("[sync]\nmode = 'fast'\n", "sync.mode"),
    ("[sync]\nmax_chunk_bytes = 0\n", "sync.max_chunk_bytes"),
    ("[sync]\nmax_chunks = 0\n", "sync.max_chunks"),
    ("[sync]\nsnapshot_interval = -1\n", "sync.snapshot_interval"),
])
def test_sync_settings_are_checked_on_load(tmp_path, text, message):
    from marketnode.core.errors import ConfigError
    from marketnode.node.config import CONFIG_FILE, load_config

    (tmp_path / CONFIG_FILE).write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)
    (tmp_path / CONFIG_FILE).write_text("[sync]\nmode = 'snapshot'\nmax_chunk_bytes = 1\nmax_chunks = 1\n")
    assert load_config(tmp_path).sync.max_chunk_bytes == 1  # the edge itself is allowed


async def test_a_block_committed_meanwhile_ends_state_sync_without_blaming_anyone():
    store, offers = source(9)
    p2p = FakeP2P({p: Peer(store, offers) for p in PEERS})
    joined = fresh()

    async def restore(anchor, state):  # consensus committed block 1 before the restore reached the store
        commit(joined, 1)
        joined.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)

    client = StateSyncClient(p2p, CHAIN_ID, VALIDATORS, SyncSection(mode="snapshot"), 1 << 24, restore,
                             fresh=lambda: joined.head().height == 0)
    assert not await client.run()
    assert p2p.penalties == [] and joined.head().height == 1
