"""Typed reads and writes over State: canonical msgpack values, counters, index entries.

Handlers never call ``encode``/``decode`` themselves; they go through here.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.encoding import decode_trusted, encode
from marketnode.core.errors import StorageCorruption
from marketnode.market import keys
from marketnode.market.state import State, StateReader


def load(state: StateReader, key: bytes) -> Any:
    """The decoded value at ``key``, or None if absent.

    State holds only what the rules wrote with ``encode``, so reads skip the
    canonical re-check (it was the top cost of executing a block).
    """
    raw = state.get(key)
    return None if raw is None else decode_trusted(raw)


def load_record(state: StateReader, key: bytes) -> dict[str, Any] | None:
    """The record (a map: account, shop, order, ...) at ``key``, or None if absent.

    Every record key holds a map the rules wrote; anything else means the state
    is damaged, and the node stops rather than run the rules on it.
    """
    value = load(state, key)
    if value is None or isinstance(value, dict):
        return value
    raise StorageCorruption(f"state key {key!r} holds a {type(value).__name__}, not a record")


def save(state: State, key: bytes, value: Any) -> None:
    state.put(key, encode(value))


def load_int(state: StateReader, key: bytes) -> int:
    raw = state.get(key)
    return 0 if raw is None else decode_trusted(raw)


def save_int(state: State, key: bytes, value: int) -> None:
    """Store a non-negative int; zero deletes the key so state holds no dust."""
    if value:
        state.put(key, encode(value))
    else:
        state.delete(key)


def next_id(state: State, name: str) -> int:
    """Allocate the next id (1, 2, ...) of a sequence such as "order"."""
    key = keys.counter(name)
    value = load_int(state, key) + 1
    save_int(state, key, value)
    return value


def index_add(state: State, key: bytes) -> None:
    state.put(key, keys.INDEX_VALUE)


def index_ids(state: StateReader, prefix: bytes) -> list[int]:
    """The u64 ids under an index prefix, ascending (queries and tests; rules never scan)."""
    return [int.from_bytes(key[-8:], "big") for key, _ in state.iterate(prefix)]
