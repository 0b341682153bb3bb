"""Child process for the crash test: commit blocks to a LevelKV forever, printing each height.

The parent SIGKILLs it at an arbitrary instant and checks what a restart finds.
Every block sets ``last`` to its height and writes one key per tx, so the
parent can tell whether the state matches the head.
"""

from __future__ import annotations

import sys

from storage_samples import GENESIS_HASH, block, certificate, receipts_for, tx

from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.level import LevelKV

TXS_PER_BLOCK = 3


def main(path: str) -> None:
    store = ChainStore(LevelKV(path))
    store.init_genesis(GENESIS_HASH, {b"last": (0).to_bytes(8, "big")})
    while True:
        head = store.head()
        assert head is not None
        height = head.height + 1
        txs = tuple(tx(height * TXS_PER_BLOCK + i) for i in range(TXS_PER_BLOCK))
        b = block(height, head.block_hash, txs, head.state_root)
        changes: dict[bytes, bytes | None] = {b"last": height.to_bytes(8, "big")}
        changes.update({b"tx/" + t.hash: height.to_bytes(8, "big") for t in txs})
        store.commit_block(b, certificate(b), receipts_for(b), changes)
        print(height, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
