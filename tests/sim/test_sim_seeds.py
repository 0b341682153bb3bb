"""Many seeded runs of the simulator: every fault mix, n in {1, 4, 7}; any violation fails with a replayable trace."""

from __future__ import annotations

from simulator import MIXES, NS, run_seed, scenario_for


def test_seeds_hold_agreement_validity_and_liveness(seed_chunk: range) -> None:
    failures = []
    for seed in seed_chunk:
        sim = run_seed(seed)
        if sim.violations:
            failures.append(sim.report(last=150))
    assert not failures, f"{len(failures)} failing seed(s); the first:\n" + failures[0]


def test_every_n_and_fault_mix_is_covered_by_a_small_run() -> None:
    combos = {(scenario_for(seed).n, scenario_for(seed).mix) for seed in range(len(NS) * len(MIXES))}
    assert combos == {(n, mix) for n in NS for mix in MIXES}


def test_a_seed_replays_identically() -> None:
    first, second = run_seed(41), run_seed(41)
    assert first.trace == second.trace
    assert first.trace, "the run did something"
