"""The best option of a workload on a variant, chosen and estimated selection-aware, and its ties.

The maximum of ~10 noisy means is biased upward (winner's curse); estimating on processes that
played no part in the choice removes that bias. A campaign with a confirmation stage chose each
variant's best on all its sweep processes and measured it again in fresh interleaved rounds
(``.../confirm``), next to the variant's sequential reference (newer sets): the speedup and the gain
are estimated on those rounds alone, paired by round. Older sets confirmed the best option without
its reference (its speedup then divides the sweep's sequential processes by the confirmation's,
minutes apart: noted), or split each option's processes instead (chosen on one half, estimated on
the other); with fewer than two processes per half the interval is n/a (noted), never a number.

Ties: an option is tied with the fastest only when its regret (its time / the fastest option's, on
the sweep, paired by round) has its whole 95% CI inside the +-margin band (verdict "equivalent").
A row where more than half of the options are tied, or cannot be shown slower than the fastest by
more than the margin, has no single best option: :func:`tie_summary` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from harness.analysis.cells import WorkloadCell, label
from harness.analysis.pairing import Series


@dataclass
class BestOption:
    """The best option of one cell, the series that estimate it, and the baseline's best."""

    option: tuple  # (strategy, workers)
    time: float  # its mean time on the processes that estimate it
    selection: str  # how it was chosen and on which processes it is estimated
    estimating: Series  # the processes that estimate it
    reference: Series | None  # the sequential processes its speedup is taken against
    reference_note: str = ""  # why that reference, when it is a fallback
    baseline_option: tuple | None = None
    baseline_time: float = math.nan
    baseline_estimating: Series | None = None
    baseline_note: str = ""

    @property
    def n_processes(self) -> int:
        """Processes that estimate the best option."""
        return len(self.estimating)


def split_positions(n: int) -> tuple[list[int], list[int]]:
    """(choose, estimate): processes 2, 4, ... choose, 1, 3, 5, ... estimate (1-based; interleaved
    halves, so drift in time affects both alike; the larger half estimates, so three processes
    already give an interval)."""
    return list(range(1, n, 2)), list(range(0, n, 2))


def fastest(options: dict, positions=None) -> tuple:
    """The option with the smallest mean (fewer workers on a tie), on all processes or on the
    ``positions`` of each (the choosing half)."""
    def mean(v):
        return v.mean() if positions is None else v.subset(positions(len(v))).mean()

    return min(options, key=lambda k: (mean(options[k]), k[1]))


def _choose_half(n):
    return split_positions(n)[0]


def _estimate_half(n):
    return split_positions(n)[1]


def choose(cell: WorkloadCell, base: WorkloadCell | None) -> BestOption | None:
    """The best option of ``cell`` and the baseline's best, chosen on one sample and estimated on
    another (see the module docstring); None when the cell has no option."""
    if not cell.options:
        return None
    confirmed = bool(cell.confirm) and (base is None or not base.options or bool(base.confirm))
    splittable = all(len(v) >= 2 for v in cell.options.values())
    if confirmed:
        option = cell.confirmed_option
        estimating = cell.confirm[option]
        reference = cell.confirmed_sequential
        note = ""
        if reference is None:
            reference = cell.sequential
            note = "older set: no sequential reference in the confirmation rounds"
        best = BestOption(option, estimating.mean(), f"chosen on all sweep processes, estimated on "
                          f"{len(estimating)} fresh confirmation processes", estimating, reference, note)
    elif splittable:
        option = fastest(cell.options, _choose_half)
        estimating = cell.options[option].subset(_estimate_half(len(cell.options[option])))
        seq = cell.sequential
        best = BestOption(option, estimating.mean(), "chosen on processes 2, 4, ..., estimated on 1, 3, ...",
                          estimating, seq.subset(_estimate_half(len(seq))) if seq is not None else None)
    else:
        option = fastest(cell.options)
        best = BestOption(option, cell.options[option].mean(),
                          "chosen and estimated on the same processes (too few to split)",
                          cell.options[option], cell.sequential)
    if base is not None and base.options:
        _choose_baseline(best, base, confirmed, splittable)
    return best


def _choose_baseline(best: BestOption, base: WorkloadCell, confirmed: bool, splittable: bool) -> None:
    """The baseline's best, chosen the way the variant's was (on all processes when its own options
    cannot be split although the variant's were: noted)."""
    if confirmed and base.confirm:
        option = base.confirmed_option
        best.baseline_option, best.baseline_estimating = option, base.confirm[option]
    else:
        base_splittable = all(len(v) >= 2 for v in base.options.values())
        split = base_splittable and splittable and not confirmed
        option = fastest(base.options, _choose_half if split else None)
        whole = base.options[option]
        best.baseline_option = option
        best.baseline_estimating = whole.subset(_estimate_half(len(whole))) if split else whole
        if splittable and not confirmed and not base_splittable:
            best.baseline_note = "baseline chosen on all processes"
    best.baseline_time = best.baseline_estimating.mean()


def option_text(option) -> str:
    """("threads", 2) -> "threads x2"."""
    return f"{option[0]} x{option[1]}"


def regret_terms(cell: WorkloadCell) -> tuple[tuple, dict]:
    """The fastest option of the sweep (all processes) and, per option, the terms of its regret:
    its time / the fastest's (> 1: slower), for harness.analysis.pairing.estimate."""
    best = fastest(cell.options)
    return best, {o: [(s, 1), (cell.options[best], -1)] for o, s in cell.options.items() if o != best}


TIE_COLUMNS = ("tied_with_fastest", "tie_size", "not_told_apart", "n_not_told_apart", "n_options", "single_best")


def tie_summary(regrets: pd.DataFrame) -> dict:
    """What the regret rows of one cell say about its best option.

    tied_with_fastest: the fastest and every option whose regret CI lies inside the margin band
    ("equivalent"); not_told_apart: the options not shown slower than the fastest by more than the
    margin (any verdict but "greater"), the fastest first; single_best: False when more than half of
    the options are tied or not told apart, since then no single option is the answer.
    """
    if regrets is None or not len(regrets):
        return dict.fromkeys(TIE_COLUMNS)
    rows = regrets.to_dict("records")
    first = [r for r in rows if r["verdict"] == "fastest"]
    tied = first + [r for r in rows if r["verdict"] == "equivalent"]
    apart = first + [r for r in rows if r["verdict"] not in ("greater", "fastest")]
    n = len(rows)
    text = lambda rs: ", ".join(option_text((r["strategy"], r["workers"])) for r in rs)  # noqa: E731
    return {"tied_with_fastest": text(tied), "tie_size": len(tied), "not_told_apart": text(apart),
            "n_not_told_apart": len(apart), "n_options": n,
            "single_best": not (len(tied) > n / 2 or len(apart) > n / 2)}


def best_label(option, ties: dict) -> str:
    """The headline's best-option cell: the option, or "no single best (k of n)" when k of its n options
    are tied with the fastest or not told apart from it (the figures beside it are still those of the
    option chosen and confirmed)."""
    if option is None or option[0] is None:
        return "-"
    if ties.get("single_best") is False:
        return f"no single best ({max(ties['tie_size'], ties['n_not_told_apart'])} of {ties['n_options']})"
    return option_text(option)


__all__ = ["TIE_COLUMNS", "BestOption", "best_label", "choose", "fastest", "label", "option_text", "regret_terms",
           "split_positions", "tie_summary"]
