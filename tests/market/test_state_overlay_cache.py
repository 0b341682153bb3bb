"""A read-caching overlay answers exactly like a plain one over an unchanging base."""

from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.market.state import MemoryState, StateOverlay

keys = st.binary(min_size=1, max_size=3)
ops = st.lists(st.tuples(st.sampled_from(["get", "put", "delete", "iterate"]), keys, st.binary(max_size=3)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, st.binary(max_size=3), max_size=10), ops)
def test_cached_and_plain_overlays_agree(initial, operations):
    base = MemoryState(dict(initial))
    plain, cached = StateOverlay(base), StateOverlay(base, cache_reads=True)
    for op, key, value in operations:
        if op == "get":
            assert cached.get(key) == plain.get(key)
        elif op == "put":
            plain.put(key, value)
            cached.put(key, value)
        elif op == "delete":
            plain.delete(key)
            cached.delete(key)
        else:
            assert list(cached.iterate(key[:1])) == list(plain.iterate(key[:1]))
    assert cached.changes() == plain.changes()


def test_savepoint_rollback_restores_a_cached_read():
    base = MemoryState({b"k": b"1"})
    overlay = StateOverlay(base, cache_reads=True)
    assert overlay.get(b"k") == b"1"
    token = overlay.savepoint()
    overlay.put(b"k", b"2")
    overlay.rollback(token)
    assert overlay.get(b"k") == b"1"
