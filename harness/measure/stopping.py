"""When a benchmark has been measured enough: the campaign's stopping rules.

The unit of replication is the pyperf process: a benchmark's precision is the relative 95% CI
half-width of the mean over its process means (t quantile, df = processes - 1: :func:`half_width`).

Sweep, per benchmark (its variants stop together): after ``min_processes`` rounds, rounds are added
while any variant's half-width exceeds the profile's target, up to ``max_processes`` rounds, and
only while the next round still fits in the benchmark's ``budget`` seconds of its own processes
(:func:`stop_reason`). A workload's sequential reference follows the same rule but goes on as long
as any option of its workload does (stop reason ``options``, :mod:`harness.measure.rounds`), so
every option's round holds its reference. Nothing in the sweep stops on a ratio's verdict: a sample
measured until its ratio looks decided, then reported with a 95% interval, covers the truth less
often than 95%.

Confirmation: exactly the rounds planned before the stage (:mod:`harness.measure.sizing`), stop
reason ``planned``; ``budget`` only if the stage's wall clock would overrun its hard limit
(:func:`planned_reason`). Runs flagged for foreign load stay in the JSON but never count.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

from harness import intervals, metadata
from harness.intervals import t_quantile
from harness.measure.config import Precision

HELD = "options"  # the stop reason of a sequential reference that went on as long as its options


def process_means(bench) -> list[float]:
    """The process means of ``bench`` (:func:`harness.intervals.process_means`), runs flagged for
    foreign load left out."""
    runs = bench.get_runs() if bench is not None else ()
    return intervals.process_means(r.values for r in runs
                                   if metadata.get(r.get_metadata(), "foreign_flagged") != "yes")


def round_means(bench) -> dict[tuple[str, int], float]:
    """(invocation, round) -> the mean of that round's runs of ``bench`` (runs flagged for foreign
    load left out): the keys two benchmarks are paired on, since a round pairs only within the
    campaign call it ran in."""
    by_round: dict[tuple[str, int], list[float]] = {}
    for run in bench.get_runs() if bench is not None else ():
        meta = run.get_metadata()
        if run.values and metadata.get(meta, "foreign_flagged") != "yes":
            key = (metadata.get(meta, "invocation", ""), metadata.get(meta, "round", 0))
            by_round.setdefault(key, []).append(statistics.fmean(run.values))
    return {r: statistics.fmean(m) for r, m in by_round.items()}


def half_width(means: list[float]) -> float:
    """Relative 95% CI half-width of the mean of ``means`` (t quantile, df = n - 1); inf below 2 values."""
    if len(means) < 2:
        return math.inf
    mean = statistics.fmean(means)
    if mean <= 0:
        return math.inf
    return t_quantile(len(means) - 1) * statistics.stdev(means) / math.sqrt(len(means)) / mean


def stop_reason(prec: Precision, out: dict, mine: list, rounds: int, spent: float, round_seconds: float) -> str:
    """Why the sweep's benchmark of keys ``mine`` stops after ``rounds`` rounds ('' to go on).

    ``spent``: seconds of its own processes so far, ``round_seconds`` those of the last round (the
    next round is not started when it would overrun the budget).
    """
    if prec.target is None:
        return "fixed"
    if all(out[k].precision <= prec.target for k in mine):
        return "target"
    if rounds >= prec.max_processes:
        return "cap"
    if spent + round_seconds > prec.budget:
        return "budget"
    return ""


def planned_reason(planned: int, rounds: int, spent: float, round_seconds: float, limit: float) -> str:
    """Why a confirmation of ``planned`` rounds stops after ``rounds`` ('' to go on): "planned" when
    they ran; "budget" when the next round would take the stage past ``limit`` seconds.

    The limit is a guard against a machine gone wrong (a benchmark many times slower than in the
    sweep), far above what the plan expects (:data:`harness.measure.sizing.HARD_LIMIT`): a stop on
    the clock is a stop on the data, since slow rounds are the data, so it must stay rare.
    """
    if rounds >= planned:
        return "planned"
    if spent + round_seconds > limit:
        return "budget"
    return ""


def effective_precision(prec: Precision, overrides: dict | None) -> Precision:
    """The profile's precision with a workload's own pyperf settings.

    ``values`` and ``warmups`` replace the profile's. ``processes`` fixes the sample of a profile without a
    target (quick); with a target it can only raise the floor: fewer than the profile's minimum would give
    intervals with one or two degrees of freedom, and stopping on a noisy estimate of the spread from so few
    processes undercovers (the known-truth tests measure it).
    """
    if not overrides:
        return prec
    changes = {k: overrides[k] for k in ("values", "warmups", "reference_budget") if k in overrides}
    if "processes" in overrides:
        n = int(overrides["processes"])
        if prec.target:
            floor = max(n, prec.min_processes)
            changes.update(min_processes=floor, max_processes=max(floor, prec.max_processes))
        else:
            changes.update(min_processes=n, max_processes=n)
    return dataclasses.replace(prec, **changes)
