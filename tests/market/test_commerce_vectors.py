"""docs/test-vectors/commerce.json: the commerce txs' bytes, signatures and hashes, and their bodies are valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketnode.core.encoding import encode
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.market.schema import validate_body

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "test-vectors" / "commerce.json"
CASES = json.loads(VECTORS.read_text())["txs"]
PROTOCOL = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()


def from_json(value):
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_commerce_vector(case):
    key = PrivateKey(bytes.fromhex(case["seed"]))
    fields = from_json(case["fields"])
    assert encode(fields).hex() == case["unsigned_canonical"]
    tx = Tx(**fields).sign(key)
    assert tx.signing_bytes().hex() == case["signing_message"]
    assert tx.sig.hex() == case["signature"]
    assert tx.encode().hex() == case["signed_canonical"]
    assert tx.hash.hex() == case["hash"]
    assert Tx.decode(bytes.fromhex(case["signed_canonical"])).verify()
    validate_body(fields["kind"], fields["body"])  # a valid body, not only valid bytes


def test_every_commerce_kind_has_a_vector_and_protocol_md_shows_the_worked_one():
    kinds = {from_json(c["fields"])["kind"] for c in CASES}
    assert kinds >= {"order_cart", "order_refund_offer", "order_refund_accept", "aftersales_deposit", "aftersales_withdraw",
                     "return_request", "return_answer", "return_resolve", "return_ship", "return_receive",
                     "return_collect", "return_claim", "coupon_issue", "coupon_revoke"}
    refund = next(c for c in CASES if c["name"] == "refund offer")
    assert refund["unsigned_canonical"] in PROTOCOL.replace("\n", "") and refund["hash"] in PROTOCOL
