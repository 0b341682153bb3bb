"""The demo's accounts act: a key rotation, a 2-of-2 account whose single-key tx is refused, a guardian recovery.

Fresh accounts (new random keys, funded by dave) keep the story repeatable:
the cast's own key files still sign for them afterwards.
"""

from __future__ import annotations

import time
from typing import Any

from marketnode.core.errors import RpcError
from marketnode.core.keys import PrivateKey
from marketnode.wallet import kinds
from marketnode.wallet.account import Wallet
from marketnode.wallet.delivery import reason

NATIVE = "MKT"  # the dev genesis' native asset (node/genesis_setup.py)
FUNDING = 1_000_000
RECOVERY_DELAY_MS = 2_000  # the dev genesis allows 1 s; a real account would choose days
FINISH_TIMEOUT_S = 30.0


def _fresh(story: Any, via: str) -> tuple[Wallet, PrivateKey]:
    """A new account (its key made here), funded with native units by dave, through ``via``'s node."""
    key = PrivateKey.generate()
    wallet = Wallet(key, story.cast[via].client)
    story.act("dave", f"funds a new account {key.address[:16]}…", "transfer",
              kinds.transfer(to=key.address, asset=NATIVE, amount=FUNDING))
    return wallet, key


def accounts(story: Any) -> None:
    ids = story.outcome.ids
    rotated, old = _fresh(story, "carol")
    new = PrivateKey.generate()
    result = rotated.rotate(new)
    story.record("dave", f"rotates that account's key to {new.address[:16]}… (address and balance stay)", result)
    try:
        rotated_old = Wallet(old, rotated.client)
        rotated_old.send("transfer", kinds.transfer(to=story.addr("dave"), asset=NATIVE, amount=1))
        raise RuntimeError("a tx signed by the rotated-out key was accepted")
    except RpcError as exc:
        story.tell("dave", f"the old key is refused by the node: {reason(exc)}")
        ids["rotated_old_key_refused"] = reason(exc)
    sent = rotated.send("transfer", kinds.transfer(to=story.addr("dave"), asset=NATIVE, amount=1))
    story.record("dave", "the new key signs for the same address", sent)
    ids["rotated_account"] = rotated.address

    guarded, device_key = _fresh(story, "grace")
    phone = PrivateKey.generate()
    result = guarded.set_authority([device_key.public_key, phone.public_key], 2, new_keys=[phone])
    story.record("dave", "makes another account 2-of-2: a device key and a phone key", result)
    try:
        guarded.send("transfer", kinds.transfer(to=story.addr("dave"), asset=NATIVE, amount=1))
        raise RuntimeError("a single-key tx of a 2-of-2 account was accepted")
    except RpcError as exc:
        story.tell("dave", f"a tx signed by the device key alone is refused: {reason(exc)}")
        ids["two_of_two_single_key_refused"] = reason(exc)
    both = Wallet(device_key, guarded.client, account=guarded.sender, cosigners=[phone])
    story.record("dave", "signed by both keys it goes through", both.send(
        "transfer", kinds.transfer(to=story.addr("dave"), asset=NATIVE, amount=1)))
    ids["two_of_two_account"] = guarded.address
    _recovery(story, rotated)


def _recovery(story: Any, lost: Wallet) -> None:
    """The rotated account names carol and grace as guardians, 'loses' its key, and they recover it."""
    ids = story.outcome.ids
    carol, grace = story.addr("carol"), story.addr("grace")
    story.record("dave", "names carol and grace as the account's guardians, 2 of 2, veto delay 2 s", lost.send(
        "account_set_guardians", kinds.account_set_guardians(guardians=[carol, grace], threshold=2,
                                                              delay_ms=RECOVERY_DELAY_MS)))
    replacement = PrivateKey.generate()
    started = story.act("carol", "the key is lost: starts a recovery to the owner's new key", "recovery_start",
                        kinds.recovery_start(account=lost.address, new_key=replacement.public_key))
    recovery = started.event("recovery_started")["recovery"]
    story.act("grace", f"approves recovery {recovery}; the owner's old key could veto for 2 s", "recovery_approve",
              kinds.recovery_approve(account=lost.address, recovery=recovery, new_key=replacement.public_key))
    body = kinds.recovery_finish(account=lost.address, recovery=recovery)
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    while True:  # the delay runs in block time: ask the node until a block may pass it
        verdict = story.cast["carol"].estimate("recovery_finish", body)
        if verdict.get("ok") or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    story.act("carol", "after the delay, finishes it: the new key alone signs for the account", "recovery_finish",
              body)
    recovered = Wallet(replacement, lost.client, account=lost.sender)
    story.record("dave", "the owner signs with the recovered key", recovered.send(
        "transfer", kinds.transfer(to=story.addr("dave"), asset=NATIVE, amount=1)))
    ids["recovered_account"] = lost.address
