"""The key set page in headless Chromium against a real testnet: show the key set, rotate the browser
wallet's key, and keep signing for the same address with the new key (also after a reload and unlock)."""

from __future__ import annotations

import pytest
from browser import Browser, BrowserUnavailable, import_key, install
from harness import Testnet

from core.keys import PrivateKey

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def browser():
    try:
        node_modules = install()
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium for the web e2e test: {exc}")
    with Browser(node_modules) as b:
        yield b


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("keysnet"), validators=4, timeout_ms=1000)
    testnet.start()
    yield testnet
    testnet.close()


def test_the_browser_rotates_its_key_and_signs_for_the_same_address(browser, net):
    url = net.url("validator-0")
    dave = PrivateKey.load(net.dir / "accounts" / "dave.key")
    import_key(browser, url, dave.seed.hex(), "correct horse battery")
    browser.call("eval", expr="location.hash = '#/keys'")
    browser.wait_text("#main", "the address key alone")
    browser.wait_text("#key-list", dave.address)
    browser.call("fill", selector="#rotate-pass", value="staple battery horse")
    browser.call("click", selector="#keys-rotate button[type=submit]")
    browser.wait_text("#keys-rotate", "Rotated in block")
    found = net.call("validator-1", "account_getAuthority", address=dave.address)
    assert found["version"] == 1 and found["keys"][0]["public_key"] != dave.public_key.hex()

    browser.call("eval", expr="location.hash = '#/wallet'")  # same document: the new key is unlocked
    browser.wait_text("#main", "Register")
    browser.call("fill", selector="#reg-name", value="Dave")
    browser.call("click", selector="#wallet-register button[type=submit]")
    browser.wait_text("#main", "Dave")  # the re-rendered page names the registered account (inputs are not text)
    assert net.call("validator-2", "account_get", address=dave.address)["registered"]

    browser.goto(f"{url}#/wallet")  # a new document: unlock the stored, rotated key
    browser.call("fill", selector="#unlock-pass", value="staple battery horse")
    browser.call("click", selector="#wallet-unlock button[type=submit]")
    browser.wait_text("#main h1", "unlocked")
    browser.wait_text("#main", dave.address)
    assert browser.call("errors") == []
