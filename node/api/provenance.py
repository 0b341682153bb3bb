"""record_* and cert_* methods: trace an item's provenance and verify its certificate.

Everything here is read from market state, which holds each record's full
history and each certificate's ownership chain; the query index only adds
the certificates that name a record.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.jsonable import to_json
from marketnode.market import keys, store
from marketnode.node.api.proofs import PROOF_PARAM, state_proof
from marketnode.node.api.views import PAGE_MAX, addr, certificate_json, page_json, query_conn, record_entry_json
from marketnode.node.boundary import NodeApi
from marketnode.node.queries import search
from marketnode.node.rpc.errors import INDEX_UNAVAILABLE, RESOURCE_NOT_FOUND, invalid_params, not_found
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result

MAX_CERTS_PER_FINGERPRINT = 50
RECORD_PARAM = Param("record", "string", "Provenance record id.", max_length=64)


def _record(reader: Any, record_id: str) -> dict[str, Any]:
    if not record_id:
        raise invalid_params("record id is empty", "record")
    record = store.load(reader, keys.record(record_id))
    if record is None:
        raise not_found(f"record {record_id!r}")
    return record


def _proposals(reader: Any, record_id: str) -> list[dict[str, Any]]:
    prefix = keys.proposal(record_id)
    out = []
    for key, raw in reader.iterate(prefix):
        tail = key[len(prefix):]
        receiver, role = tail[:32], tail[33:33 + tail[32]].decode()
        proposal = store.load(reader, key)
        assert raw is not None and proposal is not None
        out.append({"receiver": addr(receiver), "role": role, "issuer": addr(proposal["issuer"]),
                    "terms": proposal["terms"], "time_ms": proposal["time_ms"]})
    return out


def register(registry: Registry) -> None:
    @registry.method(
        "record_get",
        summary="A provenance record: type, attributes, producer, owner, custodian, reporters, open proposals, "
                "linked certificates.",
        params=[RECORD_PARAM],
        result=Result("record", "The record.", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND, INDEX_UNAVAILABLE),
        tags=("provenance",),
    )
    async def record_get(ctx: CallContext[NodeApi], record: str) -> dict[str, Any]:
        reader = ctx.node.store.state_reader()
        found = _record(reader, record)
        out = to_json(found)
        out.update(id=record, producer=addr(found["producer"]), owner=addr(found["owner"]),
                   custodian=addr(found["custodian"]), reporters=[addr(r) for r in found["reporters"]])
        out["proposals"] = _proposals(reader, record)
        out["certificates"] = search.certificates_of_record(query_conn(ctx.node), record)
        return out

    @registry.method(
        "record_history",
        summary="The record's full trace in order: creation, every report, every change of owner, custodian or "
                "reporters, finalization.",
        params=[RECORD_PARAM,
                Param("limit", "integer", "Entries per page (default 100).", required=False, default=100, minimum=1,
                      maximum=10 * PAGE_MAX),
                Param("cursor", "string", "next_cursor of the previous page.", required=False, max_length=20)],
        result=Result("page", "{items: [{seq, event, by, time_ms, ...details}], next_cursor}", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND,),
        tags=("provenance",),
    )
    async def record_history(ctx: CallContext[NodeApi], record: str, limit: int, cursor: str | None = None) -> dict[str, Any]:
        reader = ctx.node.store.state_reader()
        found = _record(reader, record)
        if cursor is not None and not (cursor.isdecimal() and len(cursor) <= 19):
            raise invalid_params(f"cursor {cursor!r} is not one this query returned", "cursor")
        first = int(cursor) if cursor is not None else 0
        items: list[dict[str, Any]] = []
        for key, _ in reader.iterate(keys.record_history(record), keys.record_history(record, first)):
            if len(items) == limit:
                break
            seq = int.from_bytes(key[-8:], "big")
            items.append(record_entry_json(seq, store.load(reader, key)))
        last = first + len(items)
        return page_json(items, str(last) if last < found["history_len"] else None)

    @registry.method(
        "cert_get",
        summary="A certificate: fingerprint, issuer (and whether it is accredited), owner, ownership chain, "
                "linked record, revocation.",
        params=[Param("certificate", "integer", "Certificate id.", minimum=1), PROOF_PARAM],
        result=Result("certificate", "The certificate.", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND,),
        tags=("provenance",),
    )
    async def cert_get(ctx: CallContext[NodeApi], certificate: int, proof: bool) -> dict[str, Any]:
        reader = ctx.node.store.state_reader()
        cert = store.load(reader, keys.certificate(certificate))
        if cert is None:
            raise not_found(f"certificate {certificate}")
        out = certificate_json(reader, certificate, cert)
        if proof:
            out["proof"] = state_proof(ctx.node, [keys.certificate(certificate)]).to_json()
        return out

    @registry.method(
        "cert_verify",
        summary="Verify by certificate id or by item fingerprint: issuer, accredited?, ownership chain, revoked?",
        description="`valid` is true when some certificate for the item was issued by an account that holds the "
                    "certifier role now and has not been revoked. By fingerprint, an item nobody certified gives "
                    "`valid: false` and no certificates; an unknown certificate id is -32001.",
        params=[Param("certificate", "integer", "Certificate id.", required=False, minimum=1),
                Param("fingerprint", "hash", "Item fingerprint (sha256 hex).", required=False)],
        result=Result("verification", "{valid, fingerprint, certificates: [certificate]}", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND,),
        tags=("provenance",),
    )
    async def cert_verify(ctx: CallContext[NodeApi], certificate: int | None = None,
                          fingerprint: bytes | None = None) -> dict[str, Any]:
        if (certificate is None) == (fingerprint is None):
            raise invalid_params("cert_verify takes exactly one of certificate, fingerprint",
                                 "certificate" if certificate is None else "fingerprint")
        reader = ctx.node.store.state_reader()
        if certificate is not None:
            cert = store.load(reader, keys.certificate(certificate))
            if cert is None:
                raise not_found(f"certificate {certificate}")
            certs = [certificate_json(reader, certificate, cert)]
            fingerprint = cert["fingerprint"]
        else:
            assert fingerprint is not None
            certs = []
            for key, _ in reader.iterate(keys.certs_by_fingerprint(fingerprint)):
                cert_id = int.from_bytes(key[-8:], "big")
                certs.append(certificate_json(reader, cert_id, store.load(reader, keys.certificate(cert_id))))
                if len(certs) >= MAX_CERTS_PER_FINGERPRINT:
                    break
        return {"valid": any(c["valid"] for c in certs), "fingerprint": fingerprint.hex(), "certificates": certs}
