"""One admission pipeline: the mempool's policy around market's chain rules, as tx_send and tx_estimate see it.

Each refusal below is the reply a wallet gets for a tx with that one fault; the
chain id and stale-nonce refusals keep their mempool reasons (and so -32000
``wrong_chain`` and -32003 ``stale_nonce``) although the rules are market's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from storage_samples import dev_store

from marketnode.core.errors import RuleError
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.market import codes, keys
from marketnode.market import store as store_values
from marketnode.market.accounts import next_nonce
from marketnode.market.receipts import Receipt
from marketnode.market.state import StateOverlay, StateReader
from marketnode.node.api.txs import mempool_rpc_error
from marketnode.node.mempool.pool import Mempool, MempoolError, MempoolLimits
from marketnode.node.mempool.rules import Refusal, check_at_head, dry_run
from marketnode.node.storage.chainstore import ChainStore

CHAIN = "tx-rules-test"
VALIDATOR = PrivateKey(bytes([9]) * 32)
ALICE = PrivateKey(bytes([10]) * 32)
NOBODY = PrivateKey(bytes([11]) * 32)


class CountingReader:
    """A head view that counts the reads of each key."""

    def __init__(self, inner: StateReader, reads: dict[bytes, int]) -> None:
        self.inner, self.reads = inner, reads

    def get(self, key: bytes) -> bytes | None:
        self.reads[key] = self.reads.get(key, 0) + 1
        return self.inner.get(key)

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self.inner.iterate(prefix)


@pytest.fixture
def store() -> ChainStore:
    return dev_store(CHAIN, VALIDATOR, ALICE)


def transfer(key: PrivateKey = ALICE, nonce: int = 0, fee: int = 0, chain: str = CHAIN, **body: object) -> Tx:
    return Tx(chain, key.public_key, nonce, "transfer",
              {"amount": 5, "asset": "MKT", "to": VALIDATOR.public_key, **body}, fee).sign(key)


def admit(store: ChainStore, tx: Tx, pool: Mempool | None = None) -> Tx:
    """What Node.submit_tx does: the pool's policy, with market's rules at the head as its check."""
    pool = pool or Mempool(MempoolLimits(), CHAIN)
    return pool.add(tx.encode(), lambda sender: next_nonce(store.state_reader(), sender),
                    lambda tx, nonce: check_at_head(store, tx, nonce))


def refusal(store: ChainStore, tx: Tx) -> tuple[int, str]:
    """(JSON-RPC code, data.code) of the reply tx_send gives (node/api/txs.py ``submit``)."""
    try:
        admit(store, tx)
    except MempoolError as exc:
        error = mempool_rpc_error(exc)
        return error.code, error.data["code"]
    except RuleError as exc:
        return -32003, exc.code
    raise AssertionError("admitted")


def test_an_admission_reads_the_senders_nonce_once(store: ChainStore, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: dict[bytes, int] = {}
    live = store.state_reader
    monkeypatch.setattr(store, "state_reader", lambda: CountingReader(live(), reads))
    admit(store, transfer())
    assert reads[keys.nonce(ALICE.public_key)] == 1


def test_each_single_fault_gets_the_reply_wallets_rely_on(store: ChainStore) -> None:
    assert refusal(store, transfer(chain="another-chain")) == (-32000, "wrong_chain")
    forged = transfer()
    forged = Tx(forged.chain_id, forged.sender, forged.nonce, forged.kind, forged.body, forged.fee, sig=bytes(64))
    assert refusal(store, forged) == (-32003, "signature")
    assert refusal(store, transfer(NOBODY, fee=1)) == (-32003, codes.CANNOT_PAY_FEE)
    assert refusal(store, transfer(memo=7)) == (-32003, codes.BAD_BODY)
    assert admit(store, transfer()).nonce == 0


def test_a_used_nonce_is_stale_not_a_rule_refusal(store: ChainStore) -> None:
    """The nonce rule is market's; at admission it still reaches a wallet as -32003 stale_nonce with the next nonce."""
    pool = Mempool(MempoolLimits(), CHAIN)
    state = StateOverlay(store.state_reader())
    store_values.save_int(state, keys.nonce(ALICE.public_key), 3)
    with pytest.raises(MempoolError) as info:
        pool.add(transfer(nonce=2).encode(), lambda sender: next_nonce(state, sender),
                 lambda tx, nonce: check_at_head(store, tx, nonce))
    assert (info.value.reason, info.value.next_nonce) == ("stale_nonce", 3)
    assert mempool_rpc_error(info.value).data == {"code": "stale_nonce"}


def test_the_chain_check_uses_the_nonce_the_pool_read(store: ChainStore) -> None:
    """Given the pool's nonce, market does not read its own: a nonce the pool says is used is refused."""
    with pytest.raises(RuleError) as info:
        check_at_head(store, transfer(nonce=0), next_nonce=1)
    assert info.value.code == codes.BAD_NONCE


def test_a_dry_run_refuses_what_admission_refuses_and_changes_nothing(store: ChainStore) -> None:
    before = dict(store.state_reader().iterate(b""))
    forged = transfer()
    forged = Tx(forged.chain_id, forged.sender, forged.nonce, forged.kind, forged.body, forged.fee, sig=bytes(64))
    assert dry_run(store, forged, CHAIN, VALIDATOR.public_key, 0) == Refusal("signature", "the signature does not verify")
    wrong = dry_run(store, transfer(chain="another-chain"), CHAIN, VALIDATOR.public_key, 0)
    assert isinstance(wrong, Refusal) and wrong.code == codes.WRONG_CHAIN
    ok = dry_run(store, transfer(), CHAIN, VALIDATOR.public_key, 0)
    assert isinstance(ok, Receipt) and ok.ok
    short = dry_run(store, transfer(amount=10**18), CHAIN, VALIDATOR.public_key, 0)
    assert isinstance(short, Receipt) and (short.ok, short.code) == (False, codes.INSUFFICIENT_FUNDS)
    assert dict(store.state_reader().iterate(b"")) == before
