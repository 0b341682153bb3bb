"""Who may sign for an account: its key set and policy, key rotation, multi-key accounts.

An account is its address; its authority is a set of keys and how many of
them a tx needs. No record (every account until it changes one) means the
key the address was made from, alone, so old accounts and txs stay valid.
``check_signers`` runs at admission (from the head state) and again when the
tx executes, because a rotation may commit in between. Never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import decode_trusted
from marketnode.core.keys import PUBKEY_SIZE
from marketnode.core.types import Tx
from marketnode.market import keys, store
from marketnode.market.codes import (
    ALREADY_EXISTS,
    BAD_KEY_SET,
    BAD_SIGNERS,
    NOT_FOUND,
    THRESHOLD_REQUIRED,
    fail,
    require,
)
from marketnode.market.context import TxContext
from marketnode.market.params import Params
from marketnode.market.state import State, StateReader

# Kinds that change who controls the account: they always need the full threshold, whatever the policy says.
AUTHORITY_KINDS = frozenset({"account_rotate", "account_set_authority", "account_set_guardians", "recovery_veto"})


@dataclass(frozen=True, slots=True)
class Authority:
    """An account's key set and when a tx needs ``threshold`` of its keys rather than any one.

    ``kinds`` and ``above`` both None: every tx needs the threshold. Otherwise a
    tx needs it if its kind is in ``kinds`` or it moves more than ``above`` of
    the native asset (or any amount of another asset) out of the account;
    other txs need one key of the set. AUTHORITY_KINDS always need it.
    """

    keys: tuple[bytes, ...]
    threshold: int = 1
    kinds: tuple[str, ...] | None = None
    above: int | None = None
    version: int = 0

    def guarded(self, kind: str) -> bool:
        """Does a tx of ``kind`` need the threshold whatever value it moves?"""
        if kind in AUTHORITY_KINDS or (self.kinds is None and self.above is None):
            return True
        return self.kinds is not None and kind in self.kinds

    def needed(self, kind: str) -> int:
        return self.threshold if self.guarded(kind) else 1

    def to_obj(self) -> dict[str, Any]:
        return {"above": self.above, "keys": list(self.keys), "kinds": None if self.kinds is None else list(self.kinds),
                "threshold": self.threshold, "version": self.version}

    @classmethod
    def from_obj(cls, obj: dict[str, Any]) -> Authority:
        kinds = obj["kinds"]
        return cls(tuple(obj["keys"]), obj["threshold"], None if kinds is None else tuple(kinds), obj["above"],
                   obj["version"])


def authority_of(state: StateReader, account: bytes) -> Authority:
    """The account's authority; absent: its own address key alone (version 0)."""
    obj = store.load(state, keys.authority(account))
    return Authority((account,)) if obj is None else Authority.from_obj(obj)


def save_authority(tx: TxContext, account: bytes, new: Authority) -> None:
    """Install ``new`` (version one past the current) and cancel a pending recovery: the account acted."""
    current = authority_of(tx.state, account)
    installed = Authority(tuple(sorted(new.keys)), new.threshold, new.kinds, new.above, current.version + 1)
    store.save(tx.state, keys.authority(account), installed.to_obj())
    drop_recovery(tx, account, "authority_changed")
    tx.emit("authority_set", account=account, keys=list(installed.keys), threshold=installed.threshold,
            kinds=None if installed.kinds is None else list(installed.kinds), above=installed.above,
            version=installed.version)


def drop_recovery(tx: TxContext, account: bytes, reason: str) -> None:
    """Cancel the account's pending guardian recovery, if any (a change by the account outranks it)."""
    pending = store.load(tx.state, keys.recovery(account))
    if pending is not None:
        tx.state.delete(keys.recovery(account))
        tx.emit("recovery_cancelled", account=account, recovery=pending["id"], reason=reason)


def _installed_keys(tx: Tx) -> frozenset[bytes]:
    """Keys a tx adds to its sender's set: each must sign it, so no one installs a key they do not hold."""
    body = tx.body
    if tx.kind == "account_rotate":
        values = [body.get("new_key")]
    elif tx.kind == "account_set_authority":
        listed = body.get("keys")
        values = listed if isinstance(listed, list) else []
    else:
        return frozenset()
    return frozenset(v for v in values if isinstance(v, bytes) and len(v) == PUBKEY_SIZE)


def check_signers(state: StateReader, tx: Tx, params: Params) -> Authority:
    """Refuse (BAD_SIGNERS) unless the tx's signing keys may act for its sender; return its authority.

    The signatures themselves were verified by the caller. Checked here:
    at most ``params.max_tx_signers``; every signer in the key set (or a key
    the tx installs, which must sign); at least ``needed(kind)`` set members.
    """
    signers = tx.signers()
    require(len(signers) <= params.max_tx_signers, BAD_SIGNERS,
            f"the tx carries {len(signers)} signatures; params.max_tx_signers is {params.max_tx_signers}")
    auth = authority_of(state, tx.sender)
    members = set(auth.keys)
    installs = _installed_keys(tx) - members
    for key in signers:
        if key not in members and key not in installs:
            fail(BAD_SIGNERS, f"key {key.hex()[:16]}… is not one of the account's keys (rotated out, or never in)")
    have = sum(1 for key in signers if key in members)
    need = auth.needed(tx.kind)
    require(have >= need, BAD_SIGNERS,
            f"{tx.kind} needs {need} of the account's {len(auth.keys)} keys; {have} signed")
    missing = installs - set(signers)
    require(not missing, BAD_SIGNERS, "every new key must sign the tx that adds it (proof its holder has it)")
    return auth


def allowance_left(state: StateReader, auth: Authority, tx: Tx, params: Params, now_ms: int) -> int | None:
    """What fewer than the threshold of keys may still move out this period; None: no limit applies.

    ``above`` is an allowance per ``params.single_key_period_ms`` of block
    time, fees included, not a per-tx cap: a thief holding one key cannot
    drain the account in many small txs.
    """
    if auth.above is None or auth.guarded(tx.kind):
        return None
    if sum(1 for key in tx.signers() if key in auth.keys) >= auth.threshold:
        return None
    return max(0, auth.above - _spent(state, tx.sender, params, now_ms))


def _spent(state: StateReader, account: bytes, params: Params, now_ms: int) -> int:
    record = store.load(state, keys.spent(account))
    period = now_ms // params.single_key_period_ms
    return record[1] if record is not None and record[0] == period else 0


def spend_allowance(state: State, account: bytes, params: Params, now_ms: int, amount: int) -> None:
    """Count ``amount`` native units against this period's one-key allowance."""
    if amount:
        period = now_ms // params.single_key_period_ms
        store.save(state, keys.spent(account), [period, _spent(state, account, params, now_ms) + amount])


def balances(state: StateReader, account: bytes) -> dict[str, int]:
    """Every asset the account holds (a prefix scan: only for accounts with an ``above`` policy)."""
    prefix = keys.balance(account)
    out: dict[str, int] = {}
    for key, raw in state.iterate(prefix):
        tail = key[len(prefix):]
        out[tail[1:1 + tail[0]].decode()] = decode_trusted(raw)
    return out


def check_outflow(before: dict[str, int], after: dict[str, int], native: str, limit: int) -> int:
    """The native units the account lost; THRESHOLD_REQUIRED if more than ``limit`` or any other asset."""
    lost_native = 0
    for asset, had in sorted(before.items()):
        lost = had - after.get(asset, 0)
        if lost <= 0:
            continue
        if asset != native:
            fail(THRESHOLD_REQUIRED, f"moving {asset} out of this account needs its threshold of signatures")
        if lost > limit:
            fail(THRESHOLD_REQUIRED, f"the tx moved {lost} {native}; fewer than the threshold of keys may move "
                                     f"{limit} more this period")
        lost_native = lost
    return lost_native


def _require_valid(tx: TxContext, new: Authority) -> None:
    params = tx.params
    count = len(new.keys)
    require(1 <= count <= params.max_account_keys, BAD_KEY_SET,
            f"a key set holds 1..{params.max_account_keys} keys (params.max_account_keys), not {count}")
    require(1 <= new.threshold <= count, BAD_KEY_SET, f"threshold {new.threshold} must be 1..{count} (the key count)")
    require(new.threshold <= params.max_tx_signers, BAD_KEY_SET,
            f"threshold {new.threshold} exceeds params.max_tx_signers {params.max_tx_signers}: no tx could meet it")
    from marketnode.market.schema import KINDS  # the schema names every kind; imported late, it imports the field types

    for kind in new.kinds or ():
        require(kind in KINDS, BAD_KEY_SET, f"no tx kind {kind!r}")


def handle_rotate(tx: TxContext, body: dict[str, Any]) -> None:
    """Replace one key of the set (the only one if ``old_key`` is absent); policy and threshold stay."""
    auth = authority_of(tx.state, tx.sender)
    old, new = body["old_key"], body["new_key"]
    if old is None:
        require(len(auth.keys) == 1, BAD_KEY_SET, f"the account has {len(auth.keys)} keys: name old_key")
        old = auth.keys[0]
    require(old in auth.keys, NOT_FOUND, f"key {old.hex()[:16]}… is not in the account's key set")
    require(new not in auth.keys, ALREADY_EXISTS, f"key {new.hex()[:16]}… is already in the account's key set")
    rotated = (*(k for k in auth.keys if k != old), new)
    save_authority(tx, tx.sender, Authority(rotated, auth.threshold, auth.kinds, auth.above))
    tx.emit("key_rotated", account=tx.sender, old_key=old, new_key=new)


def handle_set_authority(tx: TxContext, body: dict[str, Any]) -> None:
    """Replace the whole key set and policy (every new key signed the tx: check_signers)."""
    kinds = body["kinds"]
    new = Authority(tuple(body["keys"]), body["threshold"], None if kinds is None else tuple(sorted(kinds)),
                    body["above"])
    _require_valid(tx, new)
    save_authority(tx, tx.sender, new)


HANDLERS = {"account_rotate": handle_rotate, "account_set_authority": handle_set_authority}
