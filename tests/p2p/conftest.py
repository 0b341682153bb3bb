from collections.abc import AsyncIterator

import pytest
from p2p_helpers import Network


@pytest.fixture
async def network() -> AsyncIterator[Network]:
    net = Network()
    try:
        yield net
    finally:
        await net.stop_all()
