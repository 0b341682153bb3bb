"""Regression (issue 13 item 5): a node whose LevelDB was damaged served a smaller chain as if healthy.

Overwriting 64 bytes in the middle of the write-ahead log and restarting gave
a node that started without a word, with the network's head and state root,
but with blocks missing, balances read as ``{}`` and committed txs as
``unknown``. Now the node refuses to start, naming the damage and the
commands that fix it; `marketnode data recover` finds the chain does not
hold together, and after `marketnode data reset` the node re-syncs and
serves exactly what its peer serves. Damage to a table is refused at start or, if
it lies where the start-up check does not read, answered as an error with
node_health not ok: never as a different block or balance.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness import RpcFailure, Testnet, wait_for

from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx

pytestmark = pytest.mark.integration

VALIDATOR, VICTIM = "validator-0", "observer-0"
TRANSFERS = 45
AMOUNT = 1035


@pytest.fixture
def net(tmp_path: Path):
    testnet = Testnet(tmp_path / "net", validators=1, observers=1)
    testnet.start()
    yield testnet
    testnet.close()


def recipients() -> list[bytes]:
    return [PrivateKey(i.to_bytes(2, "big") * 16).public_key for i in range(1, TRANSFERS + 1)]


def fill(net: Testnet) -> list[str]:
    """One transfer of AMOUNT to a fresh account per block; the victim holds them all. Returns tx hashes."""
    sender_name = next(iter(net.manifest["accounts"]))
    sender = net.keys[sender_name]
    hashes = []
    for to in recipients():
        body = {"amount": AMOUNT, "asset": "MKT", "to": to}
        tx = Tx(net.chain_id, sender.public_key, net.next_nonce(sender, VALIDATOR), "transfer", body, 0).sign(sender)
        net.send(tx, via=VALIDATOR, wait="commit")
        hashes.append(tx.hash.hex())
    head = net.height(VALIDATOR)
    wait_for(lambda: net.height(VICTIM) >= head, 30, f"{VICTIM} to reach height {head}")
    return hashes


def data_dir(net: Testnet) -> Path:
    return net.entries[VICTIM].config().data_path


def overwrite_middle(file: Path, at: float = 0.5, count: int = 64) -> None:
    with file.open("r+b") as fh:
        fh.seek(int(file.stat().st_size * at))
        fh.write(b"\xaa" * count)


def one(directory: Path, suffix: str) -> Path:
    files = [p for p in directory.iterdir() if p.suffix == suffix and p.stat().st_size > 0]
    assert len(files) == 1, f"expected one non-empty {suffix} in {directory}: {sorted(directory.iterdir())}"
    return files[0]


def start_damaged(net: Testnet) -> bool:
    """Start the victim; True once it answers RPC, False once it has exited."""
    net.start(VICTIM, wait=False)
    proc = net.procs[VICTIM]
    wait_for(lambda: proc.poll() is not None or net.status(VICTIM), 60, f"{VICTIM} to exit or answer")
    if proc.poll() is None:
        return True
    net.procs.pop(VICTIM)
    assert proc.returncode != 0, "the node exited 0 on a damaged database"
    return False


def missing_blocks(net: Testnet) -> list[int]:
    missing = []
    for height in range(1, net.height(VALIDATOR) + 1):
        try:
            net.call(VICTIM, "chain_getBlock", height=height, full=False)
        except RpcFailure:
            missing.append(height)
    return missing


def assert_serves_what_the_validator_serves(net: Testnet, hashes: list[str]) -> None:
    head = net.height(VALIDATOR)
    assert net.height(VICTIM) == head
    for height in range(1, head + 1):
        assert net.call(VICTIM, "chain_getBlock", height=height, full=False) == \
            net.call(VALIDATOR, "chain_getBlock", height=height, full=False), f"block {height} differs"
    for to in recipients():
        assert net.call(VICTIM, "account_get", address=address_from_pubkey(to))["balances"] == {"MKT": AMOUNT}
    for tx_hash in hashes:
        assert net.call(VICTIM, "tx_get", hash=tx_hash, proof=False)["status"] == "committed"
    assert net.call(VICTIM, "node_health")["ok"]


def data_cmd(net: Testnet, name: str, *args: str) -> subprocess.CompletedProcess:
    home = net.entries[name].home
    return subprocess.run([sys.executable, "-m", "marketnode.cli.main", "data", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=60)


def reset(net: Testnet) -> str:
    done = data_cmd(net, VICTIM, "reset", "--yes")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_damaged_write_ahead_log_refuses_the_start_and_a_reset_resyncs_the_same_chain(net: Testnet) -> None:
    hashes = fill(net)
    assert net.stop(VICTIM) == 0
    overwrite_middle(one(data_dir(net), ".log"))
    if start_damaged(net):
        status, health = net.status(VICTIM), net.call(VICTIM, "node_health")
        pytest.fail(f"the node serves a damaged database: height {status['height']}, health {health}, "
                    f"blocks missing {missing_blocks(net)}")
    log = net.log(VICTIM)  # an observer lets LevelDB recover, then finds the chain does not hold together
    assert "is damaged (Corruption:" in log and "are missing from the stored chain" in log
    assert f"marketnode data reset --home {net.entries[VICTIM].home}" in log
    recovered = data_cmd(net, VICTIM, "recover")  # the damage is mid-log, not a torn last write: recover says so
    assert recovered.returncode != 0 and "are missing from the stored chain" in recovered.stderr, recovered.stderr
    assert "marketnode data reset --home" in recovered.stderr
    assert "last-signed record" in reset(net)
    net.start(VICTIM)
    wait_for(lambda: net.height(VICTIM) >= net.height(VALIDATOR), 60, f"{VICTIM} to re-sync")
    assert_serves_what_the_validator_serves(net, hashes)


def tear_end_of_log(net: Testnet, name: str) -> None:
    """What a power cut mid-append leaves: the last record's length on disk, its bytes not."""
    log_file = one(net.entries[name].config().data_path, ".log")
    size = log_file.stat().st_size
    overwrite_middle(log_file, at=(size - 40) / size, count=40)


def test_an_observer_recovers_a_write_torn_at_the_end_of_the_log_by_itself(net: Testnet) -> None:
    hashes = fill(net)
    assert net.stop(VICTIM) == 0
    tear_end_of_log(net, VICTIM)
    assert start_damaged(net), f"the observer refused a torn last write: {net.log(VICTIM)[-2000:]}"
    assert "letting LevelDB recover what it can" in net.log(VICTIM)
    wait_for(lambda: net.height(VICTIM) >= net.height(VALIDATOR), 60, f"{VICTIM} to catch up")
    assert_serves_what_the_validator_serves(net, hashes)


def test_a_validator_refuses_a_torn_log_and_data_recover_keeps_its_chain(net: Testnet) -> None:
    hashes = fill(net)
    head = net.height(VALIDATOR)
    assert net.stop(VALIDATOR) == 0
    tear_end_of_log(net, VALIDATOR)
    net.start(VALIDATOR, wait=False)
    proc = net.procs.pop(VALIDATOR)
    assert proc.wait(60) != 0, "the validator started on a torn log"
    assert f"marketnode data recover --home {net.entries[VALIDATOR].home}" in net.log(VALIDATOR)
    recovered = data_cmd(net, VALIDATOR, "recover")
    assert recovered.returncode == 0, recovered.stderr
    assert "recovered: the chain holds together up to block" in recovered.stdout
    assert "validator = false" in recovered.stderr  # the double-sign warning
    net.start(VALIDATOR)
    assert net.height(VALIDATOR) >= head - 1  # at most the torn block is gone, and the observer holds it
    sender = net.keys[next(iter(net.manifest["accounts"]))]
    tx = Tx(net.chain_id, sender.public_key, net.next_nonce(sender, VALIDATOR), "transfer",
            {"amount": 1, "asset": "MKT", "to": recipients()[0]}, 0).sign(sender)
    assert net.send(tx, via=VALIDATOR, wait="commit")["status"] == "committed"
    wait_for(lambda: net.height(VICTIM) >= net.height(VALIDATOR), 30, f"{VICTIM} to follow")
    net.assert_agree([VALIDATOR, VICTIM])
    for tx_hash in hashes:
        assert net.call(VALIDATOR, "tx_get", hash=tx_hash, proof=False)["status"] == "committed"


@pytest.mark.parametrize("at", [0.1, 0.5, 0.9])
def test_a_damaged_table_is_refused_or_answered_as_an_error_never_as_other_data(net: Testnet, at: float) -> None:
    hashes = fill(net)
    assert net.stop(VICTIM) == 0
    net.start(VICTIM)  # the restart moves the log into a table, the one we damage
    assert net.stop(VICTIM) == 0
    overwrite_middle(one(data_dir(net), ".ldb"), at=at)
    if not start_damaged(net):
        assert "is damaged" in net.log(VICTIM) and "marketnode data reset" in net.log(VICTIM)
        return
    errors = 0
    for height in range(1, net.height(VALIDATOR) + 1):
        try:
            block = net.call(VICTIM, "chain_getBlock", height=height, full=False)
        except RpcFailure as exc:
            assert "database is damaged" in exc.error["message"], exc.error
            errors += 1
            continue
        assert block == net.call(VALIDATOR, "chain_getBlock", height=height, full=False), f"block {height} differs"
    for to in recipients():
        try:
            assert net.call(VICTIM, "account_get", address=address_from_pubkey(to))["balances"] == {"MKT": AMOUNT}
        except RpcFailure as exc:
            assert "database is damaged" in exc.error["message"], exc.error
            errors += 1
    for tx_hash in hashes:
        try:
            assert net.call(VICTIM, "tx_get", hash=tx_hash, proof=False)["status"] == "committed"
        except RpcFailure as exc:
            assert "database is damaged" in exc.error["message"], exc.error
            errors += 1
    health = net.call(VICTIM, "node_health")
    assert errors, "the damage was read nowhere: move it"
    assert not health["ok"] and any("damaged" in r for r in health["reasons"]), health
