"""`marketnode account show ADDRESS [--verify]`: an account, and with --verify its state checked by the light client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from marketnode.cli.wallet_common import Session, fields, node_command, table
from marketnode.core.encoding import decode
from marketnode.core.errors import ValidationError
from marketnode.core.keys import pubkey_from_address
from marketnode.market import keys
from marketnode.wallet.client import RpcClient
from marketnode.wallet.light import LightClient, LightClientError


@click.group()
def account() -> None:
    """Any account's balances and nonce; --verify checks them against the validators' signatures.

    \b
    marketnode account show mn1...
    marketnode account show mn1... --verify --genesis-hash 5b1e...
    marketnode account show mn1... --verify --genesis testnet/genesis.json --cross-check http://127.0.0.1:26611/
    """


@node_command(account, "show")
@click.argument("address", metavar="ADDRESS")
@click.option("--verify", is_flag=True, help="Check nonce and balances by state proofs (trusting no node).")
@click.option("--genesis", "genesis_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The chain's genesis.json (default: the node's chain_getGenesis, checked against --genesis-hash).")
@click.option("--genesis-hash", default=None, metavar="HEX",
              help="The genesis hash you trust (got out of band). Without it the node's own genesis is trusted.")
@click.option("--cross-check", "cross_check", default=None, metavar="URL",
              help="Also ask this second node and refuse any difference.")
def account_show(session: Session, address: str, verify: bool, genesis_file: Path | None, genesis_hash: str | None,
                 cross_check: str | None) -> None:
    """Balances and next nonce of ADDRESS; with --verify, the height and "verified"."""
    found = session.call("account_get", address=address, proof=verify)
    verified: dict[str, Any] | None = None
    if verify:
        verified = _verify(session, found, genesis_file, genesis_hash, cross_check)

    def human() -> None:
        source = verified or found
        fields([("address", found["address"]), ("nonce", source["nonce"]),
                ("registered", "yes" if found["registered"] else "no"),
                ("state", None if verified is None else f"height {verified['height']}: verified"
                 + (" (and cross-checked)" if cross_check else "")),
                *([("trust", verified["trust"])] if verified and verified.get("trust") else [])])
        rows = [{"asset": a, "balance": session.amount(n, a)} for a, n in sorted(source["balances"].items())]
        click.echo("")
        table(rows, [("asset", lambda r: r["asset"]), ("balance", lambda r: r["balance"])], empty="no balances")

    session.show({**found, "verified": verified}, human)


def _verify(session: Session, found: dict[str, Any], genesis_file: Path | None, genesis_hash: str | None,
            cross_check: str | None) -> dict[str, Any]:
    served = session.call("chain_getGenesis")
    document = json.loads(genesis_file.read_text()) if genesis_file else served["genesis"]
    trust = None
    if genesis_hash is None:
        genesis_hash = served["hash"]
        trust = f"genesis {genesis_hash[:16]}… as this node serves it (pin it with --genesis-hash)"
    try:
        client = LightClient.from_genesis(document, genesis_hash)
        owner = pubkey_from_address(found["address"])
        state = client.verify_state(found["proof"], [keys.nonce(owner)])
        if cross_check:
            wanted = sorted(state.values)
            state = client.cross_check(session.client, RpcClient(cross_check), wanted)
    except (LightClientError, ValidationError) as exc:
        raise click.ClickException(f"NOT verified: {exc}") from None
    balances: dict[str, int] = {}
    prefix = keys.balance(owner)
    for key, value in state.values.items():
        if key.startswith(prefix) and value is not None:
            tail = key[len(prefix):]
            balances[tail[1:1 + tail[0]].decode()] = decode(value)
    nonce_value = state.values[keys.nonce(owner)]
    return {"height": state.height, "nonce": 0 if nonce_value is None else decode(nonce_value),
            "balances": balances, "trust": trust}


COMMANDS = (account,)
