"""The node's query index: a derived SQLite copy of market state shaped for RPC queries.

``schema`` creates the tables and indexes, ``indexer`` feeds them from each
committed block (events say what changed, state says its current value), and
``search`` answers the paginated queries. LevelDB stays the source of truth:
the index can be deleted at any time and is rebuilt from the chain on start.
"""
