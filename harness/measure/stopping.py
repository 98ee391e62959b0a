"""When a benchmark has been measured enough: the campaign's stopping rules.

The unit of replication is the pyperf process: a benchmark's precision is the relative 95% CI
half-width of the mean over its process means (t quantile, df = processes - 1: :func:`half_width`).
Per benchmark (its variants stop together): after ``min_processes`` rounds, rounds are added while
any variant's half-width exceeds the profile's target, up to ``max_processes`` rounds, and only
while the next round still fits in the benchmark's ``budget`` seconds of its own processes.

A workload's sequential benchmark, the reference of every ratio of its workload, and the
confirmation of its best options are measured instead until every ratio to a baseline is decided
(greater, less or equivalent against the margin, by an interval paired by round:
:func:`ratios_decided`), within the profile's ``reference_max_processes`` and ``reference_budget``.
:func:`stop_reason` says which rule stopped a benchmark (fixed, target, decided, cap, budget); it
is recorded as ``stop_reason``. Runs flagged for foreign load stay in the JSON but never count.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

from harness import intervals, metadata
from harness.intervals import MARGIN, paired_ratio_interval, ratio_verdict, t_quantile
from harness.measure.config import Precision


def process_means(bench) -> list[float]:
    """The process means of ``bench`` (:func:`harness.intervals.process_means`), runs flagged for
    foreign load left out."""
    runs = bench.get_runs() if bench is not None else ()
    return intervals.process_means(r.values for r in runs
                                   if metadata.get(r.get_metadata(), "foreign_flagged") != "yes")


def round_means(bench) -> dict[int, float]:
    """round -> the mean of that round's runs of ``bench`` (runs flagged for foreign load left out)."""
    by_round: dict[int, list[float]] = {}
    for run in bench.get_runs() if bench is not None else ():
        meta = run.get_metadata()
        if run.values and metadata.get(meta, "foreign_flagged") != "yes":
            by_round.setdefault(metadata.get(meta, "round", 0), []).append(statistics.fmean(run.values))
    return {r: statistics.fmean(m) for r, m in by_round.items()}


def half_width(means: list[float]) -> float:
    """Relative 95% CI half-width of the mean of ``means`` (t quantile, df = n - 1); inf below 2 values."""
    if len(means) < 2:
        return math.inf
    mean = statistics.fmean(means)
    if mean <= 0:
        return math.inf
    return t_quantile(len(means) - 1) * statistics.stdev(means) / math.sqrt(len(means)) / mean


def ratios_decided(baselines: dict, confidence: float, margin: float = MARGIN):
    """The rule ``decided(outcomes, active) -> bool`` of a reference or a confirmation stage.

    True when every ratio of ``baselines`` (key -> the key of its baseline, as the outcomes are
    keyed: by variant, or by (variant, benchmark)) is decided: greater, less or equivalent against
    the margin, by its ``confidence`` interval over process means paired by round
    (:func:`harness.intervals.paired_ratio_interval`, as the analysis computes it). A side that
    failed leaves no ratio to decide. Deciding on a stricter interval than the analysis's 95%
    keeps the error of stopping at the first decided look near the nominal level
    (harness.analysis.simulate.rerun_agreement and the known-truth tests measure it).
    """
    def decided(out: dict, active: list) -> bool:
        for key, base in baselines.items():
            if key in active and base in active:
                _, low, high, _ = paired_ratio_interval(round_means(out[key].bench), round_means(out[base].bench),
                                                        confidence)
                if ratio_verdict(low, high, margin) in ("inconclusive", "n/a"):
                    return False
        return True

    return decided


def stop_reason(prec: Precision, decided, out: dict, mine: list, rounds: int, spent: float,
                round_seconds: float) -> str:
    """Why the benchmark of keys ``mine`` stops after ``rounds`` rounds ('' to go on).

    ``decided``: its ratios rule (:func:`ratios_decided`), or None for the precision target;
    ``spent``: seconds of its own processes so far, ``round_seconds`` those of the last round
    (the next round is not started when it would overrun the budget).
    """
    if prec.target is None:
        return "fixed"
    if decided is not None and decided(out, mine):
        return "decided"
    if decided is None and all(out[k].precision <= prec.target for k in mine):
        return "target"
    if rounds >= prec.max_processes:
        return "cap"
    if spent + round_seconds > prec.budget:
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
