"""Reproducibility: do two result sets of the same machine give the same verdicts?

Rows are matched on workload x variant (x strategy x workers x metric), never on host labels, so a
rerun measured under another label still matches. A three-valued verdict decided in one run and
inconclusive in the other is a disagreement, but not a contradiction: only two decided verdicts
that differ contradict each other.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harness.analysis.results import Results

HEADLINE_METRICS = ("slowdown", "gain_best")
DECIDED = {"greater", "less", "equivalent"}
KEY = ["workload", "variant", "metric", "strategy", "workers"]
TABLE_COLUMNS = ["workload", "variant", "metric", "verdict_a", "verdict_b", "agree", "a", "b", "agree_significance"]


def _direction(significant_, value) -> str:
    """Direction and significance of one ratio: 'up', 'down' or 'n.s.'."""
    if significant_ is None or significant_ is pd.NA or not bool(significant_):
        return "n.s."
    return "up" if value > 1 else "down"


def best_options_tied(x: pd.Series, y: pd.Series) -> bool:
    """Each run's best option is among the other run's options tied with its fastest."""
    def tied(r) -> set[str]:
        return {t.strip() for t in str(r.get("tied_with_fastest") or "").split(",") if t.strip()}

    def best(r) -> str:
        return f"{r['best_strategy']} x{r['best_workers']}" if pd.notna(r.get("best_workers")) else ""

    return best(x) in tied(y) and best(y) in tied(x)


def _headline_rows(ratios_a: pd.DataFrame, ratios_b: pd.DataFrame) -> list[dict]:
    """One row per workload x variant x headline metric present in both sets.

    The best option is chosen per set, so gain_best rows may name different options and are
    matched without strategy x workers.
    """
    rows = []
    for metric in HEADLINE_METRICS:
        by_a, by_b = (r[r["metric"] == metric].drop_duplicates(["workload", "variant"])
                      .set_index(["workload", "variant"]) for r in (ratios_a, ratios_b))
        for idx in by_a.index.intersection(by_b.index):
            x, y = by_a.loc[idx].to_dict(), by_b.loc[idx].to_dict()
            da, db = _direction(x["significant"], x["value"]), _direction(y["significant"], y["value"])
            rows.append({"workload": idx[0], "variant": idx[1], "metric": metric,
                         "verdict_a": x["verdict"], "verdict_b": y["verdict"],
                         "agree": x["verdict"] == y["verdict"],
                         "a": da, "b": db, "agree_significance": da == db})
    return rows


def _best_options_agree(summary_a: pd.DataFrame, summary_b: pd.DataFrame) -> tuple[list, list]:
    """Per common workload x variant: the same best strategy; the same or tied with each other."""
    sa = summary_a.set_index(["workload", "variant"])
    sb = summary_b.set_index(["workload", "variant"])
    common = sa.index.intersection(sb.index)
    same = [sa.loc[i, "best_strategy"] == sb.loc[i, "best_strategy"] for i in common]
    tied = [f or best_options_tied(sa.loc[i], sb.loc[i]) for f, i in zip(same, common, strict=True)]
    return same, tied


def _share(flags) -> float:
    return float(np.mean(flags)) if len(flags) else math.nan


def reproduce(a: Results, b: Results) -> dict:
    """Agreement of two result sets: headline verdicts, best-option family, CI coverage.

    Rows are matched on workload x variant (x strategy x workers x metric); host labels are
    ignored, so a rerun measured under another label still matches. Returns shares in [0, 1]
    (NaN when nothing matched) and the table of headline comparisons.
    """
    both = a.ratios.merge(b.ratios, on=KEY, suffixes=("_a", "_b"))
    rows = _headline_rows(a.ratios, b.ratios)
    same, tied = _best_options_agree(a.summary, b.summary)
    ci = both[both["ci_low_b"].notna() & both["ci_low_a"].notna()]
    a_in_b = ((ci["value_a"] >= ci["ci_low_b"]) & (ci["value_a"] <= ci["ci_high_b"]))
    b_in_a = ((ci["value_b"] >= ci["ci_low_a"]) & (ci["value_b"] <= ci["ci_high_a"]))
    agree_all = both.apply(lambda r: _direction(r["significant_a"], r["value_a"])
                           == _direction(r["significant_b"], r["value_b"]),
                           axis=1) if len(both) else pd.Series(dtype=bool)
    return {
        "headline_agree": _share([r["agree"] for r in rows]),
        "headline_n": len(rows),
        "significance_agree": _share([r["agree_significance"] for r in rows]),
        # per headline metric: (agreeing, compared), so a metric that reproduces is told from one that does not
        "by_metric": {mt: (sum(1 for r in rows if r["metric"] == mt and r["agree"]),
                           sum(1 for r in rows if r["metric"] == mt)) for mt in HEADLINE_METRICS},
        # two decided verdicts that differ (greater vs less or equivalent): the rerun contradicts,
        # where "decided vs inconclusive" only means one run had too little precision to decide
        "contradictions": sum(1 for r in rows if r["verdict_a"] != r["verdict_b"]
                              and {r["verdict_a"], r["verdict_b"]} <= DECIDED),
        "best_family_agree": _share(same), "best_family_n": len(same),
        # the same strategy, or each run's best option among the other run's options tied with its
        # fastest: two options that neither run tells apart are one answer, not a disagreement
        "best_tied_agree": _share(tied),
        "ratio_verdicts_agree": float(agree_all.mean()) if len(both) else math.nan, "ratios_n": len(both),
        "a_inside_b": float(a_in_b.mean()) if len(ci) else math.nan,
        "b_inside_a": float(b_in_a.mean()) if len(ci) else math.nan, "ci_n": len(ci),
        # the same per ratio family: ratios of two variants measured in one interleaved round can hold
        # while a variant's own speedups (options measured minutes apart) drift between runs
        "inside_by_metric": {mt: (float(a_in_b[g.index].mean()), float(b_in_a[g.index].mean()), len(g))
                             for mt, g in ci.groupby("metric", sort=True)},
        "table": pd.DataFrame(rows, columns=TABLE_COLUMNS),
    }
