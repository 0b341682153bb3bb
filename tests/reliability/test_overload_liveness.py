"""Regression for issue 12's stall: far more load than the network can take, each sender's nonces spread over nodes.

Seen before the fix: with 3,000 tx/s offered to four validators on two
cores, blocks stopped for 44-47 s with tens of thousands of txs pending
and no view change. Each sender's consecutive nonces went to different
nodes, so every mempool held txs behind nonce gaps that only gossip could
fill; gossip shared one queue with the votes and was re-offered from the
same first txs each time. Here the same shape of load, sent as fast as the
client can, must keep blocks coming (no gap of STALL_S with txs pending)
and commit every tx the nodes accepted.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from chaos_net import closing_with_logs
from harness import Testnet, wait_for

from marketnode.core.keys import address_from_pubkey
from marketnode.core.types import Tx

pytestmark = pytest.mark.integration

PER_SENDER = 500
STALL_S = 5.0
DRAIN_S = 120.0


def test_spread_nonces_far_above_capacity_keep_committing_and_all_commit(tmp_path):
    net = Testnet(tmp_path / "net", validators=4, timeout_ms=1000)
    with closing_with_logs(net):
        net.start()
        nodes = net.validators
        keys = list(net.keys.values())
        base = {k.public_key: net.call(nodes[0], "account_get", address=address_from_pubkey(k.public_key))["nonce"]
                for k in keys}
        chunks: list[list[Tx]] = []
        for offset in range(PER_SENDER):  # chunk k holds nonce base+k of every sender and goes to node k % 4
            chunks.append([
                Tx(net.chain_id, k.public_key, base[k.public_key] + offset, "transfer",
                   {"amount": 1, "asset": "MKT", "to": keys[(i + 1) % len(keys)].public_key}, 0).sign(k)
                for i, k in enumerate(keys)
            ])
        start_height = net.height(nodes[0])
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda k: net.send_batch(chunks[k], nodes[k % len(nodes)]), range(len(chunks))))
        accepted = [tx for chunk, reply in zip(chunks, replies) for tx, r in zip(chunk, reply) if "error" not in r]
        assert len(accepted) == len(keys) * PER_SENDER, "nothing was refused: the pools had room for all of it"

        def done() -> bool:
            return all(net.call(nodes[0], "account_get", address=address_from_pubkey(k.public_key))["nonce"]
                       == base[k.public_key] + PER_SENDER for k in keys)

        last = {"height": start_height, "changed_at": time.monotonic()}

        def drained_without_a_stall() -> bool:
            now, height = time.monotonic(), net.height(nodes[0])
            if height != last["height"]:
                last.update(height=height, changed_at=now)
            gap = now - last["changed_at"]
            assert gap < STALL_S, f"no block for {gap:.1f} s at height {height} with txs pending"
            return done()

        wait_for(drained_without_a_stall, DRAIN_S, "the accepted txs to commit", interval_s=0.1)
        final = net.height(nodes[0])
        wait_for(lambda: all(net.height(name) >= final for name in nodes), 30, "every validator at the final height")
        net.assert_agree(nodes, final)
