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

Storage is not part of that definition: the tree is stored in *pages*,
each holding four binary levels (16 child slots, Jellyfish style), and
leaves on their own. A changed key touches about a quarter of the stored
nodes a binary layout would (at 100k keys: ~3 reads and writes instead of
~9), and each stored node is one LevelDB record and one Python decode,
which is what the cost was made of. A page's hash is computed from its 16
slots by the same binary rules, so roots and proofs are exactly those of
the definition.

``TreeUpdate`` applies one block's changes at once, reading only the pages
on the changed paths through a ``NodeReader``; nodes are keyed by the
version (height) that wrote them, so old versions stay readable until
their replaced nodes are pruned. Pure: no I/O beyond the reader it is given.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from marketnode.core.errors import StorageCorruption, ValidationError
from marketnode.core.hashing import HASH_SIZE, digest, hasher

EMPTY = bytes(HASH_SIZE)
DEPTH = 256
_LEAF, _NODE = 0, 1


def key_path(key: bytes) -> bytes:
    return digest("smt-key", key)


def value_hash(value: bytes) -> bytes:
    return digest("smt-value", value)


_leaf_digest, _node_digest = hasher("smt-leaf"), hasher("smt-node")


def leaf_hash(path: bytes, vhash: bytes) -> bytes:
    return _leaf_digest(path + vhash)


def node_hash(left: bytes, right: bytes) -> bytes:
    return _node_digest(left + right)


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
        if len(data) != ENTRY_SIZE or data[0] not in (_LEAF, _NODE):
            raise StorageCorruption("a state-tree reference is damaged")
        return cls(data[1:33], int.from_bytes(data[33:], "big"), data[0] == _LEAF)


ENTRY_SIZE = 1 + HASH_SIZE + 8
PAGE_BITS = 4  # binary levels per stored page
FAN = 1 << PAGE_BITS
NODE_KEY_SIZE = 8 + 2 + HASH_SIZE
_MASKS = tuple(bytes([(0xFF << (8 - n)) & 0xFF]) if n else b"" for n in range(8))


def node_key(version: int, depth: int, path: bytes) -> bytes:
    """Where a node lives: version (8 bytes BE) ‖ depth (2 bytes BE) ‖ the path's first ``depth`` bits, zero-padded.

    A page's depth is the binary depth of its top (a multiple of PAGE_BITS); a
    leaf's is the depth of the slot it sits in.
    """
    whole, rest = depth >> 3, depth & 7
    if rest:
        prefix = path[:whole] + bytes([path[whole] & _MASKS[rest][0]])
    else:
        prefix = path[:whole]
    return version.to_bytes(8, "big") + depth.to_bytes(2, "big") + prefix + bytes(HASH_SIZE - len(prefix))


def node_key_version(key: bytes) -> int:
    return int.from_bytes(key[:8], "big")


def _slot_of(path: bytes, depth: int) -> int:
    """The page slot ``path`` falls in, for the page at ``depth`` (a multiple of PAGE_BITS)."""
    byte = path[depth >> 3]
    return byte & 0x0F if depth & 7 else byte >> 4


def _with_slot(path: bytes, depth: int, slot: int) -> bytes:
    """``path`` with its slot bits at ``depth`` set to ``slot``: a path into that child (bits below don't matter)."""
    at = depth >> 3
    byte = path[at]
    byte = (byte & 0xF0) | slot if depth & 7 else (slot << 4) | (byte & 0x0F)
    return path[:at] + bytes([byte]) + path[at + 1:]


def encode_leaf(path: bytes, vhash: bytes, value: bytes) -> bytes:
    """A leaf keeps its value, so a kept old version can still answer what the key held then."""
    return b"L" + path + vhash + value


def decode_leaf(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(path, value_hash, value) of a stored leaf."""
    if len(data) >= 65 and data[:1] == b"L":
        return data[1:33], data[33:65], data[65:]
    raise StorageCorruption("a state-tree leaf is damaged")


def encode_page(slots: list[bytes | None]) -> bytes:
    """``P`` ‖ u16 BE bitmap of the present slots ‖ their encoded entries in slot order."""
    bitmap = 0
    for i, ref in enumerate(slots):
        if ref is not None:
            bitmap |= 1 << (FAN - 1 - i)
    return b"P" + bitmap.to_bytes(2, "big") + b"".join(ref for ref in slots if ref is not None)


def decode_page(data: bytes) -> list[bytes | None]:
    """The 16 slots of a stored page, each an encoded Entry (sliced, not decoded) or None."""
    bitmap = int.from_bytes(data[1:3], "big")
    if data[:1] != b"P" or bitmap == 0 or len(data) != 3 + ENTRY_SIZE * bitmap.bit_count():
        raise StorageCorruption("a state-tree page is damaged")
    slots: list[bytes | None] = [None] * FAN
    at = 3
    for i in _set_bits(bitmap):
        ref = data[at:at + ENTRY_SIZE]
        if ref[0] > _NODE:
            raise StorageCorruption("a state-tree page is damaged")
        slots[i] = ref
        at += ENTRY_SIZE
    return slots


@functools.lru_cache(maxsize=1 << FAN)
def _set_bits(bitmap: int) -> tuple[int, ...]:
    return tuple(i for i in range(FAN) if bitmap >> (FAN - 1 - i) & 1)


# One level of a page's binary reduction: None (no key), (hash, True) (one key: a leaf, lifted), (hash, False).
_Half = tuple[bytes, bool] | None


def page_levels(slots: list[bytes | None]) -> list[list[_Half]]:
    """The binary subtrees inside a page, bottom (16 slots) to top (1), by the definition's rules."""
    level: list[_Half] = [None if ref is None else (ref[1:33], ref[0] == _LEAF) for ref in slots]
    levels = [level]
    while len(level) > 1:
        up: list[_Half] = []
        for i in range(0, len(level), 2):
            a, b = level[i], level[i + 1]
            if a is None:
                up.append(b if b is None or b[1] else (_node_digest(EMPTY + b[0]), False))
            elif b is None:
                up.append(a if a[1] else (_node_digest(a[0] + EMPTY), False))
            else:
                up.append((_node_digest(a[0] + b[0]), False))
        level = up
        levels.append(level)
    return levels


def page_hash(slots: list[bytes | None]) -> bytes:
    top = page_levels(slots)[-1][0]
    if top is None or top[1]:
        raise StorageCorruption("a state-tree page holds fewer than two keys")
    return top[0]


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
        if entry.leaf:
            leaf_path, vhash, value = decode_leaf(load(reader, entry, depth, path))
            return Proof((leaf_path, vhash), tuple(siblings)), value if leaf_path == path else None
        slots = decode_page(load(reader, entry, depth, path))
        levels = page_levels(slots)
        slot = _slot_of(path, depth)
        entry = None
        for k in range(PAGE_BITS):  # binary depth depth + k, inside the page
            here = levels[PAGE_BITS - k][slot >> (PAGE_BITS - k)]
            if here is None:
                return Proof(None, tuple(siblings)), None
            if here[1]:  # one key below here: the walk ends at its leaf, wherever it sits in the range
                width = PAGE_BITS - k
                first = slot >> width << width
                at = next(i for i in range(first, first + (1 << width)) if slots[i] is not None)
                ref = slots[at]
                assert ref is not None
                leaf_path, vhash, value = decode_leaf(
                    load(reader, Entry.decode(ref), depth + PAGE_BITS, _with_slot(path, depth, at)))
                return Proof((leaf_path, vhash), tuple(siblings)), value if leaf_path == path else None
            other = levels[PAGE_BITS - k - 1][(slot >> (PAGE_BITS - k - 1)) ^ 1]
            siblings.append(EMPTY if other is None else other[0])
        ref = slots[slot]
        if ref is not None:
            entry = Entry.decode(ref)
        depth += PAGE_BITS
    return Proof(None, tuple(siblings)), None


def walk(reader: NodeReader, root: Entry | None) -> Iterator[tuple[bytes, Entry, int, bytes]]:
    """Every stored node of the tree ``root``: (node key, entry, depth, raw record), parents before children."""
    if root is None:
        return
    stack = [(root, 0, bytes(HASH_SIZE))]
    while stack:
        entry, depth, path = stack.pop()
        raw = load(reader, entry, depth, path)
        yield node_key(entry.version, depth, path), entry, depth, raw
        if not entry.leaf:
            for i, ref in enumerate(decode_page(raw)):
                if ref is not None:
                    stack.append((Entry.decode(ref), depth + PAGE_BITS, _with_slot(path, depth, i)))


def check(reader: NodeReader, root: Entry | None) -> int:
    """Rehash every stored node of ``root``'s tree; return its leaf count (StorageCorruption when one is wrong)."""
    leaves = 0
    for key, entry, depth, raw in walk(reader, root):
        if entry.leaf:
            leaf_path, vhash, value = decode_leaf(raw)
            if node_key(entry.version, depth, leaf_path) != key:
                raise StorageCorruption(f"a state-tree leaf of version {entry.version} is off its key's path")
            if value_hash(value) != vhash:
                raise StorageCorruption(f"a state-tree leaf of version {entry.version} holds a damaged value")
            found = leaf_hash(leaf_path, vhash)
            leaves += 1
        else:
            found = page_hash(decode_page(raw))
        if found != entry.hash:
            raise StorageCorruption(f"the state-tree node of version {entry.version} at depth {depth} is damaged")
    return leaves


# -- one block's update -----------------------------------------------------


@dataclass(slots=True)
class _Leaf:
    """A leaf on its way up or down: placed where its parent ends up putting it."""

    path: bytes
    vhash: bytes
    value: bytes
    hash: bytes
    old: tuple[int, int] | None  # (version, depth) of the stored node it came from


# What a subtree becomes during an update: nothing, a leaf not yet placed, or a stored node (encoded entry).
_Item = _Leaf | bytes | None


class TreeUpdate:
    """Apply one version's changes to the tree at ``root``: new nodes in ``writes``, replaced ones in ``stale``.

    Each changed key costs one walk down its path, a page at a time; paths
    that share a prefix share the walk, so a block's update reads and writes
    each touched page once. Untouched slots stay encoded bytes throughout.
    """

    def __init__(self, reader: NodeReader, root: Entry | None, version: int,
                 changes: Mapping[bytes, bytes | None]) -> None:
        self._reader = reader
        self.version = version
        self.writes: dict[bytes, bytes] = {}
        self.stale: list[bytes] = []
        items = sorted((key_path(k), v) for k, v in changes.items())
        top = root.encode() if root is not None else None
        placed = self._place(self._slot(top, 0, items), 0) if items else top
        self.root_entry = None if placed is None else Entry.decode(placed)
        self.root = self.root_entry.hash if self.root_entry else EMPTY

    def _slot(self, ref: bytes | None, depth: int, items: list[tuple[bytes, bytes | None]]) -> _Item:
        """The subtree at binary ``depth`` (a page boundary) under ``ref``, after ``items`` (sorted, on this path)."""
        if ref is None:
            return self._build([self._new_leaf(p, v) for p, v in items if v is not None], depth)
        entry = Entry.decode(ref)
        path = items[0][0]
        key = node_key(entry.version, depth, path)
        raw = self._reader.get(key)
        if raw is None:
            raise StorageCorruption(f"state-tree node of version {entry.version} at depth {depth} is missing")
        if entry.leaf:
            old_path, old_vhash, old_value = decode_leaf(raw)
            leaves = [self._new_leaf(p, v) for p, v in items if v is not None]
            if any(p == old_path for p, _ in items):
                self.stale.append(key)
            else:
                leaves.append(_Leaf(old_path, old_vhash, old_value, entry.hash, (entry.version, depth)))
                if len(leaves) > 1:
                    leaves.sort(key=_leaf_path)
            return self._build(leaves, depth)
        self.stale.append(key)
        slots: list[_Item] = list(decode_page(raw))
        below = depth + PAGE_BITS
        start = 0
        while start < len(items):
            slot = _slot_of(items[start][0], depth)
            end = start + 1
            while end < len(items) and _slot_of(items[end][0], depth) == slot:
                end += 1
            current = slots[slot]
            assert not isinstance(current, _Leaf)
            slots[slot] = self._slot(current, below, items[start:end])
            start = end
        return self._page(slots, depth, path)

    def _new_leaf(self, path: bytes, value: bytes) -> _Leaf:
        vhash = value_hash(value)
        return _Leaf(path, vhash, value, leaf_hash(path, vhash), None)

    def _build(self, leaves: list[_Leaf], depth: int) -> _Item:
        """The subtree at ``depth`` holding just ``leaves`` (sorted by path)."""
        if not leaves:
            return None
        if len(leaves) == 1:
            return leaves[0]
        slots: list[_Item] = [None] * FAN
        below = depth + PAGE_BITS
        start = 0
        while start < len(leaves):
            slot = _slot_of(leaves[start].path, depth)
            end = start + 1
            while end < len(leaves) and _slot_of(leaves[end].path, depth) == slot:
                end += 1
            slots[slot] = self._build(leaves[start:end], below)
            start = end
        return self._page(slots, depth, leaves[0].path)

    def _page(self, slots: list[_Item], depth: int, path: bytes) -> _Item:
        """Store the page at (depth, path's prefix), or hand up its one leaf (lifted) or nothing."""
        present = [i for i, item in enumerate(slots) if item is not None]
        if not present:
            return None
        below = depth + PAGE_BITS
        if len(present) == 1:
            only = slots[present[0]]
            if isinstance(only, _Leaf):
                return only
            assert isinstance(only, bytes)
            if only[0] == _LEAF:  # an untouched leaf whose neighbours left: lift it
                entry = Entry.decode(only)
                leaf_path, vhash, value = decode_leaf(load(self._reader, entry, below, _with_slot(path, depth, present[0])))
                return _Leaf(leaf_path, vhash, value, entry.hash, (entry.version, below))
        refs = [self._place(item, below) if isinstance(item, _Leaf) else item for item in slots]
        h = page_hash(refs)
        self.writes[node_key(self.version, depth, path)] = encode_page(refs)
        return Entry(h, self.version, False).encode()

    def _place(self, item: _Item, depth: int) -> bytes | None:
        """Store a leaf where its parent ends up (a leaf's key is built from its own path); an encoded entry."""
        if item is None or isinstance(item, bytes):
            return item
        leaf = item
        if leaf.old is not None and leaf.old[1] == depth:
            return Entry(leaf.hash, leaf.old[0], True).encode()
        if leaf.old is not None:
            self.stale.append(node_key(leaf.old[0], leaf.old[1], leaf.path))
        self.writes[node_key(self.version, depth, leaf.path)] = encode_leaf(leaf.path, leaf.vhash, leaf.value)
        return Entry(leaf.hash, self.version, True).encode()


def _leaf_path(leaf: _Leaf) -> bytes:
    return leaf.path
