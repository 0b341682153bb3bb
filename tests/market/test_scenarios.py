"""Whole stories across domains, as users live them."""

from __future__ import annotations

from market_harness import Chain

from marketnode.core.sealed import open_sealed, seal
from marketnode.market import keys
from marketnode.market.accounts import ESCROW, TREASURY
from marketnode.market.certificates import certificate_of, ownership_chain
from marketnode.market.params import Params
from marketnode.market.provenance import history

P = Params()
RATINGS = dict(overall=5, quality=5, accuracy=4, delivery=4, service=5)


def test_whole_purchase_from_registration_to_reward(chain: Chain) -> None:
    chain.register("carol")
    chain.ok("bob", "register", name="Bob", commitment=b"\x11" * 32, inviter=chain.acct("carol"))
    chain.register("alice")
    chain.arbiter("arb")
    chain.ok("attester", "kyc_attest", account=chain.acct("alice"), level=2, expires_ms=chain.now_ms + 365 * 86_400_000)
    shop = chain.shop("alice")
    listing = chain.listing("alice", shop, price=2_500, stock=3)

    address = b"Bob Buyer, 1 Main St, Berlin"
    order = chain.place("bob", listing, quantity=2, max_total=5_000,
                        address_seller=seal(chain.acct("alice"), address),
                        address_arbiter=seal(chain.acct("arb"), address))
    stored = chain.order(order)
    assert open_sealed(chain.keys["alice"], stored["address_seller"]) == address
    assert open_sealed(chain.keys["arb"], stored["address_arbiter"]) == address
    assert chain.balance(ESCROW) == 5_000

    chain.ok("alice", "order_accept", order=order)
    chain.ok("alice", "order_ship", order=order, tracking_hash=b"\x22" * 32)
    carol_usd = chain.balance("carol")
    chain.ok("bob", "order_confirm", order=order)
    assert chain.balance("alice") == 1_000_000 + 5_000 - 50 and chain.balance(TREASURY) == 50
    assert chain.balance("carol") == carol_usd + 20  # referral reward, in the order's asset

    bob_usd, bob_mkt = chain.balance("bob"), chain.balance("bob", "MKT")
    chain.ok("bob", "review", order=order, ratings=RATINGS, text_hash=b"\x33" * 32)
    assert (chain.balance("bob"), chain.balance("bob", "MKT")) == (bob_usd + 10, bob_mkt - 1)  # review reward, fee
    chain.ok("alice", "review_reply", order=order, text_hash=b"\x44" * 32)
    assert chain.load(keys.seller_rating(chain.acct("alice")))["count"] == 1


def test_dispute_resolved_by_the_arbiter_with_a_split(chain: Chain) -> None:
    _, listing = chain.market()
    order = chain.shipped(listing, quantity=4)  # 400 in escrow, arbiter fee 5 + 20
    chain.ok("bob", "order_dispute", order=order, reason_hash=b"\x01" * 32)
    chain.advance(P.ruling_window_ms // 2)
    chain.ok("arb", "order_resolve", order=order, buyer_amount=250, ruling_hash=b"\x02" * 32)
    assert (chain.balance("bob"), chain.balance("alice"), chain.balance("arb")) == (
        1_000_000 - 400 + 250, 1_000_000 + 125, 1_000_000 + 25)
    assert chain.balance(ESCROW) == 0 and chain.order(order)["status"] == "resolved"


def test_each_timeout_claim_frees_the_escrow(chain: Chain) -> None:
    _, listing = chain.market()
    never_accepted = chain.place("bob", listing)
    never_shipped = chain.place("bob", listing)
    chain.ok("alice", "order_accept", order=never_shipped)
    never_confirmed = chain.shipped(listing)
    never_ruled = chain.shipped(listing)
    chain.ok("alice", "order_dispute", order=never_ruled, reason_hash=bytes(32))
    chain.advance(max(P.accept_window_ms, P.ship_window_ms, P.confirm_window_ms, P.ruling_window_ms))
    chain.ok("bob", "order_claim", order=never_accepted)
    chain.ok("bob", "order_claim", order=never_shipped)
    chain.ok("alice", "order_claim", order=never_confirmed)
    chain.ok("alice", "order_claim", order=never_ruled)
    statuses = [chain.order(o)["status"] for o in (never_accepted, never_shipped, never_confirmed, never_ruled)]
    assert statuses == ["refunded", "refunded", "completed", "resolved"]
    assert chain.balance(ESCROW) == 0


def test_digital_goods_delivery_only_the_buyer_can_open(chain: Chain) -> None:
    _, _ = chain.market()
    ebook = chain.listing("alice", 1, type="digital", title="E-book", price=30, stock=1_000, regions=[])
    order = chain.place("bob", ebook, arbiter=None, address_seller=b"")
    chain.ok("alice", "order_accept", order=order)
    content_key = b"\x5a" * 32
    chain.ok("alice", "order_ship", order=order, delivery=seal(chain.acct("bob"), content_key))
    assert open_sealed(chain.keys["bob"], chain.order(order)["delivery"]) == content_key
    chain.ok("bob", "order_confirm", order=order)


def test_artwork_traced_from_producer_through_two_custodians_to_buyer_with_certificate(chain: Chain) -> None:
    painter, carrier1, carrier2, gallery_buyer = "carol", "dave", "erin", "bob"
    artwork = "art-0001"
    chain.ok(painter, "record_create", record=artwork, type="artwork", attributes={"title": "Harbour", "year": 2026})
    fingerprint = b"\xab" * 32
    cert_id = chain.ok("certifier", "cert_issue", fingerprint=fingerprint, owner=chain.acct(painter),
                       record=artwork, metadata_hash=b"\xcd" * 32).events[0].attrs["certificate"]
    chain.register(painter, gallery_buyer)
    shop = chain.shop(painter, arbiters=())
    listing = chain.listing(painter, shop, title="Harbour", price=900, stock=1, record=artwork, certificate=cert_id)
    order = chain.place(gallery_buyer, listing, arbiter=None)
    chain.ok(painter, "order_accept", order=order)

    for giver, taker in ((painter, carrier1), (carrier1, carrier2), (carrier2, gallery_buyer)):
        chain.ok(giver, "record_propose", record=artwork, receiver=chain.acct(taker), role="custodian")
        chain.ok(taker, "record_answer", record=artwork, role="custodian", response="accept")
        if taker != gallery_buyer:
            chain.ok(taker, "record_report", record=artwork, property="location", value=f"depot of {taker}")
    chain.ok(painter, "order_ship", order=order, tracking_hash=b"\x77" * 32)
    chain.ok(painter, "record_propose", record=artwork, receiver=chain.acct(gallery_buyer), role="owner")
    chain.ok(gallery_buyer, "record_answer", record=artwork, role="owner", response="accept")
    chain.ok(painter, "cert_transfer", certificate=cert_id, to=chain.acct(gallery_buyer))
    chain.ok(gallery_buyer, "order_confirm", order=order)
    chain.ok(gallery_buyer, "record_finalize", record=artwork)

    trail = [(e["event"], e.get("account")) for e in history(chain.state, artwork)]
    assert trail == [
        ("created", None), ("custodian", chain.acct(carrier1)), ("reported", None),
        ("custodian", chain.acct(carrier2)), ("reported", None), ("custodian", chain.acct(gallery_buyer)),
        ("owner", chain.acct(gallery_buyer)), ("finalized", None),
    ]
    cert = certificate_of(chain.state, cert_id)
    assert cert["owner"] == chain.acct(gallery_buyer) and cert["record"] == artwork and not cert["revoked"]
    assert [h["to"] for h in ownership_chain(chain.state, cert_id)] == [chain.acct(painter), chain.acct(gallery_buyer)]
