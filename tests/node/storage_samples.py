"""A small valid chain for the storage tests: signed txs, blocks that link, real certificates.

Plain functions so the crash-test child process can build the same chain.
"""

from __future__ import annotations

import os
from pathlib import Path

from marketnode.core.hashing import digest
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, Block, Certificate, Tx, Vote
from marketnode.market.engine import init_genesis
from marketnode.market.state import StateOverlay
from marketnode.node.genesis_setup import dev_genesis
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.kv import KV
from marketnode.node.storage.memory import MemoryKV

CHAIN_ID = "storage-test"
GENESIS_HASH = digest("genesis", b"storage-test")
GENESIS_ROOT = digest("state", b"genesis")
VALIDATOR_KEYS = tuple(PrivateKey(bytes([n]) * 32) for n in (21, 22, 23, 24))
SENDER = PrivateKey(bytes([7]) * 32)


def dev_store(chain_id: str, validator: PrivateKey, account: PrivateKey) -> ChainStore:
    """A store holding a dev genesis (market's real state): ``account`` holds 10^9 of every asset."""
    genesis = dev_genesis(chain_id, [("v", validator.public_key, "127.0.0.1:1")], {"alice": account.public_key}, 10**9)
    store = ChainStore(MemoryKV())
    overlay = StateOverlay(store.state_reader())
    init_genesis(overlay, genesis)
    store.init_genesis(genesis.hash, overlay.changes(), 0)
    return store


def tx(nonce: int, sender: PrivateKey = SENDER, fee: int = 1) -> Tx:
    body = {"amount": nonce, "to": VALIDATOR_KEYS[0].public_key}
    return Tx(CHAIN_ID, sender.public_key, nonce, "transfer", body, fee).sign(sender)


def certificate(block: Block, signers: int = 3) -> Certificate:
    votes = (
        Vote(CHAIN_ID, COMMIT, block.height, block.header.view, block.hash, k.public_key).sign(k)
        for k in VALIDATOR_KEYS[:signers]
    )
    return Certificate.from_votes(votes)


def block(height: int, parent_hash: bytes, txs: tuple[Tx, ...] = (), state_root: bytes = GENESIS_ROOT) -> Block:
    return Block.build(
        chain_id=CHAIN_ID, height=height, view=0, timestamp_ms=1_700_000_000_000 + height * 1000,
        parent_hash=parent_hash, proposer=VALIDATOR_KEYS[height % 4].public_key, state_root=state_root,
        txs=txs, last_cert=None,
    )


def state_root(height: int) -> bytes:
    return digest("state", height.to_bytes(8, "big"))


def receipts_for(b: Block) -> list[bytes]:
    return [b"receipt:" + t.hash for t in b.txs]


# -- a damaged disk (tests/node/test_storage_damage.py, test_datadir.py) --------

BLOCKS = 60
TXS = 3


def write_chain(kv: KV, blocks: int = BLOCKS) -> ChainStore:
    store = ChainStore(kv)
    store.init_genesis(GENESIS_HASH, {b"bal/genesis": b"1035"})
    for height in range(1, blocks + 1):
        head = store.head()
        assert head is not None
        txs = tuple(tx(height * TXS + i) for i in range(TXS))
        b = block(height, head.block_hash, txs, head.state_root)
        changes: dict[bytes, bytes | None] = {b"bal/%d" % height: b"1035", b"last": height.to_bytes(8, "big")}
        store.commit_block(b, certificate(b), receipts_for(b), changes)
    return store


def only_file(path: Path, suffix: str) -> Path:
    files = sorted(p for p in path.iterdir() if p.suffix == suffix and p.stat().st_size > 0)
    assert len(files) == 1, f"expected one non-empty {suffix} file in {path}, found {files}"
    return files[0]


def overwrite_middle(file: Path, count: int = 64, at: float = 0.5) -> None:
    offset = int(file.stat().st_size * at)
    with file.open("r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xaa" * count)
        fh.flush()
        os.fsync(fh.fileno())
