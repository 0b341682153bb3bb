# ruff: noqa: F811  (the fixtures imported from test_pages_e2e are redefined as test parameters by design)
"""Issue 17.6's "My orders" page in headless Chromium on a real testnet: the wallet owner's orders as seller
and as buyer with what each waits on, and the sales of the owner's shop, in English and in Chinese."""

from __future__ import annotations

import pytest
from browser import import_key
from harness import Testnet, wait_for
from test_pages_e2e import browser, market, net  # noqa: F401  (the same fixtures: a testnet, a shop, Chromium)

pytestmark = pytest.mark.integration


def seed(net: Testnet, name: str) -> str:
    return (net.dir / "accounts" / f"{name}.key").read_text().strip()


def submit(browser, form: str, field: str, value: str) -> None:
    """Fill and submit in one step: the live order page may re-render (a new block) between two driver calls."""
    browser.call("eval", expr=f"document.querySelector({field!r}).value = {value!r}; "
                              f"document.querySelector({form!r}).requestSubmit()")


def test_my_orders_says_what_waits_on_whom_and_sums_the_shops_sales(browser, market, net):
    url = net.url("validator-2")
    listing = market.listing(market.shop, "Linen tote", 9_00, category="bags")
    waiting = market.place("bob", listing)
    sold = market.place("bob", listing)
    for kind in ("order_accept", "order_ship"):
        market.one("alice", kind, order=sold, **({"tracking_hash": None, "delivery": None} if kind == "order_ship" else {}))
    import_key(browser, url, seed(net, "alice"), "seller passphrase")
    browser.call("eval", expr="location.hash = '#/my-orders'")
    browser.wait_text("#main h1", "My orders")
    browser.wait_text("#main", f"#{waiting}")
    browser.wait_text("#main", "you: accept or decline")  # the placed order waits on alice, its seller
    browser.wait_text("#main", "the buyer: confirm receipt or dispute")  # the shipped one on bob
    browser.wait_text("#main", "My shops' sales")
    browser.wait_text("#main", "E2E shop")
    browser.call("eval", expr="localStorage.setItem('marketnode.lang', 'zh-CN'); location.reload()")
    browser.wait_text("#main h1", "我的订单")
    browser.wait_text("#main", "你\uff1a接受或拒绝")  # locked after the reload: reading needs the address only
    browser.wait_text("#main", "我的店铺销售")
    browser.call("eval", expr="localStorage.setItem('marketnode.lang', 'en')")
    assert browser.call("errors") == []


def test_the_browser_shows_a_listings_variants_and_shipping_and_buys_one_variant_with_a_coupon(browser, market, net):
    url = net.url("validator-1")
    listing = market.listing(market.shop, "Striped scarf", 30_00, category="clothing", regions=["DE"], stock=3,
                             options=[{"name": "colour", "values": ["red", "blue"]}],
                             variants=[{"sku": "SC-RED", "choice": ["red"], "price_delta": 0, "stock": 1},
                                       {"sku": "SC-BLUE", "choice": ["blue"], "price_delta": 2_50, "stock": 2}],
                             shipping=[{"service": "DHL", "regions": ["DE"], "price": 4_90, "min_days": 1,
                                        "max_days": 3}], return_window_ms=14 * 86_400_000)
    market.one("alice", "coupon_issue", shop=market.shop, coupon="SCARF10", percent_bps=1_000, max_uses=1,
               expires_ms=2**50)
    import_key(browser, url, seed(net, "bob"), "buyer passphrase")
    browser.call("eval", expr=f"location.hash = '#/listing/{listing}'")
    browser.wait_text("#listing-terms", "SC-BLUE")
    browser.wait_text("#listing-terms", "Returns within 14 days")
    browser.call("eval", expr="document.querySelector('#buy-variant').value = 'SC-BLUE';"
                              "document.querySelector('#buy-shipping').value = 'DHL';"
                              "document.querySelector('#buy-region').value = 'DE';"
                              "document.querySelector('#buy-coupon').value = 'scarf10'")
    browser.call("click", selector="#buy-address-agreed")
    browser.call("click", selector="#buy-form button[type=submit]")
    browser.wait_text("#order-status", "placed")
    order = int(browser.call("eval", expr="location.hash.split('/').pop()"))
    placed = net.call("validator-0", "order_get", order=order)
    assert (placed["variant"], placed["shipping"]["service"], placed["shipping"]["region"]) == ("SC-BLUE", "DHL", "DE")
    assert placed["coupon"] == {"code": "SCARF10", "discount": 3_25} and placed["total"] == 32_50 - 3_25 + 4_90
    assert browser.call("errors") == []


def test_the_browser_offers_a_refund_and_asks_to_return_a_completed_order(browser, market, net):
    url = net.url("validator-3")
    listing = market.listing(market.shop, "Clay bowl", 12_00, category="kitchen", return_window_ms=30 * 86_400_000)
    settle, back = market.place("bob", listing), market.place("bob", listing)
    for order in (settle, back):
        market.one("alice", "order_accept", order=order)
        market.one("alice", "order_ship", order=order, tracking_hash=None, delivery=None)
    market.one("bob", "order_confirm", order=back)
    import_key(browser, url, seed(net, "bob"), "buyer passphrase")
    browser.call("eval", expr=f"location.hash = '#/order/{settle}'")
    browser.wait_text("#order-actions", "Offer refund")
    submit(browser, f"#refund-offer-{settle}", f"#refund-{settle}", "2.50")
    # the live order page re-renders on each new block, so the chain, not the form's status line, is the witness
    offer = wait_for(lambda: net.call("validator-0", "order_get", order=settle).get("refund_offer"), 30,
                     "the browser's refund offer on chain")
    assert offer["buyer_amount"] == 2_50 and offer["by"] == net.keys["bob"].address
    market.one("alice", "order_refund_accept", order=settle, buyer_amount=2_50)
    assert net.call("validator-0", "order_get", order=settle)["status"] == "settled"
    browser.call("eval", expr=f"location.hash = '#/order/{back}'")
    browser.wait_text("#order-actions", "Ask to return it")
    submit(browser, f"#return-request-{back}", f"#return-reason-{back}", "It leaks.")
    requested = wait_for(lambda: net.call("validator-0", "order_get", order=back).get("return"), 30,
                         "the browser's return request on chain")
    assert requested["status"] == "requested" and requested["refund"] == 12_00
    assert browser.call("errors") == []
