"""The node's query index: a derived SQLite copy of market state shaped for RPC queries.

``schema`` creates the tables and indexes, ``indexer`` feeds them from each
committed block (events say what changed, state says its current value),
``search`` answers the paginated queries, ``listings`` plans listing_search
(with ``facets``, the filter tokens of the FTS rows, and ``paging``, the
cursors), and ``measure`` times them all at scale. LevelDB stays the source of truth:
the index can be deleted at any time and is rebuilt from the chain on start, and
a failure to index a block never reaches the commit path (``QueryIndex.fault``).
"""
