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


def _call(r: dict) -> str:
    """Direction and significance of one ratio: 'up', 'down' or 'n.s.'."""
    if r["significant"] is None or r["significant"] is pd.NA or not bool(r["significant"]):
        return "n.s."
    return "up" if r["value"] > 1 else "down"


def _tied_with(x: pd.Series, y: pd.Series) -> bool:
    """Each run's best option is among the other run's options tied with its fastest."""
    def tied(r) -> set[str]:
        return {t.strip() for t in str(r.get("tied_with_fastest") or "").split(",") if t.strip()}

    def best(r) -> str:
        return f"{r['best_strategy']} x{r['best_workers']}" if pd.notna(r.get("best_workers")) else ""

    return best(x) in tied(y) and best(y) in tied(x)


def reproduce(a: Results, b: Results) -> dict:
    """Agreement of two result sets: headline verdicts, best-option family, CI coverage.

    Rows are matched on workload x variant (x strategy x workers x metric); host labels are
    ignored, so a rerun measured under another label still matches. Returns shares in [0, 1]
    (NaN when nothing matched) and the table of headline comparisons.
    """
    key = ["workload", "variant", "metric", "strategy", "workers"]
    ra, rb = a.ratios, b.ratios
    m = ra.merge(rb, on=key, suffixes=("_a", "_b"))
    rows = []
    # one headline row per workload x variant x metric: the best option is chosen per set, so
    # gain_best rows may name different options and are matched without strategy x workers
    for metric in HEADLINE_METRICS:
        ga = ra[ra["metric"] == metric].drop_duplicates(["workload", "variant"]).set_index(["workload", "variant"])
        gb = rb[rb["metric"] == metric].drop_duplicates(["workload", "variant"]).set_index(["workload", "variant"])
        for idx in ga.index.intersection(gb.index):
            x, y = ga.loc[idx].to_dict(), gb.loc[idx].to_dict()
            ca, cb = _call(x), _call(y)
            rows.append({"workload": idx[0], "variant": idx[1], "metric": metric,
                         "verdict_a": x["verdict"], "verdict_b": y["verdict"],
                         "agree": x["verdict"] == y["verdict"],
                         "a": ca, "b": cb, "agree_significance": ca == cb})
    sa = a.summary.set_index(["workload", "variant"])
    sb = b.summary.set_index(["workload", "variant"])
    common = sa.index.intersection(sb.index)
    fam = [sa.loc[i, "best_strategy"] == sb.loc[i, "best_strategy"] for i in common]
    tied = [f or _tied_with(sa.loc[i], sb.loc[i]) for f, i in zip(fam, common, strict=True)]
    ci = m[m["ci_low_b"].notna() & m["ci_low_a"].notna()]
    a_in_b = ((ci["value_a"] >= ci["ci_low_b"]) & (ci["value_a"] <= ci["ci_high_b"]))
    b_in_a = ((ci["value_b"] >= ci["ci_low_a"]) & (ci["value_b"] <= ci["ci_high_a"]))
    agree_all = m.apply(lambda r: _call({"significant": r["significant_a"], "value": r["value_a"]})
                        == _call({"significant": r["significant_b"], "value": r["value_b"]}),
                        axis=1) if len(m) else pd.Series(dtype=bool)
    nan = math.nan
    return {
        "headline_agree": float(np.mean([r["agree"] for r in rows])) if rows else nan,
        "headline_n": len(rows),
        "significance_agree": float(np.mean([r["agree_significance"] for r in rows])) if rows else nan,
        # per headline metric: (agreeing, compared), e.g. slowdowns reproduce while gains do not
        "by_metric": {mt: (sum(1 for r in rows if r["metric"] == mt and r["agree"]),
                           sum(1 for r in rows if r["metric"] == mt)) for mt in HEADLINE_METRICS},
        # two decided verdicts that differ (greater vs less or equivalent): the rerun contradicts,
        # where "decided vs inconclusive" only means one run had too little precision to decide
        "contradictions": sum(1 for r in rows if r["verdict_a"] != r["verdict_b"]
                              and {r["verdict_a"], r["verdict_b"]} <= DECIDED),
        "best_family_agree": float(np.mean(fam)) if fam else nan, "best_family_n": len(fam),
        # the same strategy, or each run's best option among the other run's options tied with its
        # fastest: two options that neither run tells apart are one answer, not a disagreement
        "best_tied_agree": float(np.mean(tied)) if tied else nan,
        "ratio_verdicts_agree": float(agree_all.mean()) if len(m) else nan, "ratios_n": len(m),
        "a_inside_b": float(a_in_b.mean()) if len(ci) else nan,
        "b_inside_a": float(b_in_a.mean()) if len(ci) else nan, "ci_n": len(ci),
        # the same per ratio family: ratios of two variants measured in one interleaved round can hold
        # while a variant's own speedups (options measured minutes apart) drift between runs
        "inside_by_metric": {mt: (float(a_in_b[g.index].mean()), float(b_in_a[g.index].mean()), len(g))
                             for mt, g in ci.groupby("metric", sort=True)},
        "table": pd.DataFrame(rows, columns=["workload", "variant", "metric", "verdict_a", "verdict_b", "agree",
                                             "a", "b", "agree_significance"]),
    }
