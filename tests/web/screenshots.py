"""Screenshots of the main pages, at desktop and phone width, against a testnet full of demo data.

Run: ``.venv/bin/python tests/web/screenshots.py [--out docs/screenshots]``. Starts a
4-validator testnet in a temporary directory, tells the demo story
(demo_data.populate), photographs each page, and stops the testnet.

This is the way to take them: a plain ``chromium --headless --screenshot URL`` shoots before the
app's first RPC answer and captures "Loading…". Each page here is shot only once its marker element
is there and the page has settled (driver.mjs ``settle``: no RPC request in flight, nothing loading).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "integration"), str(HERE.parent), str(HERE.parents[1])]

from browser import Browser, import_key, install  # noqa: E402
from demo_data import populate  # noqa: E402
from harness import Testnet  # noqa: E402

DESKTOP = (1280, 900)
PHONE = (390, 844)
VIEWPORT_ONLY = {"review-text-photo": "#reviews-title"}


def pages(ids: dict) -> list[tuple[str, str, str, bool]]:
    """(file name, route, selector that means 'loaded', also at phone width)."""
    return [
        ("marketplace-search", "/search?q=ceramics", '#main .card-thumb [data-content="ok"] img', True),
        ("marketplace-home", "/", "#main .cards", False),
        ("listing", f"/listing/{ids['listing']}", "#reviews-title", True),
        ("order-timeline", f"/order/{ids['order_shipped']}", "#escrow-timeline", True),
        ("order-completed", f"/order/{ids['order_done']}", "#escrow-timeline", False),
        ("explorer", "/explorer", "#txs-body tr", True),
        ("block", f"/block/{ids['height']}", "#cert-title + p", True),
        ("tx", f"/tx/{ids['tx']}", '#main section[data-verified="true"]', True),
        ("network", "/network", "#net-height", True),
        ("record", f"/record/{ids['record']}", "#record-timeline", False),
        ("certificate", f"/cert/{ids['fingerprint']}", "#cert-result .cert-list", True),
        ("arbiters", "/arbiters", "#main table", False),
        ("shop", f"/shop/{ids['shop']}", '#shop-listings + ul .card-thumb [data-content="ok"] img', True),
        ("listing-gallery", f"/listing/{ids['vase']}", '#main .gallery-main [data-content="ok"] img', True),
        ("review-text-photo", f"/listing/{ids['vase']}", '#main .review-photo[data-content="ok"] img', True),
        ("dispute", f"/order/{ids['order_resolved']}", '#dispute .evidence [data-content="ok"] img', True),
        ("account", f"/account/{ids['buyer']}", "#acct-rec + *", False),
    ]


def wallet_pages(browser: Browser, net: Testnet, url: str, ids: dict, out: Path) -> list[Path]:
    """The wallet with dave's demo key imported, then what dave may do: buy, confirm his shipped order."""
    seed = (net.dir / "accounts" / "dave.key").read_text().strip()
    import_key(browser, url, seed, "demo passphrase")
    written = []
    for name, route, ready in (("wallet", "/wallet", "#wallet-faucet"),
                               ("listing-buy", f"/listing/{ids['vase']}", "#buy-form"),
                               ("order-actions", f"/order/{ids['order_shipped']}", "#order-actions")):
        browser.call("eval", expr=f"location.hash = '#{route}'")  # same page: the key stays unlocked
        browser.call("waitFor", selector=ready)
        browser.call("settle")
        path = out / f"{name}-desktop.png"
        browser.screenshot(path)
        written.append(path)
        print(f"wrote {path}", flush=True)
    browser.call("eval", expr="localStorage.clear()")
    return written


# The pages also shot in Chinese (issue 15.13), as <name>-zh-CN-desktop.png.
CHINESE = ("marketplace-home", "listing", "explorer", "order-timeline")


def shoot_language(browser: Browser, url: str, ids: dict, out: Path, lang: str) -> list[Path]:
    """The CHINESE pages at desktop width in ``lang``, chosen as a user would (remembered in localStorage)."""
    written = []
    browser.goto(f"{url}#/")
    browser.call("eval", expr=f"localStorage.setItem('marketnode.lang', '{lang}')")
    for name, route, ready, _ in pages(ids):
        if name not in CHINESE:
            continue
        browser.goto(f"{url}?lang={lang}#{route}")  # another query string: a new document, read in `lang`
        browser.call("waitFor", selector=ready)
        browser.call("settle")
        path = out / f"{name}-{lang}-desktop.png"
        browser.screenshot(path)
        written.append(path)
        print(f"wrote {path}", flush=True)
    browser.call("eval", expr="localStorage.removeItem('marketnode.lang')")
    return written


CONVERSATION = (  # (sender, recipients, order id key, text)
    ("bob", ["alice"], "order_done", "The vase arrived safely and it is even bluer than the photos. Thank you!"),
    ("alice", ["bob"], "order_done", "So glad you like it. The glaze changes colour in daylight, enjoy!"),
    ("bob", ["alice"], "order_placed", "Could you ship both prints rolled in one tube?"),
    ("frank", ["alice"], "order_disputed", "The vase I received is green, not cobalt blue as listed."),
)


def inbox_pages(browser: Browser, net: Testnet, url: str, ids: dict, out: Path) -> list[Path]:
    """Alice's inbox (desktop and phone) after a short exchange of encrypted messages."""
    from marketnode.core.message import seal_message

    for sender, to, order_key, text in CONVERSATION:
        envelope = seal_message(net.keys[sender], net.chain_id, [net.keys[n].public_key for n in to],
                                ("order", ids[order_key]), text, time.time_ns() // 1_000_000)
        net.call("validator-1", "message_send", envelope=envelope.encode().hex())
    import_key(browser, url, (net.dir / "accounts" / "alice.key").read_text().strip(), "demo passphrase")
    browser.call("eval", expr="location.hash = '#/inbox'")
    written = []
    for (width, height), suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.call("viewport", width=width, height=height)
        browser.call("waitFor", selector="#inbox-threads .thread .message-text")
        browser.call("settle")
        path = out / f"inbox-{suffix}.png"
        browser.screenshot(path)
        written.append(path)
        print(f"wrote {path}", flush=True)
    browser.call("viewport", width=DESKTOP[0], height=DESKTOP[1])
    browser.call("eval", expr="localStorage.clear()")
    return written


def shoot(out: Path, only: str | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="marketnode-shots-") as tmp:
        net = Testnet(Path(tmp), validators=4, timeout_ms=1000)
        try:
            net.start()
            ids = populate(net)
            url = net.url("validator-0")
            with Browser(install()) as browser:
                for width, height in (DESKTOP, PHONE) if only is None else ():
                    browser.call("viewport", width=width, height=height)
                    suffix = "phone" if width == PHONE[0] else "desktop"
                    for name, route, ready, on_phone in pages(ids):
                        if suffix == "phone" and not on_phone:
                            continue
                        browser.goto(f"{url}#{route}")
                        browser.call("waitFor", selector=ready)
                        browser.call("settle")
                        browser.call("eval", expr="document.activeElement?.blur()")
                        path = out / f"{name}-{suffix}.png"
                        if name in VIEWPORT_ONLY:  # the part of a long page this shot is about, scrolled into view
                            browser.call("eval", expr=f"document.querySelector({VIEWPORT_ONLY[name]!r}).scrollIntoView()")
                            browser.call("screenshot", path=str(path), full_page=False)
                        else:
                            browser.screenshot(path)
                        written.append(path)
                        print(f"wrote {path}", flush=True)
                browser.call("viewport", width=DESKTOP[0], height=DESKTOP[1])
                if only is None:
                    written += wallet_pages(browser, net, url, ids, out)
                if only in (None, "inbox"):
                    written += inbox_pages(browser, net, url, ids, out)
                if only in (None, "zh-CN"):
                    written += shoot_language(browser, url, ids, out, "zh-CN")
                errors = browser.call("errors")
                if errors:
                    raise SystemExit(f"page errors: {errors}")
        finally:
            net.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parents[1] / "docs" / "screenshots")
    parser.add_argument("--only", choices=["inbox", "zh-CN"], default=None,
                        help=f"Photograph only these pages (zh-CN: {', '.join(CHINESE)} in Chinese).")
    args = parser.parse_args()
    shoot(args.out, args.only)


if __name__ == "__main__":
    main()
