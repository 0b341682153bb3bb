"""A block certified on another state root than ours is refused before it runs: our state is not the network's."""

from __future__ import annotations

import pytest
from storage_samples import dev_store

from marketnode.core.errors import StorageCorruption
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, Block, Certificate, Tx, Vote
from marketnode.node.chain.executor import BlockExecutor
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.integrity import verify_chain

CHAIN = "executor-root-test"
VALIDATOR = PrivateKey(bytes([9]) * 32)
ALICE = PrivateKey(bytes([10]) * 32)


def genesis_store() -> ChainStore:
    return dev_store(CHAIN, VALIDATOR, ALICE)


def next_block(store: ChainStore, state_root: bytes) -> tuple[Block, Certificate]:
    head = store.head()
    assert head is not None
    body = {"amount": 5, "asset": "MKT", "to": VALIDATOR.public_key}
    tx = Tx(CHAIN, ALICE.public_key, head.height, "transfer", body, 0).sign(ALICE)
    block = Block.build(chain_id=CHAIN, height=head.height + 1, view=0, timestamp_ms=1000 + head.height,
                        parent_hash=head.block_hash, proposer=VALIDATOR.public_key, state_root=state_root,
                        txs=(tx,), last_cert=None)
    vote = Vote(CHAIN, COMMIT, block.height, 0, block.hash, VALIDATOR.public_key).sign(VALIDATOR)
    return block, Certificate.from_votes([vote])


def test_blocks_on_our_state_root_execute_and_the_chain_checks() -> None:
    store = genesis_store()
    executor = BlockExecutor(store, CHAIN)
    for _ in range(3):
        executor.execute(*next_block(store, store.head().state_root))  # type: ignore[union-attr]
    assert store.head().height == 3  # type: ignore[union-attr]
    assert verify_chain(store).txs == 3


def test_a_block_on_another_state_root_is_refused_and_nothing_is_written() -> None:
    store = genesis_store()
    executor = BlockExecutor(store, CHAIN)
    executor.execute(*next_block(store, store.head().state_root))  # type: ignore[union-attr]
    before = store.head()
    with pytest.raises(StorageCorruption, match=r"block 2 was certified on state root .* this node's state after block 1"):
        executor.execute(*next_block(store, b"\x01" * 32))
    assert store.head() == before
