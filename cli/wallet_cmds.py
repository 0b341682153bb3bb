"""`marketnode wallet new|address|export|import|balance|faucet`, `marketnode register` and `marketnode transfer`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from marketnode.cli.wallet_common import (
    KEYSTORE_ENV,
    Session,
    default_keystore,
    fields,
    load_signing_key,
    node_command,
    own_address,
    reported_errors,
    table,
)
from marketnode.core.keys import PrivateKey
from marketnode.wallet import builders, kinds
from marketnode.wallet.keystore import passphrase_from_env, save_keystore


@click.group()
def wallet() -> None:
    """Your key: create an encrypted keystore, show its address and balances.

    \b
    marketnode wallet new                         # asks for a passphrase
    marketnode wallet new --from-key-file testnet/accounts/alice.key --keystore alice.json
    marketnode wallet address
    marketnode wallet balance                     # your account on the local node
    marketnode wallet balance mn1... --rpc http://127.0.0.1:26601/
    marketnode wallet faucet                      # testnet only: free MKT

    The keystore is argon2id + XSalsa20-Poly1305, mode 0600; the passphrase
    comes from a prompt or MARKETNODE_PASSPHRASE. Every command that signs
    also takes --key-file PATH (a plain hex seed, as testnet demo accounts are).
    """


KEYSTORE_OPTION = click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), default=None,
                               help=f"Keystore file (default: ${KEYSTORE_ENV} or ~/.marketnode/keystore.json).")


@wallet.command("new")
@KEYSTORE_OPTION
@click.option("--from-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Seal this existing hex seed instead of a fresh key.")
@click.option("--force", is_flag=True, help="Overwrite an existing keystore (its key is lost unless backed up).")
def new_cmd(keystore: Path | None, from_key_file: Path | None, force: bool) -> None:
    """Create a key and store it encrypted under a passphrase; print its address."""
    path = keystore or default_keystore()
    with reported_errors(False):
        key = PrivateKey.load(from_key_file) if from_key_file else PrivateKey.generate()
        passphrase = passphrase_from_env() or click.prompt("new passphrase", hide_input=True,
                                                           confirmation_prompt=True)
        save_keystore(path, key, passphrase, overwrite=force)
    click.echo(f"address:  {key.address}")
    click.echo(f"keystore: {path}  (mode 0600; keep a backup and the passphrase)")
    click.echo("next: get funds (testnet: `marketnode wallet faucet`), then `marketnode register NAME`")


@wallet.command("address")
@KEYSTORE_OPTION
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A plain hex seed file instead of the keystore.")
def address_cmd(keystore: Path | None, key_file: Path | None) -> None:
    """Print the address of the keystore (no passphrase needed) or key file."""
    with reported_errors(False):
        address = own_address(keystore, key_file)
    click.echo(address)


KEYFILE_PASSPHRASE_ENV = "MARKETNODE_KEYFILE_PASSPHRASE"


@wallet.command("export")
@KEYSTORE_OPTION
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The key file to write (mode 0600), for the browser wallet's 'Import a key file'.")
def export_cmd(keystore: Path | None, out: Path) -> None:
    """Write your key as a key file the browser wallet can import, after the keystore's passphrase.

    The key file is sealed under a passphrase of its own (asked twice, or $MARKETNODE_KEYFILE_PASSPHRASE),
    with PBKDF2 and HMAC-SHA256, which browsers have (docs/WALLET.md).

    \b
    marketnode wallet export --out alice-keyfile.json
    """
    from marketnode.wallet.webkeystore import write_keyfile

    with reported_errors(False):
        key = load_signing_key(keystore, None)
        passphrase = os.environ.get(KEYFILE_PASSPHRASE_ENV) or click.prompt(
            "passphrase for the key file", hide_input=True, confirmation_prompt=True)
        write_keyfile(out, key, passphrase)
    click.echo(f"wrote {out} for {key.address} (mode 0600); import it on the web wallet page with its passphrase")


@wallet.command("import")
@click.argument("keyfile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@KEYSTORE_OPTION
@click.option("--force", is_flag=True, help="Overwrite an existing keystore (its key is lost unless backed up).")
def import_cmd(keyfile: Path, keystore: Path | None, force: bool) -> None:
    """Store the key of KEYFILE (exported by the browser wallet or `wallet export`) in your keystore.

    \b
    marketnode wallet import marketnode-key.json --keystore alice.json
    """
    from marketnode.wallet.webkeystore import open_keyfile, read_keyfile

    path = keystore or default_keystore()
    with reported_errors(False):
        doc = read_keyfile(keyfile)
        secret = os.environ.get(KEYFILE_PASSPHRASE_ENV) or click.prompt(
            f"passphrase of the key file for {doc.get('address')}", hide_input=True)
        key = open_keyfile(doc, secret)
        passphrase = passphrase_from_env() or click.prompt("new keystore passphrase", hide_input=True,
                                                           confirmation_prompt=True)
        save_keystore(path, key, passphrase, overwrite=force)
    click.echo(f"address:  {key.address}")
    click.echo(f"keystore: {path}  (mode 0600)")


@node_command(wallet, "balance", signs=True)
@click.argument("address", required=False)
def balance_cmd(session: Session, address: str | None) -> None:
    """Balances, nonce, registration, roles and KYC of ADDRESS (default: your own account).

    Amounts are shown in units of each asset (USDX has 2 decimals: 1250 is 12.50 USDX).
    """
    target = address or session.wallet.address
    account = session.call("account_get", address=target)

    def human() -> None:
        kyc = account.get("kyc") or {}
        profile = account.get("profile") or {}
        fields([
            ("address", account["address"]),
            ("registered", f"yes, as {profile.get('name')!r}" if account["registered"] else "no"),
            ("nonce", account["nonce"]),
            ("roles", account.get("roles")),
            ("kyc level", kyc.get("level", 0)),
        ])
        rows = [{"asset": asset, "balance": session.amount(amount, asset)}
                for asset, amount in sorted(account["balances"].items())]
        click.echo("")
        table(rows, [("asset", lambda r: r["asset"]), ("balance", lambda r: r["balance"])], empty="no balances")

    session.show(account, human)


@node_command(wallet, "faucet")
@click.argument("address", required=False)
@KEYSTORE_OPTION
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Fund this key file's address.")
@click.option("--asset", default=None, help="Asset (default: the native MKT).")
@click.option("--amount", default=None, help="In units of the asset (default: the faucet's default).")
def faucet_cmd(session: Session, address: str | None, keystore: Path | None, key_file: Path | None,
               asset: str | None, amount: str | None) -> None:
    """Testnet only: get funds from the node's faucet for ADDRESS (default: your keystore's address)."""
    if address is None:
        address = own_address(keystore, key_file)
    asset = session.assets.resolve(asset) if asset else None
    units = session.assets.parse(amount, asset or "MKT", low=1) if amount else None
    sent = session.call("dev_faucet", address=address, asset=asset, amount=units, wait="commit")
    session.show(sent, lambda: click.echo(
        f"faucet sent {session.amount(sent['amount'], sent['asset'])} to {address}"
        + (f" in block {sent['height']}" if sent.get("height") else "")))


@node_command(None, "register", signs=True)
@click.argument("name")
@click.option("--email", default=None, help="Private: only a salted hash of it goes on chain.")
@click.option("--legal-name", default=None, help="Private: only a salted hash of it goes on chain.")
@click.option("--inviter", default=None, metavar="ADDRESS", help="The registered account that invited you "
              "(it earns the referral reward on your first completed purchase).")
def register_cmd(session: Session, name: str, email: str | None, legal_name: str | None,
                 inviter: str | None) -> None:
    """Register your account under a display NAME (once).

    Private data (--email, --legal-name) never goes on chain: the chain keeps
    sha256(salt ‖ data). The salt is printed: keep it to prove the data later.

    \b
    marketnode register "Alice's Roastery" --email alice@example.org --key-file testnet/accounts/alice.key
    """
    private = {k: v for k, v in (("email", email), ("legal_name", legal_name)) if v}
    body, salt = builders.register(name, private, inviter=inviter)
    session.send("register", body, lambda r: f"registered as {name!r}; commitment salt {salt.hex()}"
                 " (keep it to prove your private data)", extra={"salt": salt.hex(), "private_fields": sorted(private)})


@node_command(None, "transfer", signs=True)
@click.argument("to", metavar="TO_ADDRESS")
@click.argument("amount")
@click.argument("asset")
@click.option("--memo", default=None, help="Free text, public.")
def transfer_cmd(session: Session, to: str, amount: str, asset: str, memo: str | None) -> None:
    """Send AMOUNT of ASSET (in units, like 12.50) to TO_ADDRESS.

    \b
    marketnode transfer mn1... 100 MKT --key-file testnet/accounts/alice.key
    marketnode transfer mn1... 12.50 USDX --memo "for the vase"
    """
    asset = session.assets.resolve(asset)
    units = session.assets.parse(amount, asset, low=1)
    body = kinds.transfer(to=to, asset=asset, amount=units, memo=memo)
    session.send("transfer", body, lambda r: f"sent {session.amount(units, asset)} to {to}")


COMMANDS = (wallet, register_cmd, transfer_cmd)
