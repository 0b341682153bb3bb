"""MemoryState and StateOverlay: ordered iteration, change sets, savepoints."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.market.state import MemoryState, StateOverlay


def test_overlay_iterates_base_and_writes_merged_in_key_order() -> None:
    base = MemoryState({b"p/1": b"a", b"p/3": b"c", b"p/5": b"e", b"q/1": b"x"})
    overlay = StateOverlay(base)
    overlay.put(b"p/2", b"B")
    overlay.put(b"p/3", b"C")
    overlay.delete(b"p/5")
    overlay.put(b"p/9", b"I")
    assert list(overlay.iterate(b"p/")) == [(b"p/1", b"a"), (b"p/2", b"B"), (b"p/3", b"C"), (b"p/9", b"I")]
    assert overlay.changes() == {b"p/2": b"B", b"p/3": b"C", b"p/5": None, b"p/9": b"I"}
    assert base.get(b"p/5") == b"e"  # the base is never written
    assert overlay.get(b"p/5") is None and overlay.get(b"q/1") == b"x"


def test_rollback_restores_every_write_since_the_savepoint() -> None:
    for state in (MemoryState({b"k": b"1"}), StateOverlay(MemoryState({b"k": b"1"}))):
        state.put(b"before", b"kept")
        token = state.savepoint()
        state.put(b"k", b"2")
        state.put(b"k", b"3")
        state.delete(b"before")
        state.put(b"new", b"n")
        state.rollback(token)
        assert (state.get(b"k"), state.get(b"before"), state.get(b"new")) == (b"1", b"kept", None)


def test_release_keeps_writes_and_nested_savepoints_roll_back_separately() -> None:
    state = MemoryState()
    outer = state.savepoint()
    state.put(b"a", b"1")
    inner = state.savepoint()
    state.put(b"b", b"2")
    state.rollback(inner)
    assert state.get(b"a") == b"1" and state.get(b"b") is None
    state.release(outer)
    assert state.get(b"a") == b"1"


def test_memory_state_apply_writes_a_change_set() -> None:
    state = MemoryState({b"x": b"1"})
    state.apply({b"x": None, b"y": b"2"})
    assert state.items() == {b"y": b"2"}


def test_an_inner_savepoint_at_the_same_position_keeps_the_outer_one_alive() -> None:
    state = StateOverlay(MemoryState())
    outer = state.savepoint()
    inner = state.savepoint()  # nothing written yet: same token as the outer one
    state.put(b"a", b"1")
    state.release(inner)
    state.put(b"b", b"2")
    state.rollback(outer)
    assert state.changes() == {}


@given(
    st.dictionaries(st.binary(max_size=3), st.binary(min_size=1, max_size=2), max_size=12),
    st.lists(st.tuples(st.binary(max_size=3), st.one_of(st.none(), st.binary(min_size=1, max_size=2))), max_size=12),
    st.binary(max_size=2),
)
@settings(max_examples=150, deadline=None)
def test_overlay_iteration_matches_a_plain_dict(base: dict, writes: list, prefix: bytes) -> None:
    overlay = StateOverlay(MemoryState(base))
    model = dict(base)
    for key, value in writes:
        if value is None:
            overlay.delete(key)
            model.pop(key, None)
        else:
            overlay.put(key, value)
            model[key] = value
    expected = sorted((k, v) for k, v in model.items() if k.startswith(prefix))
    assert list(overlay.iterate(prefix)) == expected


def test_a_record_key_holding_anything_but_a_map_is_damage_not_a_rule() -> None:
    from marketnode.core.encoding import encode
    from marketnode.core.errors import StorageCorruption
    from marketnode.market import store

    state = MemoryState({b"rec/a": encode({"n": 1}), b"rec/b": encode([1])})
    assert store.load_record(state, b"rec/a") == {"n": 1} and store.load_record(state, b"rec/none") is None
    with pytest.raises(StorageCorruption, match="not a record"):
        store.load_record(state, b"rec/b")
