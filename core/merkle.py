"""Merkle roots over tx hashes and inclusion proofs (RFC 9162 tree shape).

The tree splits n leaves at the largest power of two below n, so no leaf is
ever duplicated (the CVE-2012-2459 trap). Leaves and inner nodes hash under
different tags, so an inner node can never pass for a leaf.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from marketnode.core.errors import ValidationError
from marketnode.core.hashing import HASH_SIZE, digest

EMPTY_ROOT = digest("merkle-empty", b"")


def leaf_hash(item: bytes) -> bytes:
    return digest("merkle-leaf", item)


def node_hash(left: bytes, right: bytes) -> bytes:
    return digest("merkle-node", left + right)


def merkle_root(items: Sequence[bytes]) -> bytes:
    """Root over ``items`` (usually tx hashes); ``EMPTY_ROOT`` for none."""
    if not items:
        return EMPTY_ROOT
    level = [leaf_hash(item) for item in items]
    return _root_of(level)


def _root_of(nodes: list[bytes]) -> bytes:
    # Iterative form of the RFC 9162 recursion: pair left to right, carrying
    # an odd last node up unchanged. Produces the same tree shape.
    while len(nodes) > 1:
        nxt = [node_hash(nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
        if len(nodes) % 2:
            nxt.append(nodes[-1])
        nodes = nxt
    return nodes[0]


@dataclass(frozen=True, slots=True)
class MerkleProof:
    """Proof that the leaf at ``index`` of ``size`` leaves is under a root."""

    index: int
    size: int
    path: tuple[bytes, ...]

    def to_obj(self) -> dict[str, Any]:
        return {"index": self.index, "size": self.size, "path": list(self.path)}

    @classmethod
    def from_obj(cls, obj: dict[str, Any]) -> MerkleProof:
        try:
            path = tuple(obj["path"])
            proof = cls(int(obj["index"]), int(obj["size"]), path)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"malformed Merkle proof: {exc}") from None
        if any(not isinstance(p, bytes) or len(p) != HASH_SIZE for p in path):
            raise ValidationError("Merkle proof path entries must be 32-byte hashes")
        return proof


def merkle_proof(items: Sequence[bytes], index: int) -> MerkleProof:
    """Build the audit path for ``items[index]``."""
    if not 0 <= index < len(items):
        raise ValidationError(f"leaf index {index} outside 0..{len(items) - 1}")
    path: list[bytes] = []
    nodes = [leaf_hash(item) for item in items]
    i = index
    while len(nodes) > 1:
        sibling = i ^ 1
        if sibling < len(nodes):
            path.append(nodes[sibling])
        nxt = [node_hash(nodes[j], nodes[j + 1]) for j in range(0, len(nodes) - 1, 2)]
        if len(nodes) % 2:
            nxt.append(nodes[-1])
        nodes = nxt
        i //= 2
    return MerkleProof(index, len(items), tuple(path))


def verify_proof(root: bytes, item: bytes, proof: MerkleProof) -> bool:
    """True when ``item`` sits at ``proof.index`` under ``root``."""
    if not 0 <= proof.index < proof.size:
        return False
    node = leaf_hash(item)
    i, width = proof.index, proof.size
    steps = iter(proof.path)
    while width > 1:
        if i ^ 1 < width:
            sibling = next(steps, None)
            if sibling is None:
                return False
            node = node_hash(sibling, node) if i & 1 else node_hash(node, sibling)
        width = (width + 1) // 2
        i //= 2
    return next(steps, None) is None and node == root
