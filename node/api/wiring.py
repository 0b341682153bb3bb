"""The RPC side's block subscribers: the query index, then websocket notifications.

The index follows commits a little later (node/queries/follower.py), and
every index-backed read catches it up first, so a client that calls
order_list on a notification still sees the change it was told about.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.node.api.notify import publish_block
from marketnode.node.boundary import BlockFeed, ChainView
from marketnode.node.config import NodeConfig
from marketnode.node.queries.follower import IndexFollower
from marketnode.node.queries.indexer import QueryIndex
from marketnode.node.rpc.subscriptions import SubscriptionHub


def order_arbiter(chain: ChainView, order_id: Any) -> bytes | None:
    """The arbiter of a committed order, or None (no such order, none chosen)."""
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return None
    order = store.load(chain.state_reader(), keys.order(order_id))
    return None if order is None else order.get("arbiter")


def attach_query_services(cfg: NodeConfig, chain: ChainView, feed: BlockFeed,
                          hub: SubscriptionHub) -> tuple[QueryIndex, IndexFollower]:
    """Open (or rebuild) the query index and catch it up; subscribe it (through its follower), then the publisher
    of websocket notifications on ``hub``. The caller owns both and closes them."""
    index = QueryIndex.open(cfg.data_path, chain)
    follower = IndexFollower(index, chain, cfg.storage.index_idle_ms, cfg.storage.index_max_lag_blocks)
    feed.subscribers.append(follower.on_commit)
    feed.subscribers.append(lambda executed: publish_block(hub, executed,
                                                           lambda order_id: order_arbiter(chain, order_id)))
    return index, follower
