"""Rule messages a person reads give amounts in units of their asset, not smallest units (issue 15.6)."""

from __future__ import annotations

import pytest

from marketnode.core.errors import RuleError
from marketnode.market.accounts import move
from marketnode.market.assets import create_asset, in_units
from marketnode.market.state import MemoryState

A, B = b"\x01" * 32, b"\x02" * 32


def test_insufficient_funds_names_the_balance_and_the_need_in_units():
    state = MemoryState()
    create_asset(state, "USDX", "Stable", 2, None, None)
    from marketnode.market import keys, store

    store.save_int(state, keys.balance(A, "USDX"), 2371)
    with pytest.raises(RuleError) as refused:
        move(state, A, B, "USDX", 100_000)
    assert refused.value.message == "balance of USDX is 23.71 USDX, needs 1,000.00 USDX"


def test_in_units_of_an_unknown_asset_is_the_plain_count():
    assert in_units(MemoryState(), "NOPE", 1234) == "1,234 NOPE"
