"""Wallet.send against a JSON-RPC node that executes each tx with the real market rules, and amounts in units.

The node is the CLI tests' scripted server (tests/cli/fake_node.py) whose
tx_send runs the tx through market.engine on an in-memory chain, one block
per tx: the wallet sees real receipts, events and refusals over real HTTP.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from marketnode.core.errors import RpcError, ValidationError
from marketnode.core.jsonable import to_json
from marketnode.core.keys import pubkey_from_address
from marketnode.market import keys, store
from marketnode.wallet import builders, kinds
from marketnode.wallet.account import TxFailedError, TxTimeoutError, Wallet
from marketnode.wallet.amounts import AssetBook, format_amount, parse_amount

sys.path.insert(0, str(Path(__file__).parents[1] / "market"))
sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from fake_node import FakeNode, Refuse
from market_harness import CHAIN_ID, Chain


class MarketNode:
    """Answers tx_send by executing the tx in a block of its own on a market_harness Chain."""

    def __init__(self, fake: FakeNode) -> None:
        self.chain = Chain()
        self.fake = fake
        self.pending = False  # when set, tx_send answers as if the wait timed out
        self.held: set[str] = set()  # hashes of txs answered "pending"
        self.busy_answers = 0  # refuse this many tx_sends as busy first
        fake.methods.update({
            "node_status": lambda p: {"chain_id": CHAIN_ID, "height": self.chain.height, "head_time_ms": 0},
            "account_get": self.account_get,
            "tx_send": self.tx_send,
            "tx_get": lambda p: {"hash": p["hash"], "status": "pending" if p["hash"] in self.held else "unknown"},
            "chain_getGenesis": lambda p: {"genesis": {"params": {"min_fee": 1}}},
        })

    def account_get(self, params: dict[str, Any]) -> dict[str, Any]:
        account = pubkey_from_address(params["address"])
        return {"nonce": store.load_int(self.chain.state, keys.nonce(account)), "balances": {}}

    def tx_send(self, params: dict[str, Any]) -> dict[str, Any]:
        tx = FakeNode.sent_tx(params)
        expected = store.load_int(self.chain.state, keys.nonce(tx.sender))
        if tx.nonce < expected:
            raise Refuse(-32003, f"tx nonce {tx.nonce} is already used; the sender's next nonce is {expected}",
                         {"code": "stale_nonce"})
        if self.busy_answers:
            self.busy_answers -= 1
            raise Refuse(-32005, "node busy: retry in 5 ms", {"code": "busy", "retry_after_ms": 5})
        if self.pending:
            self.held.add(tx.hash.hex())
            return {"hash": tx.hash.hex(), "status": "pending", "timed_out": True}
        receipt = self.chain.block([tx])[0]
        return {"hash": tx.hash.hex(), "status": "committed" if receipt.ok else "failed",
                "height": self.chain.height, "receipt": to_json(receipt.to_obj())}


@pytest.fixture
def market():
    with FakeNode.running() as fake:
        yield MarketNode(fake), fake.url


def wallet_of(market: tuple[MarketNode, str], name: str) -> Wallet:
    node, url = market
    return Wallet(node.chain.keys[name], url, poll_s=0.01)


def test_send_commits_and_returns_the_receipts_events(market):
    alice = wallet_of(market, "alice")
    body, _ = builders.register("Alice", {"email": "a@example.org"})
    result = alice.send("register", body)
    assert result.ok and result.height == 1
    assert result.event("registered")["name"] == "Alice"
    with pytest.raises(KeyError, match="no 'shop_created' event"):
        result.event("shop_created")


def test_the_nonce_is_tracked_locally_and_the_fee_is_the_chains_minimum(market):
    node, _ = market
    bob = wallet_of(market, "bob")
    for amount in (1, 2, 3):
        bob.send("transfer", kinds.transfer(to=node.chain.keys["alice"].address, asset="USD", amount=amount))
    account_gets = [m for m, _ in node.fake.calls if m == "account_get"]
    assert len(account_gets) == 1  # read once, then counted
    assert store.load_int(node.chain.state, keys.nonce(bob.public_key)) == 3
    assert [FakeNode.sent_tx(p).fee for m, p in node.fake.calls if m == "tx_send"] == [1, 1, 1]


def test_a_rule_failure_raises_with_its_code_and_the_next_tx_still_goes_through(market):
    carol = wallet_of(market, "carol")
    with pytest.raises(TxFailedError) as info:
        carol.send("shop_close", kinds.shop_close(shop=9))
    assert info.value.code == "not_found" and "shop_close failed in block 1" in str(info.value)
    body, _ = builders.register("Carol")
    assert carol.send("register", body).ok  # the failed tx used its nonce; the wallet knows


def test_a_stale_nonce_is_reread_after_the_node_refuses_it(market):
    node, url = market
    dave = wallet_of(market, "dave")
    other_device = Wallet(node.chain.keys["dave"], url)
    body, _ = builders.register("Dave")
    dave.send("register", body)
    transfer = kinds.transfer(to=node.chain.keys["alice"].address, asset="USD", amount=1)
    with pytest.raises(RpcError, match="already used"):
        other_device._nonce = 0  # it read the nonce before dave's register committed
        other_device.send("transfer", transfer)
    assert other_device.send("transfer", transfer).ok


def test_a_tx_not_committed_in_time_raises_a_timeout_naming_it(market):
    node, _ = market
    node.pending = True
    with pytest.raises(TxTimeoutError, match="still pending") as info:
        wallet_of(market, "erin").send("transfer", kinds.transfer(to=node.chain.keys["bob"].address, asset="USD",
                                                                   amount=1), timeout_s=0.2)
    assert len(info.value.tx_hash) == 64


def test_a_busy_node_is_asked_again_after_its_hint_and_the_tx_commits_once(market):
    node, _ = market
    node.busy_answers = 2
    erin = wallet_of(market, "erin")
    notices: list[str] = []
    erin.notice = notices.append
    result = erin.send("transfer", kinds.transfer(to=node.chain.keys["bob"].address, asset="USD", amount=1))
    assert result.ok and node.chain.height == 1
    assert len([m for m, _ in node.fake.calls if m == "tx_send"]) == 3 and len(notices) == 2
    assert "busy" in notices[0]


def test_a_node_still_busy_at_the_deadline_raises_busy_and_the_nonce_is_not_used(market):
    node, _ = market
    node.busy_answers = 10**6
    erin = wallet_of(market, "erin")
    transfer = kinds.transfer(to=node.chain.keys["bob"].address, asset="USD", amount=1)
    with pytest.raises(RpcError, match="busy") as info:
        erin.send("transfer", transfer, timeout_s=0.1)
    assert info.value.data["code"] == "busy"
    node.busy_answers = 0
    assert erin.send("transfer", transfer).ok and FakeNode.sent_tx(node.fake.calls[-1][1]).nonce == 0


def test_an_acknowledged_tx_the_node_lost_is_sent_again_until_it_commits(market):
    node, _ = market
    node.pending = True  # the first answer: pending, and then the node "restarts" without it
    erin = wallet_of(market, "erin")
    original = node.fake.methods["tx_get"]

    def lost_once(params: dict[str, Any]) -> dict[str, Any]:
        node.held.clear()
        node.pending = False
        return original(params)

    node.fake.methods["tx_get"] = lost_once
    result = erin.send("transfer", kinds.transfer(to=node.chain.keys["bob"].address, asset="USD", amount=1))
    assert result.ok
    sent = [FakeNode.sent_tx(p) for m, p in node.fake.calls if m == "tx_send"]
    assert len(sent) == 2 and sent[0].hash == sent[1].hash  # the very same signed tx, sent again


def test_send_with_wait_none_returns_pending_and_refuses_unknown_waits(market):
    node, _ = market
    node.pending = True
    arb = wallet_of(market, "arb")
    assert arb.send("transfer", kinds.transfer(to=arb.address, asset="USD", amount=1), wait="none").status == \
        "pending"
    with pytest.raises(ValueError, match="wait must be"):
        arb.send("transfer", {}, wait="soon")


@pytest.mark.parametrize(
    ("amount", "decimals", "text"),
    [(1250, 2, "12.50"), (5, 2, "0.05"), (1_000_000, 0, "1,000,000"), (123_456_789, 3, "123,456.789"), (0, 2, "0.00")],
)
def test_amounts_format_in_units_and_parse_back(amount, decimals, text):
    assert format_amount(amount, decimals) == text
    assert parse_amount(text, decimals) == amount
    assert format_amount(amount, decimals, "USDX") == f"{text} USDX"


@pytest.mark.parametrize(("text", "message"), [("1.234", "more than 2 decimals"), ("-1", "not an amount"),
                                               ("1e3", "not an amount"), ("", "not an amount")])
def test_amounts_that_are_not_exact_in_the_asset_are_refused(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_amount(text, 2)


def test_the_asset_book_reads_decimals_from_asset_list_or_falls_back_to_the_genesis():
    class Node:
        def __init__(self, has_asset_list: bool) -> None:
            self.has_asset_list = has_asset_list

        def call(self, method: str, **params: Any) -> Any:
            if method == "asset_list":
                if not self.has_asset_list:
                    raise RpcError(-32601, "method not found")
                return {"items": [{"asset": "USDX", "decimals": 2}], "next_cursor": None}
            return {"genesis": {"params": {"native_asset": "MKT"}, "assets": [{"asset": "EUR", "decimals": 2}]}}

    assert AssetBook.from_node(Node(True)).format(1250, "USDX") == "12.50 USDX"
    older = AssetBook.from_node(Node(False))
    assert older.assets() == ["EUR", "MKT"] and older.parse("3", "MKT") == 3
    with pytest.raises(ValidationError, match="no asset 'USDX'"):
        older.parse("1", "USDX")
