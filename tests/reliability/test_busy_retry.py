"""Issue 12.3: overload is refused, not swallowed, and a client that retries on "busy" loses nothing.

Two real node processes (a validator and an observer) with a tight backlog bound
(`mempool.max_pending_ms = 100`, floor 50 tx/s: a few txs may wait at once) get a
burst far above what they can commit in that time. Some txs must be refused with
-32005 `busy` and a `retry_after_ms`; the SDK's send helpers (wallet/delivery.py)
then wait each hint and send again, and in the end every tx has exactly one
committed receipt, the chain holds each once, and balances and nonces agree.
"""

from __future__ import annotations

from collections import Counter

import pytest
from harness import Testnet, wait_for

from marketnode.core.keys import address_from_pubkey
from marketnode.wallet.client import RpcClient
from marketnode.wallet.delivery import DeliveryPolicy, await_receipts, send_batch

pytestmark = pytest.mark.integration

SENDERS = {"alice": "validator-0", "bob": "validator-0", "carol": "observer-0", "dave": "observer-0"}
PER_SENDER = 150
AMOUNT = 3


@pytest.fixture
def net(tmp_path):
    testnet = Testnet(tmp_path / "net", validators=1, observers=1)
    for entry in testnet.entries.values():
        path = entry.home / "config.toml"
        text = path.read_text().replace("max_pending_ms = 2000", "max_pending_ms = 100")
        path.write_text(text.replace("min_commit_tps = 500", "min_commit_tps = 50"))
    testnet.start()
    yield testnet
    testnet.close()


def balance(net: Testnet, via: str, name: str) -> int:
    account = net.call(via, "account_get", address=address_from_pubkey(net.keys[name].public_key))
    return account["balances"].get("MKT", 0)


def test_a_client_told_busy_and_retrying_gets_every_tx_committed_exactly_once(net):
    before = {name: balance(net, "validator-0", name) for name in [*SENDERS, "erin"]}
    signed = {name: [net.transfer(name, "erin", AMOUNT, via=via) for _ in range(PER_SENDER)]
              for name, via in SENDERS.items()}
    policy = DeliveryPolicy(total_s=120, poll_s=0.2)
    first_answers: list = []
    notices: list[str] = []
    for name, via in SENDERS.items():
        client = RpcClient(net.url(via), timeout_s=30)
        raws = [tx.encode().hex() for tx in signed[name]]
        first_answers += client.call("tx_sendBatch", txs=raws)  # the burst, as a client without retries sees it
        send_batch(client, raws, policy=policy, notice=notices.append)
    refused = [a["error"] for a in first_answers if "error" in a]
    assert refused, "the burst was far above the bound, yet nothing was refused"
    # The first refused tx of a sender is "busy"; its later nonces cannot be acknowledged before it, so they
    # are refused "nonce_gap" with the nonce to send first: both temporary, with a hint.
    assert all(e["code"] == -32005 and e["data"]["code"] in ("busy", "nonce_gap") and e["data"]["retry_after_ms"] > 0
               for e in refused), refused[:3]
    assert any(e["data"]["code"] == "busy" for e in refused), refused[:3]
    assert notices, "the SDK never had to wait for a busy node"
    hints = sorted(e["data"]["retry_after_ms"] for e in refused)
    print(f"\nbusy: {len(refused)} of {len(first_answers)} refused in the burst, retry_after_ms "
          f"{hints[0]}..{hints[-1]}; the SDK waited {len(notices)} times")

    every = [tx for txs in signed.values() for tx in txs]
    client = RpcClient(net.url("validator-0"), timeout_s=30)
    final = await_receipts(client, [tx.encode().hex() for tx in every], [tx.hash.hex() for tx in every],
                           policy=policy)
    assert Counter(s["status"] for s in final.values()) == Counter({"committed": len(every)})

    height = net.height("validator-0")
    wait_for(lambda: net.height("observer-0") >= height, 30, "the observer to reach the validator's head")
    in_chain = Counter(h for b in range(1, height + 1)
                       for h in net.call("validator-0", "chain_getBlock", height=b, full=False)["tx_hashes"])
    assert all(in_chain[tx.hash.hex()] == 1 for tx in every), "a tx is missing from the chain or in it twice"
    assert sum(in_chain.values()) == len(every)
    for via in ("validator-0", "observer-0"):
        for name in SENDERS:
            assert balance(net, via, name) == before[name] - AMOUNT * PER_SENDER
            account = net.call(via, "account_get", address=address_from_pubkey(net.keys[name].public_key))
            assert account["nonce"] == PER_SENDER
        assert balance(net, via, "erin") == before["erin"] + AMOUNT * PER_SENDER * len(SENDERS)
