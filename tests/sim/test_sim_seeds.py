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


def test_retransmission_saves_view_changes_and_syncs_on_lossy_networks() -> None:
    """Issue 12: at the same drop rate, re-sent votes must cost fewer view changes and syncs than none."""
    seeds = [s for s in range(240) if scenario_for(s).mix == "lossy" and scenario_for(s).n > 1]
    totals = {}
    for resend in (False, True):
        runs = [run_seed(seed, resend=resend) for seed in seeds]
        assert not [r.violations for r in runs if r.violations], "both variants must stay safe and live"
        totals[resend] = (sum(r.view_changes for r in runs), sum(r.sync_requests for r in runs))
    (vc_off, sync_off), (vc_on, sync_on) = totals[False], totals[True]
    assert vc_on < vc_off, totals
    assert vc_on + sync_on < vc_off + sync_off, totals
