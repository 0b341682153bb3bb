"""Every key the node stores, built here and nowhere else.

Heights are 8-byte big-endian and tx indexes 4-byte big-endian, so a prefix
scan walks blocks in height order. Each family has its own prefix ending in
``/``, and no prefix is a prefix of another, so one family's scan never
strays into the next. Layout (``h8`` = height as 8 bytes)::

    m/version                → SCHEMA_VERSION (u32 big-endian)
    m/head                   → canonical {height, block_hash, state_root, timestamp_ms}
    m/genesis                → genesis hash (32 bytes)
    m/state_digest           → sum of every state entry's hash mod 2**256 (32 bytes; integrity.py)
    m/verified               → h8: the chain up to here passed the start-up check (integrity.py)
    m/base                   → h8: the snapshot this store was restored from (state sync); no blocks below
    b/<h8>                   → block (Block.encode)
    bh/<block hash>          → h8
    c/<h8>                   → commit certificate of that block (Certificate.encode): the quorum this node
                               gathered, replaced by the one block h+1 commits to once that is stored
    r/<h8><index u32>        → receipt of tx ``index`` (opaque canonical bytes from market/)
    t/<tx hash>              → h8 ‖ index u32: where the tx was committed
    e/<evidence hash>        → evidence (Evidence.encode) carried by a committed block
    s/<market key>           → market state value (market/keys.py builds the tail)
    i/<index name>/<key>     → secondary indexes kept by the node (RPC queries)
    xn/<tree node key>       → a state-tree node (core/smt.py: version h8 ‖ depth u16 ‖ path prefix 32)
    xr/<h8>                  → the state tree's root entry after block h (empty: the empty tree)
    xs/<h8>                  → the tree node keys (42 bytes each, concatenated) that left the tree at
                               version h: pruned once h is older than the kept versions
    v/last_signed            → the validator's last-signed record (double-sign guard)
"""

from __future__ import annotations

from marketnode.core.errors import StorageError

SCHEMA_VERSION = 3  # 2: the state tree (xn/, xr/, xs/); 3: its nodes stored as 16-slot pages (same roots)
HEIGHT_SIZE = 8
INDEX_SIZE = 4

VERSION = b"m/version"
HEAD = b"m/head"
GENESIS = b"m/genesis"
STATE_DIGEST = b"m/state_digest"
VERIFIED = b"m/verified"
BASE = b"m/base"
LAST_SIGNED = b"v/last_signed"

BLOCK_PREFIX = b"b/"
BLOCK_HASH_PREFIX = b"bh/"
CERTIFICATE_PREFIX = b"c/"
RECEIPT_PREFIX = b"r/"
TX_PREFIX = b"t/"
EVIDENCE_PREFIX = b"e/"
STATE_PREFIX = b"s/"
INDEX_PREFIX = b"i/"
TREE_NODE_PREFIX = b"xn/"
TREE_ROOT_PREFIX = b"xr/"
TREE_STALE_PREFIX = b"xs/"


def height_bytes(height: int) -> bytes:
    if not 0 <= height < 2**64:
        raise StorageError(f"height {height} is outside 0..2**64-1")
    return height.to_bytes(HEIGHT_SIZE, "big")


def height_from(data: bytes) -> int:
    if len(data) != HEIGHT_SIZE:
        raise StorageError(f"a stored height is {HEIGHT_SIZE} bytes, got {len(data)}")
    return int.from_bytes(data, "big")


def schema_version_value() -> bytes:
    return SCHEMA_VERSION.to_bytes(4, "big")


def block(height: int) -> bytes:
    return BLOCK_PREFIX + height_bytes(height)


def block_hash(block_hash: bytes) -> bytes:
    return BLOCK_HASH_PREFIX + block_hash


def certificate(height: int) -> bytes:
    return CERTIFICATE_PREFIX + height_bytes(height)


def receipts(height: int) -> bytes:
    """The prefix under which one block's receipts live, in tx order."""
    return RECEIPT_PREFIX + height_bytes(height)


def receipt(height: int, index: int) -> bytes:
    return receipts(height) + index.to_bytes(INDEX_SIZE, "big")


def tx(tx_hash: bytes) -> bytes:
    return TX_PREFIX + tx_hash


def tx_location_value(height: int, index: int) -> bytes:
    return height_bytes(height) + index.to_bytes(INDEX_SIZE, "big")


def tx_location_from(data: bytes) -> tuple[int, int]:
    if len(data) != HEIGHT_SIZE + INDEX_SIZE:
        raise StorageError(f"a stored tx location is {HEIGHT_SIZE + INDEX_SIZE} bytes, got {len(data)}")
    return int.from_bytes(data[:HEIGHT_SIZE], "big"), int.from_bytes(data[HEIGHT_SIZE:], "big")


def evidence(evidence_hash: bytes) -> bytes:
    return EVIDENCE_PREFIX + evidence_hash


def state(market_key: bytes) -> bytes:
    return STATE_PREFIX + market_key


def index(name: str, key: bytes) -> bytes:
    """A secondary-index entry: ``name`` is the index, ``key`` its sort key.

    Index names may not contain ``/``, so one index's scan never reaches
    another's.
    """
    if not name or "/" in name:
        raise StorageError(f"index name {name!r} must be non-empty and contain no '/'")
    return index_prefix(name) + key


def index_prefix(name: str) -> bytes:
    return INDEX_PREFIX + name.encode() + b"/"


def tree_node(node_key: bytes) -> bytes:
    return TREE_NODE_PREFIX + node_key


def tree_root(version: int) -> bytes:
    return TREE_ROOT_PREFIX + height_bytes(version)


def tree_stale(version: int) -> bytes:
    return TREE_STALE_PREFIX + height_bytes(version)
