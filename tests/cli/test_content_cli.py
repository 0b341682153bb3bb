"""content put/get and the commands that upload texts and images before referencing them, and print them back."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_node import FakeNode
from PIL import Image

from marketnode.cli.main import main
from marketnode.core.keys import PrivateKey

ALICE = PrivateKey(bytes([1]) * 32)


@pytest.fixture
def node():
    with FakeNode.running() as fake:
        yield fake


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "alice.key"
    ALICE.save(path)
    return path


@pytest.fixture
def photo(tmp_path: Path) -> tuple[Path, bytes]:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(out, "JPEG")
    path = tmp_path / "photo.jpg"
    path.write_bytes(out.getvalue())
    return path, out.getvalue()


def run(node: FakeNode, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--rpc", node.url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_content_put_prints_the_sha256_and_the_node_holds_the_bytes(node, key, photo):
    path, data = photo
    out = run(node, "content", "put", str(path), "--key-file", str(key))
    assert out.strip() == sha(data).hex() and node.blobs[sha(data).hex()] == data


def test_content_get_checks_the_bytes_against_the_hash(node, tmp_path):
    node.blobs[sha(b"right").hex()] = b"wrong"
    result = CliRunner().invoke(main, ["content", "get", sha(b"right").hex(), "--rpc", node.url])
    assert result.exit_code == 1 and "not" in result.output and "hash" in result.output


def test_listing_create_uploads_image_files_and_keeps_hashes_as_given(node, key, photo):
    path, data = photo
    node.events["listing_create"] = [{"kind": "listing_created", "attrs": {"listing": 4}}]
    given = "ab" * 32
    run(node, "listing", "create", "--shop", "1", "--title", "Mug", "--price", "5", "--asset", "MKT", "--stock", "1",
        "--category", "home", "--image", str(path), "--image", given, "--key-file", str(key))
    assert node.last_tx().body["images"] == [sha(data), bytes.fromhex(given)]
    assert node.blobs[sha(data).hex()] == data


def test_review_uploads_its_text_and_photo_and_references_both(node, key, photo):
    path, data = photo
    run(node, "review", "write", "3", "--rating", "5", "--text", "Lovely mug", "--photo", str(path),
        "--key-file", str(key))
    body = node.last_tx().body
    assert body["text_hash"] == sha(b"Lovely mug") and body["photo"] == sha(data)
    assert node.blobs[sha(b"Lovely mug").hex()] == b"Lovely mug" and node.blobs[sha(data).hex()] == data


def test_dispute_and_ruling_texts_are_uploaded(node, key, photo):
    path, data = photo
    node.events["order_dispute"] = [{"kind": "order_disputed", "attrs": {"deadline_ms": 1}}]
    run(node, "order", "dispute", "8", "--reason", "arrived broken", "--evidence", str(path), "--key-file", str(key))
    body = node.last_tx().body
    assert body["reason_hash"] == sha(b"arrived broken") and body["evidence"] == sha(data)
    node.methods["order_get"] = lambda p: {"id": 8, "asset": "MKT"}
    run(node, "order", "resolve", "8", "--buyer-amount", "3", "--ruling", "half each", "--key-file", str(key))
    assert node.last_tx().body["ruling_hash"] == sha(b"half each") and sha(b"half each").hex() in node.blobs


def test_review_reply_uploads_its_text(node, key):
    run(node, "review", "reply", "3", "--text", "Thank you!", "--key-file", str(key))
    assert node.last_tx().body["text_hash"] == sha(b"Thank you!") and sha(b"Thank you!").hex() in node.blobs


def test_review_list_prints_texts_and_flags_a_mismatch(node):
    good, bad = sha(b"Great lamp"), sha(b"honest words")
    node.blobs[good.hex()] = b"Great lamp"
    node.blobs[bad.hex()] = b"tampered words"
    item = {"listing": 1, "ratings": {"overall": 5}, "reviewer": ALICE.address, "seller": ALICE.address,
            "time_ms": 1, "photo": None}
    node.methods["review_list"] = lambda p: {"items": [{**item, "order": 1, "text_hash": good.hex(), "reply_hash": None},
                                                       {**item, "order": 2, "text_hash": bad.hex(),
                                                        "reply_hash": sha(b"absent").hex()}],
                                             "next_cursor": None}
    out = run(node, "review", "list", "--listing", "1")
    assert "order 1: Great lamp" in out
    assert "order 2: [MISMATCH" in out and "tampered" not in out
    assert "seller replied: [not on this node yet" in out


def test_order_show_prints_the_dispute_statement_and_ruling(node):
    reason, ruling = b"never arrived", b"full refund"
    node.blobs[sha(reason).hex()] = reason
    node.blobs[sha(ruling).hex()] = ruling
    node.methods["order_get"] = lambda p: {
        "id": 8, "status": "resolved", "listing": 1, "quantity": 1, "total": 5, "asset": "MKT", "buyer": ALICE.address,
        "seller": ALICE.address, "arbiter": ALICE.address, "buyer_amount": 5, "reason_hash": sha(reason).hex(),
        "ruling_hash": sha(ruling).hex(), "evidence_hash": "cd" * 32, "deadlines": {}, "timeline": []}
    out = run(node, "order", "show", "8")
    assert "never arrived" in out and "full refund" in out and f"/content/{'cd' * 32}" in out


def test_order_respond_uploads_the_answer_and_its_evidence(node, key, photo):
    path, data = photo
    run(node, "order", "respond", "8", "--statement", "sent intact", "--evidence", str(path), "--key-file", str(key))
    body = node.last_tx().body
    assert body["response_hash"] == sha(b"sent intact") and body["evidence"] == sha(data)
    assert node.blobs[sha(b"sent intact").hex()] == b"sent intact"


def test_content_put_drops_a_photos_gps_metadata_unless_told_to_keep_it(node, key, tmp_path):
    image = Image.new("RGB", (16, 16), (5, 5, 5))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    path = tmp_path / "home.jpg"
    path.write_bytes(out.getvalue())
    stripped_hash = run(node, "content", "put", str(path), "--key-file", str(key)).strip()
    assert b"Exif" not in node.blobs[stripped_hash]
    kept = CliRunner().invoke(main, ["content", "put", str(path), "--keep-metadata", "--key-file", str(key),
                                     "--rpc", node.url], catch_exceptions=False)
    assert kept.exit_code == 0 and node.blobs[kept.stdout.strip().splitlines()[-1]] == out.getvalue()
