"""Regression: a tx admitted while its node had no peers was never gossiped, so it never committed.

Found by the crash test: txs acknowledged by the observer just after its
restart (RPC up, p2p links not yet) sat in its mempool for good, since an
observer never proposes and pending txs were not offered to peers that
connect later. Now a node offers its pending txs to every peer that connects.
"""

from __future__ import annotations

import pytest
from chaos_net import ChaosNet, closing_with_logs
from harness import wait_for

pytestmark = pytest.mark.integration


def test_a_tx_admitted_by_an_isolated_observer_commits_once_it_connects(tmp_path):
    net = ChaosNet(tmp_path / "net", validators=1, observers=1)
    with closing_with_logs(net):
        net.proxy.cut("validator-0", "observer-0")
        net.start()
        assert net.status("observer-0")["peers"] == 0
        tx = net.transfer("alice", "bob", 7, via="observer-0")
        assert net.send(tx, "observer-0")["status"] == "pending"  # acknowledged while isolated
        net.proxy.heal("validator-0", "observer-0")
        wait_for(lambda: net.status("observer-0")["peers"] == 1, 30, "the observer to connect")
        wait_for(lambda: net.committed("validator-0", tx.hash), 30, "the isolated observer's tx to commit")
        wait_for(lambda: net.committed("observer-0", tx.hash), 30, "the observer to see its tx committed")
