"""A small valid chain for the storage tests: signed txs, blocks that link, real certificates.

Plain functions so the crash-test child process can build the same chain.
"""

from __future__ import annotations

from core.hashing import digest
from core.keys import PrivateKey
from core.types import COMMIT, Block, Certificate, Tx, Vote

CHAIN_ID = "storage-test"
GENESIS_HASH = digest("genesis", b"storage-test")
GENESIS_ROOT = digest("state", b"genesis")
VALIDATOR_KEYS = tuple(PrivateKey(bytes([n]) * 32) for n in (21, 22, 23, 24))
SENDER = PrivateKey(bytes([7]) * 32)


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
