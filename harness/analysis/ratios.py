"""Every ratio the analysis derives, one row each in long form (results/ratios.csv).

Each ratio carries its process-level 95% CI, degrees of freedom, three-valued verdict and the
processes on each side; ``summary.csv``, the report and the README headline are pivoted from it.
Variants are compared with their baseline (harness.analysis.order), never by name.

metric: what the ratio is (> 1 always means "the row's option is faster", except slowdown):

- speedup: own sequential time / time of this option
- weak_efficiency: the same ratio when the benchmark ran with --scaling weak: t(1) / t(N)
- speedup_vs_baseline: the baseline variant's sequential time / time of this option
- gain: the baseline variant's time for the same strategy x workers / this time
- speedup_ratio: speedup of this option / the baseline variant's speedup of the same one (what
  free-threading adds beyond what the GIL build already scales)
- slowdown: own sequential time / the baseline variant's sequential time (> 1: slower)
- best_speedup, gain_best: the best option, chosen and estimated selection-aware
  (harness.analysis.selection)
"""

from __future__ import annotations

import math

import pandas as pd

from harness.analysis.cells import WorkloadCell, cross_variant, workload_cells
from harness.analysis.order import baseline_variant, role, sort_rows
from harness.analysis.selection import best_option
from harness.analysis.stats import MARGIN, Contrast, combine, contrast, ratio_verdict, significant

RATIO_COLUMNS = ("host", "cpu_count", "workload", "kind", "variant", "role", "strategy", "workers",
                 "metric", "baseline", "value", "ci_low", "ci_high", "df", "se_log",
                 "significant", "verdict", "precision", "n_processes", "n_processes_baseline",
                 "selection", "note")


def ratio_row(cell: WorkloadCell, option: tuple, metric: str, against: str, c: Contrast, n_processes: int,
              n_against: int, margin: float, selection: str = "", note: str = "") -> dict:
    """One row of the ratios table: ``c`` taken for ``option`` of ``cell`` against ``against``.

    An interval from one process on a side does not exist: NaN bounds and a note, never a number.
    """
    lo, hi = c.low, c.high
    if c.n_min < 2 and not math.isnan(c.value):
        note = "; ".join(x for x in (note, "one process on a side: CI n/a") if x)
    prec = (hi - lo) / 2 / c.value if c.value and not math.isnan(lo) else math.nan
    strategy, workers = option
    return {"host": cell.host, "cpu_count": cell.cores, "workload": cell.workload,
            "kind": cell.kind, "variant": cell.variant, "role": role(cell.variant),
            "strategy": strategy, "workers": workers, "metric": metric, "baseline": against,
            "value": c.value, "ci_low": lo, "ci_high": hi, "df": c.df, "se_log": c.se,
            "significant": significant(lo, hi) if not math.isnan(lo) else None,
            "verdict": ratio_verdict(lo, hi, margin), "precision": prec,
            "n_processes": n_processes, "n_processes_baseline": n_against, "selection": selection,
            "note": note}


def _own_speedups(cell: WorkloadCell, margin: float) -> list[dict]:
    """speedup (or weak_efficiency) of every parallel option against the variant's own sequential run."""
    seq = cell.sequential
    if seq is None:
        return []
    against = f"{cell.variant} sequential x1"
    rows = []
    for (strategy, workers), means in cell.options.items():
        if strategy != "sequential":
            metric = "weak_efficiency" if cell.scaling.get((strategy, workers)) == "weak" else "speedup"
            rows.append(ratio_row(cell, (strategy, workers), metric, against, contrast([(seq, 1), (means, -1)]),
                                  len(means), len(seq), margin))
    return rows


def _against_baseline(cell: WorkloadCell, base: WorkloadCell, margin: float) -> list[dict]:
    """slowdown, speedup_vs_baseline, gain and speedup_ratio of every option against the baseline.

    A ratio of one benchmark on two variants is paired by round where both know their rounds
    (:func:`harness.analysis.cells.cross_variant`), so the machine's drift cancels; speedup_ratio is
    (own sequential / the baseline's sequential) x gain, the product of two such ratios.
    """
    rows = []
    seq, base_seq = cell.sequential, base.sequential
    for option, means in cell.options.items():
        strategy, workers = option
        if base_seq is not None:
            if strategy == "sequential":
                metric = "slowdown"
                c = cross_variant(means, cell.rounds.get(option), base_seq, base.rounds.get(option))
            else:
                metric, c = "speedup_vs_baseline", contrast([(base_seq, 1), (means, -1)])
            rows.append(ratio_row(cell, option, metric, f"{base.variant} sequential x1", c, len(means),
                                  len(base_seq), margin))
        base_means = base.options.get(option)
        if base_means is None or strategy == "sequential":
            continue
        against = f"{base.variant} {strategy} x{workers}"
        gain = cross_variant(base_means, base.rounds.get(option), means, cell.rounds.get(option))
        rows.append(ratio_row(cell, option, "gain", against, gain, len(means), len(base_means), margin))
        if seq is not None and base_seq is not None:
            # (seq / means) / (base_seq / base_means) = (seq / base_seq) * gain
            c = combine(cross_variant(seq, cell.sequential_rounds, base_seq, base.sequential_rounds), gain)
            rows.append(ratio_row(cell, option, "speedup_ratio", against, c, min(len(means), len(seq)),
                                  min(len(base_means), len(base_seq)), margin))
    return rows


def _best_option_ratios(cell: WorkloadCell, base: WorkloadCell | None, margin: float) -> list[dict]:
    """best_speedup and gain_best of the selection-aware best option (harness.analysis.selection)."""
    best = best_option(cell, base, margin)
    if best is None:
        return []
    return [ratio_row(cell, best.option, e.metric, e.against, e.contrast, best.n_processes, e.n_against, margin,
                      e.selection) for e in best.estimates]


def ratios_table(raw: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """Every ratio the analysis derives, one row each, with its process-level CI and verdict."""
    rows = []
    cells = workload_cells(raw)
    names = list(dict.fromkeys(raw["variant"]))
    for (host, variant, workload), cell in cells.items():
        baseline_name = baseline_variant(variant, names)
        base = cells.get((host, baseline_name, workload)) if baseline_name else None
        rows += _own_speedups(cell, margin)
        if base is not None and baseline_name != variant:
            rows += _against_baseline(cell, base, margin)
        rows += _best_option_ratios(cell, base, margin)
    df = pd.DataFrame(rows, columns=list(RATIO_COLUMNS))
    for col in ("cpu_count", "workers", "n_processes", "n_processes_baseline"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["significant"] = df["significant"].astype("boolean")
    return sort_rows(df, ("host", "workload", "variant", "metric", "strategy", "workers"))
