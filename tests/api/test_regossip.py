"""A tx still pending after a whole re-gossip period is offered to peers again."""

from __future__ import annotations

import dataclasses

from api_helpers import running_node, write_home
from waiting import wait_for_async

import marketnode.node.mempool.gossip as txgossip_module
from marketnode.core.encoding import decode


async def test_a_tx_pending_for_a_whole_period_is_broadcast_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(txgossip_module, "REGOSSIP_S", 0.2)
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    observer = dataclasses.replace(cfg, validator=False)  # nobody commits: the tx stays pending
    async with running_node(observer, keys) as (running, api):
        sent: list[list[bytes]] = []
        original = running.p2p.broadcast

        def record(topic: str, payload: bytes, exclude: bytes | None = None) -> None:
            if topic == "txs":
                sent.append(decode(payload))
            original(topic, payload, exclude)

        running.p2p.broadcast = record
        tx = api.sign("alice", "transfer", {"amount": 1, "asset": "MKT", "to": api.pub("bob")})
        assert (await api.call("tx_send", tx=tx.encode().hex()))["status"] == "pending"
        await wait_for_async(lambda: sum(batch.count(tx.encode()) for batch in sent) >= 2, 5,
                             "admission gossip, then at least one re-offer")
