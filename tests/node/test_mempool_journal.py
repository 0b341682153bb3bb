"""The mempool journal (node/mempool/journal.py): what was acknowledged is on disk, in order, and replayable;
a torn tail is cut off; concurrent appends share fsyncs; committed txs are pruned."""

from __future__ import annotations

import asyncio
import contextlib
import stat
from dataclasses import dataclass

from marketnode.node.mempool.journal import MAGIC, MIN_COMPACT_RECORDS, MempoolJournal, encode_record, read_records

MAX = 64 * 1024


@dataclass(frozen=True)
class Admitted:
    hash: bytes


def txs(n: int, start: int = 0) -> list[tuple[bytes, bytes]]:
    return [(i.to_bytes(32, "big"), b"tx-%d" % i) for i in range(start, start + n)]


def journal(tmp_path, pending: set[bytes] | None = None) -> MempoolJournal:
    keep = pending if pending is not None else None
    return MempoolJournal(tmp_path / "mempool.journal", MAX, lambda h: keep is None or h in keep)


async def test_recorded_txs_are_loaded_by_the_next_process_in_order(tmp_path) -> None:
    first = journal(tmp_path)
    first.start({})
    assert await first.record(txs(3))
    assert await first.record(txs(2, start=3))
    first.close()  # no clean shutdown step exists: what is on disk is what a SIGKILL leaves
    assert journal(tmp_path).load() == [raw for _, raw in txs(5)]


async def test_a_torn_tail_ends_the_replay_and_the_restart_rewrites_the_file(tmp_path) -> None:
    first = journal(tmp_path)
    first.start({})
    await first.record(txs(2))
    first.close()
    path = tmp_path / "mempool.journal"
    path.write_bytes(path.read_bytes() + encode_record(b"half a record")[:9])
    second = journal(tmp_path)
    loaded = second.load()
    assert loaded == [b"tx-0", b"tx-1"]
    second.start(dict(zip([h for h, _ in txs(2)], loaded, strict=True)))
    await second.record(txs(1, start=7))
    second.close()
    assert journal(tmp_path).load() == [b"tx-0", b"tx-1", b"tx-7"]


def test_a_damaged_record_stops_the_replay_before_it() -> None:
    data = bytearray(MAGIC + encode_record(b"good") + encode_record(b"flipped") + encode_record(b"after"))
    data[len(MAGIC) + 8 + 4 + 8] ^= 0xFF  # a byte of "flipped"
    records, end = read_records(bytes(data), MAX)
    assert records == [b"good"] and end == len(MAGIC) + 8 + 4


def test_a_length_over_the_tx_limit_is_damage_not_an_allocation() -> None:
    data = MAGIC + (2**31).to_bytes(4, "big") + bytes(4) + b"x" * 10
    assert read_records(data, MAX) == ([], len(MAGIC))


def test_a_file_without_the_magic_replays_nothing() -> None:
    assert read_records(b"not a journal", MAX) == ([], 0)


async def test_concurrent_appends_share_fsyncs(tmp_path) -> None:
    j = journal(tmp_path)
    j.start({})
    writer = asyncio.create_task(j.run())
    try:
        await asyncio.sleep(0)
        before = j.fsyncs
        results = await asyncio.gather(*(j.record(txs(1, start=i)) for i in range(200)))
        assert all(results)
        assert j.records_written == 200
        assert j.fsyncs - before < 200 / 4, f"{j.fsyncs - before} fsyncs for 200 concurrent appends"
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        j.close()
    assert len(journal(tmp_path).load()) == 200


async def test_committed_txs_are_left_out_once_they_are_most_of_the_file(tmp_path) -> None:
    pending: set[bytes] = set()
    j = journal(tmp_path, pending)
    j.start({})
    writer = asyncio.create_task(j.run())
    try:
        await asyncio.sleep(0)
        batch = txs(MIN_COMPACT_RECORDS + 10)
        pending.update(h for h, _ in batch)
        assert await j.record(batch)
        committed = [h for h, _ in batch[:-10]]
        pending.difference_update(committed)
        j.forget(committed)
        pending.add((99_999).to_bytes(32, "big"))  # admitted to the pool first, then journaled
        assert await j.record(txs(1, start=99_999))
        assert j.live == 11
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        j.close()
    assert journal(tmp_path).load() == [raw for _, raw in batch[-10:]] + [b"tx-99999"]


async def test_the_journal_file_is_private(tmp_path) -> None:
    j = journal(tmp_path)
    j.start({})
    j.close()
    assert stat.S_IMODE((tmp_path / "mempool.journal").stat().st_mode) == 0o600


async def test_a_failed_append_reports_not_durable_and_the_next_round_rewrites(tmp_path, monkeypatch) -> None:
    j = journal(tmp_path)
    j.start({})
    import marketnode.node.mempool.journal as module

    real = module._write_all
    monkeypatch.setattr(module, "_write_all", lambda fd, data: (_ for _ in ()).throw(OSError(28, "No space left")))
    assert await j.record(txs(1)) is False
    monkeypatch.setattr(module, "_write_all", real)
    writer = asyncio.create_task(j.run())
    try:
        await asyncio.sleep(0)
        assert await j.record(txs(1, start=1))
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        j.close()
    assert journal(tmp_path).load() == [b"tx-0", b"tx-1"]


def test_the_journal_bench_reports_every_traffic_shape() -> None:
    from marketnode.tools.bench.journal import run_journal

    rows = run_journal(txs=20, clients=4)["rows"]
    assert rows["one tx_send at a time"]["txs_per_fsync"] == 1.0
    assert rows["tx_sendBatch of 100"]["txs_per_fsync"] == 20.0
    assert rows["4 wallets at once (group commit)"]["txs_per_fsync"] > 1.0


def test_replay_readmits_through_admission_and_keeps_only_what_went_back_in(tmp_path) -> None:
    from marketnode.core.errors import RuleError
    from marketnode.core.types import Tx
    from marketnode.node.config import NodeConfig
    from marketnode.node.mempool.intake import TxIntake

    cfg = NodeConfig(home=tmp_path)
    first = TxIntake(cfg, set())
    assert first.journal is not None
    first.journal.start({})
    asyncio.run(first.journal.record(txs(4)))
    first.close()

    pool: set[bytes] = set()
    second = TxIntake(cfg, pool)

    def submit(raw: bytes) -> Tx:  # admission: tx-1 has committed meanwhile (its nonce is used)
        if raw == b"tx-1":
            raise RuleError("stale_nonce", "nonce used")
        tx_hash = int(raw.decode()[3:]).to_bytes(32, "big")
        pool.add(tx_hash)
        return Admitted(tx_hash)  # type: ignore[return-value]  # replay reads only .hash

    assert second.replay(submit) == 3
    second.close()
    assert journal(tmp_path).load() == [b"tx-0", b"tx-2", b"tx-3"]


def test_replay_reads_no_more_than_the_file_bound(tmp_path) -> None:
    j = journal(tmp_path)
    j.start({})
    asyncio.run(j.record(txs(100)))
    j.close()
    bounded = MempoolJournal(tmp_path / "mempool.journal", MAX, lambda h: True, max_file_bytes=len(MAGIC) + 10 * 12)
    assert bounded.load() == [raw for _, raw in txs(10)]  # each record: 8 header bytes + 4 ("tx-N")
