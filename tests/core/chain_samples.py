"""Small deterministic chain objects for the core tests: keys from fixed seeds,
signed txs and votes, a certificate, evidence and a block.

Plain functions, not fixtures, so a hypothesis test can call them too.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.hashing import digest
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, PREPARE, Block, Certificate, Evidence, Tx, Vote

CHAIN_ID = "test-chain"
OTHER_CHAIN_ID = "other-chain"


def key(n: int) -> PrivateKey:
    """The key whose seed is the byte ``n`` repeated 32 times."""
    return PrivateKey(bytes([n]) * 32)


VALIDATOR_KEYS = tuple(key(n) for n in (11, 12, 13, 14))
VALIDATORS = tuple(k.public_key for k in VALIDATOR_KEYS)
BLOCK_HASH = digest("header", b"block under vote")


def signed_tx(
    signer: int = 1, nonce: int = 0, kind: str = "transfer", body: dict[str, Any] | None = None, fee: int = 1
) -> Tx:
    signer_key = key(signer)
    if body is None:
        body = {"amount": 500, "to": key(2).public_key}
    return Tx(CHAIN_ID, signer_key.public_key, nonce, kind, body, fee).sign(signer_key)


def nested_tx() -> Tx:
    body = {"title": "socks", "price_units": 2500, "tags": ["wool"], "attributes": {"sizes": ["S", "M"], "x": None}}
    return signed_tx(signer=3, nonce=9, kind="listing.create", body=body)


def vote(
    signer: PrivateKey = VALIDATOR_KEYS[0],
    phase: int = COMMIT,
    height: int = 3,
    view: int = 0,
    block_hash: bytes = BLOCK_HASH,
    chain_id: str = CHAIN_ID,
) -> Vote:
    return Vote(chain_id, phase, height, view, block_hash, signer.public_key).sign(signer)


def certificate(signers: tuple[PrivateKey, ...] = VALIDATOR_KEYS[:3], height: int = 3) -> Certificate:
    return Certificate.from_votes(vote(k, height=height) for k in signers)


def evidence() -> Evidence:
    a = vote(phase=PREPARE, block_hash=digest("header", b"a"))
    b = vote(phase=PREPARE, block_hash=digest("header", b"b"))
    return Evidence(*sorted((a, b), key=lambda v: v.block_hash))


def block(txs: tuple[Tx, ...] | None = None, with_evidence: bool = True) -> Block:
    return Block.build(
        chain_id=CHAIN_ID, height=4, view=1, timestamp_ms=1_700_000_000_000,
        parent_hash=BLOCK_HASH, proposer=VALIDATORS[1], state_root=digest("state", b"s"),
        txs=txs if txs is not None else (signed_tx(), nested_tx()),
        last_cert=certificate(), evidence=(evidence(),) if with_evidence else (),
    )
