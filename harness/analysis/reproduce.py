"""Reproducibility: do two result sets of the same machine give the same verdicts and best options?

Rows are matched on workload x variant (x strategy x workers x metric, and what a ratio is taken
against), never on host labels, so a rerun measured under another label still matches. A
three-valued verdict decided in one run and inconclusive in the other is a disagreement, but not a
contradiction: only two decided verdicts that differ contradict each other.

The best option: the strict agreement (the same strategy family), the tie-aware one (or each run's
best among the other run's options tied with its fastest, a tie being a regret CI inside the margin
band), each read against its chance level (the agreement expected if each run picked uniformly
within its own tie set, and within the options it cannot tell apart from its fastest), the sizes of
the tie sets, and the cross-run regret: each run's chosen option as timed in the other run against
that run's fastest, a paired ratio with its CI within that run.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from harness.analysis.results import Results
from harness.analysis.values import fmt_pct, text_or_none

HEADLINE_METRICS = ("slowdown", "gain_best")
DECIDED = {"greater", "less", "equivalent"}
KEY = ["workload", "variant", "metric", "strategy", "workers"]
TABLE_COLUMNS = ["workload", "variant", "metric", "verdict_a", "verdict_b", "agree", "a", "b", "agree_significance"]


def _direction(significant_, value) -> str:
    """Direction and significance of one ratio: 'up', 'down' or 'n.s.'."""
    if significant_ is None or significant_ is pd.NA or not bool(significant_):
        return "n.s."
    return "up" if value > 1 else "down"


def tie_set(row, column: str = "tied_with_fastest") -> set[str]:
    """The options a summary row lists as tied with its fastest ("threads x2, processes x4"), or, with
    ``column="not_told_apart"``, as not shown slower than it."""
    return {t.strip() for t in str(text_or_none(row.get(column)) or "").split(",") if t.strip()}


def best_of(row) -> str:
    """A summary row's best option as "threads x2" ('' when it has none)."""
    return f"{row['best_strategy']} x{row['best_workers']}" if pd.notna(row.get("best_workers")) else ""


def best_options_tied(x, y) -> bool:
    """Each run's best option is among the other run's options tied with its fastest."""
    return best_of(x) in tie_set(y) and best_of(y) in tie_set(x)


def _family(option: str) -> str:
    return option.split(" x")[0]


def _agree_at_random(ties_a: set, ties_b: set) -> tuple[float, float]:
    """(family, tie-aware): the agreement expected if each run picked its best uniformly within its
    own tie set, the chance level the measured agreement is read against."""
    pairs = [(a, b) for a in ties_a for b in ties_b]
    if not pairs:
        return math.nan, math.nan
    family = np.mean([_family(a) == _family(b) for a, b in pairs])
    tied = np.mean([_family(a) == _family(b) or (a in ties_b and b in ties_a) for a, b in pairs])
    return float(family), float(tied)


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


def _best_options_agree(summary_a: pd.DataFrame, summary_b: pd.DataFrame) -> dict:
    """Per common workload x variant: the same best strategy; the same or tied with each other; the
    chance level of both; the tie-set sizes."""
    sa = summary_a.set_index(["workload", "variant"])
    sb = summary_b.set_index(["workload", "variant"])
    common = [i for i in sa.index.intersection(sb.index) if best_of(sa.loc[i]) and best_of(sb.loc[i])]
    same, tied, chance, luck = [], [], [], []
    for i in common:
        x, y = sa.loc[i], sb.loc[i]
        same.append(x["best_strategy"] == y["best_strategy"])
        tied.append(same[-1] or best_options_tied(x, y))
        chance.append(_agree_at_random(tie_set(x) or {best_of(x)}, tie_set(y) or {best_of(y)}))
        luck.append(_agree_at_random(tie_set(x, "not_told_apart") or {best_of(x)},
                                     tie_set(y, "not_told_apart") or {best_of(y)}))
    sizes = {name: Counter(int(v) for v in s.loc[common, "tie_size"] if pd.notna(v)) if "tie_size" in s else Counter()
             for name, s in (("a", sa), ("b", sb))}
    single = {name: int((s.loc[common, "single_best"] == False).sum()) if "single_best" in s else 0  # noqa: E712
              for name, s in (("a", sa), ("b", sb))}
    return {"best_family_agree": _share(same), "best_family_n": len(same), "best_tied_agree": _share(tied),
            "chance_family": _share([c[0] for c in chance]), "chance_tied": _share([c[1] for c in chance]),
            "chance_family_apart": _share([c[0] for c in luck]),
            "tie_sizes_a": dict(sorted(sizes["a"].items())), "tie_sizes_b": dict(sorted(sizes["b"].items())),
            "no_single_best_a": single["a"], "no_single_best_b": single["b"]}


REGRET_COLUMNS = ["workload", "variant", "chosen_in", "timed_in", "option", "fastest_there", "regret", "ci_low",
                  "ci_high", "verdict"]


def _cross_regret(summary_x: pd.DataFrame, ratios_y: pd.DataFrame, x: str, y: str) -> list[dict]:
    """Each of run x's chosen options as timed in run y, against y's fastest: y's regret row of it
    (its time / y's fastest option's, paired by round within y)."""
    reg = ratios_y[ratios_y["metric"] == "regret"]
    by = {(r["workload"], r["variant"], f"{r['strategy']} x{r['workers']}"): r for r in reg.to_dict("records")}
    rows = []
    for r in summary_x.to_dict("records"):
        option = best_of(r)
        got = by.get((r["workload"], r["variant"], option)) if option else None
        if got is None:
            continue
        rows.append({"workload": r["workload"], "variant": r["variant"], "chosen_in": x, "timed_in": y,
                     "option": option, "fastest_there": str(got["baseline"]).split(" ", 1)[-1],
                     "regret": got["value"], "ci_low": got["ci_low"], "ci_high": got["ci_high"],
                     "verdict": got["verdict"]})
    return rows


def _regret_shares(rows: list[dict]) -> dict:
    """How far one run's choices fall behind the other run's fastest: shares by verdict."""
    verdicts = [r["verdict"] for r in rows]
    n = len(verdicts)
    share = (lambda k: verdicts.count(k) / n) if n else (lambda k: math.nan)  # noqa: E731
    values = [r["regret"] for r in rows if r["regret"] == r["regret"]]
    return {"n": n, "fastest": share("fastest"), "inside": share("equivalent"), "slower": share("greater"),
            "undecided": (n - sum(verdicts.count(k) for k in ("fastest", "equivalent", "greater"))) / n if n
            else math.nan, "median": float(np.median(values)) if values else math.nan}


def _share(flags) -> float:
    return float(np.mean(flags)) if len(flags) else math.nan


def reproduce(a: Results, b: Results) -> dict:
    """Agreement of two result sets: headline verdicts, best options, cross-run regret, CI coverage.

    Rows are matched on workload x variant (x strategy x workers x metric, and what the ratio is
    taken against); host labels are ignored, so a rerun measured under another label still matches.
    Returns shares in [0, 1] (NaN when nothing matched) and the tables of headline comparisons and
    regrets.
    """
    both = a.ratios[a.ratios["metric"] != "regret"].merge(b.ratios, on=[*KEY, "baseline"], suffixes=("_a", "_b"))
    rows = _headline_rows(a.ratios, b.ratios)
    ci = both[both["ci_low_b"].notna() & both["ci_low_a"].notna()]
    a_in_b = ((ci["value_a"] >= ci["ci_low_b"]) & (ci["value_a"] <= ci["ci_high_b"]))
    b_in_a = ((ci["value_b"] >= ci["ci_low_a"]) & (ci["value_b"] <= ci["ci_high_a"]))
    agree_all = both.apply(lambda r: _direction(r["significant_a"], r["value_a"])
                           == _direction(r["significant_b"], r["value_b"]),
                           axis=1) if len(both) else pd.Series(dtype=bool)
    regret_ab = _cross_regret(a.summary, b.ratios, "A", "B")
    regret_ba = _cross_regret(b.summary, a.ratios, "B", "A")
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
        # the same strategy; or each run's best among the other run's options tied with its fastest
        # (regret CI inside the margin band); and what picking at random within the tie sets would give
        **_best_options_agree(a.summary, b.summary),
        # A's chosen option timed in B against B's fastest (paired within B), and B's in A
        "regret_a_in_b": _regret_shares(regret_ab), "regret_b_in_a": _regret_shares(regret_ba),
        "regrets": pd.DataFrame(regret_ab + regret_ba, columns=REGRET_COLUMNS),
        "ratio_verdicts_agree": float(agree_all.mean()) if len(both) else math.nan, "ratios_n": len(both),
        "a_inside_b": float(a_in_b.mean()) if len(ci) else math.nan,
        "b_inside_a": float(b_in_a.mean()) if len(ci) else math.nan, "ci_n": len(ci),
        # the same per ratio family: ratios of two variants measured in one interleaved round can hold
        # while a variant's own speedups (options measured minutes apart) drift between runs
        "inside_by_metric": {mt: (float(a_in_b[g.index].mean()), float(b_in_a[g.index].mean()), len(g))
                             for mt, g in ci.groupby("metric", sort=True)},
        "table": pd.DataFrame(rows, columns=TABLE_COLUMNS),
    }


def best_option_lines(got: dict) -> list[str]:
    """How far two runs agree on the best option, read against chance, and what a disagreement costs."""
    sizes = lambda d: ", ".join(f"{n} option{'s' if n > 1 else ''}: {k}" for n, k in d.items()) or "-"  # noqa: E731
    out = [f"best option, same strategy family: {fmt_pct(got['best_family_agree'])} of {got['best_family_n']} "
           f"(chance level, each run picking at random within its own tie set: {fmt_pct(got['chance_family'])}; "
           f"among the options it cannot tell apart from its fastest: {fmt_pct(got['chance_family_apart'])})",
           f"best option, the same or each run's best tied with the other's fastest (regret CI inside the margin): "
           f"{fmt_pct(got['best_tied_agree'])} (chance level: {fmt_pct(got['chance_tied'])})",
           f"tie-set sizes (rows): A {sizes(got['tie_sizes_a'])}; B {sizes(got['tie_sizes_b'])}; "
           f"no single best: A {got['no_single_best_a']}, B {got['no_single_best_b']} of {got['best_family_n']}"]
    for name, key in (("A's choice timed in B", "regret_a_in_b"), ("B's choice timed in A", "regret_b_in_a")):
        r = got[key]
        out.append(f"cross-run regret, {name} against its fastest (paired within it): of {r['n']}, "
                   f"{fmt_pct(r['fastest'])} its fastest, {fmt_pct(r['inside'])} CI inside +-margin, "
                   f"{fmt_pct(r['slower'])} slower beyond the margin, {fmt_pct(r['undecided'])} undecided; "
                   f"median regret {r['median']:.3f}")
    return out
