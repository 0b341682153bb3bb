"""kyc_attest, kyc_revoke, arbiter_register, arbiter_update."""

from __future__ import annotations

from market_harness import Chain

from marketnode.market import codes, keys
from marketnode.market.kyc import kyc_level


def test_attest_sets_level_until_expiry(chain: Chain) -> None:
    expires = chain.now_ms + 10_000
    chain.ok("attester", "kyc_attest", account=chain.acct("bob"), level=2, expires_ms=expires)
    assert kyc_level(chain.state, chain.acct("bob"), chain.now_ms) == 2
    assert kyc_level(chain.state, chain.acct("bob"), expires) == 0


def test_revoke_removes_the_attestation(chain: Chain) -> None:
    chain.ok("attester", "kyc_attest", account=chain.acct("bob"), level=1, expires_ms=chain.now_ms + 10**6)
    chain.ok("attester", "kyc_revoke", account=chain.acct("bob"))
    assert kyc_level(chain.state, chain.acct("bob"), chain.now_ms) == 0


def test_kyc_rejections(chain: Chain) -> None:
    bob = chain.acct("bob")
    chain.fails(codes.NOT_AUTHORIZED, "alice", "kyc_attest", account=bob, level=1, expires_ms=10**15)
    chain.fails(codes.BAD_BODY, "attester", "kyc_attest", account=bob, level=4, expires_ms=10**15)
    chain.fails(codes.NOT_FOUND, "attester", "kyc_revoke", account=bob)
    chain.ok("attester", "kyc_attest", account=bob, level=1, expires_ms=10**15)
    chain.fails(codes.NOT_AUTHORIZED, "alice", "kyc_revoke", account=bob)


def test_arbiter_register_and_update(chain: Chain) -> None:
    chain.arbiter("arb", fee_fixed=5, fee_bps=500)
    chain.ok("arb", "arbiter_update", fee_bps=700, active=False)
    record = chain.load(keys.arbiter(chain.acct("arb")))
    assert (record["fee_fixed"], record["fee_bps"], record["active"], record["description"]) == (5, 700, False, "fair")


def test_arbiters_are_listable(chain: Chain) -> None:
    chain.arbiter("arb")
    chain.arbiter("arb2")
    found = {key[len(keys.ARBITER_PREFIX):] for key, _ in chain.state.iterate(keys.ARBITER_PREFIX)}
    assert found == {chain.acct("arb"), chain.acct("arb2")}


def test_arbiter_rejections(chain: Chain) -> None:
    chain.fails(codes.NOT_REGISTERED, "arb", "arbiter_register", fee_fixed=0, fee_bps=0, description="")
    chain.register("arb")
    chain.fails(codes.BAD_BODY, "arb", "arbiter_register", fee_fixed=0, fee_bps=2_001, description="")
    chain.fails(codes.NOT_FOUND, "arb", "arbiter_update", fee_bps=1)
    chain.ok("arb", "arbiter_register", fee_fixed=0, fee_bps=100, description="")
    chain.fails(codes.ALREADY_EXISTS, "arb", "arbiter_register", fee_fixed=0, fee_bps=100, description="")
    chain.fails(codes.BAD_BODY, "arb", "arbiter_update", fee_bps=9_000)
