"""Every wallet builder produces a body the market accepts, and the builders cannot drift from the schema.

Bodies are built by wallet/ (which never imports market/) and executed by
market.engine on an in-memory chain, the way a node would execute them.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import pytest
from commerce_story import commerce_story
from kinds_gen import TARGET, render

from marketnode.core.errors import ValidationError
from marketnode.core.keys import PrivateKey
from marketnode.core.sealed import open_sealed
from marketnode.core.types import Tx
from marketnode.market.schema import KINDS as MARKET_KINDS
from marketnode.market.schema import validate_body
from marketnode.wallet import builders, kinds
from marketnode.wallet.bodies import TxBuildError

sys.path.insert(0, str(Path(__file__).parents[1] / "market"))
from market_harness import Chain


def test_kinds_module_is_generated_from_the_current_schema():
    assert TARGET.read_text() == render(), "wallet/kinds.py is stale: run .venv/bin/python tests/wallet/kinds_gen.py"


def test_every_market_kind_has_a_builder_with_exactly_its_fields():
    assert set(kinds.KINDS) == set(MARKET_KINDS)
    for name, spec in MARKET_KINDS.items():
        builder = getattr(kinds, name)
        params = inspect.signature(builder).parameters
        assert set(params) == {f.name for f in spec.fields}, name
        for field in spec.fields:
            assert (params[field.name].default is None) == field.optional, f"{name}.{field.name}"


class Story:
    """Runs wallet-built bodies through the market engine and records which kinds it covered."""

    def __init__(self) -> None:
        self.chain = Chain()
        self.covered: set[str] = set()

    def addr(self, name: str) -> str:
        return self.chain.keys[name].address

    def ok(self, who: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        assert validate_body(kind, body) is not None
        receipt = self.chain.ok(who, kind, **body)
        self.covered.add(kind)
        return {e.kind: e.attrs for e in receipt.events}


def test_every_builder_makes_a_body_the_market_executes():
    s = Story()
    a = s.addr
    for name in ("alice", "bob", "arb", "carol", "dave"):
        body, _salt = builders.register(name.title(), {"email": f"{name}@example.org"},
                                        inviter=a("alice") if name == "bob" else None)
        s.ok(name, "register", body)
    s.ok("alice", "transfer", kinds.transfer(to=a("bob"), asset="USD", amount=5, memo="hi"))
    s.ok("issuer", "asset_issue", kinds.asset_issue(asset="GOLD", name="Gold", decimals=3, max_supply=10**9))
    s.ok("issuer", "asset_mint", kinds.asset_mint(asset="GOLD", to=a("bob"), amount=1000))
    s.ok("attester", "kyc_attest", kinds.kyc_attest(account=a("bob"), level=2, expires_ms=2**40))
    s.ok("arb", "arbiter_register", kinds.arbiter_register(fee_fixed=1, fee_bps=100, description="fair"))
    s.ok("arb", "arbiter_update", kinds.arbiter_update(description="fair and quick"))

    # provenance: carol produces, dave carries, bob ends up owner and custodian
    s.ok("carol", "record_create", kinds.record_create(record="coffee-1", type="coffee-batch",
                                                      attributes={"origin": "Huila", "kg": 60}))
    s.ok("carol", "record_report", kinds.record_report(record="coffee-1", property="roast", value="medium"))
    s.ok("carol", "record_propose", kinds.record_propose(record="coffee-1", receiver=a("dave"), role="custodian"))
    s.ok("dave", "record_answer", kinds.record_answer(record="coffee-1", role="custodian", response="accept"))
    s.ok("dave", "record_report", kinds.record_report(record="coffee-1", property="location", value="Hamburg"))
    cert = s.ok("certifier", "cert_issue", kinds.cert_issue(fingerprint=builders.text_hash("coffee-1"),
                                                           owner=a("carol"), record="coffee-1",
                                                           metadata_hash=builders.text_hash("doc")))
    cert_id = cert["certificate_issued"]["certificate"]

    shop = s.ok("alice", "shop_create", kinds.shop_create(name="Alice's", description="", region="DE",
                                                          accepted_assets=["USD"], arbiters=[a("arb")]))
    shop_id = shop["shop_created"]["shop"]
    s.ok("alice", "shop_update", kinds.shop_update(shop=shop_id, description="coffee and vases"))
    listing = s.ok("alice", "listing_create", kinds.listing_create(
        shop=shop_id, type="physical", title="Coffee", description="60 kg", category="coffee", tags=["huila"],
        price=100, asset="USD", stock=10, regions=["DE"], images=[builders.text_hash("img")],
        record="coffee-1", certificate=cert_id))
    listing_id = listing["listing_created"]["listing"]
    s.ok("alice", "listing_update", kinds.listing_update(listing=listing_id, price=120))

    def place() -> int:
        events = s.ok("bob", "order_place", builders.order_place(listing_id, 1, 120, a("alice"), "1 Main St",
                                                                 arbiter=a("arb")))
        return events["order_placed"]["order"]

    first = place()
    s.ok("alice", "order_accept", kinds.order_accept(order=first))
    s.ok("alice", "order_ship", builders.order_ship(first, tracking="DHL123"))
    s.ok("bob", "order_confirm", kinds.order_confirm(order=first))
    s.ok("bob", "review", builders.review(first, 5, "great coffee"))
    s.ok("alice", "review_reply", kinds.review_reply(order=first, text_hash=builders.text_hash("thanks")))

    second = place()
    s.ok("alice", "order_accept", kinds.order_accept(order=second))
    s.ok("bob", "order_dispute", builders.order_dispute(second, "never arrived"))
    s.ok("alice", "order_respond", builders.order_respond(second, "tracking shows it delivered"))
    s.ok("arb", "order_resolve", builders.order_resolve(second, 60, "split"))

    s.ok("bob", "order_cancel", kinds.order_cancel(order=place()))
    s.ok("alice", "order_decline", kinds.order_decline(order=place(), reason="sold out"))
    stale = place()
    s.chain.advance(s.chain.genesis.params.accept_window_ms)
    s.ok("bob", "order_claim", kinds.order_claim(order=stale))

    s.ok("carol", "cert_transfer", kinds.cert_transfer(certificate=cert_id, to=a("bob")))
    s.ok("certifier", "cert_revoke", kinds.cert_revoke(certificate=cert_id, reason="test"))
    s.ok("carol", "record_propose", kinds.record_propose(record="coffee-1", receiver=a("bob"), role="owner"))
    s.ok("bob", "record_answer", kinds.record_answer(record="coffee-1", role="owner", response="accept"))
    s.ok("dave", "record_propose", kinds.record_propose(record="coffee-1", receiver=a("bob"), role="custodian"))
    s.ok("bob", "record_answer", kinds.record_answer(record="coffee-1", role="custodian", response="accept"))
    s.ok("bob", "record_finalize", kinds.record_finalize(record="coffee-1"))
    commerce_story(s, shop_id)
    s.ok("alice", "listing_delist", kinds.listing_delist(listing=listing_id))
    s.ok("alice", "shop_close", kinds.shop_close(shop=shop_id))
    s.ok("attester", "kyc_revoke", kinds.kyc_revoke(account=a("bob")))
    _account_kinds(s)

    assert s.covered == set(MARKET_KINDS), f"kinds no builder ran: {set(MARKET_KINDS) - s.covered}"


def _account_kinds(s: Story) -> None:
    """Key rotation, a 2-of-2 key set and a guardian recovery, from the generated builders."""
    a, chain = s.addr, s.chain
    new, phone = PrivateKey(bytes([7]) * 32), PrivateKey(bytes([8]) * 32)
    chain.signing["erin"] = [chain.keys["erin"], new]
    s.ok("erin", "account_rotate", kinds.account_rotate(new_key=new.public_key))
    chain.signing["erin"] = [new, phone]
    s.ok("erin", "account_set_authority", kinds.account_set_authority(keys=[new.public_key, phone.public_key],
                                                                       threshold=2, above=100))
    s.ok("erin", "account_set_guardians", kinds.account_set_guardians(guardians=[a("bob"), a("carol")], threshold=1,
                                                                       delay_ms=60_000))
    started = s.ok("bob", "recovery_start", kinds.recovery_start(account=a("erin"), new_key=bytes([9]) * 32))
    first = started["recovery_started"]["recovery"]
    s.ok("erin", "recovery_veto", kinds.recovery_veto(recovery=first))
    chain.ok("erin", "account_set_guardians", guardians=[chain.acct("bob"), chain.acct("carol")], threshold=2,
             delay_ms=60_000)
    second = s.ok("bob", "recovery_start", kinds.recovery_start(account=a("erin"), new_key=bytes([9]) * 32))
    second_id = second["recovery_started"]["recovery"]
    s.ok("carol", "recovery_approve", kinds.recovery_approve(account=a("erin"), recovery=second_id,
                                                             new_key=bytes([9]) * 32))
    chain.advance(60_000)
    s.ok("dave", "recovery_finish", kinds.recovery_finish(account=a("erin"), recovery=second_id))


def test_a_shipping_address_opens_only_for_the_seller_and_the_arbiter():
    seller, arbiter, stranger = (PrivateKey(bytes([i]) * 32) for i in (1, 2, 3))
    body = builders.order_place(1, 1, 100, seller.address, "1 Main St, Berlin", arbiter=arbiter.public_key)
    assert b"Main St" not in body["address_seller"] + body["address_arbiter"]
    assert open_sealed(seller, body["address_seller"]) == b"1 Main St, Berlin"
    assert open_sealed(arbiter, body["address_arbiter"]) == b"1 Main St, Berlin"
    with pytest.raises(ValidationError, match="cannot open"):
        open_sealed(stranger, body["address_seller"])


def test_no_address_means_an_empty_seller_box_and_no_arbiter_box():
    body = builders.order_place(1, 1, 100, PrivateKey(bytes(32)).address)
    assert body["address_seller"] == b""
    assert "address_arbiter" not in body


def test_private_data_is_committed_by_a_salted_hash_the_owner_can_reproduce():
    body, salt = builders.register("Bob", {"email": "bob@example.org", "legal_name": "Robert"})
    assert len(salt) == builders.SALT_BYTES
    again, _ = builders.register("Bob", {"legal_name": "Robert", "email": "bob@example.org"}, salt=salt)
    assert again["commitment"] == body["commitment"]
    other, _ = builders.register("Bob", {"email": "bob@example.org", "legal_name": "Robert"})
    assert other["commitment"] != body["commitment"]  # fresh salt: equal data is not linkable
    assert b"bob@example.org" not in Tx("c", bytes(32), 0, "register", body, 0).encode()


def test_a_digital_delivery_is_sealed_to_the_buyer():
    buyer = PrivateKey(bytes([9]) * 32)
    body = builders.order_ship(3, content_key=b"k" * 32, buyer=buyer.address)
    assert open_sealed(buyer, body["delivery"]) == b"k" * 32
    with pytest.raises(TxBuildError, match="name the buyer"):
        builders.order_ship(3, content_key=b"k" * 32)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: builders.tx_body("order_accept", order=1, extra=2), r"unknown fields \['extra'\]"),
        (lambda: builders.tx_body("order_accept"), "order_accept.order is required"),
        (lambda: builders.tx_body("no_such_kind"), "no tx kind 'no_such_kind'"),
        (lambda: kinds.transfer(to="mn1typo", asset="USD", amount=1), "transfer.to: .*not a marketnode address"),
        (lambda: kinds.review_reply(order=1, text_hash="abc"), "expected a 32-byte hash"),
        (lambda: kinds.record_answer(record="r", role="boss", response="accept"), "role must be one of"),
        (lambda: builders.review(1, {"overall": 5}), "needs exactly the keys"),
        (lambda: kinds.shop_create(name="s", description="", region="DE", accepted_assets="USD", arbiters=[]),
         "expected a list"),
    ],
)
def test_a_malformed_body_is_refused_before_signing_with_the_field_named(call, message):
    with pytest.raises(TxBuildError, match=message):
        call()


def test_addresses_and_hex_hashes_become_bytes_on_the_wire():
    key = PrivateKey(bytes([4]) * 32)
    body = builders.tx_body("cert_transfer", certificate=1, to=key.address)
    assert body == {"certificate": 1, "to": key.public_key}
    assert kinds.review_reply(order=1, text_hash="ab" * 32)["text_hash"] == bytes([0xAB]) * 32


def test_build_tx_signs_a_tx_that_decodes_and_verifies():
    key = PrivateKey(bytes([5]) * 32)
    tx = builders.build_tx(key, "marketnode-testnet", 3, "order_confirm", kinds.order_confirm(order=2), 0)
    decoded = Tx.decode(tx.encode())
    assert decoded.verify() and decoded.body == {"order": 2} and decoded.nonce == 3
