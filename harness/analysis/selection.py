"""The best option of a workload on a variant, chosen and estimated selection-aware, and its ties.

The maximum of ~10 noisy means is biased upward (winner's curse); estimating on processes that
played no part in the choice removes that bias. A campaign with a confirmation stage chose each
variant's best on all its sweep processes and measured it again in fresh interleaved processes
(``.../confirm``): the estimate uses those. Older sets split each option's processes instead
(chosen on one half, estimated on the other); with fewer than two processes per half the interval
is n/a (noted), never a number. The options statistically tied with the fastest on all sweep
processes (not shown slower than it by more than the margin) are listed, so two options no run
tells apart are read as one answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.analysis.cells import WorkloadCell, cross_variant
from harness.analysis.stats import Contrast, contrast


@dataclass
class BestEstimate:
    """One selection-aware ratio of the best option: ``best_speedup`` or ``gain_best``."""

    metric: str
    against: str  # what the ratio is taken against (the ratios table's ``baseline`` column)
    contrast: Contrast
    n_against: int  # processes on that side
    selection: str  # how the option was chosen and on which processes it is estimated


@dataclass
class BestOption:
    """The best option of one cell, the baseline's best it is compared with, and the ties."""

    option: tuple  # (strategy, workers)
    time: float  # its mean time on the processes that estimate it
    selection: str
    tied: str  # "strategy xN, ..." of the options not shown slower than the fastest
    fastest: tuple  # the fastest option on all sweep processes
    n_processes: int  # processes that estimate it
    baseline_option: tuple | None = None
    baseline_time: float = math.nan
    estimates: list = field(default_factory=list)  # BestEstimate, best_speedup first


def split_halves(means: np.ndarray):
    """(choose, estimate): processes 2, 4, ... choose, 1, 3, 5, ... estimate (1-based; interleaved
    halves, so drift in time affects both alike; the larger half estimates, so three processes
    already give an interval)."""
    return means[1::2], means[0::2]


def _fastest(options: dict, half: int | None) -> tuple:
    """The option with the smallest mean (fewer workers on a tie), on all processes or on one half."""
    candidates = [(v.mean() if half is None else split_halves(v)[half].mean(), w, s)
                  for (s, w), v in options.items()]
    _, w, s = min(candidates, key=lambda c: (c[0], c[1]))
    return s, w


def _tied_with_fastest(options: dict, margin: float) -> tuple[tuple, str]:
    """The fastest option on all sweep processes, and the options not shown slower than it by more
    than the margin (an interval that cannot tell them apart counts as tied)."""
    fastest = min(options, key=lambda k: (options[k].mean(), k[1]))
    tied = []
    for k, v in options.items():
        c = contrast([(v, 1), (options[fastest], -1)])
        if k == fastest or not (c.low > 1 + margin):  # NaN low: cannot be told apart
            tied.append(f"{k[0]} x{k[1]}")
    return fastest, ", ".join(tied)


def _choose(cell: WorkloadCell, confirmed: bool, splittable: bool):
    """(option, selection text, processes that estimate each option) of the cell's own best."""
    if confirmed:
        option = next(iter(cell.confirm))
        return (option, f"chosen on all sweep processes, estimated on {len(cell.confirm[option])} fresh "
                        "confirmation processes", {option: cell.confirm[option]}.get)
    option = _fastest(cell.options, 0 if splittable else None)
    if splittable:
        return (option, "chosen on processes 2, 4, ..., estimated on 1, 3, ...",
                lambda k: split_halves(cell.options[k])[1])
    return option, "chosen and estimated on the same processes (too few to split)", cell.options.get


def _choose_baseline(base: WorkloadCell, confirmed: bool, splittable: bool):
    """(the baseline's best, the processes that estimate it, their rounds, whether it was chosen on
    all processes although the variant's was split), chosen the way the variant's was."""
    if confirmed and base.confirm:
        option = next(iter(base.confirm))
        return option, base.confirm[option], base.confirm_rounds.get(option, {}), False
    base_splittable = all(len(v) >= 2 for v in base.options.values())
    split = base_splittable and splittable
    option = _fastest(base.options, 0 if split else None)
    estimating = split_halves(base.options[option])[1] if split else base.options[option]
    return option, estimating, {}, splittable and not base_splittable


def best_option(cell: WorkloadCell, base: WorkloadCell | None, margin: float) -> BestOption | None:
    """The best option, selection-aware: chosen on one sample, its speedup and its gain over the
    baseline's best (chosen the same way) estimated on another (see the module docstring).

    None when the cell has no option.
    """
    if not cell.options:
        return None
    confirmed = bool(cell.confirm) and (base is None or not base.options or bool(base.confirm))
    splittable = all(len(v) >= 2 for v in cell.options.values())
    option, selection, estimating = _choose(cell, confirmed, splittable)
    fastest, tied = _tied_with_fastest(cell.options, margin)
    chosen_on = cell.confirm if confirmed else cell.options
    best = BestOption(option=option, time=chosen_on[option].mean(), selection=selection, tied=tied,
                      fastest=fastest, n_processes=len(chosen_on[option]))
    seq = cell.sequential
    if seq is not None:
        if option[0] == "sequential":
            c = Contrast(1.0, math.nan, math.nan, math.nan, math.nan, 0)
            n_seq = len(estimating(option))
        else:  # a confirmed option against all the sweep's sequential processes
            ref = split_halves(seq)[1] if splittable and not confirmed else seq
            c = contrast([(ref, 1), (estimating(option), -1)])
            n_seq = len(ref)
        best.estimates.append(BestEstimate("best_speedup", f"{cell.variant} sequential x1", c, n_seq, selection))
    if base is not None and base.options:
        base_option, base_estimating, base_rounds, unsplit = _choose_baseline(base, confirmed, splittable)
        best.baseline_option = base_option
        best.baseline_time = (base.confirm if confirmed and base.confirm else base.options)[base_option].mean()
        if base.variant != cell.variant:  # the baseline against itself is no ratio
            mine = estimating(option)
            c = (cross_variant(base_estimating, base_rounds, mine, cell.confirm_rounds.get(option, {}))
                 if confirmed and base_rounds else contrast([(base_estimating, 1), (mine, -1)]))
            best.estimates.append(BestEstimate(
                "gain_best", f"{base.variant} {base_option[0]} x{base_option[1]}", c, len(base_estimating),
                selection + ("; baseline chosen on all processes" if unsplit else "")))
    return best
