"""The confirmation stage: each variant's best option measured again, in processes that did not choose it.

After a workload's sweep (profiles with ``confirm_best``, when a variant's baseline is in the
campaign), each variant's best option, chosen on all its sweep processes as the analysis chooses
it (:func:`best_option`), is measured again in fresh interleaved rounds, each variant running its
own best, until every best-vs-best gain is decided by the reference's rule
(:func:`harness.measure.stopping.ratios_decided`). It is stored as
``<workload>/<strategy>/<workers>/confirm`` with ``stage`` = confirm: the analysis estimates the
best option's speedup and gain on these processes alone, which played no part in the choice (a
gain estimated on the processes that chose it is biased upwards).
"""

from __future__ import annotations

import statistics

from harness import variants
from harness.measure.planned import Planned
from harness.measure.results import VariantStore
from harness.measure.stopping import process_means


def best_option(store: VariantStore, options: list[Planned]) -> Planned | None:
    """The option of ``options`` (one workload's sweep) with the lowest mean over process means on
    ``store`` (ties: fewer workers), as the analysis chooses it; None if none was measured."""
    measured = [(statistics.fmean(pm), p.workers, k) for k, p in enumerate(options)
                if (pm := process_means(store.benchmark(p.name)))]
    return options[min(measured)[2]] if measured else None


def baseline_pairs(names: list[str]) -> dict[str, str]:
    """variant -> its baseline, for every variant of ``names`` whose baseline is also there."""
    return {v: b.name for v in names if (b := variants.baseline_of(v)) and b.name in names and b.name != v}


def confirmation_plan(stores: dict[str, VariantStore], options: list[Planned]) -> dict[str, Planned]:
    """variant -> the best option to confirm: every variant with its baseline in the campaign, and
    that baseline; {} when no variant has one (nothing to compare) or a side has no best option."""
    names = list(stores)
    pairs = baseline_pairs(names)
    sides = [v for v in names if v in pairs or v in pairs.values()]
    plan = {v: best_option(stores[v], options) for v in sides}
    return plan if pairs and all(plan.values()) else {}


def renamed(bench, name: str):
    """``bench`` with its runs' name metadata set to ``name`` (pyperf names a benchmark by its runs)."""
    import pyperf

    runs = [r._update_metadata({"name": name}) for r in bench.get_runs()]
    return pyperf.Benchmark(runs)
