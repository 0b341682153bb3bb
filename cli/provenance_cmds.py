"""`marketnode record ...`, `marketnode cert ...` and `marketnode tx ...`: trace items, verify certificates and txs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from marketnode.cli.wallet_common import Session, fields, node_command, short, table, when
from marketnode.wallet import builders, kinds
from marketnode.wallet.account import TxResult, verify_final

RECORD_ROLES = kinds.KINDS["record_propose"].field("role").choices
ANSWERS = kinds.KINDS["record_answer"].field("response").choices
ANSWERED = {"accept": "accepted", "reject": "rejected", "cancel": "cancelled"}

# --- provenance records ----------------------------------------------------------------------------


@click.group()
def record() -> None:
    """Provenance records: an item's producer, owner, custodian, reporters and full history.

    \b
    marketnode record create lot-42 --type coffee-batch --attr origin=Huila --attr kg=60 \\
        --key-file testnet/accounts/alice.key
    marketnode record report lot-42 location "Hamburg port" --key-file testnet/accounts/dave.key
    marketnode record propose lot-42 --to mn1... --role custodian --key-file testnet/accounts/alice.key
    marketnode record answer lot-42 --role custodian --response accept --key-file testnet/accounts/dave.key
    marketnode record history lot-42
    """


def _scalar(text: str) -> int | str:
    """An attribute or reported value: a whole number when it looks like one, else text."""
    return int(text) if text.isdecimal() and len(text) < 19 else text


@node_command(record, "create", signs=True)
@click.argument("record_id", metavar="RECORD")
@click.option("--type", "type_", required=True, help="Record type label, e.g. artwork, coffee-batch.")
@click.option("--attr", "attrs", multiple=True, metavar="KEY=VALUE", help="A fixed attribute (repeat for more).")
def record_create(session: Session, record_id: str, type_: str, attrs: Sequence[str]) -> None:
    """Register a product or batch as RECORD; you become its producer, owner and custodian."""
    attributes: dict[str, Any] = {}
    for item in attrs:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"--attr {item!r}: expected KEY=VALUE")
        attributes[key] = _scalar(value)
    session.send("record_create", kinds.record_create(record=record_id, type=type_, attributes=attributes),
                 lambda r: f"record {record_id} created")


@node_command(record, "report", signs=True)
@click.argument("record_id", metavar="RECORD")
@click.argument("prop", metavar="PROPERTY")
@click.argument("value")
def record_report(session: Session, record_id: str, prop: str, value: str) -> None:
    """Report that RECORD's PROPERTY is now VALUE (a reporter or the custodian): two arguments.

    \b
    marketnode record report lot-42 location "Port of Hamburg" --key-file testnet/accounts/dave.key
    marketnode record report lot-42 temperature_c 4 --key-file testnet/accounts/dave.key
    """
    session.send("record_report", kinds.record_report(record=record_id, property=prop, value=_scalar(value)),
                 lambda r: f"record {record_id}: {prop} = {value}")


@node_command(record, "propose", signs=True)
@click.argument("record_id", metavar="RECORD")
@click.option("--to", "receiver", required=True, metavar="ADDRESS")
@click.option("--role", type=click.Choice(RECORD_ROLES), required=True,
              help="owner and reporter are offered by the owner, custodian by the custodian.")
@click.option("--terms", default=None)
def record_propose(session: Session, record_id: str, receiver: str, role: str, terms: str | None) -> None:
    """Offer a role on RECORD to an account; it takes effect when they accept."""
    session.send("record_propose", kinds.record_propose(record=record_id, receiver=receiver, role=role, terms=terms),
                 lambda r: f"record {record_id}: {role} offered to {receiver}")


@node_command(record, "answer", signs=True)
@click.argument("record_id", metavar="RECORD")
@click.option("--role", type=click.Choice(RECORD_ROLES), required=True)
@click.option("--response", type=click.Choice(ANSWERS), required=True)
@click.option("--receiver", default=None, metavar="ADDRESS", help="To cancel your own proposal: whom it was for.")
def record_answer(session: Session, record_id: str, role: str, response: str, receiver: str | None) -> None:
    """Accept or reject a role offered to you on RECORD, or cancel one you offered."""
    session.send("record_answer", kinds.record_answer(record=record_id, role=role, response=response,
                                                      receiver=receiver),
                 lambda r: f"record {record_id}: {role} offer {ANSWERED[response]}")


@node_command(record, "finalize", signs=True)
@click.argument("record_id", metavar="RECORD")
def record_finalize(session: Session, record_id: str) -> None:
    """Close RECORD to further change (its owner, who must also be its custodian)."""
    session.send("record_finalize", kinds.record_finalize(record=record_id), lambda r: f"record {record_id} is final")


def history_rows(items: Sequence[dict[str, Any]]) -> None:
    """The trace of a record as a table: who did what, when."""
    skip = {"seq", "event", "by", "time_ms"}
    table(items, [
        ("#", lambda e: e["seq"]), ("event", lambda e: e["event"]), ("when", lambda e: when(e["time_ms"])),
        ("by", lambda e: short(e["by"])),
        ("details", lambda e: ", ".join(f"{k}={short(v) if k == 'account' else v}"
                                        for k, v in e.items() if k not in skip)),
    ], empty="no history")


@node_command(record, "history")
@click.argument("record_id", metavar="RECORD")
def record_history(session: Session, record_id: str) -> None:
    """RECORD's full trace: creation, reports, every change of owner, custodian or reporters."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = session.call("record_history", record=record_id, limit=1000, cursor=cursor)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    session.show({"record": record_id, "items": items}, lambda: history_rows(items))


@node_command(record, "show")
@click.argument("record_id", metavar="RECORD")
def record_show(session: Session, record_id: str) -> None:
    """RECORD now: type, attributes, producer, owner, custodian, reporters, open proposals."""
    found = session.call("record_get", record=record_id)
    session.show(found, lambda: fields([
        ("record", found["id"]), ("type", found["type"]), ("attributes", found.get("attributes")),
        ("producer", found["producer"]), ("owner", found["owner"]), ("custodian", found["custodian"]),
        ("reporters", found["reporters"]), ("final", found["final"]),
        ("proposals", [f"{p['role']} → {short(p['receiver'])}" for p in found.get("proposals", [])]),
        ("certificates", found.get("certificates")),
    ]))


# --- certificates ----------------------------------------------------------------------------------


@click.group()
def cert() -> None:
    """Authenticity certificates: a certifier vouches for an item's fingerprint.

    \b
    marketnode cert issue --file vase.jpg --owner mn1... --record lot-42 --key-file testnet/accounts/frank.key
    marketnode cert verify 3
    marketnode cert verify --file vase.jpg
    marketnode cert transfer 3 --to mn1... --key-file testnet/accounts/alice.key
    """


def _fingerprint(hex_text: str | None, file: Path | None) -> bytes | None:
    if file is not None:
        return hashlib.sha256(file.read_bytes()).digest()
    return None if hex_text is None else bytes.fromhex(hex_text)


FINGERPRINT_OPTIONS = (
    click.option("--fingerprint", "fingerprint_hex", default=None, metavar="SHA256", help="The item's fingerprint."),
    click.option("--file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                 help="Use sha256 of this file (e.g. the reference photo) as the fingerprint."),
)


def _with_fingerprint(fn: Any) -> Any:
    for option in reversed(FINGERPRINT_OPTIONS):
        fn = option(fn)
    return fn


@node_command(cert, "issue", signs=True)
@_with_fingerprint
@click.option("--owner", default=None, metavar="ADDRESS", help="First owner (default: you).")
@click.option("--record", default=None, help="Linked provenance record.")
@click.option("--document", default=None, help="The certificate text; only its hash goes on chain.")
def cert_issue(session: Session, fingerprint_hex: str | None, file: Path | None, owner: str | None,
               record: str | None, document: str | None) -> None:
    """Certify an item by its fingerprint (certifier role)."""
    fingerprint = _fingerprint(fingerprint_hex, file)
    if fingerprint is None:
        raise click.UsageError("give --fingerprint SHA256 or --file PATH")
    body = kinds.cert_issue(fingerprint=fingerprint, owner=owner, record=record,
                            metadata_hash=builders.text_hash(document) if document else None)
    session.send("cert_issue", body, lambda r: f"certificate {r.event('certificate_issued')['certificate']} issued")


@node_command(cert, "transfer", signs=True)
@click.argument("certificate", type=int)
@click.option("--to", required=True, metavar="ADDRESS")
def cert_transfer(session: Session, certificate: int, to: str) -> None:
    """Hand CERTIFICATE to a new owner (its owner only)."""
    session.send("cert_transfer", kinds.cert_transfer(certificate=certificate, to=to),
                 lambda r: f"certificate {certificate} now belongs to {to}")


@node_command(cert, "revoke", signs=True)
@click.argument("certificate", type=int)
@click.option("--reason", default=None)
def cert_revoke(session: Session, certificate: int, reason: str | None) -> None:
    """Revoke CERTIFICATE for good (its issuer only)."""
    session.send("cert_revoke", kinds.cert_revoke(certificate=certificate, reason=reason),
                 lambda r: f"certificate {certificate} revoked")


def cert_lines(found: dict[str, Any]) -> None:
    for c in found["certificates"]:
        fields([
            ("certificate", c["id"]), ("valid", c["valid"]), ("fingerprint", c["fingerprint"]),
            ("issuer", f"{c['issuer']}" + ("" if c["issuer_accredited"] else " (NOT an accredited certifier)")),
            ("owner", c["owner"]), ("record", c["record"]), ("issued", when(c["issued_ms"])),
            ("revoked", c["revoked"] and f"yes: {c['revoke_reason'] or 'no reason given'}"),
        ])
        table(c["ownership_chain"], [("from", lambda e: short(e["from"])), ("to", lambda e: short(e["to"])),
                                     ("when", lambda e: when(e["time_ms"]))])
        click.echo("")


@node_command(cert, "verify")
@click.argument("certificate", type=int, required=False)
@_with_fingerprint
def cert_verify(session: Session, certificate: int | None, fingerprint_hex: str | None, file: Path | None) -> None:
    """Is the item certified? By CERTIFICATE id, --fingerprint or --file. Exit status 3 when not valid."""
    fingerprint = _fingerprint(fingerprint_hex, file)
    if (certificate is None) == (fingerprint is None):
        raise click.UsageError("give a CERTIFICATE id, or --fingerprint / --file")
    found = session.call("cert_verify", certificate=certificate,
                         fingerprint=None if fingerprint is None else fingerprint.hex())

    def human() -> None:
        click.echo(("VALID" if found["valid"] else "NOT VALID") + f": fingerprint {found['fingerprint']}")
        if not found["certificates"]:
            click.echo("no certificate names this fingerprint")
        else:
            click.echo("")
            cert_lines(found)

    session.show(found, human)
    if not found["valid"]:
        raise SystemExit(3)


@node_command(cert, "show")
@click.argument("certificate", type=int)
def cert_show(session: Session, certificate: int) -> None:
    """One certificate with its ownership chain."""
    found = session.call("cert_get", certificate=certificate)
    session.show(found, lambda: cert_lines({"certificates": [found]}))


# --- txs -------------------------------------------------------------------------------------------


@click.group()
def tx() -> None:
    """Follow a tx, and check alone (trusting no node) that it is final.

    \b
    marketnode tx show 5f2c... --verify
    """


@node_command(tx, "show")
@click.argument("tx_hash", metavar="HASH")
@click.option("--verify", is_flag=True, help="Check the Merkle proof and the validators' commit certificate.")
def tx_show(session: Session, tx_hash: str, verify: bool) -> None:
    """Status, block, receipt and events of a tx."""
    status = session.call("tx_get", hash=tx_hash, proof=verify)
    result = TxResult.from_status((status.get("tx") or {}).get("kind", "?"), status) \
        if status["status"] != "unknown" else None
    verified = None
    if verify and status["status"] in ("committed", "failed"):
        verified = verify_final(session.client, status)

    def human() -> None:
        if result is None:
            click.echo(f"tx {tx_hash}: unknown to this node")
            return
        fields([("tx", result.hash), ("kind", result.kind), ("status", result.status), ("block", result.height),
                ("code", result.code or None), ("message", result.message or None),
                ("events", [e["kind"] for e in result.events]),
                ("proof", None if verified is None else f"verified: final in block {verified}")])

    session.show({**status, "verified_height": verified}, human)


COMMANDS = (record, cert, tx)
