"""Options for the consensus simulator: ``--sim-seeds N`` (how many seeds) and ``--sim-seed-start S``."""

from __future__ import annotations

import pytest

DEFAULT_SEEDS = 1200
CHUNK = 100


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sim", "deterministic consensus simulator")
    group.addoption("--sim-seeds", type=int, default=DEFAULT_SEEDS,
                    help=f"how many simulator seeds to run (default {DEFAULT_SEEDS}; each picks n and a fault mix)")
    group.addoption("--sim-seed-start", type=int, default=0, help="first simulator seed (default 0)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Split the seeds into chunks of 100, one test each, so progress shows and -x stops early."""
    if "seed_chunk" in metafunc.fixturenames:
        start = metafunc.config.getoption("--sim-seed-start")
        count = metafunc.config.getoption("--sim-seeds")
        chunks = [range(s, min(s + CHUNK, start + count)) for s in range(start, start + count, CHUNK)]
        metafunc.parametrize("seed_chunk", chunks, ids=[f"seeds{c.start}-{c.stop - 1}" for c in chunks])
