"""Feed the query index from committed blocks: events say what changed, state says its value now.

Runs after LevelDB has committed a block (a node subscriber), one SQLite
transaction per block, and on start catches up from the height it last
indexed. Rows are re-read from market state rather than rebuilt from event
attributes, so catching up over many blocks converges on the same rows as
indexing them live. Never writes LevelDB; never decides anything.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from marketnode.core.types import Block
from marketnode.market import keys, store
from marketnode.market.receipts import Receipt
from marketnode.market.reviews import average
from marketnode.node.queries import facets, schema

log = logging.getLogger("marketnode.queries")

FILE_NAME = "query.sqlite"
CATCH_UP_BLOCKS_PER_TX = 200
# A buyer's co-purchase pairs are counted against at most this many of its earlier purchases.
MAX_PAIRS_PER_PURCHASE = 20
ANALYZE_AFTER_BLOCKS = 1000
OPTIMIZE_EVERY_BLOCKS = 10_000
LOG_CATCH_UP_FROM = 100  # a catch-up this many blocks long is logged at info (shorter ones: the follower's batches)
# After a failure the index tries again 1, 2, 4 … blocks later, at most this many apart.
RETRY_MAX_BLOCKS = 256
# How long a write waits for a lock held by another process (an operator's sqlite3 shell): indexing runs
# in the commit path, so a locked file becomes a fault retried later rather than a stalled event loop.
LOCK_WAIT_S = 0.1


@dataclass
class BlockChanges:
    """What one block touched, gathered from its receipts' events."""

    shops: set[int] = field(default_factory=set)
    listings: set[int] = field(default_factory=set)
    listing_text: set[int] = field(default_factory=set)
    orders: set[int] = field(default_factory=set)
    reviews: set[int] = field(default_factory=set)
    certificates: set[int] = field(default_factory=set)
    timeline: list[tuple[Any, ...]] = field(default_factory=list)
    purchases: list[tuple[bytes, int, int]] = field(default_factory=list)  # (buyer, listing, order)


def gather(block: Block, receipts: Iterable[Receipt]) -> BlockChanges:
    """Collect the ids each event names; the timeline rows come straight from order events."""
    changes = BlockChanges()
    header = block.header
    for index, (tx, receipt) in enumerate(zip(block.txs, receipts)):
        if not receipt.ok:
            continue
        for event in receipt.events:
            kind, attrs = event.kind, event.attrs
            if kind.startswith("shop_"):
                changes.shops.add(attrs["shop"])
            elif kind in ("listing_created", "listing_updated"):
                changes.listings.add(attrs["listing"])
                changes.listing_text.add(attrs["listing"])
            elif kind == "listing_delisted":
                changes.listings.add(attrs["listing"])
            elif kind.startswith("order_") and "order" in attrs:
                changes.orders.add(attrs["order"])
                changes.timeline.append((attrs["order"], header.height, index, kind[len("order_"):],
                                         header.timestamp_ms, attrs.get("deadline_ms", 0), tx.sender, tx.hash))
                if kind == "order_placed":
                    changes.purchases.append((attrs["buyer"], attrs["listing"], attrs["order"]))
                    changes.listings.add(attrs["listing"])
            elif kind == "reviewed":
                changes.reviews.add(attrs["order"])
                changes.listings.add(attrs["listing"])
            elif kind.startswith("certificate_"):
                changes.certificates.add(attrs["certificate"])
    return changes


class Indexer:
    """Writes one block's changes into the index inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def apply(self, reader: Any, block: Block, receipts: list[Receipt]) -> None:
        changes = gather(block, receipts)
        height = block.height
        conn = self.conn
        for shop_id in sorted(changes.shops):
            if self._shop(reader, shop_id):
                # a closed shop takes no orders: its listings leave the search results
                changes.listings.update(r[0] for r in conn.execute("SELECT id FROM listings WHERE shop = ?",
                                                                   (shop_id,)))
        for order_id in sorted(changes.orders):
            listing_id = self._order(reader, order_id)
            if listing_id is not None:
                changes.listings.add(listing_id)  # refunds give stock back
        if changes.timeline:
            conn.executemany("INSERT OR REPLACE INTO order_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", changes.timeline)
        for order_id in sorted(changes.reviews):
            self._review(reader, order_id)
        for listing_id in sorted(changes.listings):
            self._listing(reader, listing_id, listing_id in changes.listing_text)
        # after the listing rows exist: a listing may be created and bought in the same block
        for buyer, listing_id, order_id in changes.purchases:
            order = store.load(reader, keys.order(order_id))
            self._purchase(buyer, listing_id, height, int(order["quantity"]) if order else 1)
        for cert_id in sorted(changes.certificates):
            self._certificate(reader, cert_id)

    def rebuild(self, reader: Any) -> None:
        """Every row the state itself can give, into an empty index (after a snapshot restore): shops, orders,
        reviews, listings, certificates. Order timelines and co-purchase counts come from events, so they
        start at the snapshot."""
        def ids(prefix: bytes) -> list[int]:
            return [int.from_bytes(k[len(prefix):], "big") for k, _ in reader.iterate(prefix)
                    if len(k) == len(prefix) + 8]

        for shop_id in ids(keys.shop(0)[:-8]):
            self._shop(reader, shop_id)
        for order_id in ids(keys.ORDER_PREFIX):
            self._order(reader, order_id)
        for order_id in ids(keys.review(0)[:-8]):
            self._review(reader, order_id)
        for listing_id in ids(keys.LISTING_PREFIX):
            self._listing(reader, listing_id, True)
        for cert_id in ids(keys.certificate(0)[:-8]):
            self._certificate(reader, cert_id)

    # -- one row each ---------------------------------------------------------

    def _shop(self, reader: Any, shop_id: int) -> bool:
        """Upsert the shop row; True when it opened or closed (its listings' availability changed)."""
        shop = store.load(reader, keys.shop(shop_id))
        if shop is None:
            return False
        was = self.conn.execute("SELECT open FROM shops WHERE id = ?", (shop_id,)).fetchone()
        self.conn.execute(
            "INSERT OR REPLACE INTO shops (id, owner, name, region, open, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (shop_id, shop["owner"], shop["name"], shop["region"], int(shop["open"]), shop["created_ms"]),
        )
        return was is not None and bool(was[0]) != bool(shop["open"])

    def _listing(self, reader: Any, listing_id: int, text_changed: bool) -> None:
        listing = store.load(reader, keys.listing(listing_id))
        if listing is None:
            return
        shop = store.load(reader, keys.shop(listing["shop"])) or {"open": False}
        rating = store.load(reader, keys.listing_rating(listing_id))
        count = rating["count"] if rating else 0
        milli = average(rating, "overall", 1000)
        active = bool(listing["active"] and shop["open"])
        stock = store.load_int(reader, keys.stock(listing_id))
        facet_text = facets.listing_facets(category=listing["category"], shop=listing["shop"], seller=listing["seller"],
                                       type=listing["type"], asset=listing["asset"], price=listing["price"],
                                       rating_milli=milli)
        old = self.conn.execute("SELECT facets FROM listings WHERE id = ?", (listing_id,)).fetchone()
        self.conn.execute(
            """INSERT INTO listings (id, shop, seller, type, category, title, tags, asset, price, stock, active,
                                     created_ms, rating_count, rating_milli, facets)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET
                   category = excluded.category, title = excluded.title, tags = excluded.tags,
                   asset = excluded.asset, price = excluded.price, stock = excluded.stock,
                   active = excluded.active, rating_count = excluded.rating_count,
                   rating_milli = excluded.rating_milli, facets = excluded.facets""",
            (listing_id, listing["shop"], listing["seller"], listing["type"], listing["category"], listing["title"],
             json.dumps(listing["tags"]), listing["asset"], schema.to_sql_u64(listing["price"]), stock, int(active),
             listing["created_ms"], count, milli, facet_text),
        )
        if text_changed or old is None or old[0] != facet_text:
            # stock and availability are no facets, so orders and delistings skip this rewrite
            self.conn.execute("DELETE FROM listings_fts WHERE rowid = ?", (listing_id,))
            self.conn.execute(
                "INSERT INTO listings_fts (rowid, title, description, tags, facets) VALUES (?, ?, ?, ?, ?)",
                (listing_id, listing["title"], listing["description"], " ".join(listing["tags"]), facet_text),
            )

    def _order(self, reader: Any, order_id: int) -> int | None:
        order = store.load(reader, keys.order(order_id))
        if order is None:
            return None
        self.conn.execute(
            "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (order_id, order["listing"], order["shop"], order["buyer"], order["seller"], order["arbiter"],
             order["status"], order["quantity"], order["asset"], schema.to_sql_u64(order["total"]), order["placed_ms"],
             order["updated_ms"], order["deadline_ms"]),
        )
        return order["listing"]

    def _purchase(self, buyer: bytes, listing_id: int, height: int, quantity: int) -> None:
        conn = self.conn
        # "N sold" counts units: an order for three mugs sells three
        conn.execute("UPDATE listings SET sales = sales + ? WHERE id = ?", (quantity, listing_id))
        seen = conn.execute("SELECT 1 FROM purchases WHERE buyer = ? AND listing = ?", (buyer, listing_id)).fetchone()
        if seen is not None:
            return
        earlier = [row[0] for row in conn.execute(
            "SELECT listing FROM purchases WHERE buyer = ? ORDER BY height DESC LIMIT ?",
            (buyer, MAX_PAIRS_PER_PURCHASE))]
        conn.execute("INSERT INTO purchases (buyer, listing, height) VALUES (?, ?, ?)", (buyer, listing_id, height))
        pairs = [(listing_id, other) for other in earlier] + [(other, listing_id) for other in earlier]
        conn.executemany(
            """INSERT INTO co_purchases (listing, other, buyers) VALUES (?, ?, 1)
               ON CONFLICT (listing, other) DO UPDATE SET buyers = buyers + 1""", pairs)

    def _review(self, reader: Any, order_id: int) -> None:
        review = store.load(reader, keys.review(order_id))
        if review is None:
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO reviews VALUES (?, ?, ?, ?, ?, ?)",
            (order_id, review["listing"], review["seller"], review["reviewer"], review["ratings"]["overall"],
             review["time_ms"]),
        )

    def _certificate(self, reader: Any, cert_id: int) -> None:
        cert = store.load(reader, keys.certificate(cert_id))
        if cert is None:
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO certificates VALUES (?, ?, ?, ?, ?)",
            (cert_id, cert["fingerprint"], cert["record"], cert["issuer"], cert["owner"]),
        )


@dataclass(frozen=True)
class IndexFault:
    """Why the index stopped: it holds every block up to ``height``; indexing the ones after it failed."""

    height: int
    reason: str
    retry_at: int | None  # the chain height of the next attempt (None: only after a restart)
    attempts: int = 1

    def describe(self) -> str:
        return f"query index stopped at height {self.height}: {self.reason}"


class QueryIndex:
    """The open index file: its connection, the height it has indexed, and catch-up.

    ``open`` rebuilds from scratch when the file is missing, corrupt, of
    another schema version or of another chain, claims a height beyond the
    chain's head, or cannot be caught up. Indexing never raises to its
    caller: a failure of any kind rolls back the block's transaction, sets
    ``fault`` (node_health reports it, index-backed RPC methods refuse to
    answer from a stale index) and is retried after 1, 2, 4 … blocks, at
    most RETRY_MAX_BLOCKS apart, and on every start. The chain never waits on it.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.indexer = Indexer(conn)
        self.height = int(self._meta("height") or 0)
        self.fault: IndexFault | None = None

    @classmethod
    def open(cls, data_dir: Path, chain: Any) -> QueryIndex:
        """Open (or rebuild) ``data_dir/query.sqlite`` and catch it up with ``chain`` (a ChainStore)."""
        path = Path(data_dir) / FILE_NAME
        genesis = (chain.genesis_hash() or b"").hex()
        head = chain.head()
        index = None
        if path.exists():
            try:
                index = cls._connect(path, genesis, head.height if head else 0)
            except Exception as exc:  # corrupt, foreign, unreadable: the chain can always rebuild it
                log.warning("query index %s unusable (%s); rebuilding it from the chain", path, exc)
        if index is not None:
            index.catch_up(chain)
            if index.fault is None:
                return index
            log.warning("query index %s cannot be caught up; rebuilding it from the chain", path)
            index.close()
        try:
            _remove(path)
            index = cls._connect(path, genesis, 0, fresh=True)
            assert index is not None
        except Exception as exc:  # no file at all (disk full, permissions): an empty index that says so
            log.error("query index %s cannot be created: %s", path, exc)
            index = cls._connect(Path(":memory:"), genesis, 0, fresh=True)
            assert index is not None
            index.fault = IndexFault(0, f"cannot create {path}: {exc}", retry_at=None)
            return index
        index.catch_up(chain)
        return index

    @classmethod
    def _connect(cls, path: Path, genesis: str, head_height: int, fresh: bool = False) -> QueryIndex | None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=LOCK_WAIT_S)
        conn.row_factory = sqlite3.Row
        try:
            schema.configure(conn)
            if fresh:
                schema.create(conn)
                with conn:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('genesis', ?)", (genesis,))
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('height', '0')")
                return cls(path, conn)
            has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
            if has_meta is None:
                raise ValueError("no tables")
            found = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if found.get("schema_version") != str(schema.SCHEMA_VERSION):
                raise ValueError(f"schema version {found.get('schema_version')}, want {schema.SCHEMA_VERSION}")
            if found.get("genesis") != genesis:
                raise ValueError("indexed another chain")
            if int(found.get("height", "0")) > head_height:
                raise ValueError(f"indexed height {found.get('height')} is beyond the head {head_height}")
            return cls(path, conn)
        except BaseException:
            conn.close()
            raise

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def catch_up(self, chain: Any) -> int:
        """Index every committed block above ``height``; return how many (on a failure: ``fault`` is set)."""
        head = chain.head()
        target = head.height if head else 0
        base = chain.base_height()
        if self.height < base:  # the chain was restored from a snapshot: no blocks below it to index
            if not self._index_blocks(lambda: self.indexer.rebuild(chain.state_reader()), base, target):
                return 0
            log.info("query index rebuilt from the state restored at height %d", base)
        start = self.height
        if target <= start:
            return 0
        small = target - start < LOG_CATCH_UP_FROM
        (log.debug if small else log.info)("query index catching up from height %d to %d", start, target)
        reader = chain.state_reader()

        def index_range(first: int, last: int) -> None:
            for height in range(first, last + 1):
                receipts = [Receipt.decode(r) for r in chain.get_receipts(height)]
                self.indexer.apply(reader, chain.get_block(height), receipts)

        while self.height < target:
            first, last = self.height + 1, min(target, self.height + CATCH_UP_BLOCKS_PER_TX)
            if not self._index_blocks(partial(index_range, first, last), last, target):
                return self.height - start
        # planner statistics: full after a big rebuild, cheap otherwise (and not after every few blocks)
        if target - start >= ANALYZE_AFTER_BLOCKS:
            self._optimize("ANALYZE")
        elif not small or target // OPTIMIZE_EVERY_BLOCKS != start // OPTIMIZE_EVERY_BLOCKS:
            self._optimize("PRAGMA optimize")
        return target - start

    def follow(self, chain: Any) -> int:
        """Index up to ``chain``'s head now, unless a fault's retry height is not reached; blocks indexed."""
        if self.fault is not None:
            head = chain.head()
            if self.fault.retry_at is None or (head.height if head else 0) < self.fault.retry_at:
                return 0
        return self.catch_up(chain)

    def _optimize(self, statement: str) -> None:
        """Refresh planner statistics; a failure only costs query speed, so it is logged, never raised."""
        try:
            self.conn.execute(statement)
        except sqlite3.Error as exc:
            log.warning("query index: %s failed: %s", statement, exc)

    def _index_blocks(self, write: Callable[[], Any], last: int, head: int) -> bool:
        """Run ``write`` (blocks height+1..last) and the new height in one transaction; False after a failure.

        Any exception is contained: the transaction rolls back, ``fault``
        records it, and the next attempt waits for twice as many blocks as
        the last (the first attempt after a fault logs the traceback, later
        ones one line).
        """
        try:
            with self.conn:
                self.conn.execute("BEGIN")
                write()
                self._set_height(last)
        except Exception as exc:  # a derived index must never stop the commit that feeds it
            self._record_fault(exc, head)
            return False
        self.height = last
        if self.fault is not None and last >= head:
            log.warning("query index recovered at height %d after %d failed attempts", last, self.fault.attempts)
            self.fault = None
        return True

    def _record_fault(self, exc: Exception, head: int) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        previous = self.fault
        attempts = 1 if previous is None else previous.attempts + 1
        wait = min(2 ** (attempts - 1), RETRY_MAX_BLOCKS)
        self.fault = IndexFault(self.height, reason, retry_at=head + wait, attempts=attempts)
        if previous is None or previous.reason != reason:
            log.error("%s; the node keeps committing, lists and search answer an error until it recovers "
                      "(next attempt at height %d)", self.fault.describe(), head + wait, exc_info=exc)
        else:
            log.warning("%s (attempt %d; next at height %d)", self.fault.describe(), attempts, head + wait)

    def health(self) -> dict[str, Any]:
        """For node_health: the indexed height, and why it stopped if it did."""
        fault = self.fault
        return {"ok": fault is None, "height": self.height, "reason": None if fault is None else fault.describe(),
                "retry_at": None if fault is None else fault.retry_at}

    def _set_height(self, height: int) -> None:
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'height'", (str(height),))

    def close(self) -> None:
        self.conn.close()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
