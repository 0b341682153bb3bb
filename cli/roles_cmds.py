"""Commands of the marketplace's roles: KYC attesters (kyc), asset issuers (asset), arbiters (arbiter).

Each is an account holding a role granted at genesis or by governance; these
commands are what it sends, plus the public lists anyone may read. Each action
builds its body with wallet/ and sends it through ``Session.send``; amounts are
typed and shown in units.
"""

from __future__ import annotations

import click

from marketnode.cli.wallet_common import (
    DAY_MS,
    Session,
    head_time_ms,
    next_page_hint,
    node_command,
    page_options,
    short,
    table,
    when,
)
from marketnode.wallet import kinds
from marketnode.wallet.amounts import AssetBook

# --- kyc --------------------------------------------------------------------------------------


@click.group()
def kyc() -> None:
    """KYC attestations (sent by an account with the kyc_attester role).

    \b
    marketnode kyc attest mn1... --level 2 --days 365 --key-file testnet/accounts/erin.key
    marketnode kyc revoke mn1... --key-file testnet/accounts/erin.key
    """


@node_command(kyc, "attest", signs=True)
@click.argument("account", metavar="ADDRESS")
@click.option("--level", type=click.IntRange(1, 3), required=True, help="1 basic, 2 verified identity, 3 enhanced.")
@click.option("--days", type=click.IntRange(1, 36500), default=365, show_default=True,
              help="Valid for this many days of chain time.")
def kyc_attest(session: Session, account: str, level: int, days: int) -> None:
    """Attest ADDRESS's KYC LEVEL until DAYS from the chain's current time."""
    expires = head_time_ms(session) + days * DAY_MS
    session.send("kyc_attest", kinds.kyc_attest(account=account, level=level, expires_ms=expires),
                 lambda r: f"{account} has KYC level {level} until {when(expires)}")


@node_command(kyc, "revoke", signs=True)
@click.argument("account", metavar="ADDRESS")
def kyc_revoke(session: Session, account: str) -> None:
    """Remove ADDRESS's KYC attestation."""
    session.send("kyc_revoke", kinds.kyc_revoke(account=account), lambda r: f"{account}: attestation removed")


# --- assets -----------------------------------------------------------------------------------


@click.group()
def asset() -> None:
    """Assets: list them; issue and mint (asset_issuer role).

    \b
    marketnode asset list
    marketnode asset issue GOLD --name "Gold gram" --decimals 3 --key-file testnet/accounts/heidi.key
    marketnode asset mint GOLD mn1... 10.5 --key-file testnet/accounts/heidi.key
    """


@node_command(asset, "list")
@page_options(50)
def asset_list(session: Session, limit: int, cursor: str | None) -> None:
    """Every asset with its decimals, supply and issuer."""
    page = session.call("asset_list", limit=limit, cursor=cursor)

    def human() -> None:
        table(page["items"], [
            ("asset", lambda a: a["asset"]), ("name", lambda a: a["name"]), ("decimals", lambda a: a["decimals"]),
            ("supply", lambda a: session.amount(a["supply"], a["asset"])), ("issuer", lambda a: short(a["issuer"])),
        ])
        next_page_hint(page)

    session.show(page, human)


@node_command(asset, "issue", signs=True)
@click.argument("asset_id", metavar="ASSET")
@click.option("--name", required=True)
@click.option("--decimals", type=click.IntRange(0, 18), default=2, show_default=True)
@click.option("--max-supply", default=None, help="Cap, in units of the new asset (e.g. 1000000.000 with --decimals 3).")
def asset_issue(session: Session, asset_id: str, name: str, decimals: int, max_supply: str | None) -> None:
    """Create ASSET (you become its issuer)."""
    cap = AssetBook({asset_id: decimals}).parse(max_supply, asset_id, "max-supply", low=1) if max_supply else None
    session.send("asset_issue", kinds.asset_issue(asset=asset_id, name=name, decimals=decimals,
                                                  max_supply=cap), lambda r: f"asset {asset_id} created")


@node_command(asset, "mint", signs=True)
@click.argument("asset_id", metavar="ASSET")
@click.argument("to", metavar="TO_ADDRESS")
@click.argument("amount")
def asset_mint(session: Session, asset_id: str, to: str, amount: str) -> None:
    """Create AMOUNT (in units) of ASSET for TO_ADDRESS."""
    asset_id = session.assets.resolve(asset_id)
    units = session.assets.parse(amount, asset_id, low=1)
    session.send("asset_mint", kinds.asset_mint(asset=asset_id, to=to, amount=units),
                 lambda r: f"minted {session.amount(units, asset_id)} to {to}")


# --- arbiters -----------------------------------------------------------------------------------


@click.group()
def arbiter() -> None:
    """Arbiters settle disputed orders for a published fee.

    \b
    marketnode arbiter list
    marketnode arbiter register --fee-bps 200 --fee-fixed 0.50 --fee-asset USDX \\
        --description "EN/DE, art and crafts" --key-file testnet/accounts/grace.key
    marketnode arbiter update --inactive --key-file testnet/accounts/grace.key
    """


@node_command(arbiter, "list")
@click.option("--all", "include_inactive", is_flag=True, help="Also arbiters that take no new orders.")
@page_options(50)
def arbiter_list(session: Session, include_inactive: bool, limit: int, cursor: str | None) -> None:
    """Arbiters with their fees: a fixed part plus a share of the escrow.

    The chain keeps the fixed part as a count of the order's asset's smallest unit, so it is worth a
    different amount in each asset: the table shows it in each."""
    page = session.call("arbiter_list", include_inactive=include_inactive, limit=limit, cursor=cursor)

    def human() -> None:
        table(page["items"], [
            ("address", lambda a: a["address"]), ("active", lambda a: a["active"]),
            ("fee", lambda a: arbiter_fee_text(session, a["fee_fixed"], a["fee_bps"])),
            ("terms", lambda a: a["description"]),
        ])
        next_page_hint(page)

    session.show(page, human)


def arbiter_fee_text(session: Session, fee_fixed: int, fee_bps: int) -> str:
    """``0.50 USDX / 50 MKT + 2%``: the fixed part as it is worth in each asset, then the share."""
    fixed = " / ".join(session.amount(fee_fixed, asset) for asset in session.assets.assets()) or str(fee_fixed)
    return f"{fixed} + {fee_bps / 100:g}%"


FEE_FIXED_OPTIONS = (
    click.option("--fee-fixed", default=None, help="Fixed fee per dispute, in units of --fee-asset, e.g. 0.50."),
    click.option("--fee-asset", default=None, help="The asset --fee-fixed is written in (default: the native "
                 "MKT). The chain keeps the count of its smallest unit and charges that count in the order's asset."),
)


def _fee_fixed(session: Session, fee_fixed: str | None, fee_asset: str | None) -> int | None:
    if fee_fixed is None:
        return None
    return session.assets.parse(fee_fixed, session.assets.resolve(fee_asset or "MKT"), "fee-fixed")


@node_command(arbiter, "register", signs=True)
@FEE_FIXED_OPTIONS[0]
@FEE_FIXED_OPTIONS[1]
@click.option("--fee-bps", type=click.IntRange(0, 10_000), required=True, help="Share of the escrow, basis points.")
@click.option("--description", default="", help="Languages, expertise, terms.")
def arbiter_register(session: Session, fee_fixed: str | None, fee_asset: str | None, fee_bps: int,
                     description: str) -> None:
    """Offer arbitration (your account must be registered)."""
    units = _fee_fixed(session, fee_fixed, fee_asset) or 0
    session.send("arbiter_register", kinds.arbiter_register(fee_fixed=units, fee_bps=fee_bps,
                                                            description=description),
                 lambda r: f"{session.wallet.address} is an arbiter: {arbiter_fee_text(session, units, fee_bps)}")


@node_command(arbiter, "update", signs=True)
@FEE_FIXED_OPTIONS[0]
@FEE_FIXED_OPTIONS[1]
@click.option("--fee-bps", type=click.IntRange(0, 10_000), default=None)
@click.option("--description", default=None)
@click.option("--active/--inactive", default=None, help="Inactive: no new orders may name you.")
def arbiter_update(session: Session, fee_fixed: str | None, fee_asset: str | None, fee_bps: int | None,
                   description: str | None, active: bool | None) -> None:
    """Change your terms; options left out stay as they are."""
    session.send("arbiter_update", kinds.arbiter_update(fee_fixed=_fee_fixed(session, fee_fixed, fee_asset),
                                                        fee_bps=fee_bps, description=description, active=active))


COMMANDS = (kyc, asset, arbiter)
