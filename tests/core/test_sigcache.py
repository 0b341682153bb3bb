"""The signature cache: each valid signature verified once, never more than ``capacity`` kept, a bad one never kept."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chain_samples import CHAIN_ID, VALIDATOR_KEYS, VALIDATORS, certificate, vote

import marketnode.core.sigcache as sigcache_module
from marketnode.core.certificates import CertificateChecker
from marketnode.core.errors import ConsensusError, SignatureError
from marketnode.core.sigcache import SignatureCache


@pytest.fixture
def ed25519_calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The public keys of every real ed25519 verification, in order."""
    calls: list[bytes] = []
    real = sigcache_module.verify
    monkeypatch.setattr(sigcache_module, "verify", lambda *a: calls.append(a[0]) or real(*a))
    return calls


def signed(n: int = 0, height: int = 3) -> tuple[bytes, bytes, bytes]:
    v = vote(VALIDATOR_KEYS[n % 4], height=height)
    return v.validator, v.signing_bytes(), v.sig


def test_a_miss_verifies_and_a_hit_does_not(ed25519_calls: list[bytes]) -> None:
    cache = SignatureCache(8)
    triple = signed()
    assert cache.verify(*triple) and (cache.hits, cache.misses) == (0, 1)
    assert cache.verify(*triple) and (cache.hits, cache.misses) == (1, 1)
    assert ed25519_calls == [triple[0]], "verified once"


def test_a_bad_signature_is_never_cached_as_good(ed25519_calls: list[bytes]) -> None:
    cache = SignatureCache(8)
    key, message, sig = signed()
    bad = sig[:-1] + bytes([sig[-1] ^ 1])
    assert not cache.verify(key, message, bad)
    assert not cache.verify(key, message, bad), "checked again, still refused"
    assert len(cache) == 0 and len(ed25519_calls) == 2
    assert not cache.verify(key, message + b"x", sig), "a good signature does not vouch for another message"
    assert not cache.verify(VALIDATORS[1], message, sig), "nor for another key"


def test_the_key_frames_its_parts_so_a_shifted_triple_is_not_a_hit() -> None:
    cache = SignatureCache(8)
    key, message, sig = signed()
    assert cache.verify(key, message, sig)
    assert not cache.verify(key[:-1], key[-1:] + message, sig), "same concatenated bytes, different triple"
    assert not cache.verify(key, message[:-1], message[-1:] + sig)


def test_the_cache_never_holds_more_than_its_capacity_and_evicts_the_least_recent(ed25519_calls: list[bytes]) -> None:
    cache = SignatureCache(3)
    triples = [signed(n, height=h) for n, h in ((0, 1), (1, 1), (2, 1), (3, 1))]
    for t in triples[:3]:
        assert cache.verify(*t)
    assert cache.verify(*triples[0])  # touch the oldest: now the second is least recent
    assert cache.verify(*triples[3])
    assert len(cache) == 3
    ed25519_calls.clear()
    assert cache.verify(*triples[0]) and cache.verify(*triples[2]) and cache.verify(*triples[3])
    assert ed25519_calls == [], "the recent ones stayed"
    assert cache.verify(*triples[1])
    assert ed25519_calls == [triples[1][0]], "the evicted one is verified again, and still valid"
    assert len(cache) == 3


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SignatureCache(0)


def test_a_certificate_checked_twice_through_a_cache_verifies_each_signature_once(ed25519_calls: list[bytes]) -> None:
    checker = CertificateChecker(VALIDATORS, CHAIN_ID, SignatureCache())
    cert = certificate()
    checker.check(cert)
    checker.check(cert)
    certificate().verify(VALIDATORS, CHAIN_ID, checker.cache)
    assert sorted(ed25519_calls) == sorted(VALIDATORS[:3])


def test_votes_checked_first_make_their_certificate_free(ed25519_calls: list[bytes]) -> None:
    cache = SignatureCache()
    votes = [vote(k) for k in VALIDATOR_KEYS[:3]]
    assert all(v.verify(cache) for v in votes)
    ed25519_calls.clear()
    certificate().verify(VALIDATORS, CHAIN_ID, cache)
    assert ed25519_calls == []


def test_a_certificate_that_fails_on_its_face_costs_no_signature_check(ed25519_calls: list[bytes]) -> None:
    checker = CertificateChecker(VALIDATORS, CHAIN_ID, SignatureCache())
    with pytest.raises(ConsensusError, match="needs 3"):
        checker.check(certificate(VALIDATOR_KEYS[:2]))
    with pytest.raises(ConsensusError, match="chain"):
        checker.check(replace(certificate(), chain_id="other-chain"))
    assert ed25519_calls == []


def test_a_bad_certificate_signature_is_refused_even_after_the_good_one_was_cached() -> None:
    checker = CertificateChecker(VALIDATORS, CHAIN_ID, SignatureCache())
    cert = certificate()
    checker.check(cert)
    validator, sig = cert.signatures[1]
    broken = replace(cert, signatures=(cert.signatures[0], (validator, sig[:-1] + bytes([sig[-1] ^ 1])),
                                       *cert.signatures[2:]))
    with pytest.raises(SignatureError):
        checker.check(broken)


def test_the_caller_may_apply_its_own_quorum() -> None:
    checker = CertificateChecker(VALIDATORS, CHAIN_ID)
    checker.check(certificate(VALIDATOR_KEYS[:2]), quorum=2)
    with pytest.raises(ConsensusError, match="needs 4"):
        checker.check(certificate(), quorum=4)
