"""Authenticity certificates: a certifier vouches for an item fingerprint.

Anyone can verify a certificate from state alone: its issuer holds the
certifier role, its ownership chain is the history under its key, and
``revoked`` says whether the issuer withdrew it.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, roles, store
from marketnode.market.codes import NOT_AUTHORIZED, NOT_FOUND, REVOKED, SELF_DEALING, fail, require
from marketnode.market.context import TxContext
from marketnode.market.state import StateReader


def certificate_of(state: StateReader, cert_id: int) -> dict[str, Any]:
    record = store.load_record(state, keys.certificate(cert_id))
    if record is None:
        fail(NOT_FOUND, f"no certificate {cert_id}")
    return record


def ownership_chain(state: StateReader, cert_id: int) -> list[dict[str, Any]]:
    """Every owner change from issue on, in order (queries and tests)."""
    return [store.load(state, key) for key, _ in state.iterate(keys.cert_history(cert_id))]


def _hand_over(tx: TxContext, cert_id: int, cert: dict[str, Any], new_owner: bytes) -> None:
    seq = cert["history_len"]
    previous = cert["owner"]
    if previous is not None:
        tx.state.delete(keys.certs_by_owner(previous, cert_id))
    cert.update(owner=new_owner, history_len=seq + 1)
    store.save(tx.state, keys.certificate(cert_id), cert)
    store.save(tx.state, keys.cert_history(cert_id, seq), {"from": previous, "time_ms": tx.now_ms, "to": new_owner})
    store.index_add(tx.state, keys.certs_by_owner(new_owner, cert_id))
    tx.emit("certificate_owner", certificate=cert_id, previous=previous, owner=new_owner)


def handle_issue(tx: TxContext, body: dict[str, Any]) -> None:
    state = tx.state
    roles.require_role(state, roles.CERTIFIER, tx.sender)
    if body["record"] is not None:
        require(state.get(keys.record(body["record"])) is not None, NOT_FOUND, "no such provenance record")
    cert_id = store.next_id(state, "certificate")
    cert = {"fingerprint": body["fingerprint"], "history_len": 0, "issued_ms": tx.now_ms, "issuer": tx.sender,
            "metadata_hash": body["metadata_hash"], "owner": None, "record": body["record"], "revoked": False,
            "revoke_reason": None}
    store.index_add(state, keys.certs_by_fingerprint(body["fingerprint"], cert_id))
    tx.emit("certificate_issued", certificate=cert_id, issuer=tx.sender, fingerprint=body["fingerprint"])
    _hand_over(tx, cert_id, cert, body["owner"] or tx.sender)


def handle_transfer(tx: TxContext, body: dict[str, Any]) -> None:
    cert = certificate_of(tx.state, body["certificate"])
    require(not cert["revoked"], REVOKED, "a revoked certificate cannot change hands")
    require(cert["owner"] == tx.sender, NOT_AUTHORIZED, "only the owner may transfer the certificate")
    require(body["to"] != tx.sender, SELF_DEALING, "the sender already owns it")
    _hand_over(tx, body["certificate"], cert, body["to"])


def handle_revoke(tx: TxContext, body: dict[str, Any]) -> None:
    cert = certificate_of(tx.state, body["certificate"])
    require(cert["issuer"] == tx.sender, NOT_AUTHORIZED, "only the issuer may revoke")
    require(not cert["revoked"], REVOKED, "already revoked")
    cert.update(revoked=True, revoke_reason=body["reason"])
    store.save(tx.state, keys.certificate(body["certificate"]), cert)
    tx.emit("certificate_revoked", certificate=body["certificate"], issuer=tx.sender)


HANDLERS = {"cert_issue": handle_issue, "cert_transfer": handle_transfer, "cert_revoke": handle_revoke}
