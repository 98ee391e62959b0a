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


def split_halves(pm: np.ndarray):
    """(choose, estimate): processes 2, 4, ... choose, 1, 3, 5, ... estimate (1-based; interleaved
    halves, so drift in time affects both alike; the larger half estimates, so three processes
    already give an interval)."""
    return pm[1::2], pm[0::2]


def _choose(options: dict, half: int | None):
    cands = [(v.mean() if half is None else split_halves(v)[half].mean(), w, s)
             for (s, w), v in options.items()]
    _, w, s = min(cands, key=lambda c: (c[0], c[1]))
    return s, w


def _tied_with_fastest(opts: dict, margin: float):
    fastest = min(opts, key=lambda k: (opts[k].mean(), k[1]))
    tied = []
    for k, v in opts.items():
        c = contrast([(v, 1), (opts[fastest], -1)])
        if k == fastest or not (c.low > 1 + margin):  # NaN low: cannot be told apart
            tied.append(f"{k[0]} x{k[1]}")
    return fastest, ", ".join(tied)


def best_option(cell: WorkloadCell, base: WorkloadCell | None, margin: float) -> BestOption | None:
    """The best option, selection-aware: chosen on one sample, its speedup and its gain over the
    baseline's best (chosen the same way) estimated on another (see the module docstring).

    None when the cell has no option.
    """
    opts = cell.options
    if not opts:
        return None

    confirmed = bool(cell.confirm) and (base is None or not base.options or bool(base.confirm))
    splittable = all(len(v) >= 2 for v in opts.values())
    if confirmed:
        s, w = next(iter(cell.confirm))
        selection = (f"chosen on all sweep processes, estimated on "
                     f"{len(cell.confirm[(s, w)])} fresh confirmation processes")
        held = {(s, w): cell.confirm[(s, w)]}.get
    else:
        s, w = _choose(opts, 0 if splittable else None)
        selection = ("chosen on processes 2, 4, ..., estimated on 1, 3, ..." if splittable
                     else "chosen and estimated on the same processes (too few to split)")
        held = (lambda k: split_halves(opts[k])[1]) if splittable else opts.get
    fastest, tied = _tied_with_fastest(opts, margin)
    best = BestOption(option=(s, w), time=(cell.confirm if confirmed else opts)[(s, w)].mean(),
                      selection=selection, tied=tied, fastest=fastest,
                      n_processes=len(cell.confirm[(s, w)] if confirmed else opts[(s, w)]))
    seq = cell.seq
    sel = selection
    if seq is not None:
        if s == "sequential":
            c = Contrast(1.0, math.nan, math.nan, math.nan, math.nan, 0)
            n_seq = len(held((s, w)))
        else:  # a confirmed option against all the sweep's sequential processes
            ref = split_halves(seq)[1] if splittable and not confirmed else seq
            c = contrast([(ref, 1), (held((s, w)), -1)])
            n_seq = len(ref)
        best.estimates.append(BestEstimate("best_speedup", f"{cell.variant} sequential x1", c, n_seq, sel))
    if base is not None and base.options:
        bheld_rounds: dict = {}
        if confirmed and base.confirm:
            bs, bw = next(iter(base.confirm))
            bheld = base.confirm[(bs, bw)]
            bheld_rounds = base.confirm_rounds.get((bs, bw), {})
        else:
            bsplit = all(len(v) >= 2 for v in base.options.values())
            bs, bw = _choose(base.options, 0 if bsplit and splittable else None)
            bheld = split_halves(base.options[(bs, bw)])[1] if bsplit and splittable else base.options[(bs, bw)]
            if splittable and not bsplit:
                sel += "; baseline chosen on all processes"
        best.baseline_option = (bs, bw)
        best.baseline_time = (base.confirm if confirmed and base.confirm else base.options)[(bs, bw)].mean()
        if base.variant != cell.variant:  # the baseline against itself is no ratio
            mine = held((s, w))
            c = (cross_variant(bheld, bheld_rounds, mine, cell.confirm_rounds.get((s, w), {}))
                 if confirmed and bheld_rounds else contrast([(bheld, 1), (mine, -1)]))
            best.estimates.append(BestEstimate("gain_best", f"{base.variant} {bs} x{bw}", c, len(bheld), sel))
    return best
