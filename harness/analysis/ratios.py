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

from harness.analysis.cells import WorkloadCell, cross_variant, sequential_rounds, workload_cells
from harness.analysis.order import baseline_variant, role, sort_rows
from harness.analysis.selection import best_option
from harness.analysis.stats import MARGIN, Contrast, combine, contrast, ratio_verdict, significant

RATIO_COLUMNS = ("host", "cpu_count", "workload", "kind", "variant", "role", "strategy", "workers",
                 "metric", "baseline", "value", "ci_low", "ci_high", "df", "se_log",
                 "significant", "verdict", "precision", "n_processes", "n_processes_baseline",
                 "selection", "note")


def ratio_row(cell: WorkloadCell, strategy, workers, metric, baseline, c: Contrast, n_base,
              margin: float, selection: str = "", note: str = "") -> dict:
    lo, hi = c.low, c.high
    if c.n_min < 2 and not math.isnan(c.value):
        note = "; ".join(x for x in (note, "one process on a side: CI n/a") if x)
    prec = (hi - lo) / 2 / c.value if c.value and not math.isnan(lo) else math.nan
    return {"host": cell.host, "cpu_count": cell.cores, "workload": cell.workload,
            "kind": cell.kind, "variant": cell.variant, "role": role(cell.variant),
            "strategy": strategy, "workers": workers, "metric": metric, "baseline": baseline,
            "value": c.value, "ci_low": lo, "ci_high": hi, "df": c.df, "se_log": c.se,
            "significant": significant(lo, hi) if not math.isnan(lo) else None,
            "verdict": ratio_verdict(lo, hi, margin), "precision": prec,
            "n_processes": None, "n_processes_baseline": n_base, "selection": selection,
            "note": note}


def ratios_table(raw: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """Every ratio the analysis derives, one row each, with its process-level CI and verdict."""
    rows = []
    cells = workload_cells(raw)
    names = list(dict.fromkeys(raw["variant"]))
    for (host, variant, workload), cell in cells.items():
        bname = baseline_variant(variant, names)
        base = cells.get((host, bname, workload)) if bname else None
        is_base = bname == variant
        seq = cell.seq
        for (s, w), pm in cell.options.items():
            n = len(pm)
            if seq is not None and s != "sequential":
                metric = "weak_efficiency" if cell.scaling.get((s, w)) == "weak" else "speedup"
                r = ratio_row(cell, s, w, metric, f"{variant} sequential x1",
                              contrast([(seq, 1), (pm, -1)]), len(seq), margin)
                rows.append(r | {"n_processes": n})
            if base is None or is_base:
                continue
            bseq = base.seq
            if bseq is not None:
                metric = "slowdown" if s == "sequential" else "speedup_vs_baseline"
                c = (cross_variant(pm, cell.rounds.get((s, w)), bseq, base.rounds.get((s, w)))
                     if s == "sequential" else contrast([(bseq, 1), (pm, -1)]))
                rows.append(ratio_row(cell, s, w, metric, f"{bname} sequential x1", c,
                                      len(bseq), margin) | {"n_processes": n})
            bpm = base.options.get((s, w))
            if bpm is not None and s != "sequential":
                gain = cross_variant(bpm, base.rounds.get((s, w)), pm, cell.rounds.get((s, w)))
                rows.append(ratio_row(cell, s, w, "gain", f"{bname} {s} x{w}", gain, len(bpm), margin)
                            | {"n_processes": n})
                if seq is not None and bseq is not None:
                    # (seq / pm) / (bseq / bpm) = (seq / bseq) * gain: two cross-variant ratios
                    c = combine(cross_variant(seq, sequential_rounds(cell), bseq, sequential_rounds(base)), gain)
                    rows.append(ratio_row(cell, s, w, "speedup_ratio", f"{bname} {s} x{w}", c,
                                          min(len(bpm), len(bseq)), margin)
                                | {"n_processes": min(n, len(seq))})
        best = best_option(cell, base, margin)
        if best is not None:
            s, w = best.option
            rows += [ratio_row(cell, s, w, e.metric, e.against, e.contrast, e.n_against, margin, e.selection)
                     | {"n_processes": best.n_processes} for e in best.estimates]
    df = pd.DataFrame(rows, columns=list(RATIO_COLUMNS))
    for col in ("cpu_count", "workers", "n_processes", "n_processes_baseline"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["significant"] = df["significant"].astype("boolean")
    return sort_rows(df, ("host", "workload", "variant", "metric", "strategy", "workers"))
