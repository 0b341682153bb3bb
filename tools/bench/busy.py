"""`--busy CORES`: CPU-hog processes beside the nodes, as on a machine shared with other work.

Each hog is a pure-Python busy loop (one core's worth of demand). They are
stopped when the ``with`` block ends, however it ends (an error, Ctrl-C),
and each hog also checks every few milliseconds that its parent is still
the bench and exits when it is not, so a bench killed with SIGKILL leaves
no hog behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import TracebackType

from marketnode.tools.bench import machine

HOG_MARK = "marketnode-bench-busy-hog"
HOG = (
    f"# {HOG_MARK}\n"
    "import os, sys\n"
    "parent = int(sys.argv[1])  # passed in: the bench may be gone before this line runs\n"
    "while os.getppid() == parent:\n"
    "    for _ in range(300_000):\n"
    "        pass\n"
)


class CpuHogs:
    """``count`` busy-loop processes for the duration of a ``with`` block; ``cpu_seconds()`` proves they ran."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: list[subprocess.Popen] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def __enter__(self) -> CpuHogs:
        try:
            for _ in range(self.count):
                self.procs.append(subprocess.Popen([sys.executable, "-c", HOG, str(os.getpid())], stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        except BaseException:
            self.stop()
            raise
        return self

    def cpu_seconds(self) -> float:
        return sum(machine.cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            proc.wait()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
