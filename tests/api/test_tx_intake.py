"""The wallet path on a real in-process node: busy refusals with a retry hint, gossip exempt from them,
and acknowledgements that say whether the tx is on disk (and are, across a restart)."""

from __future__ import annotations

import dataclasses

from api_helpers import running_node, write_home
from waiting import wait_for_async

from marketnode.core.encoding import encode
from marketnode.node.config import MempoolSection


def observer_home(tmp_path, **mempool):  # type: ignore[no-untyped-def]
    """A node that never commits (an observer with no validators online): every admitted tx stays pending."""
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    return dataclasses.replace(cfg, validator=False, mempool=MempoolSection(**mempool)), keys


def transfer(api, name: str = "alice"):  # type: ignore[no-untyped-def]
    return api.sign(name, "transfer", {"amount": 1, "asset": "MKT", "to": api.pub("bob")})


async def test_a_node_over_its_backlog_bound_refuses_with_busy_and_a_retry_hint(tmp_path) -> None:
    cfg, keys = observer_home(tmp_path, max_pending_ms=3000, min_commit_tps=1)  # room for 3 txs
    async with running_node(cfg, keys) as (node, api):
        for _ in range(3):
            assert (await api.call("tx_send", tx=transfer(api).encode().hex()))["status"] == "pending"
        refused = transfer(api)
        error = await api.error("tx_send", tx=refused.encode().hex())
        assert error["code"] == -32005 and error["data"]["code"] == "busy", error
        assert error["data"]["retry_after_ms"] >= 100 and "retry in" in error["message"]
        assert refused.hash not in node.mempool and len(node.mempool) == 3
        assert (await api.call("tx_get", hash=refused.hash.hex()))["status"] == "unknown"
        intake = (await api.call("node_status"))["intake"]
        assert intake == {"busy": True, "capacity": 3, "commit_tps": 1, "measured": False,
                          "max_pending_ms": 3000, "durable": True}


async def test_a_batch_is_admitted_in_order_up_to_the_bound_and_the_rest_told_to_retry(tmp_path) -> None:
    cfg, keys = observer_home(tmp_path, max_pending_ms=3000, min_commit_tps=1)
    async with running_node(cfg, keys) as (node, api):
        txs = [transfer(api) for _ in range(5)]
        results = await api.call("tx_sendBatch", txs=[tx.encode().hex() for tx in txs])
        assert [r.get("status") for r in results[:3]] == ["pending"] * 3
        assert [r["error"]["data"]["code"] for r in results[3:]] == ["busy", "busy"]
        assert all(r["error"]["data"]["retry_after_ms"] > 0 for r in results[3:])
        assert [tx.hash in node.mempool for tx in txs] == [True, True, True, False, False]


async def test_gossiped_txs_are_not_held_to_the_bound_and_the_relaying_peer_is_not_penalised(tmp_path) -> None:
    cfg, keys = observer_home(tmp_path, max_pending_ms=1000, min_commit_tps=1)  # room for 1 tx
    async with running_node(cfg, keys) as (node, api):
        await api.call("tx_send", tx=transfer(api).encode().hex())
        assert (await api.error("tx_send", tx=transfer(api, "carol").encode().hex()))["data"]["code"] == "busy"
        penalties: list[str] = []
        node.p2p.penalize = lambda peer, score, reason: penalties.append(reason)
        relayed = [transfer(api, "dave") for _ in range(3)]
        assert await node.gossip.on_batch(b"\x07" * 32, encode([tx.encode() for tx in relayed]))
        assert all(tx.hash in node.mempool for tx in relayed) and penalties == []


async def test_the_acknowledgement_says_durable_and_a_restarted_node_still_holds_the_tx(tmp_path) -> None:
    cfg, keys = observer_home(tmp_path)
    async with running_node(cfg, keys) as (_, api):
        tx = transfer(api)
        reply = await api.call("tx_send", tx=tx.encode().hex())
        assert reply == {"hash": tx.hash.hex(), "status": "pending", "durable": True}
        batch = await api.call("tx_sendBatch", txs=[transfer(api).encode().hex()])
        assert batch[0]["durable"] is True
    async with running_node(cfg, keys) as (node, api):
        assert tx.hash in node.mempool
        assert (await api.call("tx_get", hash=tx.hash.hex()))["status"] == "pending"


async def test_with_the_journal_off_the_acknowledgement_says_not_durable(tmp_path) -> None:
    cfg, keys = observer_home(tmp_path, journal_file="")
    async with running_node(cfg, keys) as (_, api):
        tx = transfer(api)
        assert (await api.call("tx_send", tx=tx.encode().hex()))["durable"] is False
    async with running_node(cfg, keys) as (node, _):
        assert tx.hash not in node.mempool


async def test_pool_cap_refusals_carry_a_retry_hint_too(tmp_path) -> None:
    cfg, keys = observer_home(tmp_path, max_per_sender=2)
    async with running_node(cfg, keys) as (_, api):
        for _ in range(2):
            await api.call("tx_send", tx=transfer(api).encode().hex())
        error = await api.error("tx_send", tx=transfer(api).encode().hex())
        assert error["code"] == -32005 and error["data"]["code"] == "sender_cap"
        assert error["data"]["retry_after_ms"] >= 100


async def test_a_refused_batch_of_one_sender_takes_one_comeback_slot_not_one_per_tx(tmp_path) -> None:
    """Regression (issue 12): each refused tx of a 150-tx batch took a slot, so the queue grew by 3 s per
    resend while the node could take only the first few; a retrying wallet needed 3 minutes for 600 txs."""
    cfg, keys = observer_home(tmp_path, max_pending_ms=1000, min_commit_tps=10)  # room for 10, 100 ms per tx
    async with running_node(cfg, keys) as (node, api):
        alice = [transfer(api) for _ in range(60)]
        bob = transfer(api, "bob")
        results = await api.call("tx_sendBatch", txs=[tx.encode().hex() for tx in alice])
        refused = [r["error"] for r in results if "error" in r]
        assert len(refused) == 50 and refused[0]["data"]["code"] == "busy" and "held_behind" not in refused[0]["data"]
        first = refused[0]["data"]["retry_after_ms"]
        assert all(e["data"]["held_behind"] == 10 for e in refused[1:]), refused[1]
        assert all(first - 50 <= e["data"]["retry_after_ms"] <= first + 50 for e in refused[1:]), (first, refused[-1])
        # One slot was taken for the whole run (one tx's share, 100 ms), not fifty: time passing only
        # shortens what is left of the queue, so this holds however slow the host.
        assert node.intake.admission.slots.horizon_ms - node.intake.clock() <= first + 100 + 5
        other = await api.error("tx_send", tx=bob.encode().hex())  # the next sender's slot: after that one
        assert other["data"]["code"] == "busy" and "held_behind" not in other["data"]


async def test_a_later_nonce_is_not_acknowledged_while_the_nonce_before_it_was_refused_as_busy(tmp_path) -> None:
    """Acknowledging nonce 4 while nonce 3 was refused would promise a tx that cannot commit before 3 comes."""
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    cfg = dataclasses.replace(cfg, mempool=MempoolSection(max_pending_ms=3000, min_commit_tps=1))  # room for 3
    async with running_node(cfg, keys) as (node, api):
        txs = [transfer(api) for _ in range(6)]  # alice, nonces 0..5
        results = await api.call("tx_sendBatch", txs=[tx.encode().hex() for tx in txs])
        assert [("error" in r) for r in results] == [False] * 3 + [True] * 3
        # the validator commits 0..2 and the pool empties: no longer busy
        await wait_for_async(lambda: len(node.mempool) == 0, 4, "the validator to commit nonces 0..2")
        held = await api.error("tx_send", tx=txs[4].encode().hex())  # would only wait behind nonce 3
        assert held["data"]["code"] == "nonce_gap" and held["data"]["next_nonce"] == 3, held
        # Told to come back just after nonce 3's slot, not sooner: asking again before 3 comes is wasted.
        assert held["data"]["retry_after_ms"] >= results[3]["error"]["data"]["retry_after_ms"] - 1000, held
        again = await api.call("tx_sendBatch", txs=[tx.encode().hex() for tx in txs[3:]])
        assert [r["status"] for r in again] == ["pending"] * 3
        done = await api.call("tx_send", tx=transfer(api).encode().hex(), wait="commit", timeout_s=20)
        assert done["status"] == "committed"


async def test_a_wallet_tx_behind_a_nonce_gap_is_refused_with_the_nonce_to_send_first(tmp_path) -> None:
    """Regression (issue 12): under `bench tps` load spread over nodes, a node acknowledged a sender's nonce
    k+1 while another node was refusing k as busy; the acknowledged txs waited 19 s at p50 (51 s at p99)
    behind nonces that came back late or never, and filled the pools with work nobody could propose.
    A lightly loaded node still takes k+1 first (a wallet may send k and k+1 to two nodes at once)."""
    cfg, keys = observer_home(tmp_path, max_pending_ms=1000, min_commit_tps=6)  # room for 6: loaded at 3
    async with running_node(cfg, keys) as (node, api):
        txs = [transfer(api) for _ in range(6)]  # nonces 0..5 of one sender
        light = await api.call("tx_send", tx=txs[1].encode().hex())  # an empty pool: the gap may close later
        assert light["status"] == "pending"
        await api.call("tx_sendBatch", txs=[tx.encode().hex() for tx in (txs[0], txs[2])])
        assert len(node.mempool) == 3  # half the bound: loaded
        refused = await api.error("tx_send", tx=txs[4].encode().hex())
        assert refused["code"] == -32005 and refused["data"]["code"] == "nonce_gap", refused
        assert refused["data"]["next_nonce"] == 3 and refused["data"]["retry_after_ms"] >= 100
        assert "send nonce 3 first" in refused["message"] and txs[4].hash not in node.mempool
        results = await api.call("tx_sendBatch", txs=[tx.encode().hex() for tx in (txs[3], txs[4])])
        assert [r.get("status") for r in results] == ["pending"] * 2  # in order, each one is next


async def test_a_busy_node_full_of_txs_behind_a_nonce_gap_still_takes_the_tx_that_fills_it(tmp_path) -> None:
    """Regression (issue 12): the bench stalled for 56 s with 4,220 accepted txs pending on a quiet machine.

    Every node held txs behind nonce gaps, which counted towards the busy bound; the nodes refused the
    gap fillers as busy, so nothing became proposable and nothing ever committed again.
    """
    cfg, keys = observer_home(tmp_path, max_pending_ms=1000, min_commit_tps=1)  # room for 1 tx
    async with running_node(cfg, keys) as (node, api):
        filler, *later = [transfer(api) for _ in range(4)]  # nonces 0..3 of one sender
        assert await node.gossip.on_batch(b"\x07" * 32, encode([tx.encode() for tx in later]))
        assert not node.mempool.has_proposable(), "three txs wait behind the missing nonce 0"
        other = await api.error("tx_send", tx=transfer(api, "carol").encode().hex())
        assert other["data"]["code"] == "busy", "new work is refused: the node is over its bound"
        assert (await api.call("tx_send", tx=filler.encode().hex()))["status"] == "pending"
        assert node.mempool.has_proposable() and len(node.mempool) == 4 and node.mempool.executable_count() == 4


async def test_a_peer_asking_for_the_txs_behind_its_gap_gets_our_run_from_that_nonce(tmp_path) -> None:
    cfg, keys = observer_home(tmp_path)
    async with running_node(cfg, keys) as (node, api):
        txs = [transfer(api) for _ in range(4)]
        for tx in txs:
            await api.call("tx_send", tx=tx.encode().hex())
        sender = txs[0].sender
        answer = node.gossip.serve_want(encode([[sender, 1], [b"\x09" * 32, 0]]))
        from marketnode.core.encoding import decode

        assert decode(answer) == [tx.encode() for tx in txs[1:]]
        import pytest

        from marketnode.core.errors import DecodeError

        for bad in (encode({"a": 1}), encode([[sender]]), encode([[sender, 0]] * 257)):
            with pytest.raises(DecodeError, match="want"):  # the p2p host answers the peer with this error
                node.gossip.serve_want(bad)
