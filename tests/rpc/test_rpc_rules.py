"""The pure pieces behind the RPC's limits and access rules, as tables: who a client is, slots, the log, headers."""

from __future__ import annotations

import logging

import pytest

from marketnode.node.rpc.access import AccessPolicy, content_type_problem, same_origin
from marketnode.node.rpc.clients import ClientSlots, client_key
from marketnode.node.rpc.faultlog import ClientFaultLog


@pytest.mark.parametrize("remote, key", [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same /64: the same client
    ("::ffff:192.0.2.7", "192.0.2.7"),
    (None, "?"),
    ("", "?"),
])
def test_client_key(remote, key):
    assert client_key(remote) == key


def test_slots_refuse_at_the_per_client_cap_then_at_the_global_cap_and_come_back():
    slots = ClientSlots("things", total=3, per_client=2)
    assert slots.take("a") is None and slots.take("a") is None
    refused = slots.take("a")
    assert refused is not None and refused.per_client and refused.http_status == 429
    assert slots.take("b") is None
    refused = slots.take("c")
    assert refused is not None and not refused.per_client and refused.http_status == 503
    slots.give_back("a")
    assert slots.take("c") is None and slots.of("a") == 1 and slots.held == 3
    for client in ("a", "b", "c"):
        slots.give_back(client)
    assert slots.held == 0 and slots._by_client == {}  # nobody holding: nothing remembered


def test_fault_log_writes_one_line_per_kind_per_interval_and_counts_the_rest(caplog):
    now = [0.0]
    faults = ClientFaultLog(logging.getLogger("test.faults"), interval_s=10, clock=lambda: now[0])
    caplog.set_level(logging.INFO, "test.faults")
    for _ in range(50):
        faults.note("body_lost", "192.0.2.7", "lost")
    faults.note("body_timeout", "192.0.2.7", "slow")
    now[0] = 10.0
    faults.note("body_lost", "192.0.2.8", "lost")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["rpc client 192.0.2.7: lost", "rpc client 192.0.2.7: slow",
                     "rpc client 192.0.2.8: lost (49 more like it since the last such line)"]
    assert all(r.levelno == logging.INFO and not r.exc_info for r in caplog.records)


@pytest.mark.parametrize("content_type, ok", [
    ("application/json", True), ("application/json-rpc", True), ("application/jsonrequest", True),
    ("text/plain", False), ("application/x-www-form-urlencoded", False), ("multipart/form-data", False),
    ("", False), ("application/octet-stream", False),
])
def test_content_types(content_type, ok):
    assert (content_type_problem(content_type) is None) == ok


@pytest.mark.parametrize("host, ok", [
    (None, True), ("127.0.0.1:26657", True), ("[::1]:26657", True), ("localhost", True), ("LOCALHOST:1", True),
    ("wallet.localhost:8080", True), ("203.0.113.5", True),
    ("evil.example", False), ("evil.example:26657", False), ("127.0.0.1.evil.example", False),
    ("user@127.0.0.1", False), ("127.0.0.1:99999", False), ("", False),
])
def test_host_rule_default(host, ok):
    assert (AccessPolicy().host_problem(host) is None) == ok


def test_host_rule_with_allow_list_and_any():
    assert AccessPolicy(allowed_hosts=("node.lan",)).host_problem("node.lan:80") is None
    assert AccessPolicy(allowed_hosts=("node.lan",)).host_problem("other.lan") is not None
    assert AccessPolicy(allowed_hosts=("*",)).host_problem("anything.example") is None


@pytest.mark.parametrize("origin, host, ok", [
    (None, "127.0.0.1:26657", True),
    ("http://127.0.0.1:26657", "127.0.0.1:26657", True),
    ("http://localhost:26657", "localhost:26657", True),
    ("http://localhost", "localhost:80", True),
    ("http://localhost:26657", "127.0.0.1:26657", False),  # another origin, even if it is the same machine
    ("http://127.0.0.1:8080", "127.0.0.1:26657", False),
    ("https://127.0.0.1:26657", "127.0.0.1:26657", True),
    ("null", "127.0.0.1:26657", False),
    ("file://", "127.0.0.1:26657", False),
    ("http://evil.example", "127.0.0.1:26657", False),
])
def test_origin_rule_default(origin, host, ok):
    assert (AccessPolicy().origin_problem(origin, host) is None) == ok


def test_origin_allow_list_is_exact_and_case_blind():
    policy = AccessPolicy(allowed_origins=("https://wallet.example",))
    assert policy.origin_problem("https://Wallet.example/", "127.0.0.1:1") is None
    assert policy.origin_problem("https://wallet.example.evil", "127.0.0.1:1") is not None
    assert AccessPolicy(allowed_origins=("*",)).origin_problem("https://any.example", "127.0.0.1:1") is None
    assert not same_origin("http://[::1", "[::1]:80")  # unparsable: never the same


class FakeHolder:
    def __init__(self, idle: bool = True) -> None:
        self.idle, self.evicted = idle, False

    def evictable(self) -> bool:
        return self.idle

    def evict(self) -> None:
        self.evicted = True


def test_a_full_table_evicts_from_the_biggest_holder_only_when_it_holds_two_more_than_the_newcomer():
    slots = ClientSlots("things", total=3, per_client=3)
    a1, a2, b1 = FakeHolder(), FakeHolder(), FakeHolder()
    assert slots.take("a", a1) is None and slots.take("a", a2) is None and slots.take("b", b1) is None
    assert slots.take("c", FakeHolder()) is None  # a holds 2 >= 0 + 2: one of a's goes
    gone = [h for h in (a1, a2) if h.evicted]
    assert len(gone) == 1 and not b1.evicted and slots.held == 4  # until the evicted one gives its slot back
    slots.give_back("a", gone[0])
    assert slots.held == 3 and slots.of("a") == 1
    refused = slots.take("d", FakeHolder())  # a, b, c hold 1 each: nobody gives way
    assert refused is not None and refused.http_status == 503


def test_busy_holders_are_never_evicted():
    slots = ClientSlots("things", total=2, per_client=2)
    busy = [FakeHolder(idle=False), FakeHolder(idle=False)]
    for holder in busy:
        assert slots.take("a", holder) is None
    assert slots.take("b", FakeHolder()) is not None
    assert not any(h.evicted for h in busy)
