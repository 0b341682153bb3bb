"""Tables and indexes of the query index (``<data_dir>/query.sqlite``); never the source of truth.

Every paginated query walks one of these indexes in its sort order and stops
after a page, so the first page costs the same at 100 or 100,000 rows.
Bump ``SCHEMA_VERSION`` whenever a table changes: the file is then rebuilt.

Amounts (``listings.price``, ``orders.total``) are u64 up to 2^64-1 while a
SQLite INTEGER is signed 64-bit, so they are stored shifted down by 2^63
(``to_sql_u64``): every u64 fits, and order, equality and BETWEEN are kept.
Every other integer column holds a value the rules bound far below 2^63
(ids from counters, block times, stock, counts).
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 6  # 6: listings.sales counts units, not orders

U64_OFFSET = 2**63
MAX_SQL_INT = 2**63 - 1
# The columns stored with to_sql_u64, by table.
U64_COLUMNS = {"listings": ("price",), "orders": ("total",)}


def to_sql_u64(value: int) -> int:
    """A u64 (0..2^64-1) as the signed INTEGER stored for it: value - 2^63, so order is kept."""
    return value - U64_OFFSET


def from_sql_u64(stored: int) -> int:
    """The u64 a stored INTEGER of a U64_COLUMNS column stands for."""
    return stored + U64_OFFSET


def sql_key(value: int) -> int:
    """An id filter as SQLite can compare it: ids are 1..2^63-1 here, so one beyond that range becomes -1,
    which no row holds (the query answers nothing instead of failing with OverflowError)."""
    return value if value <= MAX_SQL_INT else -1

TABLES = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shops (
    id INTEGER PRIMARY KEY,
    owner BLOB NOT NULL,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    open INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS shops_owner ON shops (owner, id);
CREATE INDEX IF NOT EXISTS shops_region ON shops (region, id);

CREATE TABLE IF NOT EXISTS listings (
    id INTEGER PRIMARY KEY,
    shop INTEGER NOT NULL,
    seller BLOB NOT NULL,
    type TEXT NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    asset TEXT NOT NULL,
    price INTEGER NOT NULL,
    stock INTEGER NOT NULL,
    active INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    rating_count INTEGER NOT NULL DEFAULT 0,
    rating_milli INTEGER NOT NULL DEFAULT 0,
    sales INTEGER NOT NULL DEFAULT 0,
    facets TEXT NOT NULL DEFAULT ''
);
-- one index per sort (newest is the rowid), and per common filter + sort
CREATE INDEX IF NOT EXISTS listings_price ON listings (active, price, id);
CREATE INDEX IF NOT EXISTS listings_rating ON listings (active, rating_milli, id);
CREATE INDEX IF NOT EXISTS listings_cat ON listings (category, active, id);
CREATE INDEX IF NOT EXISTS listings_cat_price ON listings (category, active, price, id);
CREATE INDEX IF NOT EXISTS listings_cat_rating ON listings (category, active, rating_milli, id);
CREATE INDEX IF NOT EXISTS listings_cat_sales ON listings (category, active, sales, id);
CREATE INDEX IF NOT EXISTS listings_sales ON listings (active, sales, id);
CREATE INDEX IF NOT EXISTS listings_shop ON listings (shop, id);
CREATE INDEX IF NOT EXISTS listings_seller ON listings (seller, id);
CREATE INDEX IF NOT EXISTS listings_asset ON listings (asset, active, id);

-- text columns for free text; `facets` holds filter values and sort buckets as tokens (search.listing_facets)
CREATE VIRTUAL TABLE IF NOT EXISTS listings_fts USING fts5 (
    title, description, tags, facets, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
-- its vocabulary, to turn a typed prefix into the few words it stands for (listings._prefix_terms)
CREATE VIRTUAL TABLE IF NOT EXISTS listings_terms USING fts5vocab (listings_fts, 'row');

CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    listing INTEGER NOT NULL,
    shop INTEGER NOT NULL,
    buyer BLOB NOT NULL,
    seller BLOB NOT NULL,
    arbiter BLOB,
    status TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    asset TEXT NOT NULL,
    total INTEGER NOT NULL,
    placed_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_buyer ON orders (buyer, id);
CREATE INDEX IF NOT EXISTS orders_seller ON orders (seller, id);
CREATE INDEX IF NOT EXISTS orders_buyer_status ON orders (buyer, status, id);
CREATE INDEX IF NOT EXISTS orders_seller_status ON orders (seller, status, id);

-- the escrow timeline: one row per status change, in chain order
CREATE TABLE IF NOT EXISTS order_events (
    order_id INTEGER NOT NULL,
    height INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    status TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL,
    actor BLOB NOT NULL,
    tx_hash BLOB NOT NULL,
    PRIMARY KEY (order_id, height, tx_index)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS reviews (
    order_id INTEGER PRIMARY KEY,
    listing INTEGER NOT NULL,
    seller BLOB NOT NULL,
    reviewer BLOB NOT NULL,
    overall INTEGER NOT NULL,
    time_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_listing ON reviews (listing, order_id);
CREATE INDEX IF NOT EXISTS reviews_seller ON reviews (seller, order_id);

-- who bought what (once per buyer and listing), and how often two listings share a buyer
CREATE TABLE IF NOT EXISTS purchases (
    buyer BLOB NOT NULL,
    listing INTEGER NOT NULL,
    height INTEGER NOT NULL,
    PRIMARY KEY (buyer, listing)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS purchases_recent ON purchases (buyer, height);
CREATE TABLE IF NOT EXISTS co_purchases (
    listing INTEGER NOT NULL,
    other INTEGER NOT NULL,
    buyers INTEGER NOT NULL,
    PRIMARY KEY (listing, other)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS co_purchases_top ON co_purchases (listing, buyers, other);

CREATE TABLE IF NOT EXISTS certificates (
    id INTEGER PRIMARY KEY,
    fingerprint BLOB NOT NULL,
    record TEXT,
    issuer BLOB NOT NULL,
    owner BLOB
);
CREATE INDEX IF NOT EXISTS certificates_record ON certificates (record, id);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create every table and index (idempotent) and stamp the schema version."""
    conn.executescript(TABLES)
    with conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def configure(conn: sqlite3.Connection) -> None:
    """WAL and relaxed fsync: the file is derived, so a lost tail is caught up from LevelDB on start."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")
