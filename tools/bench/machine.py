"""What this machine can do: the ed25519 signature bound, CPU time and RSS of processes."""

from __future__ import annotations

import os
import platform
import time

from marketnode.core.keys import PrivateKey, verify
from marketnode.core.types import Tx

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def verifications_per_second(seconds: float = 1.0) -> float:
    """Single-core ed25519 verifications per CPU second of a typical signed tx (the real message size).

    Counted against this thread's CPU time, not the wall clock: on a machine
    shared with other work the wall clock measures our share of a core, not
    the core, and the bound (and so every ratio) would move with the load.
    Gives up waiting for ``seconds`` of CPU after ``10 * seconds`` of wall time.
    """
    key = PrivateKey(bytes(range(32)))
    tx = Tx("bench", key.public_key, 0, "transfer", {"amount": 1, "asset": "MKT", "to": bytes(32)}, 0).sign(key)
    message, sig, pub = tx.signing_bytes(), tx.sig, tx.sender
    count = 0
    cpu_start, wall_start = time.thread_time(), time.monotonic()
    while True:
        for _ in range(200):
            verify(pub, message, sig)
        count += 200
        cpu = time.thread_time() - cpu_start
        if cpu >= seconds or (cpu > 0 and time.monotonic() - wall_start >= 10 * seconds):
            return count / cpu


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def signature_bound_tps(validators: int, per_core: float | None = None) -> tuple[float, float]:
    """(bound, per-core rate): every validator checks every signature once, sharing this machine's cores."""
    rate = per_core if per_core is not None else verifications_per_second()
    return rate * cores() / validators, rate


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def peak_rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def describe() -> dict[str, object]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cores": cores(), "cpu": model, "python": platform.python_version(), "machine": platform.machine()}
