"""The chaos test's faults: kill, pause, cut and delay links, at most one faulty validator at a time.

Every wait between faults is on a condition with a deadline (every node
answers, the victim catches up), so two validators are never down together.
"""

from __future__ import annotations

import random
import time
from collections import Counter

from chaos_net import RPC_ERRORS, ChaosNet
from harness import wait_for


class FaultInjector:
    """One fault at a time, never more than one faulty validator: kill, pause, cut and delay links.

    After each fault is reverted the injector waits for the victim to catch
    up before the next, so two validators are never down together.
    """

    KINDS = ("kill", "pause", "cut", "delay")

    def __init__(self, net: ChaosNet, seed: int, timeout_ms: int, kinds: tuple[str, ...] = KINDS) -> None:
        self.net = net
        self.rng = random.Random(seed)
        self.timeout_ms = timeout_ms
        self.kinds = kinds
        self.counts: Counter[str] = Counter()
        self.log: list[str] = []
        self._victim: str | None = None  # the validator the last fault hit, if any

    def run_until(self, end: float) -> None:
        while time.monotonic() < end:
            kind = self.rng.choice(self.kinds)
            getattr(self, f"_{kind}")()
            self.counts[kind] += 1
            self._settle()

    def _hold(self, low_s: float, high_s: float) -> float:
        hold_s = self.rng.uniform(low_s, high_s)
        time.sleep(hold_s)  # the fault's duration, not synchronisation
        return hold_s

    def _kill(self) -> None:
        victim = self.rng.choice(self.net.validators)
        self.net.kill(victim)
        held = self._hold(0.5, 3.0)
        self.net.start(victim, wait=False)
        self.log.append(f"kill {victim} {held:.1f}s")
        self._victim = victim

    def _pause(self) -> None:
        victim = self.rng.choice(self.net.validators)
        self.net.pause(victim)
        low = self.timeout_ms / 1000 * 1.5
        held = self._hold(low, low * 2.5)  # longer than the view-change timeout: the others must move on
        self.net.resume(victim)
        self.log.append(f"pause {victim} {held:.1f}s")
        self._victim = victim

    def _cut(self) -> None:
        a, b = self.rng.sample(self.net.names, 2)
        self.net.proxy.cut(a, b)
        held = self._hold(2.0, 6.0)
        self.net.proxy.heal(a, b)
        self.log.append(f"cut {a}-{b} {held:.1f}s")
        self._victim = None

    def _delay(self) -> None:
        a, b = self.rng.sample(self.net.names, 2)
        ms = self.rng.randint(100, 600)
        self.net.proxy.delay(a, b, ms)
        held = self._hold(2.0, 6.0)
        self.net.proxy.heal(a, b)
        self.log.append(f"delay {a}-{b} {ms}ms {held:.1f}s")
        self._victim = None

    def _settle(self) -> None:
        """Wait until every node answers and the last victim has caught up with the others."""
        wait_for(lambda: all(self._answers(n) for n in self.net.names), 60, "every node to answer after a fault")
        victim = self._victim
        if victim is None:
            return
        others = [n for n in self.net.validators if n != victim]
        target = max(self.net.height(n) for n in others)
        wait_for(lambda: self.net.height(victim) >= target, 90, f"{victim} to catch up to {target}")

    def _answers(self, name: str) -> bool:
        try:
            self.net.status(name)
            return True
        except RPC_ERRORS:
            return False
