"""The wallet and marketplace commands: arguments, what they sign, how they report errors.

A scripted JSON-RPC node (fake_node.py) stands in for the network, so these
tests check the CLI's side only: the tx it builds and signs, its output, and
its exit status. tests/integration/test_demo.py runs them against real nodes.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from fake_node import CHAIN_ID, FakeNode, Refuse

from marketnode.cli.main import main
from marketnode.cli.wallet_common import when
from marketnode.core.keys import PrivateKey
from marketnode.core.sealed import open_sealed

ALICE = PrivateKey(bytes([1]) * 32)
BOB = PrivateKey(bytes([2]) * 32)
GRACE = PrivateKey(bytes([3]) * 32)


@pytest.fixture
def node():
    with FakeNode.running() as fake:
        yield fake


@pytest.fixture
def alice_key(tmp_path: Path) -> Path:
    path = tmp_path / "alice.key"
    ALICE.save(path)
    return path


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def signed(node: FakeNode, *args: str):
    """Run a signing command as alice through the fake node; return (result, the tx it sent)."""
    result = run(*args, "--rpc", node.url)
    assert result.exit_code == 0, result.output
    return result, node.last_tx()


# --- help -------------------------------------------------------------------------------------


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


MARKET_GROUPS = ("wallet", "kyc", "asset", "arbiter", "shop", "listing", "order", "review", "record", "cert", "tx")


@pytest.mark.parametrize("group", MARKET_GROUPS)
def test_each_group_help_teaches_with_examples(group):
    result = run(group, "--help")
    assert result.exit_code == 0
    assert f"marketnode {group} " in result.output or "marketnode" in result.output


def test_every_command_answers_help_and_the_node_commands_take_rpc_and_json():
    for path, command in _commands(main):
        result = run(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        if path[0] in (*MARKET_GROUPS, "register", "transfer") and not isinstance(command, click.Group) \
                and path[-1] not in ("new", "address", "export", "import"):  # keys on disk only: no node
            assert "--rpc URL" in result.output and "--json" in result.output, path


def test_the_issue_lists_a_command_for_every_marketplace_action():
    wanted = ["register", "transfer", "kyc attest", "shop create", "shop update", "shop close", "listing create",
              "listing update", "listing delist", "listing search", "listing show", "order place", "order accept",
              "order ship", "order confirm", "order cancel", "order dispute", "order resolve", "order claim",
              "review write", "record create", "record report", "record propose", "record answer",
              "record history", "cert issue", "cert transfer", "cert verify", "arbiter register", "arbiter list",
              "wallet new", "wallet address", "wallet balance", "demo"]
    have = {" ".join(path) for path, _ in _commands(main)}
    assert not [w for w in wanted if w not in have]


# --- keys ----------------------------------------------------------------------------------------


def test_wallet_new_writes_a_private_keystore_whose_address_reads_without_the_passphrase(tmp_path):
    path = tmp_path / "ks.json"
    result = run("wallet", "new", "--keystore", str(path), env={"MARKETNODE_PASSPHRASE": "correct horse"})
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    address = result.output.split("address:")[1].split()[0]
    assert run("wallet", "address", "--keystore", str(path)).output.strip() == address
    again = run("wallet", "new", "--keystore", str(path), env={"MARKETNODE_PASSPHRASE": "x"})
    assert again.exit_code == 1 and "refusing to overwrite" in again.output


def test_a_keystore_signs_after_the_passphrase_prompt_and_refuses_a_wrong_one(tmp_path, alice_key, node):
    path = tmp_path / "ks.json"
    run("wallet", "new", "--keystore", str(path), "--from-key-file", str(alice_key),
        env={"MARKETNODE_PASSPHRASE": "pw"})
    ok = run("wallet", "balance", "--keystore", str(path), "--rpc", node.url, input="pw\n",
             env={"MARKETNODE_PASSPHRASE": ""})
    assert ok.exit_code == 0 and ALICE.address in ok.output
    wrong = run("wallet", "balance", "--keystore", str(path), "--rpc", node.url, input="nope\n",
                env={"MARKETNODE_PASSPHRASE": ""})
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output


def test_a_missing_keystore_is_reported_before_asking_for_a_passphrase(tmp_path, node):
    result = run("wallet", "balance", "--keystore", str(tmp_path / "none.json"), "--rpc", node.url,
                 env={"MARKETNODE_PASSPHRASE": ""})
    assert result.exit_code == 1
    assert "does not exist" in result.output and "passphrase" not in result.output


# --- what gets signed -----------------------------------------------------------------------------


def test_balance_shows_amounts_in_units_of_each_asset(node, alice_key):
    result = run("wallet", "balance", "--key-file", str(alice_key), "--rpc", node.url)
    assert result.exit_code == 0
    assert "12.50 USDX" in result.output and "5 MKT" in result.output


def test_transfer_signs_the_amount_in_the_smallest_unit_at_the_accounts_nonce(node, alice_key):
    _, tx = signed(node, "transfer", BOB.address, "12.5", "USDX", "--key-file", str(alice_key))
    assert tx.verify() and tx.sender == ALICE.public_key and tx.chain_id == CHAIN_ID
    assert (tx.kind, tx.nonce, tx.fee) == ("transfer", 4, 0)
    assert tx.body == {"to": BOB.public_key, "asset": "USDX", "amount": 1250}


def test_order_place_seals_the_address_to_seller_and_arbiter(node, alice_key):
    node.methods["listing_get"] = lambda p: {"id": 7, "type": "physical", "asset": "USDX", "price": 1250,
                                             "seller": GRACE.address, "regions": []}
    node.events["order_place"] = [{"kind": "order_placed", "attrs": {"order": 9, "total": 2500,
                                                                     "deadline_ms": 1_700_000_000_000}}]
    result, tx = signed(node, "order", "place", "7", "--quantity", "2", "--address", "1 Main St",
                        "--arbiter", BOB.address, "--key-file", str(alice_key))
    assert "order 9 placed: 25.00 USDX in escrow" in result.output
    assert tx.body["max_total"] == 2500 and tx.body["quantity"] == 2
    assert open_sealed(GRACE, tx.body["address_seller"]) == b"1 Main St"
    assert open_sealed(BOB, tx.body["address_arbiter"]) == b"1 Main St"


def test_register_commits_to_private_data_and_prints_the_salt_in_json(node, alice_key):
    result, tx = signed(node, "register", "Alice", "--email", "a@example.org", "--key-file", str(alice_key),
                        "--json")
    out = json.loads(result.output)
    assert out["status"] == "committed" and len(bytes.fromhex(out["salt"])) == 16
    assert b"a@example.org" not in tx.encode() and len(tx.body["commitment"]) == 32


def test_review_with_one_rating_rates_every_aspect(node, alice_key):
    _, tx = signed(node, "review", "write", "3", "--rating", "4", "--text", "ok", "--key-file", str(alice_key))
    assert set(tx.body["ratings"].values()) == {4} and len(tx.body["ratings"]) == 5


# --- errors ----------------------------------------------------------------------------------------


def test_an_unreachable_node_is_one_clear_line_and_status_1(alice_key):
    result = run("wallet", "balance", "--key-file", str(alice_key), "--rpc", "http://127.0.0.1:9/")
    assert result.exit_code == 1
    assert "cannot reach the node at http://127.0.0.1:9/" in result.output
    assert "marketnode testnet up --dir testnet" in result.output and "--rpc URL" in result.output


def test_without_rpc_a_command_finds_the_testnet_in_this_directory(node, alice_key, tmp_path, monkeypatch):
    (tmp_path / "testnet").mkdir()
    (tmp_path / "testnet" / "testnet.json").write_text(json.dumps({"nodes": [{"name": "validator-0",
                                                                              "rpc": node.url}]}))
    monkeypatch.chdir(tmp_path)
    result = run("wallet", "balance", "--key-file", str(alice_key), env={"MARKETNODE_RPC": None})
    assert result.exit_code == 0, result.output
    assert ("account_get", {"address": ALICE.address}) in node.calls


def test_testnet_init_prints_and_writes_the_export_line(tmp_path):
    result = run("testnet", "init", "--validators", "1", "--dir", str(tmp_path / "tn"), "--base-port", "23400")
    assert result.exit_code == 0, result.output
    line = "export MARKETNODE_RPC=http://127.0.0.1:23401/"
    assert line in result.output and (tmp_path / "tn" / "rpc.env").read_text().strip() == line


def test_a_refused_tx_prints_the_nodes_message_and_code(node, alice_key):
    def refuse(params):
        raise Refuse(-32003, "bad_body: transfer.amount: expected an integer", {"code": "bad_body"})

    node.methods["tx_send"] = refuse
    result = run("transfer", BOB.address, "1", "MKT", "--key-file", str(alice_key), "--rpc", node.url)
    assert result.exit_code == 1
    assert "error: bad_body: transfer.amount: expected an integer [bad_body]" in result.output


def test_a_tx_that_fails_in_its_block_names_the_rule_and_the_tx(node, alice_key):
    def failed(params):
        tx = FakeNode.sent_tx(params)
        return {"hash": tx.hash.hex(), "status": "failed", "height": 12,
                "receipt": {"ok": False, "code": "not_authorized", "message": "only the seller may order_accept"}}

    node.methods["tx_send"] = failed
    result = run("order", "accept", "5", "--key-file", str(alice_key), "--rpc", node.url)
    assert result.exit_code == 1
    assert "order_accept failed in block 12: not_authorized: only the seller may order_accept" in result.output
    as_json = run("order", "accept", "5", "--key-file", str(alice_key), "--rpc", node.url, "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.output)["error"]["code"] == "not_authorized"


def test_a_missing_query_result_is_the_nodes_not_found(node):
    def missing(params):
        raise Refuse(-32001, f"not found: order {params['order']}")

    node.methods["order_get"] = missing
    result = run("order", "show", "99", "--rpc", node.url)
    assert result.exit_code == 1 and "not found: order 99" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("transfer", "mn1typo", "1", "MKT"), "not a marketnode address"),
        (("transfer", BOB.address, "1.234", "USDX"), "more than 2 decimals"),
        (("transfer", BOB.address, "1", "NOPE"), "no asset 'NOPE'"),
        (("review", "write", "3"), "give --rating N"),
        (("listing", "search", "tea", "--max-price", "3"), "add --asset"),
        (("order", "list", "--buyer", BOB.address, "--seller", BOB.address), "give one of --buyer, --seller"),
        (("cert", "verify"), "give a CERTIFICATE id"),
        (("record", "create", "lot", "--type", "x", "--attr", "novalue"), "expected KEY=VALUE"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_problem(node, alice_key, args, message):
    signs = args[:2] not in (("listing", "search"), ("order", "list"), ("cert", "verify"))
    result = run(*args, "--rpc", node.url, *(("--key-file", str(alice_key)) if signs else ()))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not [m for m, _ in node.calls if m == "tx_send"]


def test_search_sends_prices_in_the_smallest_unit_and_prints_a_table(node):
    node.methods["listing_search"] = lambda p: {"items": [{
        "id": 3, "title": "Huila coffee", "price": 1250, "asset": "USDX", "stock": 4, "category": "coffee",
        "shop": 1, "rating": {"count": 2, "overall_avg_x100": 450}}], "next_cursor": "abc"}
    result = run("listing", "search", "huila", "coffee", "--asset", "USDX", "--max-price", "20", "--rpc", node.url)
    assert result.exit_code == 0, result.output
    params = dict(node.calls)["listing_search"]
    assert params["q"] == "huila coffee" and params["max_price"] == 2000
    assert "12.50 USDX" in result.output and "4.50/5 (2)" in result.output and "--cursor abc" in result.output


def test_search_and_orders_show_u64_prices_exactly_across_2_63(node):
    top = 2**64 - 1
    node.methods["listing_search"] = lambda p: {"items": [
        {"id": i, "title": f"edge {i}", "price": price, "asset": "USDX", "stock": 1, "category": "edge", "shop": 1,
         "rating": {"count": 0, "overall_avg_x100": 0}} for i, price in enumerate((2**63, top), 1)],
        "next_cursor": None}
    node.methods["order_list"] = lambda p: {"items": [{
        "id": 7, "listing": 2, "status": "placed", "quantity": 1, "asset": "USDX", "total": top, "buyer": "mn1b",
        "seller": "mn1s", "placed_ms": 1_700_000_000_000, "updated_ms": 1_700_000_000_000,
        "deadline_ms": 1_700_000_000_000}], "next_cursor": None}
    result = run("listing", "search", "--asset", "USDX", "--min-price", "92233720368547758.08", "--sort",
                 "price_asc", "--rpc", node.url)
    assert result.exit_code == 0, result.output
    assert dict(node.calls)["listing_search"]["min_price"] == 2**63
    assert "92,233,720,368,547,758.08 USDX" in result.output
    assert "184,467,440,737,095,516.15 USDX" in result.output
    result = run("order", "list", "--buyer", "mn1b", "--rpc", node.url)
    assert result.exit_code == 0, result.output
    assert "184,467,440,737,095,516.15 USDX" in result.output


def test_times_show_as_utc_and_beyond_any_calendar_date_as_their_number():
    assert when(1_700_000_000_000) == "2023-11-14 22:13:20Z"
    assert when(253_402_300_799_999) == "9999-12-31 23:59:59Z"
    assert when(253_402_300_800_000) == "253402300800000 ms after 1970"
    assert when(2**64 - 1) == f"{2**64 - 1} ms after 1970"


def test_faucet_funds_the_key_files_address_in_units(node, alice_key):
    node.methods["dev_faucet"] = lambda p: {"hash": "ab" * 32, "status": "committed", "height": 12,
                                            "asset": p["asset"], "amount": p["amount"], "to": p["address"]}
    result = run("wallet", "faucet", "--key-file", str(alice_key), "--asset", "USDX", "--amount", "5", "--rpc",
                 node.url)
    assert result.exit_code == 0, result.output
    assert dict(node.calls)["dev_faucet"]["address"] == ALICE.address
    assert dict(node.calls)["dev_faucet"]["amount"] == 500
    assert f"faucet sent 5.00 USDX to {ALICE.address} in block 12" in result.output


def test_dry_run_asks_the_node_and_sends_nothing(node, alice_key):
    verdicts = iter([{"ok": True, "code": "ok", "message": ""},
                     {"ok": False, "code": "bad_transition", "message": "order 5 is completed"}])
    node.methods["tx_estimate"] = lambda p: next(verdicts)
    passes = run("order", "confirm", "5", "--dry-run", "--key-file", str(alice_key), "--rpc", node.url)
    assert passes.exit_code == 0 and "would pass now" in passes.output
    fails = run("order", "confirm", "5", "--dry-run", "--key-file", str(alice_key), "--rpc", node.url)
    assert fails.exit_code == 1 and "order_confirm would fail: bad_transition: order 5 is completed" in fails.output
    assert not [m for m, _ in node.calls if m == "tx_send"]
    assert FakeNode.sent_tx(dict(node.calls)["tx_estimate"]).body == {"order": 5}


# --- amounts in units of the asset (issue 15.6) and asset names in any case (15.9) -----------------


def test_a_zero_or_oversized_transfer_is_refused_in_units_before_signing(node, alice_key):
    zero = run("transfer", BOB.address, "0", "USDX", "--key-file", str(alice_key), "--rpc", node.url)
    assert zero.exit_code == 2 and "at least 0.01 USDX" in zero.output, zero.output
    huge = run("transfer", BOB.address, "200000000000000000", "USDX", "--key-file", str(alice_key), "--rpc", node.url)
    assert huge.exit_code == 2 and "at most 184,467,440,737,095,516.15 USDX" in huge.output, huge.output
    assert "18446744073709551615" not in zero.output + huge.output
    assert not [m for m, _ in node.calls if m in ("tx_send", "tx_estimate")]


def test_asset_names_are_case_insensitive_on_input(node, alice_key):
    _, tx = signed(node, "transfer", BOB.address, "1.25", "usdx", "--key-file", str(alice_key))
    assert tx.body["asset"] == "USDX" and tx.body["amount"] == 125


def test_arbiter_fixed_fee_is_typed_and_shown_in_units(node, alice_key):
    _, tx = signed(node, "arbiter", "register", "--fee-fixed", "0.50", "--fee-asset", "usdx", "--fee-bps", "200",
                   "--key-file", str(alice_key))
    assert tx.body["fee_fixed"] == 50
    node.methods["arbiter_list"] = lambda p: {"items": [{"address": GRACE.address, "active": True, "fee_fixed": 50,
                                                         "fee_bps": 200, "description": "x"}], "next_cursor": None}
    listed = run("arbiter", "list", "--rpc", node.url)
    assert "50 MKT / 0.50 USDX + 2%" in listed.output, listed.output


def test_the_fee_option_is_in_units_of_the_native_asset(node, alice_key):
    _, tx = signed(node, "transfer", BOB.address, "1", "MKT", "--fee", "3", "--key-file", str(alice_key))
    assert tx.fee == 3
    bad = run("transfer", BOB.address, "1", "MKT", "--fee", "0.5", "--key-file", str(alice_key), "--rpc", node.url)
    assert bad.exit_code == 2 and "more than 0 decimals" in bad.output


# --- physical orders: an address in a region the listing ships to; no arbiter only when meant (15.7) ---

PHYSICAL = {"id": 7, "type": "physical", "asset": "USDX", "price": 1250, "seller": GRACE.address, "shop": 2,
            "regions": ["DE", "FR"]}


@pytest.fixture
def shop_node(node):
    node.methods["listing_get"] = lambda p: dict(PHYSICAL)
    node.methods["shop_get"] = lambda p: {"id": 2, "name": "Grace's", "arbiters": [BOB.address]}
    node.events["order_place"] = [{"kind": "order_placed", "attrs": {"order": 9, "total": 1250,
                                                                     "deadline_ms": 1_700_000_000_000}}]
    return node


def place(node, key, *args, input=None):
    return run("order", "place", "7", *args, "--key-file", str(key), "--rpc", node.url, input=input)


def test_a_physical_order_without_an_address_is_refused_before_signing(shop_node, alice_key):
    result = place(shop_node, alice_key, "--arbiter", BOB.address)
    assert result.exit_code == 2 and "physical goods: give --address" in result.output
    assert not [m for m, _ in shop_node.calls if m in ("tx_send", "tx_estimate")]


def test_the_address_region_must_be_one_the_listing_ships_to(shop_node, alice_key):
    outside = place(shop_node, alice_key, "--address", "5 Elm St, Boston, US", "--arbiter", BOB.address)
    assert outside.exit_code == 2 and "ships to DE, FR only, not to 'US'" in outside.output
    unknown = place(shop_node, alice_key, "--address", "5 Elm St Boston", "--arbiter", BOB.address)
    assert unknown.exit_code == 2 and "--region CODE" in unknown.output
    assert not [m for m, _ in shop_node.calls if m == "tx_send"]
    inside = place(shop_node, alice_key, "--address", "Hauptstr. 1 Berlin", "--region", "de", "--arbiter", BOB.address)
    assert inside.exit_code == 0, inside.output


def test_no_arbiter_warns_names_the_shops_arbiters_and_asks(shop_node, alice_key):
    declined = place(shop_node, alice_key, "--address", "Hauptstr. 1, Berlin, DE", input="n\n")
    assert declined.exit_code == 1 and "can never be disputed" in declined.output and BOB.address in declined.output
    assert not [m for m, _ in shop_node.calls if m == "tx_send"]
    accepted = place(shop_node, alice_key, "--address", "Hauptstr. 1, Berlin, DE", input="y\n")
    assert accepted.exit_code == 0 and shop_node.last_tx().body.get("arbiter") is None
    flagged = place(shop_node, alice_key, "--address", "Hauptstr. 1, Berlin, DE", "--no-arbiter")
    assert flagged.exit_code == 0 and "place the order without an arbiter?" not in flagged.output


# --- the smaller items (15.9) ---------------------------------------------------------------------------


def test_order_list_without_buyer_or_seller_lists_your_own_orders(node, alice_key):
    node.methods["order_list"] = lambda p: {"items": [{"id": 3 if "buyer" in p else 4, "status": "placed",
                                                        "listing": 1, "quantity": 2, "total": 250, "asset": "USDX",
                                                        "buyer": ALICE.address, "seller": BOB.address}],
                                            "next_cursor": None}
    result = run("order", "list", "--key-file", str(alice_key), "--rpc", node.url)
    assert result.exit_code == 0, result.output
    asked = [p for m, p in node.calls if m == "order_list"]
    assert asked[0]["buyer"] == ALICE.address and asked[1]["seller"] == ALICE.address
    assert f"bought by {ALICE.address}" in result.output and f"sold by {ALICE.address}" in result.output


def test_record_show_prints_attributes_as_key_value_not_a_python_dict(node):
    node.methods["record_get"] = lambda p: {"id": "lot-1", "type": "coffee", "attributes": {"origin": "Huila",
                                                                                           "kg": 60},
                                            "producer": ALICE.address, "owner": ALICE.address, "custodian": None,
                                            "reporters": [], "final": False, "proposals": [], "certificates": []}
    result = run("record", "show", "lot-1", "--rpc", node.url)
    assert result.exit_code == 0 and "origin=Huila, kg=60" in result.output and "{" not in result.output


def test_record_report_help_shows_two_arguments():
    result = run("record", "report", "--help")
    assert "PROPERTY=VALUE" not in result.output and "RECORD PROPERTY VALUE" in result.output


def test_listing_show_says_where_it_ships(node):
    base = {"id": 1, "title": "Mug", "type": "physical", "price": 1800, "asset": "USDX", "stock": 3,
            "available": True, "category": "kitchen", "tags": [], "shop": 2, "seller": ALICE.address,
            "description": "a mug"}
    node.methods["listing_get"] = lambda p: {**base, "regions": ["DE", "AT"]}
    assert "ships to:" in (out := run("listing", "show", "1", "--rpc", node.url).output) and "DE, AT" in out, out
    node.methods["listing_get"] = lambda p: {**base, "regions": []}
    assert "anywhere" in run("listing", "show", "1", "--rpc", node.url).output


def test_wallet_export_writes_a_key_file_that_wallet_import_reads_back(tmp_path, alice_key):
    env = {"MARKETNODE_PASSPHRASE": "keystore pw", "MARKETNODE_KEYFILE_PASSPHRASE": "keyfile pw"}
    made = run("wallet", "new", "--from-key-file", str(alice_key), "--keystore", str(tmp_path / "ks.json"), env=env)
    assert made.exit_code == 0, made.output
    out = tmp_path / "alice-keyfile.json"
    exported = run("wallet", "export", "--keystore", str(tmp_path / "ks.json"), "--out", str(out), env=env)
    assert exported.exit_code == 0, exported.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and json.loads(out.read_text())["address"] == ALICE.address
    assert ALICE.seed.hex() not in out.read_text()
    imported = run("wallet", "import", str(out), "--keystore", str(tmp_path / "back.json"), env=env)
    assert imported.exit_code == 0 and ALICE.address in imported.output, imported.output
    wrong = run("wallet", "import", str(out), "--keystore", str(tmp_path / "x.json"),
                env={**env, "MARKETNODE_KEYFILE_PASSPHRASE": "nope"})
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output
