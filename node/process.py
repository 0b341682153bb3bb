"""Run one node as a process: signals stop it cleanly, its own errors surface unwrapped, profiling on request."""

from __future__ import annotations

import asyncio
import os
import signal

from marketnode.core.errors import MarketnodeError
from marketnode.node.config import NodeConfig
from marketnode.node.service import MisbehaviourFactory, Node


def first_marketnode_error(group: BaseExceptionGroup[BaseException]) -> MarketnodeError | None:
    for exc in group.exceptions:
        found = first_marketnode_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, MarketnodeError):
            return found
    return None


def run_node(cfg: NodeConfig, misbehave: MisbehaviourFactory | None = None) -> None:
    """Run until SIGINT/SIGTERM, then stop accepting, finish the block in hand and close LevelDB."""

    async def main() -> None:
        node = Node.open(cfg, misbehave=misbehave)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await node.run(stop)

    profile_dir = os.environ.get("MARKETNODE_PROFILE_DIR")
    if not profile_dir:
        try:
            asyncio.run(main())
        except BaseExceptionGroup as group:  # the TaskGroup wraps what stopped it: surface our own error
            error = first_marketnode_error(group)
            if error is None:
                raise
            raise error from group
        return
    import cProfile  # profiling for `marketnode bench`; see docs/BENCHMARKS.md

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(main())
    finally:
        profiler.disable()
        profiler.dump_stats(os.path.join(profile_dir, f"{cfg.moniker}.prof"))
