"""The content store: upload authorisation, quotas and rates at their edges, retention that follows the chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from content_samples import CHAIN_ID, auth, image, limits

from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.core.upload import UploadAuth, content_hash
from marketnode.node.content.blobs import FileBlobs, MemoryBlobs
from marketnode.node.content.kinds import PNG, TEXT, ContentRefused
from marketnode.node.content.store import ContentLimited, ContentStore
from marketnode.node.storage.memory import MemoryKV

NOW = 1_800_000_000_000
ALICE = PrivateKey(bytes([7]) * 32)
BOB = PrivateKey(bytes([8]) * 32)


def make_store(**changes: int) -> ContentStore:
    return ContentStore(MemoryKV(), MemoryBlobs(), limits(**changes), CHAIN_ID)


def put(store: ContentStore, data: bytes, key: PrivateKey = ALICE, now: int = NOW, **kw: str) -> object:
    return store.put_upload(data, auth(key, data, now), now, **kw)


def block(height: int, *txs: tuple[str, dict]) -> tuple[int, list[Tx]]:
    return height, [Tx(CHAIN_ID, ALICE.public_key, i, kind, body, 0).sign(ALICE) for i, (kind, body) in enumerate(txs)]


def test_an_upload_is_stored_under_its_sha256_with_its_sniffed_type() -> None:
    store = make_store()
    data = image("PNG")
    info = put(store, data)
    assert info.hash == content_hash(data) and info.content_type == PNG and not info.pinned
    assert store.get(info.hash)[0] == data
    assert put(store, b"a review").content_type == TEXT


def test_a_signature_over_another_hash_is_refused_as_wrong_hash() -> None:
    store = make_store()
    signed = auth(ALICE, b"what was signed", NOW)
    with pytest.raises(ContentRefused) as refused:
        store.put_upload(b"what was sent", signed, NOW)
    assert refused.value.reason == "wrong_hash"


def test_a_forged_or_other_chain_signature_is_refused() -> None:
    store = make_store()
    data = b"hello"
    forged = UploadAuth(content_hash(data), ALICE.public_key, NOW).sign(BOB, CHAIN_ID)
    with pytest.raises(ContentRefused) as refused:
        store.put_upload(data, forged, NOW)
    assert refused.value.reason == "bad_signature"
    with pytest.raises(ContentRefused):
        store.put_upload(data, auth(ALICE, data, NOW, chain_id="other-chain"), NOW)


def test_the_signed_time_is_accepted_up_to_the_window_and_not_a_ms_beyond() -> None:
    store = make_store(auth_window_ms=1000)
    store.put_upload(b"early", auth(ALICE, b"early", NOW - 1000), NOW)
    store.put_upload(b"late", auth(ALICE, b"late", NOW + 1000), NOW)
    for skew in (-1001, 1001):
        with pytest.raises(ContentRefused) as refused:
            store.put_upload(b"x%d" % skew, auth(ALICE, b"x%d" % skew, NOW + skew), NOW)
        assert refused.value.reason == "stale_time"


def test_the_per_account_blob_quota_holds_at_its_edge_and_other_accounts_are_unaffected() -> None:
    store = make_store(account_pending_blobs=3)
    for i in range(3):
        put(store, b"text %d" % i)
    with pytest.raises(ContentLimited) as limited:
        put(store, b"text 3")
    assert limited.value.reason == "quota_blobs"
    put(store, b"text 3", key=BOB)
    put(store, b"text 0")  # already held: no charge, no refusal


def test_the_per_account_byte_quota_holds_at_its_edge() -> None:
    store = make_store(account_pending_bytes=100)
    put(store, b"a" * 60)
    put(store, b"b" * 40)
    assert store.account_usage(ALICE.public_key) == (2, 100)
    with pytest.raises(ContentLimited) as limited:
        put(store, b"c")
    assert limited.value.reason == "quota_bytes"


def test_the_node_wide_cap_on_unreferenced_bytes_holds() -> None:
    store = make_store(total_pending_bytes=50)
    put(store, b"a" * 50)
    with pytest.raises(ContentLimited) as limited:
        put(store, b"b", key=BOB)
    assert limited.value.reason == "node_full"


def test_the_upload_rate_holds_at_its_edge_and_recovers_after_a_minute() -> None:
    store = make_store(account_uploads_per_minute=3)
    for i in range(3):
        put(store, b"r%d" % i, now=NOW + i)
    with pytest.raises(ContentLimited) as limited:
        put(store, b"r3", now=NOW + 10)
    assert limited.value.reason == "rate" and limited.value.retry_after_s == 60
    put(store, b"r3", now=NOW + 60_001)


def test_refused_signed_attempts_count_against_the_rate_too() -> None:
    store = make_store(account_uploads_per_minute=2)
    for _ in range(2):
        with pytest.raises(ContentRefused):
            put(store, b"\xff not text")
    with pytest.raises(ContentLimited) as limited:
        put(store, b"fine text")
    assert limited.value.reason == "rate"


def test_a_referenced_upload_is_pinned_out_of_the_quota_and_never_expires() -> None:
    store = make_store(account_pending_blobs=1, unreferenced_ttl_ms=1000)
    photo = image("PNG")
    info = put(store, photo)
    store.scan_block(*block(1, ("listing_update", {"listing": 1, "images": [info.hash]})), [True])
    assert store.info(info.hash).pinned and store.account_usage(ALICE.public_key) == (0, 0)
    put(store, b"next")  # the quota slot is free again
    assert store.sweep(NOW + 10_000) == 1  # only "next" expires
    assert store.get(info.hash) is not None and store.get(content_hash(b"next")) is None


def test_an_unreferenced_upload_expires_at_its_time_and_not_before() -> None:
    store = make_store(unreferenced_ttl_ms=1000)
    info = put(store, b"forgotten")
    assert store.sweep(NOW + 999) == 0 and store.get(info.hash) is not None
    assert store.sweep(NOW + 1000) == 1
    assert store.get(info.hash) is None and store.account_usage(ALICE.public_key) == (0, 0)
    assert store.pending_bytes == 0


def test_a_failed_tx_pins_nothing_and_a_missing_blob_is_wanted() -> None:
    store = make_store()
    info = put(store, b"statement")
    missing = content_hash(b"held by someone else")
    wanted = store.scan_block(*block(1, ("order_dispute", {"order": 1, "reason_hash": info.hash}),
                                    ("review", {"order": 2, "text_hash": missing, "photo": missing})), [False, True])
    assert not store.info(info.hash).pinned
    assert wanted == [missing] and list(store.wanted()) == [missing]
    assert store.scanned_height() == 1


def test_a_wanted_blob_uploaded_later_is_pinned_without_quota() -> None:
    store = make_store(account_pending_blobs=0)
    data = b"ruling text"
    store.scan_block(*block(1, ("order_resolve", {"order": 1, "buyer_amount": 0, "ruling_hash": content_hash(data)})),
                     [True])
    info = put(store, data)
    assert info.pinned and not store.is_wanted(info.hash)


def test_fetched_bytes_must_hash_to_the_wanted_hash() -> None:
    store = make_store()
    wanted = content_hash(b"the real text")
    store.scan_block(*block(1, ("review_reply", {"order": 1, "text_hash": wanted})), [True])
    with pytest.raises(ValueError):
        store.store_fetched(wanted, b"other bytes", NOW)
    assert store.is_wanted(wanted) and store.get(wanted) is None
    assert store.store_fetched(wanted, b"the real text", NOW).pinned
    assert not store.is_wanted(wanted)


def test_a_damaged_blob_file_is_never_served_and_is_wanted_again(tmp_path: Path) -> None:
    store = ContentStore(MemoryKV(), FileBlobs(tmp_path), limits(), CHAIN_ID)
    data = b"kept text"
    info = put(store, data)
    store.scan_block(*block(1, ("review_reply", {"order": 1, "text_hash": info.hash})), [True])
    path = tmp_path / info.hash.hex()[:2] / info.hash.hex()
    path.write_bytes(b"kept texT")
    assert store.get(info.hash) is None
    assert store.is_wanted(info.hash)


def test_a_blob_file_left_without_metadata_is_adopted_when_the_chain_references_it(tmp_path: Path) -> None:
    data = image("PNG")
    FileBlobs(tmp_path).put(content_hash(data), data)  # e.g. the database was rebuilt, the files kept
    store = ContentStore(MemoryKV(), FileBlobs(tmp_path), limits(), CHAIN_ID)
    wanted = store.scan_block(*block(1, ("review", {"order": 1, "text_hash": content_hash(b"t"),
                                                  "photo": content_hash(data)})), [True])
    assert wanted == [content_hash(b"t")]
    assert store.get(content_hash(data))[0] == data and store.info(content_hash(data)).pinned


def test_the_scanned_height_is_kept_in_memory_and_saved_only_with_pins_or_every_hundred_blocks():
    """Regression: saving it after every block made that derived marker the last record of the chain's
    LevelDB log, so a torn last write no longer hit a block (tests/reliability/test_disk_damage.py)."""
    from marketnode.node.content.store import SCAN_KEY, SCAN_SAVE_EVERY

    store = make_store()
    writes_before = store.kv.get(SCAN_KEY)
    store.scan_block(1, [], [])
    assert store.scanned_height() == 1 and store.kv.get(SCAN_KEY) == writes_before  # nothing saved
    store.scan_block(SCAN_SAVE_EVERY, [], [])
    assert store.kv.get(SCAN_KEY) is not None and store.scanned_height() == SCAN_SAVE_EVERY
