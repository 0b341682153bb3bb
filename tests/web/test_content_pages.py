"""Issue 14 in the browser: gallery, card thumbnails, review text and photo, dispute texts — each checked against
its on-chain hash in the page, and a mismatch shown as such (headless Chromium, a real 4-validator testnet)."""

from __future__ import annotations

import hashlib
import json

import pytest
from browser import Browser, BrowserUnavailable, import_key, install
from demo_data import ANSWER, REPLY_TEXT, REVIEW_TEXT, RULING, STATEMENT, populate
from harness import Testnet

pytestmark = pytest.mark.integration

PHONE_WIDTH = 390
TAMPER_JS = """(() => { const real = window.fetch; window.fetch = (input, init) => String(input).includes(HASH)
  ? Promise.resolve(new Response("tampered bytes", { headers: { "Content-Type": "image/png" } })) : real(input, init); })()"""


@pytest.fixture(scope="module")
def browser():
    try:
        node_modules = install()
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium for the web e2e test: {exc}")
    with Browser(node_modules) as b:
        yield b


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    net = Testnet(tmp_path_factory.mktemp("contentweb"), validators=4, timeout_ms=1000)
    net.start()
    try:
        yield net, populate(net)
    finally:
        net.close()


def show(b: Browser, url: str, route: str, ready: str) -> None:
    b.goto(f"{url}#{route}")
    b.call("waitFor", selector=ready)


def test_search_and_shop_cards_show_checked_thumbnails(browser, world):
    net, ids = world
    url = net.url("validator-1")  # not the node the photos were uploaded to: it fetched them from its peers
    show(browser, url, "/search?q=ceramics", '#main .card-thumb [data-content="ok"] img')
    width = browser.call("eval", expr="(async () => { const i = document.querySelector('#main .card-thumb img'); "
                                      "await i.decode(); return i.naturalWidth; })()")
    assert width == 320
    show(browser, url, f"/shop/{ids['shop']}", '#shop-listings + ul .card-thumb [data-content="ok"] img')
    assert browser.call("errors") == []


def test_listing_gallery_shows_every_photo_from_its_checked_bytes(browser, world):
    net, ids = world
    url = net.url("validator-2")
    show(browser, url, f"/listing/{ids['vase']}", '#main .gallery-main [data-content="ok"] img')
    assert browser.call("eval", expr="document.querySelector('#main .gallery').dataset.count") == "2"
    assert browser.call("eval", expr="document.querySelector('#main .gallery-main img').src").startswith("blob:")
    browser.call("click", selector="#main .gallery-strip li:nth-child(2) button")
    browser.call("waitFor", selector=f'#main .gallery-main [data-hash="{ids["vase_photos"][1]}"][data-content="ok"] img')
    assert browser.call("errors") == []


def test_reviews_show_their_text_photo_and_reply(browser, world):
    net, ids = world
    show(browser, net.url("validator-3"), f"/listing/{ids['vase']}", '#main .review .content-text[data-content="ok"]')
    browser.wait_text("#main .reviews", REVIEW_TEXT)
    browser.wait_text("#main .reviews", REPLY_TEXT)
    browser.call("waitFor", selector='#main .review .review-photo[data-content="ok"] img')
    assert "Text stored off chain" not in browser.text("#main")
    assert browser.call("errors") == []


def test_a_dispute_shows_its_statement_evidence_and_ruling(browser, world):
    net, ids = world
    show(browser, net.url("validator-0"), f"/order/{ids['order_resolved']}", '#dispute .content-text[data-content="ok"]')
    browser.wait_text("#dispute", STATEMENT)
    browser.wait_text("#dispute", ANSWER)
    browser.wait_text("#dispute", RULING)
    browser.call("waitFor", selector='#dispute .evidence [data-content="ok"] img')
    assert browser.call("errors") == []


def test_bytes_that_do_not_match_the_chain_are_shown_as_a_mismatch_never_as_content(browser, world):
    net, ids = world
    url = net.url("validator-0")
    browser.goto(f"{url}#/explorer")
    browser.call("waitFor", selector="#main h1")
    # Stand in for a node (or proxy) that serves other bytes for the evidence photo: the page must notice.
    browser.call("eval", expr=TAMPER_JS.replace("HASH", json.dumps(ids["evidence"])))
    browser.call("eval", expr=f"location.hash = '#/order/{ids['order_disputed']}'")
    browser.call("waitFor", selector='#dispute .evidence [data-content="mismatch"]')
    browser.wait_text("#dispute .evidence", "Mismatch")
    assert browser.call("eval", expr="document.querySelector('#dispute .evidence img')") is None
    browser.wait_text("#dispute", STATEMENT)  # the statement itself is fine and shown


def test_content_pages_fit_a_phone_screen(browser, world):
    net, ids = world
    url = net.url("validator-0")
    browser.call("viewport", width=PHONE_WIDTH, height=844)
    try:
        for route, ready in ((f"/listing/{ids['vase']}", '#main .gallery-main [data-content="ok"] img'),
                             (f"/order/{ids['order_resolved']}", '#dispute [data-content="ok"]'),
                             ("/search?q=ceramics", '#main .card-thumb [data-content="ok"] img')):
            show(browser, url, route, ready)
            width = browser.call("eval", expr="document.documentElement.scrollWidth")
            assert width <= PHONE_WIDTH, f"{route} is {width} px wide at {PHONE_WIDTH} px"
    finally:
        browser.call("viewport", width=1280, height=900)


def test_the_browser_wallet_uploads_a_text_signed_in_the_page(browser, world):
    net, _ = world
    url = net.url("validator-1")
    import_key(browser, url, (net.dir / "accounts" / "bob.key").read_text().strip(), "pass phrase")
    text = "Asked in the browser: does the vase hold water?"
    hash_hex = browser.call("eval", expr="import('/static/wallet.js').then(async (w) => "
                                         f"[...await w.putText({json.dumps(text)})].map((b) => b.toString(16).padStart(2, '0')).join(''))")
    assert hash_hex == hashlib.sha256(text.encode()).hexdigest()
    info = net.call("validator-1", "content_info", hash=hash_hex)
    assert info["held"] and info["content_type"] == "text/plain; charset=utf-8"
    browser.call("eval", expr="localStorage.clear()")


def test_the_seller_answers_a_dispute_from_the_browser_and_the_page_shows_the_answer(browser, world):
    net, ids = world
    url = net.url("validator-2")
    import_key(browser, url, (net.dir / "accounts" / "alice.key").read_text().strip(), "seller passphrase")
    order = ids["order_disputed"]
    browser.call("eval", expr=f"location.hash = '#/order/{order}'")
    browser.call("waitFor", selector=f"#respond-{order}")
    answer = "Shipped cobalt blue; happy to swap it if the glaze came out green."
    browser.call("fill", selector=f"#respond-{order}", value=answer)
    browser.call("click", selector=f"#order-actions form:has(#respond-{order}) button[type=submit]")
    browser.wait_text("#dispute", answer)
    assert net.call("validator-0", "order_get", order=order)["response_hash"] == hashlib.sha256(answer.encode()).hexdigest()
    browser.call("eval", expr="localStorage.clear()")
    assert browser.call("errors") == []


def test_the_browser_strips_photo_metadata_byte_for_byte_like_the_python_wallet(browser, world):
    import io
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "wallet"))
    from test_content_metadata import jpeg_with_gps

    from marketnode.wallet.content import strip_metadata

    net, _ = world
    browser.goto(f"{net.url('validator-0')}#/wallet")
    browser.call("waitFor", selector="#main h1")
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "52.52N 13.40E")
    png = io.BytesIO()
    Image.new("RGB", (12, 9), (9, 8, 7)).save(png, "PNG", pnginfo=info)
    for data in (jpeg_with_gps(), png.getvalue(), b"not an image"):
        got = browser.call("eval", expr="import('/static/wallet.js').then((w) => [...w.stripMetadata("
                                        f"new Uint8Array({list(data)}))].map((b) => b.toString(16).padStart(2, '0')).join(''))")
        assert got == strip_metadata(data).hex()
