"""A Byzantine validator in a real 4-validator testnet: the honest three commit on, record evidence, never fork.

validator-0 runs ``marketnode run --byzantine MODE`` (tools/byzantine.py): it
equivocates as primary, signs conflicting votes, and/or sends malformed
consensus messages. ``rotate_every = 1`` makes it primary every fourth
height, so it gets many chances under a modest load.
"""

from __future__ import annotations

import os

import pytest
from chaos_net import closing_with_logs
from harness import Testnet, wait_for

from marketnode.core.keys import PrivateKey

pytestmark = pytest.mark.integration

BYZANTINE = "validator-0"
HEIGHTS = int(os.environ.get("MARKETNODE_BYZANTINE_HEIGHTS", "32"))  # the long run in docs/RELIABILITY.md: 400
HONEST = ["validator-1", "validator-2", "validator-3"]


def byzantine_net(tmp_path, mode: str) -> Testnet:
    net = Testnet(tmp_path / "net", validators=4, timeout_ms=1000)
    for entry in net.entries.values():
        path = entry.home / "config.toml"
        path.write_text(path.read_text().replace("rotate_every = 100", "rotate_every = 1"))
    net.start(*HONEST)
    net.start(BYZANTINE, extra=("--byzantine", mode))
    return net


def send_round(net: Testnet, count: int, round_no: int) -> list:
    via = HONEST[round_no % len(HONEST)]
    txs = [net.transfer("alice" if i % 2 else "bob", "carol", 1, via=via) for i in range(count)]
    results = net.send_batch(txs, via)
    assert all("error" not in r for r in results), results
    return txs


def evidence_against(net: Testnet, name: str, key_hex: str) -> list[dict]:
    return [e for e in net.call(name, "chain_getEvidence", limit=500) if e["validator"] == key_hex]


@pytest.mark.parametrize("mode", ["equivocate", "conflicting-votes", "garbage", "all"])
def test_honest_validators_commit_record_evidence_and_never_fork(tmp_path, mode):
    net = byzantine_net(tmp_path, mode)
    with closing_with_logs(net):
        byzantine_key = PrivateKey.load(net.entries[BYZANTINE].home / "node_key").public_key.hex()
        assert "BYZANTINE TEST MODE" in net.log(BYZANTINE)
        start = net.height(HONEST[0])
        sent = []
        rounds = iter(range(10_000))

        def progressed() -> bool:
            """One more round of load per poll; done after HEIGHTS heights (a quarter with the Byzantine primary)."""
            batch = send_round(net, 10, next(rounds))
            sent.extend(batch)
            wait_for(lambda: all(net.committed(HONEST[0], tx.hash) for tx in batch), 60, "a round of txs to commit")
            return net.height(HONEST[0]) >= start + HEIGHTS

        wait_for(progressed, max(180, HEIGHTS), f"{HEIGHTS} heights under a Byzantine validator", interval_s=0)
        if mode in ("equivocate", "conflicting-votes", "all"):
            records = wait_for(lambda: [e for n in HONEST for e in evidence_against(net, n, byzantine_key)], 30,
                               "evidence against the Byzantine validator on an honest node")
            assert all(e["validator"] == byzantine_key for e in records)
            if mode == "equivocate":
                assert any(e["phase"] == 0 for e in records), "equivocation as primary is PROPOSE-phase evidence"
        if mode == "garbage":
            assert any("penaliz" in net.log(n) for n in HONEST), "malformed messages were not penalized"
        for name in HONEST:
            wait_for(lambda n=name: all(net.committed(n, tx.hash) for tx in sent[:5] + sent[-5:]), 30,
                     f"{name} to hold the first and last txs")
        common = net.assert_agree(HONEST)
        assert common >= start + HEIGHTS
        # The Byzantine node's own chain, as far as it got, is the same chain.
        net.assert_agree([HONEST[0], BYZANTINE], min(common, net.height(BYZANTINE)))
        for name in HONEST:
            assert net.procs[name].poll() is None, f"{name} died:\n{net.log(name)[-2000:]}"
        logs = [net.log(n) for n in HONEST]
        evidence = {e["hash"] for n in HONEST for e in evidence_against(net, n, byzantine_key)}
        print(f"\nbyzantine {mode}: {common - start} heights, {len(sent)} txs, {len(evidence)} evidence records, "
              f"{sum(g.count('penalizing') for g in logs)} penalties, {sum(g.count('banning') for g in logs)} bans")
