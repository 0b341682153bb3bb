# ruff: noqa: F811  (the fixtures imported from test_pages_e2e are redefined as test parameters by design)
"""Issue 14's web inbox in headless Chromium on a real testnet: notifications for a new order, a shipment,
a dispute and a new message; unread counts; messages opened and answered in the browser, read elsewhere."""

from __future__ import annotations

import time

import pytest
from browser import import_key
from harness import Testnet, wait_for
from test_pages_e2e import browser, market, net  # noqa: F401  (the same fixtures: a testnet, a shop, Chromium)

from marketnode.core.message import seal_message
from marketnode.wallet.messages import open_item

pytestmark = pytest.mark.integration


def seed(net: Testnet, name: str) -> str:
    return (net.dir / "accounts" / f"{name}.key").read_text().strip()


def send_message(net: Testnet, sender: str, to: str, order: int, text: str, via: str) -> str:
    env = seal_message(net.keys[sender], net.chain_id, [net.keys[to].public_key], ("order", order), text,
                       time.time_ns() // 1_000_000)
    return net.call(via, "message_send", envelope=env.encode().hex())["id"]


def test_seller_is_notified_reads_in_the_inbox_and_replies_and_the_buyer_reads_it_through_another_node(
        browser, market, net):
    url = net.url("validator-0")
    listing = market.listing(market.shop, "Hand-bound notebook", 14_00, category="stationery")
    import_key(browser, url, seed(net, "alice"), "seller passphrase")
    order = market.place("bob", listing)
    browser.wait_text("#toasts", f"New order #{order}")
    text = f"Could you gift-wrap it? ({order})"
    send_message(net, "bob", "alice", order, text, via="validator-2")  # gossiped to validator-0
    browser.wait_text("#toasts", f"New message about order #{order}")
    browser.wait_text("#inbox-unread", "1")
    browser.call("eval", expr="location.hash = '#/inbox'")
    browser.wait_text("#inbox-threads", text)
    browser.wait_text(f'section[data-about="order:{order}"] h2', "1 unread")
    browser.call("click", selector=f'section[data-about="order:{order}"] button.mark-read')
    wait_for(lambda: browser.text("#inbox-unread") == "", 20, "the unread count to clear once read")
    browser.wait_text("#inbox-unread-count", "0 unread")
    assert net.call("validator-3", "message_inbox", address=net.keys["alice"].address)["unread"] == 0
    reply = "Yes, in brown paper with a ribbon."
    browser.call("fill", selector=f"#reply-order-{order}", value=reply)
    browser.call("click", selector=f'section[data-about="order:{order}"] form button[type=submit]')
    browser.wait_text(f'section[data-about="order:{order}"] .message.mine', reply)

    def bobs_copy():
        items = net.call("validator-3", "message_inbox", address=net.keys["bob"].address, limit=100)["items"]
        opened = [open_item(net.keys["bob"], i, net.chain_id) for i in items]
        return next((m for m in opened if m.text == reply), None)

    found = wait_for(bobs_copy, 20, "alice's browser reply on validator-3")
    assert found.sender == net.keys["alice"].address and found.problem is None
    assert browser.call("errors") == []


def test_buyer_is_notified_of_the_shipment_and_of_a_dispute(browser, market, net):
    url = net.url("validator-1")
    listing = market.listing(market.shop, "Brass bookmark", 6_00, category="stationery")
    order = market.place("bob", listing)
    import_key(browser, url, seed(net, "bob"), "buyer passphrase")
    market.one("alice", "order_accept", order=order)
    market.one("alice", "order_ship", order=order, tracking_hash=None, delivery=None)
    browser.wait_text("#toasts", f"Order #{order} shipped")
    market.one("alice", "order_dispute", order=order, reason_hash=bytes(32))
    browser.wait_text("#toasts", f"Order #{order} disputed")
    browser.call("eval", expr="localStorage.clear()")
    assert browser.call("errors") == []


def test_the_inbox_asks_for_an_unlocked_wallet(browser, market, net):
    browser.goto(f"{net.url('validator-0')}?fresh=1#/inbox")
    browser.wait_text("#main", "unlock your wallet")


def test_a_buyer_asks_the_seller_from_the_listing_page(browser, market, net):
    url = net.url("validator-2")
    listing = market.listing(market.shop, "Fountain pen ink", 8_00, category="stationery")
    import_key(browser, url, seed(net, "bob"), "buyer passphrase")
    browser.call("eval", expr=f"location.hash = '#/listing/{listing}'")
    browser.call("click", selector="#ask-seller")
    browser.wait_text("#main h1", "Inbox")
    assert browser.call("eval", expr="document.querySelector('#new-id').value") == str(listing)
    question = "Is the ink waterproof once dry?"
    browser.call("fill", selector="#new-message", value=question)
    browser.call("click", selector="#write-form button[type=submit]")
    browser.wait_text(f'section[data-about="listing:{listing}"] .message.mine', question)

    def alices_copy():
        items = net.call("validator-0", "message_inbox", address=net.keys["alice"].address, limit=100)["items"]
        return next((m for m in (open_item(net.keys["alice"], i, net.chain_id) for i in items) if m.text == question),
                    None)

    assert wait_for(alices_copy, 20, "bob's question at the seller's node").about == ("listing", listing)
    browser.call("eval", expr="localStorage.clear()")
    assert browser.call("errors") == []
