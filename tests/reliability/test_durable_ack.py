"""Regression (issue 13.7): an acknowledged tx was lost when the node that acknowledged it was killed before
gossip reached a peer (6 of 5,799 in the crash run, client resends off).

Now tx_send answers `durable: true` only after the tx is fsync'd to the node's mempool journal, and a
restarted node replays the journal through normal admission. The test makes the loss certain rather than
likely: the acknowledging observer has no link to the validator when it is SIGKILLed, so nothing but its
disk can bring the tx back. The client never resends.
"""

from __future__ import annotations

import pytest
from chaos_net import ChaosNet, closing_with_logs
from harness import wait_for

pytestmark = pytest.mark.integration


def test_a_tx_acknowledged_durable_by_a_node_killed_before_gossip_still_commits(tmp_path):
    net = ChaosNet(tmp_path / "net", validators=1, observers=1)
    with closing_with_logs(net):
        net.proxy.cut("validator-0", "observer-0")
        net.start()
        txs = [net.transfer("alice", "bob", 5, via="observer-0") for _ in range(3)]
        replies = [net.send(tx, "observer-0") for tx in txs[:1]] + net.send_batch(txs[1:], "observer-0")
        assert [r["status"] for r in replies] == ["pending"] * 3
        net.kill("observer-0")  # SIGKILL right after the acknowledgement: no clean shutdown, no gossip
        net.start("observer-0")
        assert net.call("observer-0", "tx_get", hash=txs[0].hash.hex())["status"] == "pending"
        net.proxy.heal("validator-0", "observer-0")
        for tx in txs:
            wait_for(lambda t=tx: net.committed("validator-0", t.hash), 30, "the journaled tx to commit")
        assert "re-admitted" in net.log("observer-0")
        assert all(r.get("durable") is True for r in replies), replies  # and the reply said so
