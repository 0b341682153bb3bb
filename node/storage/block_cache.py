"""Recent committed blocks, decoded once: RPC reads of the head's neighbourhood share one decode."""

from __future__ import annotations

from collections import OrderedDict

from marketnode.core.types import Block
from marketnode.node.storage.chainstore import ChainStore

BLOCK_CACHE_SIZE = 32


class BlockCache:
    """A small LRU over ``store.get_block``; committed blocks never change, so it is never stale
    (``clear`` after a snapshot restore, which drops the blocks below the new base)."""

    def __init__(self, store: ChainStore, size: int = BLOCK_CACHE_SIZE) -> None:
        self.store = store
        self.size = size
        self._blocks: OrderedDict[int, Block] = OrderedDict()

    def get(self, height: int) -> Block | None:
        block = self._blocks.get(height)
        if block is not None:
            self._blocks.move_to_end(height)
            return block
        block = self.store.get_block(height)
        if block is not None:
            self._blocks[height] = block
            while len(self._blocks) > self.size:
                self._blocks.popitem(last=False)
        return block

    def clear(self) -> None:
        self._blocks.clear()
