"""Storage: a bytes→bytes KV with atomic batches, and the chain laid out on it.

kv (the ``KV`` protocol and ``WriteBatch``) · memory (``MemoryKV``) · level
(``LevelKV``, the only module that imports plyvel) · schema (every key the node
stores) · chainstore (blocks, certificates, receipts, state, head).
"""


from node.storage.kv import KV, KVReader, WriteBatch
from node.storage.memory import MemoryKV

__all__ = ["KV", "KVReader", "MemoryKV", "WriteBatch"]
