"""The lecture's quantitative claims, judged on each row of the summary table.

A claim is confirmed or refuted only by a significant ratio (its bootstrap CI leaves 1.0 out);
otherwise it is "not significant" or "not measured", so a noisy run never reads as evidence.
The variants and strategies compared, and the helpers that read a table cell (None, NaN and
pd.NA all mean missing), live here too: the report and the tables share them, and this is the
lowest module that needs them.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["BASELINE", "CLAIMS", "FREE_THREADED", "LECTURE_CPU_WORKLOADS", "PARALLEL",
           "VARIANTS", "WIDE_MARGIN", "claims_matrix", "lecture_claims"]

BASELINE = "3.13"  # the default (GIL) build every comparison is made against
VARIANTS = ("3.13", "3.13t", "3.13t-gil")
FREE_THREADED = "3.13t"
PARALLEL = ("threads", "processes", "asyncio", "asyncio_threads")
WIDE_MARGIN = 2.0  # "by a wide margin" in the lecture's I/O claims: at least 2x
LECTURE_CPU_WORKLOADS = ("cpu_sum_squares",)  # the lecture's own pure-Python CPU task


# ---------------------------------------------------------------------------------------------
# Cells of the tables: None, NaN and pd.NA all mean missing (report and analysis use these too).


def _first(values):
    return next((v for v in values if v is not None and v == v), None)


def _str(v) -> str | None:
    """A text cell, or None for an empty one (pandas turns an all-None column into NaN)."""
    return v if isinstance(v, str) and v else None


def _get(row, col):
    v = row.get(col) if hasattr(row, "get") else None
    return math.nan if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v


def _true(v) -> bool:
    return v is not None and v is not pd.NA and not _isnan(v) and bool(v)


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


# ---------------------------------------------------------------------------------------------
# The claims, checked per host x workload x variant.


def _at_least(row, col: str, threshold: float) -> str:
    """Confirmed: significantly > 1 and at least ``threshold``; refuted: significant otherwise."""
    r = _get(row, col)
    if isinstance(r, float) and math.isnan(r):
        return "not measured"
    if not _true(_get(row, f"{col}_significant")):
        return "not significant"
    return "confirmed" if r > 1 and r >= threshold else "refuted"


def _no_faster(row, col: str) -> str:
    """'X is no faster': refuted only by a significant speedup above 1."""
    r, lo = _get(row, col), _get(row, f"{col}_ci_low")
    if isinstance(r, float) and math.isnan(r):
        return "not measured"
    if isinstance(lo, float) and math.isnan(lo):
        return "not significant"  # no CI: cannot tell "no faster" from "not measured well"
    return "refuted" if _true(_get(row, f"{col}_significant")) and r > 1 else "confirmed"


def _less_than(row, col: str, others: tuple[str, ...]) -> str:
    """CI of ``col`` entirely below every other's CI: confirmed; above any: refuted."""
    lo, hi = _get(row, f"{col}_ci_low"), _get(row, f"{col}_ci_high")
    bounds = [(_get(row, f"{o}_ci_low"), _get(row, f"{o}_ci_high")) for o in others]
    if any(isinstance(x, float) and math.isnan(x) for x in (lo, hi, *sum(bounds, ()))):
        measured = [_get(row, c) for c in (col, *others)]
        if any(isinstance(x, float) and math.isnan(x) for x in measured):
            return "not measured"
        return "not significant"
    if all(hi < olo for olo, _ in bounds):
        return "confirmed"
    if any(lo > ohi for _, ohi in bounds):
        return "refuted"
    return "not significant"


def _slower(row, col: str) -> str:
    """A ratio old/new significantly below 1 means the new build is slower: confirmed."""
    r = _get(row, col)
    if isinstance(r, float) and math.isnan(r):
        return "not measured"
    if not _true(_get(row, f"{col}_significant")):
        return "not significant"
    return "confirmed" if r < 1 else "refuted"


def _fmt_ratio(row, col: str) -> str:
    r = _get(row, col)
    if isinstance(r, float) and math.isnan(r):
        return "-"
    lo, hi = _get(row, f"{col}_ci_low"), _get(row, f"{col}_ci_high")
    ci = "" if isinstance(lo, float) and math.isnan(lo) else f" [{lo:.2f}-{hi:.2f}]"
    return f"{r:.2f}x{ci}"


def _strategy_ratio(row, s: str) -> str:
    w = _get(row, f"best_workers_{s}")
    at = "" if isinstance(w, float) else f" at {w}"
    return f"{s}{at}: {_fmt_ratio(row, f'speedup_{s}')}"


# (id, scope: a workload kind "io"/"cpu", "lecture-cpu" (the lecture's own CPU task) or "any";
#  the variants it is checked on; the claim; the lecture's printed figures; verdict(row);
#  measured(row): the summary's ratio and CI as text)
CLAIMS = (
    ("io-threads", "io", VARIANTS, "I/O: threads beat sequential by >= 2x",
     "14.29 s -> 3.72 s (3.8x)",
     lambda r: _at_least(r, "speedup_threads", WIDE_MARGIN),
     lambda r: _strategy_ratio(r, "threads")),
    ("io-asyncio", "io", VARIANTS, "I/O: asyncio beats sequential by >= 2x",
     "14.29 s -> 2.57 s (5.6x)",
     lambda r: _at_least(r, "speedup_asyncio", WIDE_MARGIN),
     lambda r: _strategy_ratio(r, "asyncio")),
    ("io-asyncio-best", "io", VARIANTS, "I/O: asyncio is faster than threads",
     "2.57 s vs 3.72 s",
     lambda r: _less_than(r, "speedup_threads", ("speedup_asyncio",)),
     lambda r: f"{_strategy_ratio(r, 'asyncio')}; {_strategy_ratio(r, 'threads')}"),
    ("io-processes-less", "io", VARIANTS,
     "I/O: multiprocessing helps, but less than threads and asyncio",
     "5.72 s (2.5x) vs 3.72 s and 2.57 s",
     lambda r: _less_than(r, "speedup_processes", ("speedup_threads", "speedup_asyncio")),
     lambda r: "; ".join(_strategy_ratio(r, s) for s in ("processes", "threads", "asyncio"))),
    ("cpu-threads", "lecture-cpu", VARIANTS, "CPU: threads are no faster than sequential",
     "7.83 s -> 10.41 s (0.75x)",
     lambda r: _no_faster(r, "speedup_threads"),
     lambda r: _strategy_ratio(r, "threads")),
    ("cpu-asyncio", "lecture-cpu", VARIANTS, "CPU: asyncio is no faster than sequential",
     "7.83 s -> 10.41 s (0.75x)",
     lambda r: _no_faster(r, "speedup_asyncio"),
     lambda r: _strategy_ratio(r, "asyncio")),
    ("cpu-processes", "lecture-cpu", VARIANTS, "CPU: multiprocessing is faster than sequential",
     "7.83 s -> 2.52 s (3.1x)",
     lambda r: _at_least(r, "speedup_processes", 1.0),
     lambda r: _strategy_ratio(r, "processes")),
    ("ft-threads-parallel", "cpu", (FREE_THREADED,),
     "free-threaded build: threads run CPU work in parallel (faster than sequential)",
     "stated, not measured",
     lambda r: _at_least(r, "speedup_threads", 1.0),
     lambda r: _strategy_ratio(r, "threads")),
    ("ft-single-thread", "any", (FREE_THREADED, "3.13t-gil"),
     "free-threaded build: single-threaded code is slower than on 3.13",
     "stated, not measured",
     lambda r: _at_least(r, "slowdown", 1.0),
     lambda r: f"sequential time vs 3.13: {_fmt_ratio(r, 'slowdown')}"),
    ("ft-processes", "any", (FREE_THREADED, "3.13t-gil"),
     "free-threaded build: multi-process programs are slower than on 3.13",
     "stated, not measured",
     lambda r: _slower(r, "gain_vs313_processes"),
     lambda r: f"best processes run at {_fmt_ratio(r, 'gain_vs313_processes')} 3.13's speed"),
)


def _applies(scope: str, row) -> bool:
    if scope == "any":
        return True
    if scope == "lecture-cpu":
        return row["workload"] in LECTURE_CPU_WORKLOADS
    return row["kind"] == scope


def lecture_claims(summary: pd.DataFrame) -> pd.DataFrame:
    """Each quantitative claim of the lecture, per host x workload x variant it applies to.

    verdict: confirmed / refuted / not significant (the CI contains 1.0, or a comparison's CIs
    overlap) / not measured. "X is no faster" is confirmed unless X is significantly faster.
    """
    rows = []
    for rec in summary.to_dict("records"):
        for cid, scope, variants, claim, lecture, judge, measured in CLAIMS:
            if rec["variant"] in variants and _applies(scope, rec):
                rows.append({"host": rec["host"], "workload": rec["workload"],
                             "variant": rec["variant"], "claim_id": cid, "claim": claim,
                             "lecture": lecture, "measured": measured(rec),
                             "verdict": judge(rec)})
    columns = ["host", "workload", "variant", "claim_id", "claim", "lecture", "measured",
               "verdict"]
    return pd.DataFrame(rows, columns=columns)


def claims_matrix(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims for reading: one row per host x workload x claim, one column per variant.

    A cell reads e.g. "refuted: threads at 2: 1.91x [1.89-1.92]": a claim the GIL build confirms
    and 3.13t refutes shows up side by side.
    """
    if claims.empty:
        return pd.DataFrame(columns=["host", "workload", "claim", "lecture"])
    cells = claims.assign(cell=claims["verdict"] + ": " + claims["measured"])
    wide = cells.pivot_table(index=["host", "workload", "claim_id", "claim", "lecture"],
                             columns="variant", values="cell", aggfunc="first", sort=False)
    variants = sorted(wide.columns, key=lambda v: (VARIANTS.index(v) if v in VARIANTS else 99, v))
    order = {c[0]: i for i, c in enumerate(CLAIMS)}
    wide = wide[variants].reset_index()
    wide = wide.sort_values(["host", "workload", "claim_id"], kind="stable",
                            key=lambda c: c.map(order) if c.name == "claim_id" else c)
    wide = wide.drop(columns="claim_id").reset_index(drop=True)
    wide.columns.name = None
    return wide.fillna("n/a")

