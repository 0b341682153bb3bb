"""The engine boundary: up-front refusals, fee and nonce rules, rollback, check_tx, state root."""

from __future__ import annotations

import pytest
from market_harness import CHAIN_ID, Chain

from marketnode.core import smt
from marketnode.core.encoding import encode
from marketnode.core.errors import RuleError
from marketnode.core.merkle import merkle_root
from marketnode.core.types import Tx
from marketnode.market import codes, keys
from marketnode.market.context import BlockContext
from marketnode.market.engine import apply_tx, check_tx, load_params
from marketnode.market.state import MemoryState


def test_transfer_pays_fee_to_proposer_and_consumes_nonce(chain: Chain) -> None:
    receipt = chain.ok("alice", "transfer", to=chain.acct("bob"), asset="MKT", amount=10)
    assert receipt.fee_paid == 1
    assert chain.balance("alice", "MKT") == 1_000_000 - 11
    assert chain.balance("bob", "MKT") == 1_000_010
    assert chain.balance("proposer", "MKT") == 1_000_001
    assert chain.load(keys.nonce(chain.acct("alice"))) == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"chain_id": "other-chain"}, codes.WRONG_CHAIN),
        ({"nonce": 5}, codes.BAD_NONCE),
        ({"fee": 0}, codes.FEE_TOO_LOW),
        ({"fee": 2_000_000}, codes.CANNOT_PAY_FEE),
    ],
)
def test_refused_up_front_changes_nothing_and_pays_no_fee(chain: Chain, change: dict, code: str) -> None:
    base = chain.tx("alice", "transfer", to=chain.acct("bob"), asset="MKT", amount=1)
    fields = {**base.unsigned_obj(), **change}
    tx = Tx(fields["chain_id"], fields["sender"], fields["nonce"], fields["kind"], fields["body"], fields["fee"])
    tx = tx.sign(chain.keys["alice"])
    before = chain.state.items()
    [receipt] = chain.block([tx])
    assert (receipt.ok, receipt.code, receipt.fee_paid) == (False, code, 0)
    after = chain.state.items()
    assert after.pop(keys.receipts_root(chain.height)) == encode(merkle_root([receipt.hash]))  # only the outcome
    assert after == before


def test_unknown_kind_and_bad_body_consume_nonce_and_fee(chain: Chain) -> None:
    chain.fails(codes.UNKNOWN_KIND, "alice", "teleport", x=1)
    chain.fails(codes.BAD_BODY, "alice", "transfer", to=b"short", asset="MKT", amount=1)
    chain.fails(codes.BAD_BODY, "alice", "transfer", to=chain.acct("bob"), asset="MKT", amount=1, extra=1)
    chain.fails(codes.BAD_BODY, "alice", "transfer", to=chain.acct("bob"), asset="MKT")
    assert chain.load(keys.nonce(chain.acct("alice"))) == 4
    assert chain.balance("alice", "MKT") == 1_000_000 - 4


def test_failed_rule_rolls_back_its_writes_but_keeps_fee(chain: Chain) -> None:
    chain.register("alice")
    # transfer moves nothing if the amount is short; the fee is still paid
    receipt = chain.fails(codes.INSUFFICIENT_FUNDS, "alice", "transfer", to=chain.acct("bob"), asset="USD",
                          amount=2_000_000)
    assert receipt.fee_paid == 1


def test_apply_tx_rolls_back_through_the_state_protocols_savepoints(chain: Chain) -> None:
    """Any State (the protocol declares savepoint/rollback/release) gets a failing tx's writes undone."""
    class Delegating:
        def __init__(self, inner: MemoryState) -> None:
            self.inner, self.rollbacks = inner, 0
            self.get, self.put, self.delete, self.iterate = inner.get, inner.put, inner.delete, inner.iterate
            self.savepoint, self.release = inner.savepoint, inner.release

        def rollback(self, token: int) -> None:
            self.rollbacks += 1
            self.inner.rollback(token)

    state = Delegating(chain.state)
    ctx = BlockContext(CHAIN_ID, 1, chain.now_ms, chain.acct("proposer"))
    bad = chain.tx("alice", "transfer", to=chain.acct("bob"), asset="USD", amount=10**12)
    assert apply_tx(state, ctx, bad).code == codes.INSUFFICIENT_FUNDS and state.rollbacks == 1
    good = chain.tx("alice", "transfer", to=chain.acct("bob"), asset="USD", amount=7)
    assert apply_tx(state, ctx, good).ok and state.rollbacks == 1
    assert chain.balance("bob") == 1_000_007


def test_check_tx_admits_future_nonces_and_rejects_bad_ones(chain: Chain) -> None:
    params = load_params(chain.state)
    check_tx(chain.state, chain.tx("alice", "transfer", nonce=3, to=chain.acct("bob"), asset="MKT", amount=1), params)
    for tx, code in [
        (chain.tx("alice", "nope"), codes.UNKNOWN_KIND),
        (chain.tx("alice", "transfer", to=chain.acct("bob")), codes.BAD_BODY),
        (chain.tx("alice", "transfer", fee=0, to=chain.acct("bob"), asset="MKT", amount=1), codes.FEE_TOO_LOW),
    ]:
        with pytest.raises(RuleError) as err:
            check_tx(chain.state, tx, params)
        assert err.value.code == code
    chain.ok("alice", "transfer", to=chain.acct("bob"), asset="MKT", amount=1)
    with pytest.raises(RuleError, match=codes.BAD_NONCE):
        check_tx(chain.state, chain.tx("alice", "transfer", nonce=0, to=chain.acct("bob"), asset="MKT", amount=1),
                 params)


def test_each_block_stores_the_merkle_root_of_its_receipts(chain: Chain) -> None:
    receipts = chain.block([chain.tx("alice", "transfer", to=chain.acct("bob"), asset="MKT", amount=1),
                            chain.tx("alice", "transfer", nonce=99, to=chain.acct("bob"), asset="MKT", amount=1)])
    stored = chain.state.get(keys.receipts_root(chain.height))
    assert stored == encode(merkle_root([r.hash for r in receipts]))
    assert [r.ok for r in receipts] == [True, False]


def test_the_state_root_is_the_tree_root_of_the_whole_state() -> None:
    chain = Chain()
    assert chain.root == smt.root_of(chain.state.items())
    chain.ok("alice", "transfer", to=chain.acct("bob"), asset="MKT", amount=1)
    assert chain.root == smt.root_of(chain.state.items())


def test_same_blocks_on_a_fresh_state_give_the_same_root(chain: Chain) -> None:
    chain.register("alice", "bob")
    chain.ok("alice", "transfer", to=chain.acct("bob"), asset="USD", amount=5)
    replay = Chain()
    for ctx, txs in chain.blocks:
        replay.now_ms = ctx.timestamp_ms
        replay.block(txs)
    assert replay.root == chain.root
    assert replay.state.items() == chain.state.items()


def test_failure_messages_quoting_user_input_stay_short(chain: Chain) -> None:
    from marketnode.market.receipts import Receipt

    junk = {f"field_{i:04d}_" + "x" * 40: 1 for i in range(200)}
    receipt = chain.fails(codes.BAD_BODY, "alice", "transfer", **junk)
    assert len(receipt.message) <= 256
    assert Receipt.decode(receipt.encode()) == receipt
