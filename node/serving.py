"""A server's lifetime as one task, so that a TaskGroup starts, supervises and stops it with the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

Server = TypeVar("Server")


async def serve(start: Callable[[], Awaitable[Server]], stop: Callable[[Server], Awaitable[None]],
                ready: asyncio.Future[Server]) -> None:
    """A server's lifetime as one TaskGroup task: start it, hand it to ``ready``, stop it when cancelled."""
    server = await start()
    try:
        ready.set_result(server)
        await asyncio.Event().wait()
    finally:
        await stop(server)
