"""Attach the RPC side's block subscribers to a Node: the query index, then notifications.

Order matters: the index is updated before notifications go out, so a client
that calls order_get on a notification sees the change it was told about.
"""

from __future__ import annotations

from typing import Any

from market import keys, store
from node.api.notify import publish_block
from node.queries.indexer import QueryIndex


def order_arbiter(chain: Any, order_id: Any) -> bytes | None:
    """The arbiter of a committed order, or None (no such order, none chosen)."""
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return None
    order = store.load(chain.state_reader(), keys.order(order_id))
    return None if order is None else order.get("arbiter")


def attach_query_services(node: Any) -> QueryIndex:
    """Open (or rebuild) the query index, catch it up, and subscribe it and the publisher to commits."""
    index = QueryIndex.open(node.cfg.data_path, node.store)
    node.query_index = index
    node.subscribers.append(lambda executed: index.on_block(node.store, executed.block, executed.receipts))
    node.subscribers.append(lambda executed: publish_block(getattr(node, "rpc_hub", None), executed,
                                                           lambda order_id: order_arbiter(node.store, order_id)))
    return index
