"""Issue 17 items 1-6 through the CLI against a real 4-validator testnet: every command a user types.

Variants and shipping options on a listing, an order naming both with a coupon,
a return refunded from the after-sales deposit, a mutual refund, and a cart; each step
is a `marketnode ...` command (click's CliRunner) signed with the testnet's
key files, and what the chain then holds is read back from another node.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from harness import Testnet

from marketnode.cli.main import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("commerce"), validators=4, timeout_ms=1000)
    testnet.start(*testnet.validators)
    yield testnet
    testnet.close()


def cli(net: Testnet, who: str | None, *args: str, via: str = "validator-0") -> dict:
    signer = ["--key-file", str(net.dir / "accounts" / f"{who}.key")] if who else []
    result = CliRunner().invoke(main, [*args, *signer, "--rpc", net.url(via), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, f"{' '.join(args)}: {result.output}"
    return json.loads(result.output)


def event(sent: dict, kind: str) -> dict:
    return next(e["attrs"] for e in sent["events"] if e["kind"] == kind)


def test_variants_shipping_coupon_return_and_mutual_refund_through_the_cli(net):
    for name in ("alice", "bob", "grace"):
        cli(net, name, "register", name.title())
    grace = net.keys["grace"].address
    cli(net, "grace", "arbiter", "register", "--fee-fixed", "0", "--fee-bps", "100", "--description", "fair")
    shop = event(cli(net, "alice", "shop", "create", "--name", "Tees", "--region", "DE", "--asset", "USDX",
                     "--arbiter", grace), "shop_created")["shop"]
    listing = event(cli(net, "alice", "listing", "create", "--shop", str(shop), "--title", "Tee", "--price", "20.00",
                        "--asset", "USDX", "--category", "clothing", "--region", "DE", "--region", "AT",
                        "--option", "size=S,M", "--variant", "TEE-S=S:-1.00:2", "--variant", "TEE-M=M:+0:3",
                        "--shipping", "DHL=DE:4.00:1-3", "--shipping", "Post=AT:8.00:3-6", "--return-days", "14"),
                    "listing_created")["listing"]
    shown = cli(net, None, "listing", "show", str(listing), via="validator-2")
    assert shown["stock"] == 5 and [v["stock"] for v in shown["variants"]] == [2, 3]
    cli(net, "alice", "shop", "deposit", str(shop), "--asset", "USDX", "--amount", "100")
    cli(net, "alice", "shop", "coupon-issue", str(shop), "tee-5", "--amount", "5.00", "--asset", "USDX", "--uses",
        "2", "--days", "7")

    placed = cli(net, "bob", "order", "place", str(listing), "--quantity", "2", "--variant", "TEE-M", "--shipping",
                 "DHL", "--coupon", "TEE-5", "--address", "Bob, 1 Main St, Berlin, DE", "--arbiter", grace,
                 via="validator-1")
    order = event(placed, "order_placed")["order"]
    assert event(placed, "order_placed")["total"] == 2 * 2000 - 500 + 400
    for who, args in (("alice", ("order", "accept")), ("alice", ("order", "ship")), ("bob", ("order", "confirm")),
                      ("bob", ("order", "return", "--reason", "too big")),
                      ("alice", ("order", "return-answer", "--accept")),
                      ("bob", ("order", "return-ship", "--tracking", "DHL-1")),
                      ("alice", ("order", "return-receive"))):
        cli(net, who, *args[:2], str(order), *args[2:])
    shown = cli(net, None, "order", "show", str(order), via="validator-3")
    assert shown["status"] == "completed" and shown["return"]["status"] == "refunded"
    assert shown["return"]["paid"] == 2 * 2000 - 500 and shown["coupon"] == {"code": "TEE-5", "discount": 500}

    second = event(cli(net, "bob", "order", "place", str(listing), "--variant", "TEE-S", "--shipping", "Post",
                       "--address", "Bob, Ring 1, Wien, AT", "--arbiter", grace), "order_placed")["order"]
    cli(net, "alice", "order", "accept", str(second))
    cli(net, "alice", "order", "ship", str(second))
    cli(net, "alice", "order", "refund-offer", str(second), "--amount", "3.00")
    cli(net, "bob", "order", "refund-accept", str(second), "--amount", "3.00")
    shown = cli(net, None, "order", "show", str(second), via="validator-2")
    assert (shown["status"], shown["buyer_amount"], shown["total"]) == ("settled", 300, 1900 + 800)
    mug = event(cli(net, "alice", "listing", "create", "--shop", str(shop), "--title", "Mug", "--price", "6.00",
                    "--asset", "USDX", "--category", "kitchen", "--stock", "4"), "listing_created")["listing"]
    cart = event(cli(net, "bob", "order", "cart", "--item", f"{listing}:1:TEE-M", "--item", f"{mug}:2",
                     "--shipping", "DHL", "--address", "Bob, 1 Main St, Berlin, DE", "--arbiter", grace,
                     via="validator-3"), "order_placed")["order"]
    cli(net, "alice", "order", "accept", str(cart))
    cli(net, "alice", "order", "ship", str(cart))
    cli(net, "bob", "order", "confirm", str(cart))
    shown = cli(net, None, "order", "show", str(cart), via="validator-1")
    assert shown["status"] == "completed" and shown["total"] == 2000 + 2 * 600 + 400
    assert [(i["listing"], i["quantity"]) for i in shown["items"]] == [(listing, 1), (mug, 2)]
    assert cli(net, None, "listing", "show", str(mug))["stock"] == 2
    shop_now = cli(net, None, "shop", "show", str(shop), via="validator-1")
    assert shop_now["aftersales"]["USDX"] == {"free": 10_000 - 3500, "owed": 0}
    coupon = cli(net, None, "shop", "coupon-show", str(shop), "TEE-5")
    assert coupon["used"] == 1 and coupon["valid"]
