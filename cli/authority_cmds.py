"""`marketnode account keys|rotate|set-keys|guardians|recover|cosign`: accounts that survive a lost or stolen key.

Thin over wallet/: the rules are market/authority.py and market/recovery.py,
the walk-through is docs/WALLET.md. Attaches to the `account` group.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from marketnode.cli.account_cmds import account
from marketnode.cli.wallet_common import Session, fields, load_key_file, node_command, reported_errors, table, when
from marketnode.core.keys import PrivateKey, address_from_pubkey, pubkey_from_address
from marketnode.wallet import kinds
from marketnode.wallet.builders import cosign_raw

KEY_FILE = click.Path(dir_okay=False, path_type=Path)
_DURATION = re.compile(r"\A(\d+)(ms|s|m|h|d)?\Z")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text: str) -> int:
    """``90s``, ``10m``, ``3d`` or plain milliseconds."""
    found = _DURATION.match(text.strip())
    if found is None:
        raise click.BadParameter(f"{text!r}: give a number with ms, s, m, h or d, e.g. 3d")
    return int(found.group(1)) * _UNIT_MS[found.group(2) or "ms"]


def key_of(text: str) -> bytes:
    """A public key from an mn1 address (``marketnode wallet address`` prints a key's) or 64 hex characters."""
    if text.startswith("mn1"):
        return pubkey_from_address(text)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise click.BadParameter(f"{text!r}: expected an mn1... address or a 32-byte hex public key")
    return raw


@node_command(account, "keys")
@click.argument("address", metavar="ADDRESS")
def keys_cmd(session: Session, address: str) -> None:
    """Which keys sign for ADDRESS, how many a tx needs, its guardians and any pending recovery."""
    found = session.call("account_getAuthority", address=address)

    def human() -> None:
        policy = "every tx" if found["kinds"] is None and found["above"] is None else ", ".join(
            [*(found["kinds"] or []), *([f"moving more than {session.amount(found['above'], session.native_asset)}"]
                                        if found["above"] is not None else [])]) or "only key changes"
        guard = found["guardians"]
        fields([("address", found["address"]),
                ("key set", "the address key alone (never changed)" if found["default"] else
                 f"version {found['version']}"),
                ("threshold", f"{found['threshold']} of {len(found['keys'])} keys for: {policy}"),
                ("guardians", "none" if guard is None else
                 f"{guard['threshold']} of {len(guard['guardians'])}, veto delay {guard['delay_ms'] // 1000} s")])
        click.echo("")
        table(found["keys"], [("key", lambda k: k["address"]), ("public key", lambda k: k["public_key"])])
        if guard is not None:
            click.echo("")
            table([{"guardian": g} for g in guard["guardians"]], [("guardian", lambda r: r["guardian"])])
        pending = found["recovery"]
        if pending is not None:
            click.echo("")
            fields([("recovery", f"#{pending['id']} {pending['state']} to key "
                                 f"{address_from_pubkey(bytes.fromhex(pending['new_key']))}"),
                    ("approvals", f"{len(pending['approvals'])}: " + ", ".join(pending["approvals"])),
                    ("deadline", when(pending["ready_ms"] or pending["approve_by_ms"]) +
                     (" (finishable from then; veto before)" if pending["ready_ms"] else " (approvals close)"))])

    session.show(found, human)


@node_command(account, "rotate", signs=True)
@click.option("--new-key-file", type=KEY_FILE, required=True, help="The new key (it signs too: proof you hold it).")
@click.option("--old-key", default=None, metavar="ADDRESS", help="The key to replace (default: the signing key).")
def rotate_cmd(session: Session, new_key_file: Path, old_key: str | None) -> None:
    """Replace a key of your account; address, balances, shop and reputation stay.

    \b
    marketnode account rotate --new-key-file new.key --key-file testnet/accounts/alice.key
    then sign with: --key-file new.key --account <alice's address>
    """
    new = load_key_file(new_key_file)
    old = key_of(old_key) if old_key else session.wallet.key.public_key
    body = kinds.account_rotate(new_key=new.public_key, old_key=old)
    address = session.wallet.address
    session.send("account_rotate", body, lambda r: f"{address} now signs with {new.address} in place of "
                 f"{address_from_pubkey(old)}\nfrom now on: --key-file {new_key_file} --account {address}",
                 signers=(new,))


@node_command(account, "set-keys", signs=True)
@click.option("--member", "members", multiple=True, required=True, metavar="ADDRESS",
              help="A key of the new set, as its mn1 address (repeat: e.g. your device key and your phone key).")
@click.option("--threshold", type=click.IntRange(1, 16), required=True, help="How many keys a guarded tx needs.")
@click.option("--kinds", "kind_list", default=None, metavar="KIND,...",
              help="Only these tx kinds need the threshold (e.g. transfer,shop_update). Default: all.")
@click.option("--above", default=None, metavar="AMOUNT",
              help="Only moving more than AMOUNT of the native asset (or any other asset) needs the threshold.")
@click.option("--new-key-file", "new_key_files", type=KEY_FILE, multiple=True,
              help="The key file of each member not yet in the set (it signs: proof you hold it).")
def set_keys_cmd(session: Session, members: tuple[str, ...], threshold: int, kind_list: str | None,
                 above: str | None, new_key_files: tuple[Path, ...]) -> None:
    """Make your account multi-key: k of these keys sign (the chain's 2FA).

    \b
    marketnode account set-keys --member mn1... --member mn1... --threshold 2 \\
        --new-key-file phone.key --key-file device.key  # members: the device key and the phone key
    """
    kinds_named = None if kind_list is None else [k.strip() for k in kind_list.split(",") if k.strip()]
    limit = None if above is None else session.assets.parse(above, session.native_asset, "above")
    body = kinds.account_set_authority(keys=[key_of(m) for m in members], threshold=threshold, kinds=kinds_named,
                                       above=limit)
    session.send("account_set_authority", body,
                 lambda r: f"{session.wallet.address}: {threshold} of {len(members)} keys now sign "
                           f"(sign with --key-file and --cosign KEY_FILE)",
                 signers=tuple(load_key_file(p) for p in new_key_files))


@node_command(account, "guardians", signs=True)
@click.option("--guardian", "guardians", multiple=True, metavar="ADDRESS",
              help="A guardian account (repeat). None at all: remove the guardians.")
@click.option("--threshold", type=click.IntRange(0, 64), default=None, help="Approvals a recovery needs (default: "
              "a majority).")
@click.option("--delay", default="3d", show_default=True, help="Veto time after the last approval (90s, 10m, 3d).")
def guardians_cmd(session: Session, guardians: tuple[str, ...], threshold: int | None, delay: str) -> None:
    """Name the accounts that can recover yours to a new key after a delay you can veto.

    \b
    marketnode account guardians --guardian mn1... --guardian mn1... --guardian mn1... --delay 3d
    """
    count = len(guardians)
    need = threshold if threshold is not None else (count // 2 + 1 if count else 0)
    body = kinds.account_set_guardians(guardians=list(guardians), threshold=need, delay_ms=duration_ms(delay))
    session.send("account_set_guardians", body,
                 lambda r: f"{need} of {count} guardians can recover this account" if count else "guardians removed")


@account.group("recover")
def recover() -> None:
    """Guardian recovery: start, approve, veto, finish.

    \b
    marketnode account recover start mn1... mn1... --key-file bob.key  # a guardian: account, new key
    marketnode account recover approve mn1... 1 mn1... --key-file carol.key  # another guardian
    marketnode account recover veto 1 --key-file alice.key  # the owner, during the delay
    marketnode account recover finish mn1... 1 --key-file erin.key  # anyone, after it
    """


@node_command(recover, "start", signs=True)
@click.argument("address", metavar="ACCOUNT")
@click.argument("new_key", metavar="NEW_KEY")
def recover_start(session: Session, address: str, new_key: str) -> None:
    """As a guardian, propose moving ACCOUNT to NEW_KEY (its mn1 address) and approve it."""
    body = kinds.recovery_start(account=address, new_key=key_of(new_key))
    session.send("recovery_start", body, lambda r: _started(address, new_key, r.event("recovery_started")))


def _started(address: str, new_key: str, event: dict[str, Any]) -> str:
    return f"recovery {event['recovery']} started; other guardians approve with: marketnode account recover " \
           f"approve {address} {event['recovery']} {new_key}"


@node_command(recover, "approve", signs=True)
@click.argument("address", metavar="ACCOUNT")
@click.argument("recovery_id", metavar="ID", type=int)
@click.argument("new_key", metavar="NEW_KEY")
def recover_approve(session: Session, address: str, recovery_id: int, new_key: str) -> None:
    """As a guardian, approve recovery ID of ACCOUNT to NEW_KEY (must match what was started)."""
    body = kinds.recovery_approve(account=address, recovery=recovery_id, new_key=key_of(new_key))
    session.send("recovery_approve", body, lambda r: f"approved recovery {recovery_id}")


@node_command(recover, "veto", signs=True)
@click.argument("recovery_id", metavar="ID", type=int)
def recover_veto(session: Session, recovery_id: int) -> None:
    """As the account's owner, stop recovery ID (needs your full threshold of keys)."""
    session.send("recovery_veto", kinds.recovery_veto(recovery=recovery_id), lambda r: f"vetoed recovery {recovery_id}")


@node_command(recover, "finish", signs=True)
@click.argument("address", metavar="ACCOUNT")
@click.argument("recovery_id", metavar="ID", type=int)
def recover_finish(session: Session, address: str, recovery_id: int) -> None:
    """After the delay, install the new key (anyone may send this)."""
    session.send("recovery_finish", kinds.recovery_finish(account=address, recovery=recovery_id),
                 lambda r: f"{address} recovered: sign with the new key and --account {address}")


@account.command("new-key")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
def new_key_cmd(path: Path) -> None:
    """Write a fresh key to FILE (a hex seed, mode 0600) for a rotation or a second device; print its address.

    
    marketnode account new-key phone.key
    """
    if path.exists():
        raise click.UsageError(f"{path} exists: a key file is never overwritten")
    key = PrivateKey.generate()
    key.save(path)
    click.echo(key.address)


@account.command("cosign")
@click.argument("tx_hex", metavar="TX_HEX")
@click.option("--key-file", type=KEY_FILE, required=True, help="The key that adds its signature.")
def cosign_cmd(tx_hex: str, key_file: Path) -> None:
    """Add a signature to a signed tx (hex) on a second device, offline; prints the tx to send.

    \b
    marketnode account cosign 87a4626f... --key-file phone.key
    """
    with reported_errors(False):
        click.echo(cosign_raw(tx_hex.strip(), load_key_file(key_file)))
