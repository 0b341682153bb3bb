"""The state tree on the KV: each block's tree update, its root, proofs at kept versions, pruning.

Version h is the state after block h (0: the genesis). ``stage`` adds one
version's new nodes, its root entry and the nodes it replaced to the
block's write batch, and prunes what the oldest kept version no longer
needs, so the tree on disk holds exactly the last ``keep`` versions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from marketnode.core import smt
from marketnode.core.errors import StorageCorruption, StorageError
from marketnode.node.storage import schema
from marketnode.node.storage.kv import KVReader, WriteBatch

DEFAULT_VERSIONS_KEPT = 100
MIN_VERSIONS_KEPT = 2
PRUNE_MIN_NODES = 4096  # nodes a block may prune beyond twice its own writes (_prune)


class NodeCache:
    """Tree nodes kept in memory, read-through, at most ``max_nodes`` (oldest dropped first).

    A block's tree update reads every node on its changed paths, and each of
    those was a LevelDB get with checksums verified: under ``bench tps`` the
    gets were 27 % of a validator's CPU and the tree update 46 %, and
    execution went from ~0.5 ms to 4 ms per tx. Nodes are immutable (keyed by
    the version that wrote them and their place), so a cached node is never
    stale; a pruned one is never asked for, since a pruned version's root is
    refused first. A block's new nodes enter the cache only once its batch is
    on disk (``settle``).
    """

    def __init__(self, max_nodes: int = 200_000) -> None:
        self.max_nodes = max_nodes
        self._nodes: OrderedDict[bytes, bytes] = OrderedDict()  # O(1) eviction of the oldest
        self._staged: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self._nodes.get(key)

    def put(self, key: bytes, node: bytes) -> None:
        nodes = self._nodes
        nodes[key] = node
        while len(nodes) > self.max_nodes:  # not a dict sliced from the front: that rescans the deleted
            nodes.popitem(last=False)       # slots on every put (block 213 of a bench took 11 s to execute)

    def stage(self, writes: Mapping[bytes, bytes]) -> None:
        self._staged = dict(writes)

    def settle(self) -> None:
        """The staged block's batch was written: its new nodes are now real."""
        for key, node in self._staged.items():
            self.put(key, node)
        self._staged = {}

    def __len__(self) -> int:
        return len(self._nodes)


class _Nodes:
    """``smt.NodeReader`` over a KV view, through ``cache`` when given."""

    __slots__ = ("_cache", "_reader")

    def __init__(self, reader: KVReader, cache: NodeCache | None = None) -> None:
        self._reader = reader
        self._cache = cache

    def get(self, key: bytes) -> bytes | None:
        cache = self._cache
        if cache is not None:
            node = cache.get(key)
            if node is not None:
                return node
        node = self._reader.get(schema.tree_node(key))
        if node is not None and cache is not None:
            cache.put(key, node)
        return node


class VersionPruned(StorageError):
    """A proof was asked for a version the tree no longer (or never) held."""


def root_entry(reader: KVReader, version: int) -> smt.Entry | None:
    """The root of ``version``; raises VersionPruned if that version is not kept."""
    raw = reader.get(schema.tree_root(version))
    if raw is None:
        raise VersionPruned(f"the state tree holds no version {version} (pruned, or not yet written)")
    return smt.Entry.decode(raw) if raw else None


def oldest_version(reader: KVReader) -> int | None:
    for key, _ in reader.iterate(schema.TREE_ROOT_PREFIX):
        return schema.height_from(key[len(schema.TREE_ROOT_PREFIX):])
    return None


def stage(reader: KVReader, batch: WriteBatch, version: int, changes: Mapping[bytes, bytes | None],
          keep: int, cache: NodeCache | None = None) -> bytes:
    """Add version ``version`` (the previous one plus ``changes``) to ``batch``; return its root hash.

    With ``cache``, nodes are read through it and the new ones staged in it: call ``cache.settle()``
    once ``batch`` is written.
    """
    previous = None if version == 0 else root_entry(reader, version - 1)
    update = smt.TreeUpdate(_Nodes(reader, cache), previous, version, changes)
    if cache is not None:
        cache.stage(update.writes)
    for key, node in update.writes.items():
        batch.put(schema.tree_node(key), node)
    if update.stale:  # one entry per version, not per node: a block's batch stays about half as long
        batch.put(schema.tree_stale(version), b"".join(update.stale))
    batch.put(schema.tree_root(version), update.root_entry.encode() if update.root_entry else b"")
    _prune(reader, batch, version - max(keep, MIN_VERSIONS_KEPT) + 1, max(PRUNE_MIN_NODES, 2 * len(update.writes)))
    return update.root


def install(reader: KVReader, batch: WriteBatch, version: int, items: Mapping[bytes, bytes]) -> bytes:
    """Add a tree for ``version`` holding exactly ``items`` (a whole state), with no earlier version; its root.

    For a store that has the state but not its tree at that height: one
    migrated from an older layout, or restored from a snapshot. Any tree
    nodes already stored are the caller's to clear first.
    """
    update = smt.TreeUpdate(_Nodes(reader), None, version, items)
    for key, node in update.writes.items():
        batch.put(schema.tree_node(key), node)
    batch.put(schema.tree_root(version), update.root_entry.encode() if update.root_entry else b"")
    return update.root


def clear(reader: KVReader, batch: WriteBatch) -> None:
    """Delete every stored tree node, root and stale list (before ``install`` rebuilds one)."""
    for prefix in (schema.TREE_NODE_PREFIX, schema.TREE_ROOT_PREFIX, schema.TREE_STALE_PREFIX):
        for key, _ in reader.iterate(prefix):
            batch.delete(key)


def _prune(reader: KVReader, batch: WriteBatch, lowest_kept: int, budget: int) -> None:
    """Drop the roots below ``lowest_kept``, and up to ``budget`` of the nodes that left the tree at or before it.

    A version's replaced nodes are only read by older versions, so deleting
    them late is safe (they only take disk); the roots go first, which is
    what makes an older version unprovable. Without the budget one block
    paid for another's size: when the large blocks of a burst left the kept
    window 100 blocks later, each ordinary block deleted thousands of nodes
    and took several times as long to commit. Left-over nodes stay in their
    version's list (rewritten shorter) for the next blocks.
    """
    if lowest_kept <= 0:
        return
    cut = len(schema.TREE_ROOT_PREFIX)
    for key, _ in reader.iterate(schema.TREE_ROOT_PREFIX):
        if schema.height_from(key[cut:]) >= lowest_kept:
            break
        batch.delete(key)
    cut = len(schema.TREE_STALE_PREFIX)
    size = smt.NODE_KEY_SIZE
    for key, listed in reader.iterate(schema.TREE_STALE_PREFIX):
        if schema.height_from(key[cut:]) > lowest_kept or budget <= 0:
            break
        if len(listed) % size:
            raise StorageCorruption(f"the state tree's list of nodes replaced at {key[cut:].hex()} is damaged")
        count = len(listed) // size
        take = min(count, budget)
        for at in range(0, take * size, size):
            batch.delete(schema.tree_node(listed[at:at + size]))
        budget -= take
        if take < count:
            batch.put(key, listed[take * size:])
        else:
            batch.delete(key)


def prove(reader: KVReader, version: int, key: bytes) -> tuple[smt.Proof, bytes | None]:
    """The proof of ``key`` at ``version`` and the value it held then (None: absent)."""
    try:
        return smt.prove(_Nodes(reader), root_entry(reader, version), key)
    except StorageCorruption as exc:
        raise StorageCorruption(f"the state tree at version {version} is damaged: {exc}") from exc


def check(reader: KVReader, version: int, root: bytes) -> int:
    """Walk the whole tree of ``version``, rehashing every node; return its leaf count.

    Raises StorageCorruption unless every node is stored, every hash matches
    its children and the top hash is ``root`` (the head's state root).
    """
    entry = root_entry(reader, version)
    if (smt.EMPTY if entry is None else entry.hash) != root:
        raise StorageCorruption(f"the state tree of version {version} does not hash to the head's state root")
    return smt.check(_Nodes(reader), entry)
