"""Issue 6's acceptance test: the CLI walks the demo story against a real 4-validator testnet.

The nodes are separate OS processes (harness.Testnet); `marketnode demo` runs
through click's CliRunner, its characters spread over the four nodes. What
the chain holds afterwards is read back over JSON-RPC, from a node other
than the ones that took the story's txs where it matters.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from harness import Testnet, wait_for

from marketnode.cli.main import main
from marketnode.node.genesis_setup import DEV_PARAMS
from marketnode.wallet.account import verify_final
from marketnode.wallet.client import RpcClient

pytestmark = pytest.mark.integration

WATCHED = ("alice", "bob", "carol", "grace")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("demo"), validators=4, timeout_ms=1000)
    testnet.start(*testnet.validators)
    yield testnet
    testnet.close()


@pytest.fixture(scope="module")
def story(net):
    """Run the demo once with --json; return its report and the balances before it."""
    before = {name: balances(net, net.keys[name].address) for name in WATCHED}
    result = CliRunner().invoke(main, ["demo", "--dir", str(net.dir), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output + "\n" + net.log("validator-0")[-3000:]
    report = json.loads(result.output)
    last = max(step["height"] or 0 for step in report["steps"])
    for name in net.validators:  # a node may commit a moment after the one the last tx went through
        wait_for(lambda n=name: net.height(n) >= last, 30, f"{name} to reach height {last}")
    return report, before


def balances(net: Testnet, address: str, via: str = "validator-3") -> dict[str, int]:
    return net.call(via, "account_get", address=address)["balances"]


def delta(after: dict[str, int], before: dict[str, int], asset: str) -> int:
    return after.get(asset, 0) - before.get(asset, 0)


def test_every_step_is_a_committed_tx_at_the_height_it_printed_on_every_node(net, story):
    report, _ = story
    txs = [s for s in report["steps"] if s["tx"]]
    assert len(txs) >= 25
    for step in txs:
        for name in ("validator-1", "validator-3"):
            status = net.call(name, "tx_get", hash=step["tx"], proof=False)
            assert (status["status"], status["height"]) == ("committed", step["height"]), (name, step)
    client = RpcClient(net.url("validator-2"))
    assert verify_final(client, client.call("tx_get", hash=txs[-1]["tx"])) == txs[-1]["height"]
    net.assert_agree(net.validators)


def test_the_sale_completed_and_its_review_paid_the_reward(net, story):
    report, before = story
    ids, addresses = report["ids"], report["addresses"]
    sale = net.call("validator-2", "order_get", order=ids["sale_order"])
    assert sale["status"] == "completed"
    assert [e["status"] for e in sale["timeline"]] == ["placed", "accepted", "shipped", "completed"]
    assert sale["review"]["reviewer"] == addresses["bob"] and sale["review"]["ratings"]["overall"] == 5
    reviews = net.call("validator-1", "review_list", listing=ids["coffee_listing"])["items"]
    assert [r["order"] for r in reviews] == [ids["sale_order"]]
    bob_after = balances(net, addresses["bob"])
    assert delta(bob_after, before["bob"], "MKT") == 0 and ids["review_reward"] > 0  # paid in the sale's asset: USDX
    assert delta(balances(net, addresses["carol"]), before["carol"], "USDX") > 0  # the referral reward


def test_the_dispute_was_split_by_the_arbiter_and_the_money_moved(net, story):
    report, before = story
    ids, addresses = report["ids"], report["addresses"]
    sale = net.call("validator-0", "order_get", order=ids["sale_order"])
    dispute = net.call("validator-0", "order_get", order=ids["dispute_order"])
    assert dispute["status"] == "resolved" and dispute["arbiter"] == addresses["grace"]
    assert dispute["buyer_amount"] == ids["dispute_refund"] > 0
    fee = dispute["arbiter_fee"]
    seller_share = dispute["total"] - fee - dispute["buyer_amount"]
    after = {name: balances(net, addresses[name]) for name in WATCHED}
    platform_fee = DEV_PARAMS.platform_fee(sale["total"])  # the sale's; a ruling pays none
    commerce = ids["commerce_moves"]  # the commerce act's own moves (test_the_commerce_act_... checks them)
    assert delta(after["alice"], before["alice"], "USDX") - commerce["alice"]["USDX"] == (
        sale["total"] - platform_fee + seller_share)
    assert delta(after["bob"], before["bob"], "USDX") - commerce["bob"]["USDX"] == (
        -(sale["total"] + dispute["total"]) + dispute["buyer_amount"] + ids["review_reward"])
    assert delta(after["grace"], before["grace"], "USDX") == fee > 0


def test_the_lot_is_traced_from_producer_through_carrier_to_buyer_with_its_certificate(net, story):
    report, _ = story
    ids, addresses = report["ids"], report["addresses"]
    record = net.call("validator-3", "record_get", record=ids["record"])
    assert record["producer"] == addresses["alice"]
    assert record["owner"] == record["custodian"] == addresses["bob"]
    history = net.call("validator-3", "record_history", record=ids["record"])["items"]
    trace = [(e["event"], e.get("account")) for e in history]
    assert trace == [("created", None), ("reported", None), ("custodian", addresses["dave"]), ("reported", None),
                     ("custodian", addresses["bob"]), ("owner", addresses["bob"])]
    assert history[3]["by"] == addresses["dave"] and history[3]["property"] == "location"
    cert = net.call("validator-1", "cert_get", certificate=ids["certificate"])
    assert cert["owner"] == addresses["bob"] and cert["record"] == ids["record"] and cert["valid"]
    assert [c["to"] for c in cert["ownership_chain"]] == [addresses["alice"], addresses["bob"]]
    verdict = net.call("validator-2", "cert_verify", fingerprint=ids["fingerprint"])
    assert verdict["valid"] and verdict["certificates"][0]["issuer"] == addresses["frank"]


def test_the_listing_is_found_by_search_and_links_its_provenance(net, story):
    report, _ = story
    ids = report["ids"]
    found = net.call("validator-3", "listing_search", q="huila")["items"]
    assert ids["coffee_listing"] in [item["id"] for item in found]
    listing = net.call("validator-3", "listing_get", listing=ids["coffee_listing"])
    assert listing["provenance"]["record"]["id"] == ids["record"]
    assert listing["provenance"]["certificate"]["id"] == ids["certificate"]
    assert listing["stock"] == 40 - 2


def test_a_second_run_tells_the_story_again_for_people_with_blocks_and_urls(net, story):
    result = CliRunner().invoke(main, ["demo", "--dir", str(net.dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "is already registered" in out and "already arbitrates" in out
    assert "block " in out and " tx " in out and "earns the review reward" in out
    assert "disputes" in out and "rules:" in out and "traces lot" in out
    assert f"web:         {net.url('validator-0')}" in out and "#/order/" in out and "JSON-RPC:" in out


def test_the_story_put_its_photos_and_texts_in_every_nodes_content_store(net, story):
    """Listing photos, the review's text and photo, the dispute's statement and evidence, and the ruling are
    referenced on chain and served, byte-identical to their hashes, by every node (whichever took the upload)."""
    import hashlib
    import urllib.request

    report, _ = story
    ids = report["ids"]
    sale = net.call("validator-0", "order_get", order=ids["sale_order"])
    dispute = net.call("validator-0", "order_get", order=ids["dispute_order"])
    listing = net.call("validator-0", "listing_get", listing=ids["coffee_listing"])
    texts = {sale["review"]["text_hash"]: ids["review_text"], dispute["reason_hash"]: ids["dispute_statement"],
             dispute["response_hash"]: ids["dispute_answer"], dispute["ruling_hash"]: ids["ruling"]}
    assert sale["review"]["photo"] == ids["review_photo"] and dispute["evidence_hash"] == ids["dispute_evidence"]
    assert listing["images"] == ids["listing_images"][:2]
    wanted = [*texts, ids["review_photo"], ids["dispute_evidence"], *ids["listing_images"]]

    def served(name: str, blob: str) -> bytes | None:
        try:
            with urllib.request.urlopen(f"{net.url(name).rstrip('/')}/content/{blob}", timeout=5) as response:
                return response.read()
        except OSError:
            return None

    for name in net.validators:
        for blob in wanted:
            data = wait_for(lambda n=name, b=blob: served(n, b), 30, f"{name} to serve {blob[:12]}")
            assert hashlib.sha256(data).hexdigest() == blob
            if blob in texts:
                assert data.decode() == texts[blob]


def test_the_demo_exchanges_messages_that_each_reader_decrypted_through_its_own_node(net, story):
    report, _ = story
    ids = report["ids"]["messages"]
    assert len(ids) == 3
    said = [s["text"] for s in report["steps"]]
    assert any("Yes: every Monday, shipped Tuesday." in text for text in said)
    alice = net.keys["alice"].address
    for name in net.validators:  # gossiped to every node, as ciphertext
        held = {i["id"] for i in net.call(name, "message_inbox", address=alice, limit=100)["items"]}
        assert set(ids) <= held, name


def test_the_commerce_act_sold_a_variant_with_shipping_and_a_coupon_took_it_back_and_settled_another(net, story):
    report, _ = story
    ids = report["ids"]
    sale = net.call("validator-1", "order_get", order=ids["variant_order"])
    assert (sale["status"], sale["variant"], sale["shipping"]["service"], sale["coupon"]["code"]) == (
        "completed", "TEE-M-BLK", "DHL Paket", ids["coupon"])
    goods = sale["unit_price"] * sale["quantity"]
    assert sale["total"] == goods - goods // 10 + sale["shipping"]["price"] and sale["coupon"]["discount"] == goods // 10
    assert sale["return"]["status"] == "refunded" and sale["return"]["paid"] == sale["total"] - sale["shipping"]["price"]
    settled = net.call("validator-2", "order_get", order=ids["settled_order"])
    assert settled["status"] == "settled" and settled["buyer_amount"] == ids["settled_refund"]
    listing = net.call("validator-3", "listing_get", listing=ids["tee_listing"])
    assert {v["sku"]: v["stock"] for v in listing["variants"]} == {"TEE-S-BLK": 2, "TEE-M-BLK": 2, "TEE-L-NAT": 1}
    assert listing["stock"] == 5  # the variants' sum; the returned shirts did not go back on sale by themselves
    shop = net.call("validator-0", "shop_get", shop=ids["shop"])
    assert shop["aftersales"]["USDX"]["free"] == 5000 - ids["return_refund"] and shop["aftersales"]["USDX"]["owed"] == 0
    # alice: +the variant sale less platform fee, -the refund from her deposit, -the deposit, +the settled part
    fee = DEV_PARAMS.platform_fee
    moves = ids["commerce_moves"]
    kept = settled["total"] - ids["settled_refund"]
    cart = net.call("validator-3", "order_get", order=ids["cart_order"])
    assert cart["status"] == "completed" and [i["listing"] for i in cart["items"]] == [ids["tee_listing"],
                                                                                     ids["mug_listing"]]
    assert [e["status"] for e in cart["timeline"]] == ["placed", "accepted", "shipped", "completed"]
    assert cart["total"] == sum(i["unit_price"] * i["quantity"] for i in cart["items"]) + cart["shipping"]["price"]
    assert moves["alice"]["USDX"] == (sale["total"] - fee(sale["total"]) - 5000 + kept - fee(kept)
                                      + cart["total"] - fee(cart["total"]))
    assert moves["bob"]["USDX"] == (-sale["total"] + ids["return_refund"] - settled["total"] + ids["settled_refund"]
                                    - cart["total"])
def test_the_demo_rotates_a_key_refuses_a_single_key_tx_of_a_2_of_2_account_and_recovers_one(net, story):
    report, _ = story
    ids = report["ids"]
    assert ids["rotated_old_key_refused"] == ids["two_of_two_single_key_refused"] == "bad_signers"
    two = net.call("validator-1", "account_getAuthority", address=ids["two_of_two_account"])
    assert two["threshold"] == 2 and len(two["keys"]) == 2 and not two["default"]
    recovered = net.call("validator-3", "account_getAuthority", address=ids["recovered_account"])
    assert recovered["version"] == 2 and recovered["recovery"] is None  # rotated once, then recovered
    assert any(step["kind"] == "recovery_finish" for step in report["steps"])
