"""Attach the RPC side's block subscribers to a Node: the query index, then notifications.

The index follows commits a little later (node/queries/follower.py), and
every index-backed read catches it up first, so a client that calls
order_list on a notification still sees the change it was told about.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.node.api.notify import publish_block
from marketnode.node.queries.follower import IndexFollower
from marketnode.node.queries.indexer import QueryIndex


def order_arbiter(chain: Any, order_id: Any) -> bytes | None:
    """The arbiter of a committed order, or None (no such order, none chosen)."""
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return None
    order = store.load(chain.state_reader(), keys.order(order_id))
    return None if order is None else order.get("arbiter")


def attach_query_services(node: Any) -> QueryIndex:
    """Open (or rebuild) the query index, catch it up, and subscribe it (through its follower) and the publisher."""
    index = QueryIndex.open(node.cfg.data_path, node.store)
    node.query_index = index
    storage = node.cfg.storage
    node.query_follower = IndexFollower(index, node.store, storage.index_idle_ms, storage.index_max_lag_blocks)
    node.subscribers.append(node.query_follower.on_commit)
    node.subscribers.append(lambda executed: publish_block(getattr(node, "rpc_hub", None), executed,
                                                           lambda order_id: order_arbiter(node.store, order_id)))
    return index
