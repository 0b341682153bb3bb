"""shop_create/update/close and listing_create/update/delist, with their indexes."""

from __future__ import annotations

from market_harness import Chain, make_genesis

from marketnode.market import codes, keys
from marketnode.market.store import index_ids


def _shop_body(chain: Chain, **fields: object) -> dict:
    body = dict(name="S", description="", region="DE", accepted_assets=["USD"], arbiters=[])
    body.update(fields)
    return body


def test_shop_create_indexes_by_owner(chain: Chain) -> None:
    chain.register("alice")
    shop = chain.shop("alice", arbiters=())
    assert chain.load(keys.shop(shop))["owner"] == chain.acct("alice")
    assert index_ids(chain.state, keys.shops_by_owner(chain.acct("alice"))) == [shop]


def test_shop_create_rejections(chain: Chain) -> None:
    chain.fails(codes.NOT_REGISTERED, "alice", "shop_create", **_shop_body(chain))
    chain.register("alice")
    chain.fails(codes.BAD_BODY, "alice", "shop_create", **_shop_body(chain, accepted_assets=[]))
    chain.fails(codes.NOT_FOUND, "alice", "shop_create", **_shop_body(chain, accepted_assets=["EUR"]))
    chain.fails(codes.BAD_BODY, "alice", "shop_create", **_shop_body(chain, region="germany"))
    chain.fails(codes.BAD_BODY, "alice", "shop_create", **_shop_body(chain, accepted_assets=["USD", "USD"]))


def test_shop_needs_kyc_when_genesis_says_so() -> None:
    chain = Chain(make_genesis(shop_kyc_level=2))
    chain.register("alice")
    chain.fails(codes.KYC_REQUIRED, "alice", "shop_create", **_shop_body(chain))
    chain.ok("attester", "kyc_attest", account=chain.acct("alice"), level=2, expires_ms=chain.now_ms + 10**6)
    chain.ok("alice", "shop_create", **_shop_body(chain))


def test_shop_update_and_close(chain: Chain) -> None:
    chain.register("alice")
    shop = chain.shop("alice", arbiters=())
    chain.ok("alice", "shop_update", shop=shop, name="Renamed")
    record = chain.load(keys.shop(shop))
    assert (record["name"], record["region"]) == ("Renamed", "DE")
    chain.ok("alice", "shop_close", shop=shop)
    assert chain.load(keys.shop(shop))["open"] is False


def test_shop_update_and_close_rejections(chain: Chain) -> None:
    chain.register("alice")
    shop = chain.shop("alice", arbiters=())
    chain.fails(codes.NOT_AUTHORIZED, "bob", "shop_update", shop=shop, name="Mine")
    chain.fails(codes.NOT_FOUND, "alice", "shop_update", shop=99, name="X")
    chain.fails(codes.BAD_BODY, "alice", "shop_update", shop=shop, accepted_assets=[])
    chain.fails(codes.NOT_AUTHORIZED, "bob", "shop_close", shop=shop)
    chain.fails(codes.NOT_FOUND, "alice", "shop_close", shop=99)
    chain.ok("alice", "shop_close", shop=shop)
    chain.fails(codes.SHOP_CLOSED, "alice", "shop_close", shop=shop)
    chain.fails(codes.SHOP_CLOSED, "alice", "shop_update", shop=shop, name="Back")


def test_listing_create_indexes_by_shop_seller_and_category(chain: Chain) -> None:
    chain.register("alice")
    shop = chain.shop("alice", arbiters=())
    listing = chain.listing("alice", shop, stock=4)
    assert chain.load(keys.stock(listing)) == 4
    assert index_ids(chain.state, keys.listings_by_shop(shop)) == [listing]
    assert index_ids(chain.state, keys.listings_by_seller(chain.acct("alice"))) == [listing]
    assert index_ids(chain.state, keys.listings_by_category("art")) == [listing]


def test_listing_create_rejections(chain: Chain) -> None:
    chain.register("alice", "bob")
    shop = chain.shop("alice", arbiters=(), accepted_assets=["USD"])
    base = dict(shop=shop, type="physical", title="T", description="", category="art", tags=[], price=1,
                asset="USD", stock=1, regions=[], images=[])
    chain.fails(codes.NOT_AUTHORIZED, "bob", "listing_create", **base)
    chain.fails(codes.ASSET_NOT_ACCEPTED, "alice", "listing_create", **{**base, "asset": "MKT"})
    chain.fails(codes.NOT_FOUND, "alice", "listing_create", **{**base, "record": "nope"})
    chain.fails(codes.NOT_FOUND, "alice", "listing_create", **{**base, "certificate": 9})
    chain.fails(codes.NOT_FOUND, "alice", "listing_create", **{**base, "shop": 99})
    chain.fails(codes.BAD_BODY, "alice", "listing_create", **{**base, "type": "rental"})
    chain.fails(codes.BAD_BODY, "alice", "listing_create", **{**base, "price": 0})
    chain.ok("alice", "shop_close", shop=shop)
    chain.fails(codes.SHOP_CLOSED, "alice", "listing_create", **base)


def test_listing_update_moves_category_index_and_sets_stock(chain: Chain) -> None:
    chain.register("alice")
    shop = chain.shop("alice", arbiters=())
    listing = chain.listing("alice", shop)
    chain.ok("alice", "listing_update", listing=listing, category="decor", price=150, stock=2)
    assert chain.load(keys.listing(listing))["price"] == 150
    assert chain.load(keys.stock(listing)) == 2
    assert index_ids(chain.state, keys.listings_by_category("art")) == []
    assert index_ids(chain.state, keys.listings_by_category("decor")) == [listing]


def test_listing_update_and_delist_rejections(chain: Chain) -> None:
    chain.register("alice")
    shop = chain.shop("alice", arbiters=(), accepted_assets=["USD"])
    listing = chain.listing("alice", shop)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "listing_update", listing=listing, price=1)
    chain.fails(codes.NOT_FOUND, "alice", "listing_update", listing=77, price=1)
    chain.fails(codes.ASSET_NOT_ACCEPTED, "alice", "listing_update", listing=listing, asset="MKT")
    chain.fails(codes.NOT_AUTHORIZED, "bob", "listing_delist", listing=listing)
    chain.fails(codes.NOT_FOUND, "alice", "listing_delist", listing=77)
    chain.ok("alice", "listing_delist", listing=listing)
    assert index_ids(chain.state, keys.listings_by_category("art")) == []
    assert index_ids(chain.state, keys.listings_by_shop(shop)) == [listing]
    chain.fails(codes.LISTING_INACTIVE, "alice", "listing_delist", listing=listing)
    chain.fails(codes.LISTING_INACTIVE, "alice", "listing_update", listing=listing, price=1)


def test_listing_in_a_closed_shop_cannot_change(chain: Chain) -> None:
    chain.register("alice")
    shop = chain.shop("alice", arbiters=())
    listing = chain.listing("alice", shop)
    chain.ok("alice", "shop_close", shop=shop)
    chain.fails(codes.SHOP_CLOSED, "alice", "listing_update", listing=listing, price=5)
