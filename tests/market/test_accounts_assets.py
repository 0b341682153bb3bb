"""register, transfer, asset_issue, asset_mint: success paths and every rejection."""

from __future__ import annotations

from market_harness import FUNDS, NAMES, POOL, Chain, make_genesis

from marketnode.market import codes, keys
from marketnode.market.assets import require_asset


def test_register_stores_name_and_commitment_only(chain: Chain) -> None:
    receipt = chain.ok("alice", "register", name="Alice", commitment=b"\x07" * 32)
    assert receipt.events[0].kind == "registered"
    record = chain.load(keys.account(chain.acct("alice")))
    assert record["name"] == "Alice" and record["commitment"] == b"\x07" * 32 and record["inviter"] is None


def test_register_with_inviter(chain: Chain) -> None:
    chain.register("alice")
    chain.ok("bob", "register", name="Bob", commitment=bytes(32), inviter=chain.acct("alice"))
    assert chain.load(keys.account(chain.acct("bob")))["inviter"] == chain.acct("alice")


def test_register_rejections(chain: Chain) -> None:
    chain.register("alice")
    chain.fails(codes.ALREADY_EXISTS, "alice", "register", name="Again", commitment=bytes(32))
    chain.fails(codes.SELF_DEALING, "bob", "register", name="Bob", commitment=bytes(32), inviter=chain.acct("bob"))
    chain.fails(codes.NOT_REGISTERED, "bob", "register", name="Bob", commitment=bytes(32), inviter=chain.acct("carol"))
    chain.fails(codes.BAD_BODY, "bob", "register", name="", commitment=bytes(32))
    chain.fails(codes.BAD_BODY, "bob", "register", name="Bob", commitment=bytes(31))


def test_transfer_of_a_non_native_asset(chain: Chain) -> None:
    chain.ok("alice", "transfer", to=chain.acct("bob"), asset="USD", amount=250, memo="rent")
    assert chain.balance("alice") == 1_000_000 - 250 and chain.balance("bob") == 1_000_250


def test_transfer_to_a_new_account_creates_its_balance(chain: Chain) -> None:
    fresh = b"\x42" * 32
    chain.ok("alice", "transfer", to=fresh, asset="USD", amount=3)
    assert chain.balance(fresh) == 3


def test_transfer_rejections(chain: Chain) -> None:
    to = chain.acct("bob")
    chain.fails(codes.NOT_FOUND, "alice", "transfer", to=to, asset="EUR", amount=1)
    chain.fails(codes.INSUFFICIENT_FUNDS, "alice", "transfer", to=to, asset="USD", amount=1_000_001)
    chain.fails(codes.BAD_BODY, "alice", "transfer", to=to, asset="USD", amount=0)
    chain.fails(codes.BAD_BODY, "alice", "transfer", to=to, asset="usd", amount=1)


def test_asset_issue_and_mint(chain: Chain) -> None:
    chain.ok("issuer", "asset_issue", asset="EUR", name="Euro", decimals=2, max_supply=1_000)
    chain.ok("issuer", "asset_mint", asset="EUR", to=chain.acct("bob"), amount=600)
    assert chain.balance("bob", "EUR") == 600
    assert require_asset(chain.state, "EUR")["supply"] == 600


def test_asset_issue_rejections(chain: Chain) -> None:
    chain.fails(codes.NOT_AUTHORIZED, "alice", "asset_issue", asset="EUR", name="Euro", decimals=2)
    chain.fails(codes.ALREADY_EXISTS, "issuer", "asset_issue", asset="USD", name="Dollar", decimals=2)
    chain.fails(codes.BAD_BODY, "issuer", "asset_issue", asset="E", name="Euro", decimals=2)
    chain.fails(codes.BAD_BODY, "issuer", "asset_issue", asset="EUR", name="Euro", decimals=19)


def test_asset_mint_rejections(chain: Chain) -> None:
    chain.ok("issuer", "asset_issue", asset="EUR", name="Euro", decimals=2, max_supply=1_000)
    to = chain.acct("bob")
    chain.fails(codes.NOT_AUTHORIZED, "alice", "asset_mint", asset="EUR", to=to, amount=1)
    chain.fails(codes.NOT_AUTHORIZED, "issuer", "asset_mint", asset="MKT", to=to, amount=1)
    chain.fails(codes.NOT_FOUND, "issuer", "asset_mint", asset="GBP", to=to, amount=1)
    chain.fails(codes.AMOUNT_OVERFLOW, "issuer", "asset_mint", asset="EUR", to=to, amount=1_001)
    chain.fails(codes.AMOUNT_OVERFLOW, "issuer", "asset_mint", asset="USD", to=to, amount=2**64 - 1)


def test_genesis_sets_supply_to_the_sum_of_balances() -> None:
    chain = Chain(make_genesis())
    assert require_asset(chain.state, "MKT")["supply"] == len(NAMES) * FUNDS + POOL
    assert require_asset(chain.state, "USD")["supply"] == len(NAMES) * FUNDS + POOL
