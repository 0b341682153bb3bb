"""Does the stored chain hold together? The start-up self-check and the state digest.

LevelDB's own checks (``paranoid_checks`` on open, checksums on every read,
see level.py) catch damage to its files. They cannot see a chain that lost
whole records and still opens (a write-ahead log recovered by an older,
non-paranoid open; a restored backup of one file) — such a store serves
missing blocks and empty balances with a head that matches the network. So
before a node serves, ``verify_chain`` walks the stored chain against itself:

- heights contiguous from 1 (or from the snapshot it was restored from,
  ``m/base``) to the head, nothing stored above it;
- every block decodes, sits at its own height, names the previous block's
  hash as its parent, and the hash index points back at it;
- its commit certificate is stored and is for that block;
- every tx has its tx-index entry (height, position) and its receipt, and
  the evidence it carries is stored;
- the state matches ``m/state_digest``, a running digest written in the same
  atomic batch as every block: the sum, mod 2**256, of
  ``blake2b-256(len(key) u32 ‖ key ‖ value)`` over every state entry. A
  sum can be updated from a block's change set alone (subtract the old
  entry, add the new), so a missing, extra or altered state key shows
  without replaying the chain. It guards against damage, not against
  someone who can write the data directory (they could rewrite the digest).

Cost: the block walk reads the whole chain once, so it is incremental:
``m/verified`` records the height the last successful check reached, and
the next start walks only the blocks above it (blocks below cannot change
without LevelDB seeing a bad checksum or a missing file). The state scan is
bounded by the size of the state, not the length of the chain, and runs at
every start. ``full=True`` (``marketnode data check``) walks everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from hashlib import blake2b
from typing import TYPE_CHECKING, TypeVar

from marketnode.core.errors import DecodeError, StorageCorruption
from marketnode.core.types import Block, Certificate
from marketnode.node.storage import schema, statetree
from marketnode.node.storage.kv import KVReader, WriteBatch

if TYPE_CHECKING:  # the type only: chainstore imports this module to check what it reads
    from marketnode.node.storage.chainstore import ChainStore

T = TypeVar("T")

DIGEST_MODULUS = 2**256
PROGRESS_EVERY = 1000  # blocks between progress callbacks

Progress = Callable[[int, int], None]
"""Called as progress(height checked, head height) every PROGRESS_EVERY blocks."""


def entry_hash(key: bytes, value: bytes) -> int:
    """One state entry's share of the state digest."""
    data = len(key).to_bytes(4, "big") + key + value
    return int.from_bytes(blake2b(data, digest_size=32).digest(), "big")


def digest_bytes(value: int) -> bytes:
    return (value % DIGEST_MODULUS).to_bytes(32, "big")


def digest_from(data: bytes) -> int:
    if len(data) != 32:
        raise StorageCorruption(f"the stored state digest is {len(data)} bytes, not 32")
    return int.from_bytes(data, "big")


def scan_state(reader: KVReader) -> tuple[int, int]:
    """(state digest, number of entries) recomputed from every stored state entry: a full scan of the state."""
    cut = len(schema.STATE_PREFIX)
    total = entries = 0
    for key, value in reader.iterate(schema.STATE_PREFIX):
        total += entry_hash(key[cut:], value)
        entries += 1
    return total % DIGEST_MODULUS, entries


def put_state(reader: KVReader, batch: WriteBatch, digest: int, changes: Iterable[tuple[bytes, bytes | None]],
              known: Mapping[bytes, bytes | None] | None = None) -> int:
    """Add state changes to ``batch`` and return the digest after them (the batch also stores it).

    The old entry of each key leaves the sum: taken from ``known`` (market
    key → value as stored, what execution already read) or read here.
    """
    known = known or {}
    for key, value in changes:
        stored_key = schema.state(key)
        old = known[key] if key in known else reader.get(stored_key)
        if old is not None:
            digest -= entry_hash(key, old)
        if value is None:
            batch.delete(stored_key)
        else:
            digest += entry_hash(key, value)
            batch.put(stored_key, value)
    digest %= DIGEST_MODULUS
    batch.put(schema.STATE_DIGEST, digest_bytes(digest))
    return digest


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What a successful check covered."""

    first_height: int
    head_height: int
    blocks: int
    txs: int
    state_entries: int


def verify_chain(store: ChainStore, *, full: bool = False, progress: Progress | None = None) -> ChainCheck:
    """Check the stored chain against itself; raise StorageCorruption naming the first fault found.

    Walks blocks above ``m/verified`` (all of them with ``full``), then the
    whole state against its digest; on success moves ``m/verified`` to the
    head, so the next start begins there.
    """
    kv = store.kv
    head = store.head()
    if head is None:
        return ChainCheck(1, 0, 0, 0, 0)
    verified = kv.get(schema.VERIFIED)
    base = store.base_height()  # a store restored from a snapshot holds no blocks below it
    done = base if full or verified is None else max(base, min(schema.height_from(verified), head.height))
    walk = _BlockWalk(store, done, head.height, progress)
    walk.run()
    entries = _check_state(kv, store.state_digest())
    leaves = statetree.check(kv, head.height, head.state_root)
    if leaves != entries:
        raise StorageCorruption(f"the state holds {entries} entries but its tree {leaves}: the tree is damaged")
    if done != head.height:
        batch = WriteBatch()
        batch.put(schema.VERIFIED, schema.height_bytes(head.height))
        kv.write(batch, sync=True)
    return ChainCheck(done + 1, head.height, walk.blocks, walk.txs, entries)


class _BlockWalk:
    """One pass over blocks done+1 .. head, in key (= height) order."""

    def __init__(self, store: ChainStore, done: int, head_height: int, progress: Progress | None) -> None:
        self.store = store
        self.done = done
        self.head_height = head_height
        self.progress = progress
        self.blocks = 0
        self.txs = 0

    def run(self) -> None:
        kv = self.store.kv
        expected = self.done + 1
        parent = self._parent_hash(self.done)
        for key, value in kv.iterate(schema.BLOCK_PREFIX, schema.block(expected)):
            height = schema.height_from(key[len(schema.BLOCK_PREFIX):])
            if height > self.head_height:
                raise StorageCorruption(f"block {height} is stored above the head at {self.head_height}")
            if height != expected:
                raise StorageCorruption(_missing(expected, height - 1))
            block = _decode(f"block {height}", value, Block.decode)
            self._check_block(height, block, parent)
            parent = block.hash
            expected += 1
            self.blocks += 1
            self.txs += len(block.txs)
            if self.progress is not None and self.blocks % PROGRESS_EVERY == 0:
                self.progress(height, self.head_height)
        if expected <= self.head_height:
            raise StorageCorruption(_missing(expected, self.head_height))

    def _parent_hash(self, height: int) -> bytes | None:
        """The hash block height+1 must name; None below block 2 (block 1's parent is the genesis)."""
        if height < 1:
            return None
        data = self.store.kv.get(schema.block(height))
        if data is None:
            raise StorageCorruption(_missing(height, height))
        return _decode(f"block {height}", data, Block.decode).hash

    def _check_block(self, height: int, block: Block, parent: bytes | None) -> None:
        kv = self.store.kv
        if block.height != height:
            raise StorageCorruption(f"the block stored at height {height} says it is block {block.height}")
        if parent is not None and block.header.parent_hash != parent:
            raise StorageCorruption(f"block {height} does not name block {height - 1} as its parent: the chain is broken")
        if kv.get(schema.block_hash(block.hash)) != schema.height_bytes(height):
            raise StorageCorruption(f"the hash index does not point at block {height}")
        cert_bytes = kv.get(schema.certificate(height))
        if cert_bytes is None:
            raise StorageCorruption(f"the commit certificate of block {height} is missing")
        cert = _decode(f"certificate {height}", cert_bytes, Certificate.decode)
        if (cert.height, cert.block_hash) != (height, block.hash):
            raise StorageCorruption(f"the commit certificate stored for block {height} is for another block")
        for index, tx in enumerate(block.txs):
            if kv.get(schema.tx(tx.hash)) != schema.tx_location_value(height, index):
                raise StorageCorruption(f"the tx index entry of tx {tx.hash.hex()} (block {height}) is missing or wrong")
        for evidence in block.evidence:
            if kv.get(schema.evidence(evidence.hash)) != evidence.encode():
                raise StorageCorruption(f"the evidence {evidence.hash.hex()} carried by block {height} is missing or altered")
        receipts = sum(1 for _ in kv.iterate(schema.receipts(height)))
        if receipts != len(block.txs):
            raise StorageCorruption(f"block {height} has {len(block.txs)} txs but {receipts} stored receipts")


def _check_state(kv: KVReader, stored: int) -> int:
    total, entries = scan_state(kv)
    if total != stored:
        raise StorageCorruption(
            f"the stored state ({entries} entries) does not match its digest: state entries are missing or altered"
        )
    return entries


def _missing(first: int, last: int) -> str:
    what = f"block {first} is" if first == last else f"blocks {first}..{last} are"
    return f"{what} missing from the stored chain"


def _decode(what: str, data: bytes, decode: Callable[[bytes], T]) -> T:
    try:
        return decode(data)
    except DecodeError as exc:
        raise StorageCorruption(f"stored {what} no longer decodes: {exc}") from exc
