"""Fixtures for market tests; the harness itself lives in market_harness.py."""

from __future__ import annotations

import pytest
from market_harness import Chain


@pytest.fixture
def chain() -> Chain:
    return Chain()
