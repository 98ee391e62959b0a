"""The confirmation stage: each variant's best option and its sequential reference, measured again side by side.

After a workload's sweep (profiles with ``confirm_best``, when a variant's baseline is in the
campaign), each variant's best option, chosen on all its sweep processes as the analysis chooses
it (:func:`best_option`), AND each variant's sequential reference are measured again in the same
fresh interleaved rounds; a variant whose best option is the reference runs only the reference.
Every headline ratio of the workload (slowdown seq_v / seq_base, gain_best best_base / best_v,
best_speedup seq_v / best_v) is then estimated on these rounds alone, paired by round: its two
sides ran in the same minutes, on processes that played no part in choosing the option (a gain
estimated on the processes that chose it is biased upwards). The number of rounds is fixed before
the stage from the sweep's data (:mod:`harness.measure.sizing`). Stored as
``<workload>/<strategy>/<workers>/confirm`` with ``stage`` = confirm, the reference as
``<workload>/sequential/1/confirm``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from harness import variants
from harness.measure import sizing
from harness.measure.config import Precision
from harness.measure.planned import Planned
from harness.measure.results import VariantStore
from harness.measure.stopping import process_means, round_means


@dataclass(frozen=True)
class Confirmation:
    """What a workload's confirmation measures: each variant's best option and its reference."""

    best: dict[str, Planned]  # variant -> its best option on the sweep
    reference: Planned | None  # the workload's sequential benchmark (None when not planned)
    pairs: dict[str, str]  # variant -> its baseline, both in the confirmation

    @property
    def keys(self) -> list[tuple[str, Planned]]:
        """(variant, benchmark) measured in each round: every reference, then every best that is not one."""
        refs = [(v, self.reference) for v in self.best] if self.reference else []
        return refs + [(v, q) for v, q in self.best.items() if q != self.reference]

    def label(self) -> str:
        """The best options, as said on the console: "3.13 threads x2, 3.13t sequential x1"."""
        return ", ".join(f"{v} {q.strategy} x{q.workers}" for v, q in self.best.items())


def best_option(store: VariantStore, options: list[Planned]) -> Planned | None:
    """The option of ``options`` (one workload's sweep) with the lowest mean over process means on
    ``store`` (ties: fewer workers), as the analysis chooses it; None if none was measured."""
    measured = [(statistics.fmean(pm), p.workers, k) for k, p in enumerate(options)
                if (pm := process_means(store.benchmark(p.name)))]
    return options[min(measured)[2]] if measured else None


def baseline_pairs(names: list[str]) -> dict[str, str]:
    """variant -> its baseline, for every variant of ``names`` whose baseline is also there."""
    return {v: b.name for v in names if (b := variants.baseline_of(v)) and b.name in names and b.name != v}


def confirmation_plan(stores: dict[str, VariantStore], options: list[Planned]) -> Confirmation | None:
    """The confirmation of one workload: every variant with its baseline in the campaign, and that
    baseline; None when no variant has one (nothing to compare) or a side has no best option."""
    names = list(stores)
    pairs = baseline_pairs(names)
    sides = [v for v in names if v in pairs or v in pairs.values()]
    best = {v: best_option(stores[v], options) for v in sides}
    if not pairs or not all(best.values()):
        return None
    reference = next((p for p in options if p.strategy == "sequential"), None)
    return Confirmation(best, reference, pairs)


def needs(stores: dict[str, VariantStore], c: Confirmation, unknown: int) -> list[sizing.Need]:
    """What each headline ratio of the confirmation asks, from the sweep's rounds (sizing.need)."""
    def series(v: str, q: Planned | None) -> dict:
        return round_means(stores[v].benchmark(q.name)) if q is not None else {}

    seq = {v: series(v, c.reference) for v in c.best}
    best = {v: series(v, q) for v, q in c.best.items()}
    out = []
    for v, b in c.pairs.items():
        out.append(sizing.need(f"slowdown {v}/{b}", seq[v], seq[b], unknown))
        out.append(sizing.need(f"gain of {b}'s best over {v}'s", best[b], best[v], unknown))
    for v, q in c.best.items():
        if q != c.reference:
            out.append(sizing.need(f"speedup of {v} {q.strategy} x{q.workers}", seq[v], best[v], unknown))
    return [n for n in out if n is not None]


def round_seconds(stores: dict[str, VariantStore], c: Confirmation) -> float:
    """The sweep's seconds per confirmation round: each measured benchmark's mean process wall time,
    summed (0 when one is not recorded: the budget cannot size the plan then)."""
    seconds = [stores[v].process_seconds(q.name) for v, q in c.keys]
    return sum(seconds) if all(s > 0 for s in seconds) else 0.0


def size(stores: dict[str, VariantStore], c: Confirmation, prec: Precision) -> sizing.Plan:
    """The confirmation's fixed number of rounds, from the sweep alone (harness.measure.sizing)."""
    cap = prec.reference_max_processes or prec.max_processes
    return sizing.plan(needs(stores, c, unknown=cap), cap, prec.reference_budget, round_seconds(stores, c))


def renamed(bench, name: str):
    """``bench`` with its runs' name metadata set to ``name`` (pyperf names a benchmark by its runs)."""
    import pyperf

    runs = [r._update_metadata({"name": name}) for r in bench.get_runs()]
    return pyperf.Benchmark(runs)
