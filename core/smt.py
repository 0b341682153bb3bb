"""The state tree: a sparse Merkle tree whose root is a header's ``state_root``.

Every state key sits at the 256-bit path ``digest("smt-key", key)``. The root
is a pure function of the set of (key, value) pairs, whatever order they were
written in (docs/PROTOCOL.md §7.2):

    subtree with no key      → EMPTY (32 zero bytes)
    subtree with one key     → leaf(path, digest("smt-value", value))
    subtree with ≥ 2 keys    → node(left subtree, right subtree)

so a lone key is lifted to where it has no neighbour (Jellyfish / Diem
style), and a proof is the list of siblings from the root down to that
point: it proves a value (the leaf is the key's) or an absence (the walk
ends in EMPTY, or in a leaf of another key that shares the path so far).

``TreeUpdate`` applies one block's changes at once, reading only the nodes
on the changed paths through a ``NodeReader``; nodes are keyed by the
version (height) that wrote them, so old versions stay readable until
their replaced nodes are pruned. Pure: no I/O beyond the reader it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from core.errors import StorageCorruption, ValidationError
from core.hashing import HASH_SIZE, digest

EMPTY = bytes(HASH_SIZE)
DEPTH = 256
_LEAF, _NODE = 0, 1


def key_path(key: bytes) -> bytes:
    return digest("smt-key", key)


def value_hash(value: bytes) -> bytes:
    return digest("smt-value", value)


def leaf_hash(path: bytes, vhash: bytes) -> bytes:
    return digest("smt-leaf", path + vhash)


def node_hash(left: bytes, right: bytes) -> bytes:
    return digest("smt-node", left + right)


def _bit(path: bytes, depth: int) -> int:
    return (path[depth >> 3] >> (7 - (depth & 7))) & 1


def root_of(items: Mapping[bytes, bytes]) -> bytes:
    """The root over a whole state, straight from the definition (tests, vectors, a verifier's reference)."""
    leaves = [(key_path(k), value_hash(v)) for k, v in items.items()]

    def subtree(group: list[tuple[bytes, bytes]], depth: int) -> bytes:
        if not group:
            return EMPTY
        if len(group) == 1:
            return leaf_hash(*group[0])
        left = [x for x in group if not _bit(x[0], depth)]
        right = [x for x in group if _bit(x[0], depth)]
        return node_hash(subtree(left, depth + 1), subtree(right, depth + 1))

    return subtree(leaves, 0)


# -- proofs -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proof:
    """Siblings from the root down, and the leaf the walk ended at (None: it ended in EMPTY).

    Canonical form: ``[leaf, [sibling, ...]]`` with leaf ``[path, value_hash]``
    or nil; JSON form ``{"leaf": {"path", "value_hash"} | null, "siblings": [hex]}``.
    """

    leaf: tuple[bytes, bytes] | None
    siblings: tuple[bytes, ...]

    def to_obj(self) -> list[Any]:
        return [None if self.leaf is None else list(self.leaf), list(self.siblings)]

    def to_json(self) -> dict[str, Any]:
        leaf = None if self.leaf is None else {"path": self.leaf[0].hex(), "value_hash": self.leaf[1].hex()}
        return {"leaf": leaf, "siblings": [s.hex() for s in self.siblings]}

    @classmethod
    def from_json(cls, obj: Any) -> Proof:
        if not isinstance(obj, dict) or set(obj) != {"leaf", "siblings"}:
            raise ValidationError("state proof: expected {leaf, siblings}")
        siblings = obj["siblings"]
        if not isinstance(siblings, list) or len(siblings) > DEPTH:
            raise ValidationError(f"state proof: siblings is a list of at most {DEPTH} hashes")
        leaf = obj["leaf"]
        if leaf is not None:
            if not isinstance(leaf, dict) or set(leaf) != {"path", "value_hash"}:
                raise ValidationError("state proof: leaf is null or {path, value_hash}")
            leaf = (_hash_from_hex(leaf["path"]), _hash_from_hex(leaf["value_hash"]))
        return cls(leaf, tuple(_hash_from_hex(s) for s in siblings))


def _hash_from_hex(value: Any) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * HASH_SIZE:
        raise ValidationError("state proof: a hash is 64 hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValidationError("state proof: a hash is 64 hex digits") from None


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: Proof) -> bool:
    """True iff ``proof`` shows that ``key`` holds ``value`` (None: is absent) in the state whose root is ``root``."""
    path = key_path(key)
    depth = len(proof.siblings)
    if depth > DEPTH:
        return False
    if value is not None:
        if proof.leaf != (path, value_hash(value)):
            return False
        h = leaf_hash(path, proof.leaf[1])
    elif proof.leaf is None:
        h = EMPTY
    else:
        other, other_value = proof.leaf
        if other == path or any(_bit(other, d) != _bit(path, d) for d in range(depth)):
            return False  # a leaf of this very key, or one that is not on its path
        h = leaf_hash(other, other_value)
    for d in range(depth - 1, -1, -1):
        sibling = proof.siblings[d]
        h = node_hash(sibling, h) if _bit(path, d) else node_hash(h, sibling)
    return h == root


# -- stored nodes -----------------------------------------------------------


class Entry(NamedTuple):
    """A parent's reference to a child: its hash, the version that wrote it, whether it is a leaf.

    A NamedTuple rather than a frozen dataclass: a block's update makes one per touched node.
    """

    hash: bytes
    version: int
    leaf: bool

    def encode(self) -> bytes:
        return bytes([_LEAF if self.leaf else _NODE]) + self.hash + self.version.to_bytes(8, "big")

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        if len(data) != 41 or data[0] not in (_LEAF, _NODE):
            raise StorageCorruption("a state-tree reference is damaged")
        return cls(data[1:33], int.from_bytes(data[33:], "big"), data[0] == _LEAF)

_MASKS = tuple(bytes([(0xFF << (8 - n)) & 0xFF]) if n else b"" for n in range(8))


NODE_KEY_SIZE = 8 + 2 + HASH_SIZE


def node_key(version: int, depth: int, path: bytes) -> bytes:
    """Where a node lives: version (8 bytes BE) ‖ depth (2 bytes BE) ‖ the path's first ``depth`` bits, zero-padded."""
    whole, rest = depth >> 3, depth & 7
    if rest:
        prefix = path[:whole] + bytes([path[whole] & _MASKS[rest][0]])
    else:
        prefix = path[:whole]
    return version.to_bytes(8, "big") + depth.to_bytes(2, "big") + prefix + bytes(HASH_SIZE - len(prefix))


def node_key_version(key: bytes) -> int:
    return int.from_bytes(key[:8], "big")


def encode_leaf(path: bytes, vhash: bytes, value: bytes) -> bytes:
    """A leaf keeps its value, so a kept old version can still answer what the key held then."""
    return b"L" + path + vhash + value


def encode_node(left: Entry | None, right: Entry | None) -> bytes:
    return b"N" + (left.encode() if left else b"\xff") + (right.encode() if right else b"\xff")


def decode_stored(data: bytes) -> tuple[bytes, bytes, bytes] | tuple[Entry | None, Entry | None]:
    """A leaf as (path, value_hash, value), or an inner node as (left, right) entries."""
    if len(data) >= 65 and data[:1] == b"L":
        return data[1:33], data[33:65], data[65:]
    if data[:1] == b"N":
        rest = data[1:]
        left, rest = (None, rest[1:]) if rest[:1] == b"\xff" else (Entry.decode(rest[:41]), rest[41:])
        right, rest = (None, rest[1:]) if rest[:1] == b"\xff" else (Entry.decode(rest[:41]), rest[41:])
        if not rest:
            return left, right
    raise StorageCorruption("a state-tree node is damaged")


class NodeReader(Protocol):
    """Stored nodes by ``node_key``."""

    def get(self, key: bytes) -> bytes | None: ...


def load(reader: NodeReader, entry: Entry, depth: int, path: bytes) -> bytes:
    raw = reader.get(node_key(entry.version, depth, path))
    if raw is None:
        raise StorageCorruption(f"state-tree node of version {entry.version} at depth {depth} is missing")
    return raw


def prove(reader: NodeReader, root: Entry | None, key: bytes) -> tuple[Proof, bytes | None]:
    """The proof for ``key`` under the tree ``root``, and the value found (None: absent)."""
    path = key_path(key)
    siblings: list[bytes] = []
    entry, depth = root, 0
    while entry is not None:
        node = decode_stored(load(reader, entry, depth, path))
        if entry.leaf:
            leaf_path, vhash, value = node  # type: ignore[misc]
            return Proof((leaf_path, vhash), tuple(siblings)), value if leaf_path == path else None
        left, right = node
        assert not isinstance(left, bytes) and not isinstance(right, bytes)
        if _bit(path, depth):
            siblings.append(left.hash if left else EMPTY)
            entry = right
        else:
            siblings.append(right.hash if right else EMPTY)
            entry = left
        depth += 1
    return Proof(None, tuple(siblings)), None


# -- one block's update -----------------------------------------------------


@dataclass(slots=True)
class _Leaf:
    """A leaf on its way up or down: placed where its parent ends up putting it."""

    path: bytes
    vhash: bytes
    value: bytes
    hash: bytes
    old: tuple[int, int] | None  # (version, depth) of the stored node it came from


class TreeUpdate:
    """Apply one version's changes to the tree at ``root``: new nodes in ``writes``, replaced ones in ``stale``.

    Each changed key costs one walk down its path; paths that share a prefix
    share the walk, so a block's update reads and writes each touched node once.
    """

    def __init__(self, reader: NodeReader, root: Entry | None, version: int,
                 changes: Mapping[bytes, bytes | None]) -> None:
        self._reader = reader
        self.version = version
        self.writes: dict[bytes, bytes] = {}
        self.stale: list[bytes] = []
        items = [(key_path(k), v) for k, v in changes.items()]
        self.root_entry = self._place(self._update(root, 0, items) if items else root, 0)
        self.root = self.root_entry.hash if self.root_entry else EMPTY

    def _update(self, entry: Entry | None, depth: int, items: list[tuple[bytes, bytes | None]]) -> Any:
        if entry is None:
            return self._build([self._new_leaf(p, v) for p, v in items if v is not None], depth)
        path = items[0][0]
        key = node_key(entry.version, depth, path)
        raw = self._reader.get(key)
        if raw is None:
            raise StorageCorruption(f"state-tree node of version {entry.version} at depth {depth} is missing")
        node = decode_stored(raw)
        if entry.leaf:
            old_path, old_vhash, old_value = node  # type: ignore[misc]
            leaves = [self._new_leaf(p, v) for p, v in items if v is not None]
            if any(p == old_path for p, _ in items):
                self.stale.append(key)
            else:
                leaves.append(_Leaf(old_path, old_vhash, old_value, entry.hash, (entry.version, depth)))
            return self._build(leaves, depth)
        self.stale.append(key)
        left, right = node
        lefts = [x for x in items if not _bit(x[0], depth)]
        rights = [x for x in items if _bit(x[0], depth)]
        new_left = self._update(left, depth + 1, lefts) if lefts else left
        new_right = self._update(right, depth + 1, rights) if rights else right
        return self._combine(new_left, new_right, depth, path)

    def _new_leaf(self, path: bytes, value: bytes) -> _Leaf:
        vhash = value_hash(value)
        return _Leaf(path, vhash, value, leaf_hash(path, vhash), None)

    def _build(self, leaves: list[_Leaf], depth: int) -> Any:
        if not leaves:
            return None
        if len(leaves) == 1:
            return leaves[0]
        lefts = [x for x in leaves if not _bit(x.path, depth)]
        rights = [x for x in leaves if _bit(x.path, depth)]
        return self._combine(self._build(lefts, depth + 1), self._build(rights, depth + 1), depth, leaves[0].path)

    def _combine(self, left: Any, right: Any, depth: int, path: bytes) -> Any:
        """The subtree at (depth, path's prefix) from its two halves: None, a leaf to lift, or a placed node."""
        if left is None and right is None:
            return None
        if left is None or right is None:
            only = left if right is None else right
            if isinstance(only, Entry) and only.leaf:  # an untouched leaf whose neighbour left: lift it
                only = self._unplaced(only, depth + 1, path, side=right is not None)
            if isinstance(only, _Leaf):
                return only
        left_entry = self._place(left, depth + 1)
        right_entry = self._place(right, depth + 1)
        h = node_hash(left_entry.hash if left_entry else EMPTY, right_entry.hash if right_entry else EMPTY)
        self.writes[node_key(self.version, depth, path)] = encode_node(left_entry, right_entry)
        return Entry(h, self.version, False)

    def _unplaced(self, entry: Entry, depth: int, path: bytes, side: bool) -> _Leaf:
        bits = int.from_bytes(path, "big")
        shift = DEPTH - depth
        child = ((bits >> (shift + 1) << 1 | int(side)) << shift).to_bytes(HASH_SIZE, "big")
        node = decode_stored(load(self._reader, entry, depth, child))
        leaf_path, vhash, value = node  # type: ignore[misc]
        return _Leaf(leaf_path, vhash, value, entry.hash, (entry.version, depth))

    def _place(self, item: Any, depth: int) -> Entry | None:
        """Store a leaf where its parent ends up (a leaf's key is built from its own path)."""
        if item is None or isinstance(item, Entry):
            return item
        leaf: _Leaf = item
        if leaf.old is not None and leaf.old[1] == depth:
            return Entry(leaf.hash, leaf.old[0], True)
        if leaf.old is not None:
            self.stale.append(node_key(leaf.old[0], leaf.old[1], leaf.path))
        self.writes[node_key(self.version, depth, leaf.path)] = encode_leaf(leaf.path, leaf.vhash, leaf.value)
        return Entry(leaf.hash, self.version, True)
