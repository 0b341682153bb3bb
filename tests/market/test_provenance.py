"""record_create/report/propose/answer/finalize (Sawtooth Supply Chain style)."""

from __future__ import annotations

from market_harness import Chain

from marketnode.market import codes, keys
from marketnode.market.provenance import history


def _record(chain: Chain, owner: str = "carol", record: str = "lot-1") -> str:
    chain.ok(owner, "record_create", record=record, type="coffee-batch", attributes={"origin": "Huila", "kg": 60})
    return record


def test_create_makes_producer_owner_custodian_and_reporter(chain: Chain) -> None:
    rid = _record(chain)
    record = chain.load(keys.record(rid))
    carol = chain.acct("carol")
    assert (record["owner"], record["custodian"], record["reporters"]) == (carol, carol, [carol])
    assert [e["event"] for e in history(chain.state, rid)] == ["created"]


def test_create_rejections(chain: Chain) -> None:
    rid = _record(chain)
    chain.fails(codes.ALREADY_EXISTS, "dave", "record_create", record=rid, type="x", attributes={})
    chain.fails(codes.BAD_BODY, "dave", "record_create", record="bad id!", type="x", attributes={})
    chain.fails(codes.BAD_BODY, "dave", "record_create", record="ok", type="x", attributes={"k": [1]})


def test_report_by_reporter_or_custodian(chain: Chain) -> None:
    rid = _record(chain)
    chain.ok("carol", "record_report", record=rid, property="temperature", value=18)
    chain.fails(codes.NOT_AUTHORIZED, "dave", "record_report", record=rid, property="location", value="x")
    chain.fails(codes.NOT_FOUND, "carol", "record_report", record="nope", property="location", value="x")
    entries = history(chain.state, rid)
    assert entries[-1]["property"] == "temperature" and entries[-1]["value"] == 18


def test_custody_handover_needs_acceptance(chain: Chain) -> None:
    rid = _record(chain)
    dave = chain.acct("dave")
    chain.ok("carol", "record_propose", record=rid, receiver=dave, role="custodian", terms="ship to port")
    chain.ok("dave", "record_answer", record=rid, role="custodian", response="accept")
    assert chain.load(keys.record(rid))["custodian"] == dave
    chain.ok("dave", "record_report", record=rid, property="location", value="Cartagena")
    assert chain.load(keys.proposal(rid, dave, "custodian")) is None


def test_reporter_rights_and_reject_and_cancel(chain: Chain) -> None:
    rid = _record(chain)
    dave, erin = chain.acct("dave"), chain.acct("erin")
    chain.ok("carol", "record_propose", record=rid, receiver=dave, role="reporter")
    chain.ok("dave", "record_answer", record=rid, role="reporter", response="accept")
    assert dave in chain.load(keys.record(rid))["reporters"]
    chain.ok("carol", "record_propose", record=rid, receiver=erin, role="owner")
    chain.ok("erin", "record_answer", record=rid, role="owner", response="reject")
    chain.ok("carol", "record_propose", record=rid, receiver=erin, role="owner")
    chain.fails(codes.NOT_AUTHORIZED, "dave", "record_answer", record=rid, role="owner", response="cancel",
                receiver=erin)
    chain.ok("carol", "record_answer", record=rid, role="owner", response="cancel", receiver=erin)
    assert chain.load(keys.record(rid))["owner"] == chain.acct("carol")


def test_propose_and_answer_rejections(chain: Chain) -> None:
    rid = _record(chain)
    dave, erin = chain.acct("dave"), chain.acct("erin")
    chain.fails(codes.NOT_AUTHORIZED, "dave", "record_propose", record=rid, receiver=erin, role="owner")
    chain.fails(codes.NOT_FOUND, "carol", "record_propose", record="nope", receiver=erin, role="owner")
    chain.fails(codes.SELF_DEALING, "carol", "record_propose", record=rid, receiver=chain.acct("carol"), role="owner")
    chain.ok("carol", "record_propose", record=rid, receiver=erin, role="reporter")
    chain.ok("erin", "record_answer", record=rid, role="reporter", response="accept")
    chain.fails(codes.ALREADY_EXISTS, "carol", "record_propose", record=rid, receiver=erin, role="reporter")
    chain.fails(codes.BAD_BODY, "carol", "record_propose", record=rid, receiver=dave, role="king")
    chain.ok("carol", "record_propose", record=rid, receiver=dave, role="owner")
    chain.fails(codes.ALREADY_EXISTS, "carol", "record_propose", record=rid, receiver=dave, role="owner")
    chain.fails(codes.NOT_FOUND, "erin", "record_answer", record=rid, role="owner", response="accept")
    chain.fails(codes.NOT_AUTHORIZED, "erin", "record_answer", record=rid, role="owner", response="accept",
                receiver=dave)
    # carol gives ownership to erin first: dave's offer from carol is now stale
    chain.ok("carol", "record_propose", record=rid, receiver=erin, role="owner")
    chain.ok("erin", "record_answer", record=rid, role="owner", response="accept")
    chain.fails(codes.PROPOSAL_STALE, "dave", "record_answer", record=rid, role="owner", response="accept")


def test_finalize_closes_the_record(chain: Chain) -> None:
    rid = _record(chain)
    chain.ok("carol", "record_propose", record=rid, receiver=chain.acct("dave"), role="custodian")
    chain.ok("dave", "record_answer", record=rid, role="custodian", response="accept")
    chain.fails(codes.NOT_AUTHORIZED, "carol", "record_finalize", record=rid)
    chain.fails(codes.NOT_FOUND, "carol", "record_finalize", record="nope")
    chain.ok("dave", "record_propose", record=rid, receiver=chain.acct("carol"), role="custodian")
    chain.ok("carol", "record_answer", record=rid, role="custodian", response="accept")
    chain.ok("carol", "record_propose", record=rid, receiver=chain.acct("erin"), role="reporter")
    chain.ok("carol", "record_finalize", record=rid)
    chain.fails(codes.RECORD_FINAL, "erin", "record_answer", record=rid, role="reporter", response="accept")
    chain.ok("erin", "record_answer", record=rid, role="reporter", response="reject")  # clearing up is allowed
    chain.fails(codes.RECORD_FINAL, "carol", "record_report", record=rid, property="x", value=1)
    chain.fails(codes.RECORD_FINAL, "carol", "record_propose", record=rid, receiver=chain.acct("dave"), role="owner")
    chain.fails(codes.RECORD_FINAL, "carol", "record_finalize", record=rid)
    assert history(chain.state, rid)[-1]["event"] == "finalized"
