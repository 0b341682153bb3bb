"""Before a local testnet starts: are its ports free, and if not, who holds them?

A node that cannot bind dies with ``address already in use`` in its log
while whatever holds the port keeps answering, so a launcher that only polls
the ports would report somebody else's network as its own. ``busy_ports``
asks the kernel first (a trial bind); ``holder`` names what holds a port when
Linux's /proc tells (pid and command line), and for an RPC port also which
chain and node answer there.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from marketnode.core.errors import ConfigError


@dataclass(frozen=True)
class Port:
    """One port a testnet node will listen on."""

    node: str
    kind: str  # "p2p" | "rpc"
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port} ({self.node} {self.kind})"


def in_use(host: str, port: int) -> bool:
    """True when something listens on (or has bound) ``host:port``.

    SO_REUSEADDR as the node itself binds: a socket left in TIME_WAIT by a
    testnet that just stopped does not count as taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def busy_ports(ports: Iterable[Port]) -> list[Port]:
    return [p for p in ports if in_use(p.host, p.port)]


def free_base_port(count: int, host: str = "127.0.0.1", start: int = 26600, stop: int = 32000) -> int | None:
    """The first base port from ``start`` (stepping by 100) with ``2*count`` free ports after it."""
    for base in range(start, stop - 2 * count, 100):
        if not any(in_use(host, port) for port in range(base, base + 2 * count)):
            return base
    return None


def holder(port: Port) -> str:
    """What holds ``port``, as far as this machine tells: ``pid 123 (python -m marketnode.cli.main run --home t1/v0)``,
    plus the chain and node that answer an RPC port. Empty when nothing can be learned."""
    parts = []
    pid = _listener_pid(port.port)
    if pid is not None:
        parts.append(f"pid {pid}" + (f" ({cmd})" if (cmd := _cmdline(pid)) else ""))
    if port.kind == "rpc":
        from marketnode.tools.testnet.procs import rpc_call

        with contextlib.suppress(Exception):
            status = rpc_call(f"http://{port.host}:{port.port}/", "node_status", timeout_s=1.0)
            parts.append(f"a marketnode node of chain {status.get('chain_id')!r} ({status.get('moniker')})")
    return ", ".join(parts)


def refuse_busy(ports: Iterable[Port], advice: str) -> None:
    """Raise ConfigError naming every taken port and what holds it, then ``advice``."""
    busy = busy_ports(ports)
    if not busy:
        return
    lines = []
    for port in busy:
        who = holder(port)
        lines.append(f"port {port.port} is already in use: {port}" + (f", held by {who}" if who else ""))
    raise ConfigError("\n".join(lines) + "\n" + advice)


def _listener_pid(port: int) -> int | None:
    """The pid of the process listening on TCP ``port`` (Linux /proc; None elsewhere or when not ours to see)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return int(entry.name)
    return None


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return " ".join(w.decode(errors="replace") for w in words if w)[:160]
    return ""
