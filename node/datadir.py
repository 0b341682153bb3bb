"""The node's data directory: open it and check it before serving; wipe it for a re-sync.

A node must never serve a chain that does not hold together (blocks lost
from the middle, balances read as empty). ``open_checked`` opens LevelDB
(paranoid), the chain store, writes the genesis if needed and runs the
start-up check (node/storage/integrity.py), logging progress; any damage
becomes one StorageCorruption that says what is damaged and the command
that fixes it. ``recover`` keeps what LevelDB can still read when the
chain then holds together (a torn last write; an observer does this by
itself at start); ``reset`` empties the chain
data so the node re-syncs from peers, keeping the validator's last-signed
record (the double-sign guard) when it can still be read.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from marketnode.consensus.records import LastSigned
from marketnode.core.errors import ConsensusError, DecodeError, StorageCorruption, StorageError
from marketnode.node.storage import schema
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.integrity import ChainCheck, verify_chain
from marketnode.node.storage.kv import WriteBatch
from marketnode.node.storage.level import LevelKV

log = logging.getLogger("marketnode.storage")

PROGRESS_LOG_S = 2.0


def remedy(home: Path) -> str:
    """What an operator runs when the stored chain is damaged: wipe it and re-sync."""
    return (f"stop the node, run `marketnode data reset --home {home}` (keeps keys, config and the double-sign "
            "record) and start it again: it re-syncs the chain from its peers")


def open_remedy(home: Path) -> str:
    """What to run when LevelDB itself refuses the open: the damage may be only a write torn by a power cut."""
    return (f"run `marketnode data recover --home {home}`, which keeps the chain if what LevelDB can still read "
            f"holds together (a write torn by a power cut); if it says it does not, {remedy(home)}")


def open_checked(data_path: Path, home: Path, ensure_genesis: Callable[[ChainStore], None],
                 full: bool = False, recover: bool = False) -> tuple[LevelKV, ChainStore, ChainCheck]:
    """Open and check the chain in ``data_path``; raise StorageCorruption with the remedy if it is damaged.

    When LevelDB refuses the open as damaged and ``recover`` is set, it is
    let recover what it can and the whole chain is checked before anything
    is served (see ``recover`` below). A validator does not do this by
    itself: a dropped record may have been its last-signed record.
    """
    recovered = False
    try:
        kv = LevelKV(data_path)
    except StorageCorruption as exc:
        if not recover:
            raise StorageCorruption(f"{exc}. To fix it: {open_remedy(home)}") from exc
        log.warning("%s; letting LevelDB recover what it can, then checking the whole chain", exc)
        kv = _recovered(data_path, home)
        full = recovered = True
    try:
        store = ChainStore(kv)
        ensure_genesis(store)
        check = _check(store, full)
        if recovered:
            log.warning("recovered %s: the chain holds together up to block %d; catching up from peers", data_path,
                        check.head_height)
    except StorageCorruption as exc:
        kv.close()
        raise StorageCorruption(f"the chain stored in {data_path} is damaged: {exc}. To fix it: {remedy(home)}") from exc
    except BaseException:
        kv.close()
        raise
    return kv, store, check


def _recovered(data_path: Path, home: Path) -> LevelKV:
    try:
        LevelKV(data_path, create_if_missing=False, paranoid=False).close()  # drops what fails its checksum
        return LevelKV(data_path)
    except StorageError as exc:
        raise StorageCorruption(f"LevelDB cannot recover {data_path}: {exc}. To fix it: {remedy(home)}") from exc


def _check(store: ChainStore, full: bool) -> ChainCheck:
    started = last = time.monotonic()

    def progress(height: int, head: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_LOG_S:
            last = now
            log.info("checking the stored chain: block %d / %d", height, head)

    check = verify_chain(store, full=full, progress=progress)
    walked = f"blocks {check.first_height}..{check.head_height} ({check.txs} txs)" if check.blocks else \
        f"no blocks above the last check (head {check.head_height})"
    log.info("stored chain checked in %.2f s: %s, %d state entries", time.monotonic() - started, walked,
             check.state_entries)
    return check


def recover(data_path: Path, home: Path) -> ChainCheck:
    """Let LevelDB recover a damaged store (dropping what fails its checksum), then check the whole chain.

    A power cut can tear the last record of the write-ahead log: a write
    whose fsync never returned, so never acknowledged and never voted on.
    Dropping it leaves a chain that holds together at the block before, and
    the full check proves it does. Damage elsewhere fails the check
    (StorageCorruption with the remedy): the records LevelDB dropped are
    gone, and only a reset (re-sync) helps.
    """
    _recovered(data_path, home).close()
    kv, _, check = open_checked(data_path, home, lambda store: None, full=True)
    kv.close()
    return check


@dataclass(frozen=True)
class ResetReport:
    data_path: Path
    kept_last_signed: bool
    warning: str | None


def reset(data_path: Path, keep: tuple[Path, ...] = ()) -> ResetReport:
    """Empty the chain data in ``data_path`` (LevelDB and the query index) so the node re-syncs from peers.

    Refuses when a file in ``keep`` (the node key, config, genesis) lies
    inside ``data_path``: a data_dir pointed at the home must not wipe it.

    The last-signed record is read first (with LevelDB's recovery, since a
    paranoid open refuses a damaged store) and written into the fresh store:
    without it a validator could sign a vote that conflicts with one it sent
    before the damage. If it cannot be read, ``warning`` says so.
    """
    data_path = data_path.resolve()
    for path in keep:
        if path.resolve().is_relative_to(data_path):
            raise StorageError(f"{path} lies inside the data directory {data_path}; refusing to delete it. "
                               "Move data_dir in config.toml to a directory of its own")
    last_signed, warning = _salvage_last_signed(data_path)
    if data_path.exists():
        shutil.rmtree(data_path)
    kv = LevelKV(data_path)
    try:
        ChainStore(kv)  # writes the schema version
        if last_signed is not None:
            batch = WriteBatch()
            batch.put(schema.LAST_SIGNED, last_signed)
            kv.write(batch, sync=True)
    finally:
        kv.close()
    return ResetReport(data_path, last_signed is not None, warning)


def _salvage_last_signed(data_path: Path) -> tuple[bytes | None, str | None]:
    if not data_path.exists():
        return None, None
    damage = None
    try:
        kv = LevelKV(data_path, create_if_missing=False)
    except StorageCorruption as exc:  # recover what LevelDB can: the record is most likely in an intact part
        damage = f"the old database was damaged ({exc}), so the last-signed record kept may not be the latest"
        try:
            kv = LevelKV(data_path, create_if_missing=False, paranoid=False)
        except StorageError as again:
            return None, f"could not open the old database to keep the last-signed record: {again}"
    except StorageError as exc:
        return None, f"could not open the old database to keep the last-signed record: {exc}"
    try:
        record = kv.get(schema.LAST_SIGNED)
        if record is not None:
            LastSigned.decode(record)
        return record, damage
    except (StorageError, DecodeError, ConsensusError) as exc:
        return None, f"could not read the last-signed record: {exc}"
    finally:
        kv.close()
