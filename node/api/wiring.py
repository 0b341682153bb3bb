"""Attach the RPC side's block subscribers to a Node: the query index, then notifications.

Order matters: the index is updated before notifications go out, so a client
that calls order_get on a notification sees the change it was told about.
"""

from __future__ import annotations

from typing import Any

from node.api.notify import publish_block
from node.queries.indexer import QueryIndex


def attach_query_services(node: Any) -> QueryIndex:
    """Open (or rebuild) the query index, catch it up, and subscribe it and the publisher to commits."""
    index = QueryIndex.open(node.cfg.data_path, node.store)
    node.query_index = index
    node.subscribers.append(lambda executed: index.on_block(node.store, executed.block, executed.receipts))
    node.subscribers.append(lambda executed: publish_block(getattr(node, "rpc_hub", None), executed))
    return index
