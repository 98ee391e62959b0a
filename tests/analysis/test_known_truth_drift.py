"""Known truth on a drifting machine: the campaign's round engine against a simulated VM whose
speed wanders (tens of percent over an hour, as shared VMs do), with the analysis's process-level interval.

The real :func:`harness.measure.rounds.interleave_groups` runs; only the pyperf process is
simulated: a process of an option whose true time is ``t`` takes ``t * speed(now) * noise`` per
value and ``3 t + 0.5`` seconds of the simulated clock (a warm-up, two values, start-up). Measured
benchmark by benchmark, a speedup compares processes minutes apart and its interval misses the
true value; measured in rounds over the whole workload (what ``campaign.run`` does), numerator and
denominator sample the same minutes and the interval covers it. Run with ``pytest -s`` to see the
rates.
"""

import math

import numpy as np
import pyperf
import pytest

from harness import metadata
from harness.analysis import stats
from harness.measure.config import PRECISION
from harness.measure.rounds import Group, interleave_groups
from harness.measure.stopping import process_means, round_means

VARIANTS = ("A", "B", "C")  # three variants with the same truth: three speedups per option
TRUTH = {"sequential/1": 1.0, "threads/2": 0.55, "threads/4": 0.57, "processes/2": 0.62,
         "asyncio/1": 1.02, "asyncio_threads/2": 0.7}  # seconds per value on a steady machine
AMPLITUDE, PERIOD = 0.3, 2400.0  # log-speed swing and its period in seconds
NOISE = 0.03


class Machine:
    """A simulated clock and a speed that drifts with it."""

    def __init__(self, rng):
        self.rng, self.now, self.phase = rng, 0.0, rng.uniform(0, 2 * math.pi)

    def clock(self) -> float:
        return self.now

    def measure(self, key, r):
        _, option = key
        t = TRUTH[option] * math.exp(AMPLITUDE * math.sin(2 * math.pi * self.now / PERIOD + self.phase))
        values = [t * math.exp(self.rng.normal(0, NOISE)) for _ in range(2)]
        self.now += 3 * TRUTH[option] + 0.5
        meta = {"name": option, "loops": 1}
        metadata.put(meta, "foreign_flagged", "no")
        return "ok", "", pyperf.Benchmark([pyperf.Run(values, metadata=meta, collect_metadata=False)])


def _groups(options):
    prec = PRECISION["default"]
    return {o: Group([(v, o) for v in VARIANTS], prec) for o in options}


def _campaign(rng, together: bool) -> dict:
    """One workload on a drifting machine: the options' outcomes, keyed (variant, option)."""
    m = Machine(rng)
    if together:
        return interleave_groups(_groups(TRUTH), m.measure, clock=m.clock, log=lambda s: None)
    out = {}
    for option in TRUTH:  # benchmark by benchmark: each option's rounds end before the next's begin
        out.update(interleave_groups(_groups([option]), m.measure, clock=m.clock, log=lambda s: None))
    return out


def _coverage(together: bool, n_sim: int = 150, seed: int = 7) -> dict:
    """Share of true ratios inside their 95% CI and median relative half-width: speedups (Welch
    over process means), and gains of one option on two variants (true 1.0), Welch or paired by round."""
    rng = np.random.default_rng(seed)
    hits: dict = {"speedup": [], "gain_welch": [], "gain_paired": []}
    widths: dict = {k: [] for k in hits}

    def add(kind, c, truth):
        hits[kind].append(c.low <= truth <= c.high)
        widths[kind].append((c.high - c.low) / 2 / c.value)

    for _ in range(n_sim):
        out = _campaign(rng, together)
        for v in VARIANTS:
            seq = process_means(out[(v, "sequential/1")].bench)
            for option, t in TRUTH.items():
                mine = out[(v, option)].bench
                if option != "sequential/1":
                    add("speedup", stats.contrast([(seq, 1), (process_means(mine), -1)]),
                        TRUTH["sequential/1"] / t)
                if v != "A":
                    base = out[("A", option)].bench
                    add("gain_welch", stats.contrast([(process_means(base), 1),
                                                      (process_means(mine), -1)]), 1.0)
                    add("gain_paired", stats.paired_contrast(round_means(base),
                                                             round_means(mine)), 1.0)
    return {k: (float(np.mean(hits[k])), float(np.median(widths[k]))) for k in hits}


@pytest.mark.known_truth
def test_a_workload_measured_round_by_round_covers_its_true_ratios_on_a_drifting_machine():
    apart, together = _coverage(together=False), _coverage(together=True)
    for kind in apart:
        print(f"\n{kind}: 95% CI coverage on a drifting machine, benchmark by benchmark {apart[kind][0]:.1%} "
              f"(median +-{apart[kind][1]:.1%}), the workload in shared rounds {together[kind][0]:.1%} "
              f"(median +-{together[kind][1]:.1%})")
    assert apart["speedup"][0] < 0.8  # minutes apart: the drift between benchmarks is in no interval
    assert together["speedup"][0] >= 0.93
    # one benchmark on two variants, side by side in every round: Welch counts the drift over the
    # workload's rounds as noise (it over-covers, wide); pairing by round cancels it: nominal, narrower
    assert together["gain_welch"][0] >= 0.98
    assert 0.93 <= together["gain_paired"][0] <= 0.97 and apart["gain_paired"][0] >= 0.93
    assert together["gain_paired"][1] < 0.85 * together["gain_welch"][1]


def test_every_option_of_a_workload_takes_part_in_each_round_until_its_own_rule_stops_it():
    m = Machine(np.random.default_rng(1))
    calls = []

    def measure(key, r):
        calls.append((key, r))
        return m.measure(key, r)

    out = interleave_groups(_groups(["sequential/1", "threads/2"]), measure, clock=m.clock,
                                     log=lambda s: None)
    first = [k for k, r in calls if r == 1]
    second = [k for k, r in calls if r == 2]
    assert first == [(v, o) for o in ("sequential/1", "threads/2") for v in VARIANTS]
    assert second == first[::-1]  # A1 B1 ... then ... B1 A1
    for outcome in out.values():
        rounds = [metadata.get(r.get_metadata(), "round") for r in outcome.bench.get_runs()]
        assert rounds == list(range(1, outcome.processes + 1)) and outcome.stop_reason
