"""ChainStore: the committed chain and its state, laid out on a KV by schema.py.

One committed block lands in one synced write batch, so after a crash at any
instant the store holds either all of a block (its certificate, receipts, tx
index, state changes, head) or none of it. Never executes or validates txs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from marketnode.core import fields as f
from marketnode.core import smt
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import DecodeError, StorageCorruption, StorageError
from marketnode.core.hashing import HASH_SIZE
from marketnode.core.types import Block, Certificate, Evidence
from marketnode.node.storage import integrity, schema, statetree
from marketnode.node.storage.kv import KV, KVReader, WriteBatch

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Head:
    """The last fully committed block: what the node resumes from after a restart.

    Height 0 is the genesis: ``block_hash`` is then the genesis hash and no
    block is stored for it.
    """

    height: int
    block_hash: bytes
    state_root: bytes
    timestamp_ms: int

    FIELDS: ClassVar[tuple[str, ...]] = ("block_hash", "height", "state_root", "timestamp_ms")

    def encode(self) -> bytes:
        return encode_value({
            "block_hash": self.block_hash, "height": self.height,
            "state_root": self.state_root, "timestamp_ms": self.timestamp_ms,
        })

    @classmethod
    def decode(cls, data: bytes) -> Head:
        obj = f.expect_map(decode_value(data, 1024), "head", cls.FIELDS)
        return cls(
            height=f.u64(obj, "height", "head"),
            block_hash=f.raw(obj, "block_hash", "head", HASH_SIZE),
            state_root=f.raw(obj, "state_root", "head", HASH_SIZE),
            timestamp_ms=f.u64(obj, "timestamp_ms", "head"),
        )


class StateReader:
    """Market state over a KV view: callers see market keys, the state prefix is added and stripped here.

    The market package's StateOverlay reads through this. Over a snapshot it
    gives a consistent state for RPC queries while blocks keep committing.
    """

    __slots__ = ("_reader",)

    def __init__(self, reader: KVReader) -> None:
        self._reader = reader

    def get(self, key: bytes) -> bytes | None:
        return self._reader.get(schema.state(key))

    def iterate(
        self, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        cut = len(schema.STATE_PREFIX)
        resume = None if start is None else schema.state(start)
        for key, value in self._reader.iterate(schema.state(prefix), resume, reverse):
            yield key[cut:], value


log = logging.getLogger(__name__)
MIGRATABLE = (2,)  # storage schemas this release rewrites in place on open (_migrate_tree)

def _decoded(what: str, data: bytes | None, decode: Callable[[bytes], T]) -> T | None:
    """Decode a stored value; bytes that no longer decode mean a corrupt database."""
    if data is None:
        return None
    try:
        return decode(data)
    except DecodeError as exc:
        raise StorageCorruption(f"stored {what} is corrupt: {exc}") from exc


class ChainStore:
    """Blocks, certificates, receipts, tx index, state and head over one KV.

    Opening checks the schema version and verifies the head (``verify_head``),
    so a node never resumes from a head whose block is missing. The whole
    chain is checked by ``integrity.verify_chain``, which the node runs
    before it serves.
    """

    def __init__(self, kv: KV, versions_kept: int = statetree.DEFAULT_VERSIONS_KEPT) -> None:
        self._kv = kv
        self.versions_kept = versions_kept  # state-tree versions that stay provable (config: storage.state_versions)
        self._tree_cache = statetree.NodeCache()
        self._check_version()
        self._head = _decoded("head", kv.get(schema.HEAD), Head.decode)
        self.verify_head()
        self._state_digest = self._load_state_digest()

    @property
    def kv(self) -> KV:
        return self._kv

    def close(self) -> None:
        self._kv.close()

    def _check_version(self) -> None:
        stored = self._kv.get(schema.VERSION)
        expected = schema.schema_version_value()
        if stored is None:
            if next(self._kv.iterate(), None) is not None:
                raise StorageError("the database has data but no schema version; it was not written by marketnode")
            batch = WriteBatch()
            batch.put(schema.VERSION, expected)
            self._kv.write(batch)
            return
        found = int.from_bytes(stored, "big")
        if found in MIGRATABLE:
            self._migrate_tree(found)
            return
        if stored != expected:
            raise StorageError(
                f"the database uses storage schema version {found}; this node reads version "
                f"{schema.SCHEMA_VERSION}. Use a matching marketnode release or resync into an empty data directory"
            )

    def _migrate_tree(self, found: int) -> None:
        """Rewrite the state tree in this release's node layout (same roots), keeping only the head's version.

        Schema 2 stored one node per binary level; schema 3 stores 16-slot
        pages. The state is unchanged, so the tree is rebuilt from it and must
        hash to the head's state root, or nothing is written. Older versions
        are gone: proofs at heights below the head answer "pruned" until new
        blocks fill the kept window again.
        """
        head = _decoded("head", self._kv.get(schema.HEAD), Head.decode)
        batch = WriteBatch()
        if head is not None:
            statetree.clear(self._kv, batch)
            cut = len(schema.STATE_PREFIX)
            state = {key[cut:]: value for key, value in self._kv.iterate(schema.STATE_PREFIX)}
            root = statetree.install(self._kv, batch, head.height, state)
            if root != head.state_root:
                raise StorageCorruption(
                    f"moving the state tree from storage schema {found} to {schema.SCHEMA_VERSION}: the state at "
                    f"height {head.height} does not hash to its header's state root; the database is damaged")
        batch.put(schema.VERSION, schema.schema_version_value())
        self._kv.write(batch, sync=True)
        log.info("storage schema %d -> %d: state tree rebuilt at height %s", found, schema.SCHEMA_VERSION,
                 None if head is None else head.height)

    def _load_state_digest(self) -> int:
        stored = self._kv.get(schema.STATE_DIGEST)
        if stored is not None:
            return integrity.digest_from(stored)
        # A store written before the digest existed (or an empty one): take it from the state as it stands.
        digest, _ = integrity.scan_state(self._kv)
        if self._head is not None:
            batch = WriteBatch()
            batch.put(schema.STATE_DIGEST, integrity.digest_bytes(digest))
            self._kv.write(batch, sync=True)
        return digest

    def state_digest(self) -> int:
        """The running digest of the state, as the last committed batch stored it (integrity.py)."""
        return self._state_digest

    # -- head and genesis ---------------------------------------------------

    def head(self) -> Head | None:
        """The last committed block, the genesis (height 0), or None for an empty store."""
        return self._head

    def genesis_hash(self) -> bytes | None:
        return self._kv.get(schema.GENESIS)

    def init_genesis(
        self, genesis_hash: bytes, state_changes: Mapping[bytes, bytes | None], timestamp_ms: int = 0,
    ) -> None:
        """Write the genesis state, its tree (version 0) and a height-0 head, atomically.

        Idempotent for the same genesis (a restart re-runs it); refuses a
        different one, because that would be another chain's data.
        """
        stored = self.genesis_hash()
        if stored == genesis_hash:
            return
        if stored is not None:
            raise StorageError(
                f"this database holds the chain with genesis {stored.hex()}, not {genesis_hash.hex()}; "
                "use an empty data directory for another chain"
            )
        batch = WriteBatch()
        batch.put(schema.GENESIS, genesis_hash)
        digest = self._put_state(batch, state_changes)
        head = Head(0, genesis_hash, statetree.stage(self._kv, batch, 0, state_changes, self.versions_kept),
                    timestamp_ms)
        batch.put(schema.HEAD, head.encode())
        self._kv.write(batch, sync=True)
        self._head, self._state_digest = head, digest

    def verify_head(self) -> None:
        """Raise StorageError unless the head points at a block that is fully stored."""
        head, genesis = self._head, self.genesis_hash()
        if head is None:
            if genesis is not None:
                raise StorageCorruption("the database has a genesis but no head; it is corrupt")
            return
        if head.height == 0:
            if head.block_hash != genesis:
                raise StorageCorruption("the head is at height 0 but does not match the stored genesis hash")
            return
        block = self.get_block(head.height)
        if block is None:
            raise StorageCorruption(f"the head is at height {head.height} but that block is missing; the database is corrupt")
        if block.hash != head.block_hash:
            raise StorageCorruption(f"the block stored at height {head.height} does not match the head's hash")
        certificate = self.get_certificate(head.height)
        if certificate is None or certificate.block_hash != head.block_hash:
            raise StorageCorruption(f"the commit certificate of head block {head.height} is missing or for another block")
        if self.get_block_height(head.block_hash) != head.height:
            raise StorageCorruption(f"the hash index does not point at head block {head.height}")

    # -- commit -------------------------------------------------------------

    def commit_block(
        self,
        block: Block,
        certificate: Certificate,
        receipts: list[bytes],
        state_changes: Mapping[bytes, bytes | None],
        extra: Mapping[bytes, bytes | None] | None = None,
        prior: Mapping[bytes, bytes | None] | None = None,
    ) -> Head:
        """Store a committed block and everything it changed in ONE synced batch; return the new head.

        ``state_changes`` maps market keys to new values (None deletes); the
        state tree takes them as version ``block.height`` and its root becomes
        the head's ``state_root`` (the one block h+1's header must carry);
        ``extra`` holds secondary-index entries built by ``schema.index``;
        ``prior`` the stored values of state keys that execution already read
        (saves a read each when the state digest is updated).
        The block must extend the head: storage is the last line that keeps
        a gap or a fork out of the chain.
        """
        self._check_extends(block, certificate)
        height = block.height
        batch = WriteBatch()
        batch.put(schema.block(height), block.encode())
        batch.put(schema.block_hash(block.hash), schema.height_bytes(height))
        batch.put(schema.certificate(height), certificate.encode())
        canonical = self._committed_parent_certificate(block)
        if canonical is not None:
            batch.put(schema.certificate(height - 1), canonical)
        for index, receipt in enumerate(receipts):
            batch.put(schema.receipt(height, index), receipt)
        for index, tx in enumerate(block.txs):
            batch.put(schema.tx(tx.hash), schema.tx_location_value(height, index))
        for evidence in block.evidence:
            batch.put(schema.evidence(evidence.hash), evidence.encode())
        digest = self._put_state(batch, state_changes, prior)
        for key, value in (extra or {}).items():
            if not key.startswith(schema.INDEX_PREFIX):
                raise StorageError(f"extra key {key!r} is not a secondary-index key (build it with schema.index)")
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        root = statetree.stage(self._kv, batch, height, state_changes, self.versions_kept, self._tree_cache)
        head = Head(height, block.hash, root, block.header.timestamp_ms)
        batch.put(schema.HEAD, head.encode())
        self._kv.write(batch, sync=True)
        self._tree_cache.settle()
        self._head, self._state_digest = head, digest
        return head

    def restore_snapshot(self, block: Block, certificate: Certificate, state: Mapping[bytes, bytes],
                         state_root: bytes) -> Head:
        """Make ``block`` the head with ``state`` as the state after it, in ONE synced batch (state sync).

        Only over a store still at its genesis. ``state_root`` is the root
        block h+1's certified header gives; the state is refused, and nothing
        written, unless its tree hashes to it. Blocks below ``block`` stay
        absent: ``base_height`` says where the stored chain begins.
        """
        head = self._head
        if head is None or head.height != 0:
            raise StorageError("a snapshot is restored only into a store at its genesis (height 0)")
        if (certificate.height, certificate.block_hash) != (block.height, block.hash) or block.height < 1:
            raise StorageError(f"the certificate is not for block {block.height}")
        height = block.height
        batch = WriteBatch()
        statetree.clear(self._kv, batch)
        root = statetree.install(self._kv, batch, height, state)
        if root != state_root:
            raise StorageError(f"the snapshot's state hashes to {root.hex()[:16]}…, not to the certified state root "
                               f"{state_root.hex()[:16]}… of block {height + 1}'s header")
        for key, _ in self._kv.iterate(schema.STATE_PREFIX):
            batch.delete(key)
        digest = 0
        for key, value in state.items():
            batch.put(schema.state(key), value)
            digest += integrity.entry_hash(key, value)
        batch.put(schema.STATE_DIGEST, integrity.digest_bytes(digest))
        batch.put(schema.block(height), block.encode())
        batch.put(schema.block_hash(block.hash), schema.height_bytes(height))
        batch.put(schema.certificate(height), certificate.encode())
        batch.put(schema.BASE, schema.height_bytes(height))
        batch.put(schema.VERIFIED, schema.height_bytes(height))
        head = Head(height, block.hash, root, block.header.timestamp_ms)
        batch.put(schema.HEAD, head.encode())
        self._kv.write(batch, sync=True)
        self._tree_cache = statetree.NodeCache(self._tree_cache.max_nodes)
        self._head, self._state_digest = head, integrity.digest_from(integrity.digest_bytes(digest))
        return head

    def base_height(self) -> int:
        """The height of the snapshot this store was restored from; 0 for a chain kept from its genesis.

        Blocks ``base``..head are stored (block ``base`` without receipts or tx index), none below.
        """
        stored = self._kv.get(schema.BASE)
        return 0 if stored is None else schema.height_from(stored)

    def _committed_parent_certificate(self, block: Block) -> bytes | None:
        """The parent's certificate as ``block`` commits it, to replace the quorum this node happened to see.

        Each node first stores the 2f+1 COMMITs it gathered itself, which
        differ between nodes; once the next header's ``last_cert_hash``
        fixes one certificate, every node serves that one (for sync, RPC and
        proofs). None when the block carries no certificate of the head.
        """
        cert, head = block.last_cert, self._head
        if cert is None or head is None or head.height == 0:
            return None
        if cert.height != head.height or cert.block_hash != head.block_hash:
            return None
        return cert.encode()

    def _check_extends(self, block: Block, certificate: Certificate) -> None:
        if certificate.block_hash != block.hash or certificate.height != block.height:
            raise StorageError(f"the certificate is not for block {block.height}")
        head = self._head
        if head is None:
            raise StorageError("cannot commit a block before the genesis is stored (init_genesis)")
        if block.height != head.height + 1:
            raise StorageError(f"block {block.height} does not follow the head at height {head.height}")
        # Block 1's parent is the genesis, whose hash consensus may spell differently; later parents must match.
        if head.height > 0 and block.header.parent_hash != head.block_hash:
            raise StorageError(f"block {block.height} does not extend the head block {head.block_hash.hex()}")

    def _put_state(self, batch: WriteBatch, state_changes: Mapping[bytes, bytes | None],
                   prior: Mapping[bytes, bytes | None] | None = None) -> int:
        """Add the state changes and the state digest after them to ``batch``; return that digest."""
        return integrity.put_state(self._kv, batch, self._state_digest, state_changes.items(), prior)

    # -- reads --------------------------------------------------------------

    def get_block_bytes(self, height: int) -> bytes | None:
        """The block's canonical bytes, for serving sync without a decode/encode round trip."""
        return self._kv.get(schema.block(height))

    def get_block(self, height: int) -> Block | None:
        return _decoded(f"block {height}", self.get_block_bytes(height), Block.decode)

    def get_block_height(self, block_hash: bytes) -> int | None:
        data = self._kv.get(schema.block_hash(block_hash))
        return None if data is None else schema.height_from(data)

    def get_block_by_hash(self, block_hash: bytes) -> Block | None:
        height = self.get_block_height(block_hash)
        return None if height is None else self.get_block(height)

    def get_certificate_bytes(self, height: int) -> bytes | None:
        """The certificate's canonical bytes, for serving sync."""
        return self._kv.get(schema.certificate(height))

    def get_certificate(self, height: int) -> Certificate | None:
        return _decoded(f"certificate {height}", self.get_certificate_bytes(height), Certificate.decode)

    def get_receipts(self, height: int) -> list[bytes]:
        """The block's receipts (opaque canonical bytes) in tx order; [] for an unknown height."""
        return [value for _, value in self._kv.iterate(schema.receipts(height))]

    def get_receipt(self, height: int, index: int) -> bytes | None:
        return self._kv.get(schema.receipt(height, index))

    def get_tx_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        """(height, index in block) of a committed tx, or None."""
        data = self._kv.get(schema.tx(tx_hash))
        return None if data is None else schema.tx_location_from(data)

    def get_evidence(self, evidence_hash: bytes) -> Evidence | None:
        return _decoded("evidence", self._kv.get(schema.evidence(evidence_hash)), Evidence.decode)

    def save_evidence(self, evidence: Evidence) -> None:
        """Durably keep equivocation this node observed itself (evidence in blocks is stored by commit_block)."""
        batch = WriteBatch()
        batch.put(schema.evidence(evidence.hash), evidence.encode())
        self._kv.write(batch, sync=True)

    def iter_evidence(self) -> Iterator[Evidence]:
        """All stored evidence, in evidence-hash order."""
        for _, value in self._kv.iterate(schema.EVIDENCE_PREFIX):
            evidence = _decoded("evidence", value, Evidence.decode)
            assert evidence is not None
            yield evidence

    def iterate_index(
        self, name: str, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Entries of secondary index ``name`` as (key within the index, value)."""
        base = schema.index_prefix(name)
        resume = None if start is None else base + start
        for key, value in self._kv.iterate(base + prefix, resume, reverse):
            yield key[len(base):], value

    def state_proof(self, version: int, key: bytes, view: KVReader | None = None) -> tuple[smt.Proof, bytes | None]:
        """Proof of market ``key`` in the state after block ``version`` (VersionPruned if no longer kept)."""
        return statetree.prove(self._kv if view is None else view, version, key)

    def state_reader(self, view: KVReader | None = None) -> StateReader:
        """Market state as of the live store, or of ``view`` (a ``kv.snapshot()``)."""
        return StateReader(self._kv if view is None else view)

    # -- double-sign guard ----------------------------------------------------

    def save_last_signed(self, record: bytes) -> None:
        """Durably record what this validator last signed; returns only once it is on disk.

        Call before the vote leaves the process: after a crash the node must
        know it signed, or it could sign a conflicting vote.
        """
        batch = WriteBatch()
        batch.put(schema.LAST_SIGNED, record)
        self._kv.write(batch, sync=True)

    def load_last_signed(self) -> bytes | None:
        return self._kv.get(schema.LAST_SIGNED)


