"""A checker that cannot fail proves nothing: a replica counting 2f votes as a quorum must be caught forking."""

from __future__ import annotations

from simulator import run_seed, scenario_for

from marketnode.consensus.replica import Replica


class TwoFQuorumReplica(Replica):
    """The planted bug: a quorum of 2f instead of 2f+1, so two quorums need not share an honest validator."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.f:
            self.quorum = 2 * self.f


def test_checker_catches_a_two_f_quorum_violating_agreement() -> None:
    seeds = [s for s in range(300) if scenario_for(s).n == 4 and scenario_for(s).mix == "byz-equivocate"]
    kinds = set()
    caught = []
    for seed in seeds:
        sim = run_seed(seed, TwoFQuorumReplica, stop_on_violation=False)
        kinds |= {v.kind for v in sim.violations}
        if any(v.kind == "agreement" for v in sim.violations):
            caught.append(seed)
    assert caught, f"no agreement violation found in seeds {seeds} (saw {kinds})"


def test_the_same_seeds_pass_with_the_real_quorum() -> None:
    seeds = [s for s in range(300) if scenario_for(s).n == 4 and scenario_for(s).mix == "byz-equivocate"]
    for seed in seeds:
        sim = run_seed(seed)
        assert not sim.violations, sim.report(last=100)


class NoTimerAfterCommitReplica(Replica):
    """The planted bug: after executing a block, work that remains starts no view-change timer."""

    def _on_executed(self, height: int) -> None:
        if height != self.head.height or height <= self.executed_height:
            return
        self.executed_height = height
        self._drain_future()
        self._maybe_propose()


def test_checker_catches_a_replica_that_keeps_work_without_a_timer_as_a_stall() -> None:
    seeds = [s for s in range(600) if scenario_for(s).mix in ("byz-silent", "crash")]
    stalls = [s for s in seeds if any(v.kind == "stall" for v in run_seed(s, NoTimerAfterCommitReplica).violations)]
    assert stalls, f"no stall found in seeds {seeds}"
    for seed in stalls[:3]:
        assert not run_seed(seed).violations, "the real replica passes the same seeds"
