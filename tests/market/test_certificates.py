"""cert_issue, cert_transfer, cert_revoke; verification from state alone."""

from __future__ import annotations

from market_harness import Chain

from marketnode.market import codes, keys, roles
from marketnode.market.certificates import certificate_of, ownership_chain
from marketnode.market.store import index_ids

FP = b"\xaa" * 32


def test_issue_transfer_and_verify(chain: Chain) -> None:
    receipt = chain.ok("certifier", "cert_issue", fingerprint=FP, owner=chain.acct("alice"), metadata_hash=bytes(32))
    cert_id = receipt.events[0].attrs["certificate"]
    chain.ok("alice", "cert_transfer", certificate=cert_id, to=chain.acct("bob"))
    cert = certificate_of(chain.state, cert_id)
    assert cert["owner"] == chain.acct("bob") and not cert["revoked"]
    assert roles.has_role(chain.state, roles.CERTIFIER, cert["issuer"])
    assert [(h["from"], h["to"]) for h in ownership_chain(chain.state, cert_id)] == [
        (None, chain.acct("alice")), (chain.acct("alice"), chain.acct("bob"))]
    assert index_ids(chain.state, keys.certs_by_fingerprint(FP)) == [cert_id]
    assert index_ids(chain.state, keys.certs_by_owner(chain.acct("bob"))) == [cert_id]
    assert index_ids(chain.state, keys.certs_by_owner(chain.acct("alice"))) == []


def test_issue_rejections(chain: Chain) -> None:
    chain.fails(codes.NOT_AUTHORIZED, "alice", "cert_issue", fingerprint=FP)
    chain.fails(codes.NOT_FOUND, "certifier", "cert_issue", fingerprint=FP, record="missing")
    chain.fails(codes.BAD_BODY, "certifier", "cert_issue", fingerprint=b"short")


def test_transfer_and_revoke_rejections(chain: Chain) -> None:
    cert_id = chain.ok("certifier", "cert_issue", fingerprint=FP).events[0].attrs["certificate"]
    chain.fails(codes.NOT_FOUND, "certifier", "cert_transfer", certificate=9, to=chain.acct("bob"))
    chain.fails(codes.NOT_AUTHORIZED, "bob", "cert_transfer", certificate=cert_id, to=chain.acct("bob"))
    chain.fails(codes.SELF_DEALING, "certifier", "cert_transfer", certificate=cert_id, to=chain.acct("certifier"))
    chain.fails(codes.NOT_AUTHORIZED, "bob", "cert_revoke", certificate=cert_id)
    chain.fails(codes.NOT_FOUND, "certifier", "cert_revoke", certificate=9)
    chain.ok("certifier", "cert_revoke", certificate=cert_id, reason="forgery")
    assert certificate_of(chain.state, cert_id)["revoked"]
    chain.fails(codes.REVOKED, "certifier", "cert_revoke", certificate=cert_id)
    chain.fails(codes.REVOKED, "certifier", "cert_transfer", certificate=cert_id, to=chain.acct("bob"))
