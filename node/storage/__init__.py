"""Storage: a bytes→bytes KV with atomic batches, and the chain laid out on it.

kv (the ``KV`` protocol and ``WriteBatch``) · memory (``MemoryKV``) · level
(``LevelKV``, the only module that imports plyvel; import it from
node.storage.level) · schema (every key the node stores) · chainstore
(blocks, certificates, receipts, state, head, last-signed record).
"""

from marketnode.node.storage.chainstore import ChainStore, Head, StateReader
from marketnode.node.storage.kv import KV, KVReader, KVSnapshot, WriteBatch
from marketnode.node.storage.memory import MemoryKV

__all__ = ["KV", "ChainStore", "Head", "KVReader", "KVSnapshot", "MemoryKV", "StateReader", "WriteBatch"]
