"""Byzantine behaviour in the simulator: what a lying node sends instead of its honest replica's output."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import TYPE_CHECKING

from sim_world import CHAIN_ID, OUTSIDER, SimNode

from marketnode.consensus.messages import (
    Commit,
    Message,
    NewView,
    Prepare,
    PrePrepare,
    encode_message,
)
from marketnode.core.hashing import digest
from marketnode.core.types import COMMIT, PREPARE, PROPOSE, Block, Vote

if TYPE_CHECKING:
    from simulator import Simulation


def byzantine_outputs(sim: Simulation, node: SimNode, msg: Message, targets: list[int]) -> list[tuple[int, bytes]]:
    """What a Byzantine node sends instead of ``msg``; it runs an honest replica inside and lies outside."""
    behaviour = node.byzantine
    assert behaviour is not None
    if behaviour == "silent":
        return []
    rng = sim.rng
    honest_targets = sorted(t for t in targets if sim.nodes[t].byzantine is None)
    half = set(honest_targets[: len(honest_targets) // 2])
    out: list[tuple[int, bytes]] = []
    if behaviour == "equivocate":
        other = _lying_new_view(sim, node, msg) if isinstance(msg, NewView) else _equivocate(node, msg)
        if other is None:
            return [(t, encode_message(msg)) for t in targets]
        if isinstance(msg, PrePrepare):
            sim.proposed.add(other.block_hash)  # type: ignore[attr-defined]
        return _split(rng, targets, half, encode_message(msg), encode_message(other))
    if behaviour == "conflict" and isinstance(msg, Prepare | Commit):
        forged = _vote_like(node, msg, rng.randbytes(32))
        return _split(rng, targets, half, encode_message(msg), encode_message(forged))
    data = encode_message(msg)
    out = [(t, data) for t in targets]
    if behaviour == "unknown" and isinstance(msg, Prepare | Commit):
        for _ in range(2):
            forged = _vote_like(node, msg, rng.randbytes(32), height_shift=rng.choice((0, 0, 1, 5)))
            out += [(t, encode_message(forged)) for t in targets]
    if behaviour == "garbage":
        out += [(t, _garbage(rng, data, node)) for t in targets for _ in range(2)]
    return out


def _split(rng: random.Random, targets: list[int], half: set[int], a: bytes, b: bytes) -> list[tuple[int, bytes]]:
    """``a`` to one half, ``b`` to the other; sometimes one target gets both, so it can catch the lie."""
    out = [(t, a if t in half else b) for t in targets]
    if targets and rng.random() < 0.3:
        witness = rng.choice(targets)
        out.append((witness, b if witness in half else a))
    return out


def _vote_like(node: SimNode, msg: Prepare | Commit, block_hash: bytes, height_shift: int = 0) -> Message:
    v = msg.vote
    vote = Vote(v.chain_id, v.phase, v.height + height_shift, v.view, block_hash, v.validator).sign(node.key)
    return Prepare(vote) if v.phase == PREPARE else Commit(vote)


def _equivocate(node: SimNode, msg: Message) -> Message | None:
    """The twin of ``msg`` for the other half: another block, or votes for that other block."""
    if isinstance(msg, PrePrepare):
        block = msg.block
        other = replace(block, header=replace(block.header, timestamp_ms=block.header.timestamp_ms + 1))
        node.alt_blocks[msg.block_hash] = other
        p = msg.proposal
        vote = Vote(p.chain_id, PROPOSE, p.height, p.view, other.hash, p.validator).sign(node.key)
        return PrePrepare(other, vote)
    if isinstance(msg, Prepare | Commit) and msg.vote.block_hash in node.alt_blocks:
        return _vote_like(node, msg, node.alt_blocks[msg.vote.block_hash].hash)
    if isinstance(msg, Prepare | Commit):
        return _vote_like(node, msg, digest("tx", msg.vote.block_hash))
    return None


def _lying_new_view(sim: Simulation, node: SimNode, msg: NewView) -> NewView | None:
    """As new primary: pick the view changes that hide prepared blocks and propose a fresh block instead."""
    replica = node.replica
    table = replica.round.view_changes.get(msg.view, {})
    chosen = sorted(table.values(), key=lambda vc: (vc.prepared is not None, vc.validator))[: replica.quorum]
    if len(chosen) < replica.quorum or any(vc.prepared is not None for vc in chosen):
        return None  # cannot hide it: any quorum holds the prepared block
    txs = node.app.take_batch(sim.config.max_block_txs, sim.config.max_block_bytes)[::-1]
    if not txs or msg.height != replica.height:
        return None
    block = Block.build(
        chain_id=CHAIN_ID, height=msg.height, view=msg.view,
        timestamp_ms=max(sim.now, replica.head.timestamp_ms + 1), parent_hash=replica.head.block_hash,
        proposer=node.key.public_key, state_root=node.app.root, txs=txs, last_cert=replica.head.certificate,
    )
    vote = Vote(CHAIN_ID, PROPOSE, msg.height, msg.view, block.hash, node.key.public_key).sign(node.key)
    if msg.pre_prepare is not None and msg.pre_prepare.block_hash == block.hash:
        return None
    sim.proposed.add(block.hash)
    return NewView(msg.height, msg.view, tuple(chosen), PrePrepare(block, vote))


def _garbage(rng: random.Random, data: bytes, node: SimNode) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:
        return rng.randbytes(rng.randint(0, 64))
    if choice == 1:
        return data[: rng.randint(0, max(0, len(data) - 1))]
    if choice == 2:
        flipped = bytearray(data)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        return bytes(flipped)
    if choice == 3:  # decodes, but signed by someone outside the validator set
        vote = Vote(CHAIN_ID, COMMIT, 1, 0, rng.randbytes(32), OUTSIDER.public_key).sign(OUTSIDER)
        return encode_message(Commit(vote))
    vote = Vote(CHAIN_ID, PREPARE, 1, 0, rng.randbytes(32), node.key.public_key, rng.randbytes(64))
    return encode_message(Prepare(vote))  # decodes, bad signature
