"""Listing terms, refunds, returns and coupons from the CLI: what it signs, checked against a scripted node."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_node import FakeNode

from marketnode.cli.main import main
from marketnode.core.keys import PrivateKey

ALICE = PrivateKey(bytes([1]) * 32)
GRACE = PrivateKey(bytes([3]) * 32)
TEE = {"id": 7, "type": "physical", "asset": "USDX", "price": 1250, "seller": GRACE.address, "shop": 2,
       "regions": ["DE", "US"], "options": [{"name": "size", "values": ["S", "L"]}],
       "variants": [{"sku": "TEE-S", "choice": ["S"], "price_delta": -250, "stock": 3},
                    {"sku": "TEE-L", "choice": ["L"], "price_delta": 0, "stock": 1}],
       "shipping": [{"service": "DHL", "regions": ["DE"], "price": 700, "min_days": 2, "max_days": 4}]}


@pytest.fixture
def node():
    with FakeNode.running() as fake:
        fake.methods["listing_get"] = lambda p: dict(TEE)
        fake.events["order_place"] = [{"kind": "order_placed", "attrs": {"order": 9, "total": 1700,
                                                                         "deadline_ms": 1_700_000_000_000}}]
        fake.events["listing_create"] = [{"kind": "listing_created", "attrs": {"listing": 7}}]
        yield fake


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "alice.key"
    ALICE.save(path)
    return path


def run(node: FakeNode, key: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--key-file", str(key), "--rpc", node.url], catch_exceptions=False)


def test_listing_create_signs_options_variants_and_shipping_in_the_smallest_unit(node, key):
    result = run(node, key, "listing", "create", "--shop", "2", "--title", "Tee", "--price", "12.50", "--asset",
                 "USDX", "--category", "clothes", "--option", "size=S,L", "--variant", "TEE-S=S:-2.50:3",
                 "--variant", "TEE-L=L:+0:1", "--shipping", "DHL=DE:7.00:2-4", "--shipping", "post=*:0:5-9")
    assert result.exit_code == 0, result.output
    body = node.last_tx().body
    assert body["options"] == [{"name": "size", "values": ["S", "L"]}]
    assert body["variants"] == [{"sku": "TEE-S", "choice": ["S"], "price_delta": -250, "stock": 3},
                                {"sku": "TEE-L", "choice": ["L"], "price_delta": 0, "stock": 1}]
    assert body["stock"] == 4  # the variants' sum
    assert body["shipping"][0] == {"service": "DHL", "regions": ["DE"], "price": 700, "min_days": 2, "max_days": 4}
    assert body["shipping"][1]["regions"] == []


def test_a_malformed_variant_is_a_usage_error_before_signing(node, key):
    result = run(node, key, "listing", "create", "--shop", "2", "--title", "Tee", "--price", "12.50", "--asset",
                 "USDX", "--category", "clothes", "--option", "size=S", "--variant", "TEE-S=S:3")
    assert result.exit_code == 2 and "SKU=CHOICE/CHOICE:PRICE_CHANGE:STOCK" in result.output
    assert not [m for m, _ in node.calls if m == "tx_send"]


def test_order_place_names_variant_and_shipping_and_declares_the_region(node, key):
    result = run(node, key, "order", "place", "7", "--quantity", "2", "--variant", "TEE-S", "--shipping", "DHL",
                 "--address", "Hauptstr. 1, Berlin, DE", "--no-arbiter")
    assert result.exit_code == 0, result.output
    body = node.last_tx().body
    assert (body["variant"], body["shipping"], body["region"]) == ("TEE-S", "DHL", "DE")
    assert body["max_total"] == 1000 * 2 + 700


def test_order_place_without_a_variant_names_the_choices(node, key):
    result = run(node, key, "order", "place", "7", "--shipping", "DHL", "--address", "Hauptstr. 1, Berlin, DE",
                 "--no-arbiter")
    assert result.exit_code == 2 and "choose --variant from TEE-S, TEE-L" in result.output
    result = run(node, key, "order", "place", "7", "--variant", "TEE-L", "--address", "Hauptstr. 1, Berlin, DE",
                 "--no-arbiter")
    assert result.exit_code == 2 and "choose --shipping from 'DHL'" in result.output


def test_refund_offer_and_accept_sign_the_amount_in_the_smallest_unit(node, key):
    node.methods["order_get"] = lambda p: {"id": 9, "asset": "USDX"}
    result = run(node, key, "order", "refund-offer", "9", "--amount", "4.50")
    assert result.exit_code == 0, result.output
    assert node.last_tx().kind == "order_refund_offer" and node.last_tx().body == {"order": 9, "buyer_amount": 450}
    assert "marketnode order refund-accept 9 --amount 4.50" in result.output
    result = run(node, key, "order", "refund-accept", "9", "--amount", "4.50")
    assert result.exit_code == 0, result.output
    assert node.last_tx().kind == "order_refund_accept" and node.last_tx().body == {"order": 9, "buyer_amount": 450}


def test_return_commands_sign_hashes_of_their_texts(node, key):
    import hashlib

    node.methods["order_get"] = lambda p: {"id": 9, "asset": "USDX"}
    node.events["return_request"] = [{"kind": "return_requested", "attrs": {"deadline_ms": 1_700_000_000_000}}]
    node.events["return_ship"] = [{"kind": "return_returning", "attrs": {"deadline_ms": 1_700_000_000_000}}]
    node.events["return_receive"] = [{"kind": "return_owed", "attrs": {"owed": 250}}]
    assert run(node, key, "order", "return", "9", "--reason", "too small").exit_code == 0
    assert node.last_tx().body == {"order": 9, "reason_hash": hashlib.sha256(b"too small").digest()}
    assert ("content_put" in [m for m, _ in node.calls])  # the reason is stored for the seller to read
    assert run(node, key, "order", "return-answer", "9", "--refuse").exit_code == 0
    assert node.last_tx().body == {"order": 9, "accept": False}
    assert run(node, key, "order", "return-ship", "9", "--tracking", "DHL-9").exit_code == 0
    assert node.last_tx().body["tracking_hash"] == hashlib.sha256(b"DHL-9").digest()
    result = run(node, key, "order", "return-receive", "9")
    assert result.exit_code == 0 and "still owed: 2.50 USDX" in result.output


def test_shop_deposit_and_withdraw_in_units(node, key):
    assert run(node, key, "shop", "deposit", "2", "--asset", "usdx", "--amount", "50").exit_code == 0
    assert node.last_tx().kind == "aftersales_deposit"
    assert node.last_tx().body == {"shop": 2, "asset": "USDX", "amount": 5000}
    assert run(node, key, "shop", "withdraw", "2", "--asset", "USDX", "--amount", "0.01").exit_code == 0
    assert node.last_tx().body == {"shop": 2, "asset": "USDX", "amount": 1}


def test_listing_return_days_become_a_window_in_ms(node, key):
    result = run(node, key, "listing", "create", "--shop", "2", "--title", "Mug", "--price", "5", "--asset", "USDX",
                 "--category", "kitchen", "--stock", "3", "--return-days", "14")
    assert result.exit_code == 0, result.output
    assert node.last_tx().body["return_window_ms"] == 14 * 24 * 3600 * 1000


def test_coupon_issue_in_basis_points_and_order_place_expects_the_discounted_total(node, key):
    assert run(node, key, "shop", "coupon-issue", "2", "spring-10", "--percent", "12.5", "--uses", "3",
               "--days", "2").exit_code == 0
    body = node.last_tx().body
    assert (body["coupon"], body["percent_bps"], body["max_uses"]) == ("SPRING-10", 1250, 3)
    assert body["expires_ms"] == 1_700_000_000_000 + 2 * 86_400_000
    node.methods["coupon_get"] = lambda p: {"shop": 2, "coupon": p["coupon"], "percent_bps": 1250, "amount": None,
                                            "asset": None, "max_uses": 3, "used": 0, "expires_ms": 2**50,
                                            "revoked": False, "issued_ms": 0, "valid": True}
    result = run(node, key, "order", "place", "7", "--variant", "TEE-S", "--shipping", "DHL", "--coupon", "spring-10",
                 "--address", "Hauptstr. 1, Berlin, DE", "--no-arbiter")
    assert result.exit_code == 0, result.output
    body = node.last_tx().body
    assert body["coupon"] == "SPRING-10" and body["max_total"] == 1000 - 1000 * 1250 // 10_000 + 700


def test_coupon_issue_needs_one_kind_of_discount(node, key):
    result = run(node, key, "shop", "coupon-issue", "2", "X", "--uses", "1", "--days", "1")
    assert result.exit_code == 2 and "either --percent or --amount" in result.output


def test_cart_signs_every_line_and_expects_goods_plus_the_dearest_shipping_once(node, key):
    mug = {"id": 8, "type": "physical", "asset": "USDX", "price": 300, "seller": GRACE.address, "shop": 2,
           "regions": [], "shipping": [{"service": "DHL", "regions": [], "price": 900, "min_days": 1, "max_days": 5}]}
    node.methods["listing_get"] = lambda p: dict(TEE) if p["listing"] == 7 else dict(mug)
    node.events["order_cart"] = [{"kind": "order_placed", "attrs": {"order": 11, "total": 1, "deadline_ms": 0}}]
    result = run(node, key, "order", "cart", "--item", "7:2:TEE-L", "--item", "8", "--shipping", "DHL",
                 "--address", "Hauptstr. 1, Berlin, DE", "--no-arbiter")
    assert result.exit_code == 0, result.output
    body = node.last_tx().body
    assert body["items"] == [{"listing": 7, "quantity": 2, "variant": "TEE-L"},
                             {"listing": 8, "quantity": 1, "variant": ""}]
    assert body["max_total"] == 2 * 1250 + 300 + 900 and body["region"] == "DE" and body["shipping"] == "DHL"


def test_a_cart_across_shops_is_refused_before_signing(node, key):
    node.methods["listing_get"] = lambda p: {**TEE, "id": p["listing"], "shop": p["listing"]}
    result = run(node, key, "order", "cart", "--item", "7:1:TEE-L", "--item", "9:1:TEE-L", "--shipping", "DHL",
                 "--address", "Hauptstr. 1, Berlin, DE", "--no-arbiter")
    assert result.exit_code == 2 and "separate cart" in result.output
    assert not [m for m, _ in node.calls if m == "tx_send"]
