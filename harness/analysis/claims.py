"""The lecture's quantitative claims, judged three-valued against a practical margin.

Each claim is a statement about a ratio R (a speedup, a slowdown, a gain) and a threshold T (1, or
2 for "by a wide margin"). With the equivalence margin m (default 5%, ``--margin``) the band
[T / (1 + m), T (1 + m)] counts as "no practical difference from T":

- "R > T" (X is faster, by at least T) is *confirmed* only when the whole 95% CI lies above
  T (1 + m), *refuted* only when it lies below T / (1 + m), otherwise *inconclusive*;
- "R < T" (X is slower) mirrors it;
- "R <= T" (X is no faster) is confirmed when the CI lies below T (1 + m) and refuted when it
  lies above it.

A non-significant result is never "confirmed". Claims about free-threading compare the
free-threaded (or control) variant with its baseline for the *same* strategy: a speedup the GIL
build also has is not evidence for free-threading. Variants are told apart by their role in
harness.variants, never by their name. A claim over several worker counts ("threads are no
faster", at any count) uses Bonferroni-adjusted intervals over the counts; claims at one count use
a count fixed in advance (the core count for CPU work, the largest count for I/O work), never the
best one.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.analysis.cells import reference_workers
from harness.analysis.stats import CONFIDENCE, MARGIN, log_interval

__all__ = ["CLAIMS", "LECTURE_CPU_WORKLOADS", "WIDE_MARGIN", "claims_matrix", "lecture_claims"]

WIDE_MARGIN = 2.0  # "by a wide margin" in the lecture's I/O claims: at least 2x
LECTURE_CPU_WORKLOADS = ("cpu_sum_squares",)  # the lecture's own pure-Python CPU task
ALL_ROLES = ("baseline", "free-threaded", "control")
FT_ROLES = ("free-threaded", "control")


# ---------------------------------------------------------------------------------------------
# Judging one claim.


def judge(low: float, high: float, side: str, threshold: float = 1.0,
          margin: float = MARGIN) -> str:
    """confirmed / refuted / inconclusive for "R > T" (side ">"), "R < T" ("<"), "R <= T" ("<=")."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "inconclusive"
    up, down = threshold * (1 + margin), threshold / (1 + margin)
    if side == ">":
        return "confirmed" if low > up else "refuted" if high < down else "inconclusive"
    if side == "<":
        return "confirmed" if high < down else "refuted" if low > up else "inconclusive"
    if side == "<=":
        return "confirmed" if high < up else "refuted" if low > up else "inconclusive"
    raise ValueError(side)


def _fmt_row(r: dict, lo=None, hi=None) -> str:
    """'1.23x [1.10-1.40]' of a ratio row (or its interval at another confidence), with its flag."""
    lo = r["ci_low"] if lo is None else lo
    hi = r["ci_high"] if hi is None else hi
    if r["value"] is None or pd.isna(r["value"]):
        return "-"
    ci = "CI n/a" if pd.isna(lo) else f"{lo:.2f}-{hi:.2f}"
    flag = f" ({r['flag']})" if isinstance(r.get("flag"), str) and r["flag"] else ""
    return f"{r['value']:.2f}x [{ci}]{flag}"


class _ClaimContext:
    """The ratio rows of one host x workload x variant (harness.analysis.ratios), and the margin."""

    def __init__(self, rows: pd.DataFrame, kind, cores, margin: float):
        self.rows, self.kind, self.cores, self.margin = rows, kind, cores, margin

    def row(self, metric, strategy=None, workers=None) -> dict | None:
        """The one row of ``metric`` (at ``strategy`` x ``workers``), None when it was not measured."""
        sel = self.rows[self.rows["metric"] == metric]
        if strategy is not None:
            sel = sel[sel["strategy"] == strategy]
        if workers is not None:
            sel = sel[sel["workers"] == workers]
        return sel.iloc[0].to_dict() if len(sel) else None

    def workers(self, strategy) -> list[int]:
        """The worker counts whose speedup was measured for ``strategy``, ascending."""
        sel = self.rows[(self.rows["metric"].isin(("speedup", "weak_efficiency")))
                        & (self.rows["strategy"] == strategy)]
        return sorted(int(w) for w in sel["workers"])

    def reference(self, strategy) -> int | None:
        """The worker count fixed in advance (:func:`reference_workers`) among those measured."""
        return reference_workers(self.kind, self.workers(strategy), self.cores)


def _judged(r: dict | None, side: str, threshold: float, margin: float, text: str):
    if r is None:
        return "not measured", "-"
    return judge(r["ci_low"], r["ci_high"], side, threshold, margin), f"{text}: {_fmt_row(r)}"


def _speedup_at(ctx, strategy, threshold, side):
    w = ctx.reference(strategy)
    r = ctx.row("speedup", strategy, w) if w is not None else None
    return _judged(r, side, threshold, ctx.margin, f"{strategy} x{w}")


def _no_faster_any(ctx, strategy):
    """R <= 1 at every worker count: Bonferroni-adjusted over the K counts measured."""
    ws = ctx.workers(strategy)
    rows = [ctx.row("speedup", strategy, w) for w in ws]
    if not ws or any(r is None for r in rows):
        return "not measured", "-"
    conf = 1 - (1 - CONFIDENCE) / len(ws)
    verdicts, texts = [], []
    for w, r in zip(ws, rows, strict=True):
        lo, hi = log_interval(r["value"], r["se_log"], r["df"], conf) if not pd.isna(r["se_log"]) else (
            math.nan, math.nan)
        verdicts.append(judge(lo, hi, "<=", 1.0, ctx.margin))
        texts.append(f"x{w} {_fmt_row(r, lo, hi)}")
    v = _all_of(verdicts)
    adj = f" ({100 * conf:.1f}% CIs, Bonferroni over {len(ws)} counts)" if len(ws) > 1 else ""
    return v, f"{strategy} " + ", ".join(texts) + adj


def _all_of(verdicts: list[str]) -> str:
    """A claim made of parts: refuted if any part is, confirmed only if every part is."""
    if "refuted" in verdicts:
        return "refuted"
    return "confirmed" if all(x == "confirmed" for x in verdicts) else "inconclusive"


def _faster_than(ctx, fast, slow):
    """time(slow) / time(fast) > 1 at the same worker count (fixed in advance): the vs_strategy row."""
    sel = ctx.rows[(ctx.rows["metric"] == "vs_strategy") & (ctx.rows["strategy"] == fast)
                   & ctx.rows["baseline"].str.contains(f" {slow} x", regex=False)]
    if not len(sel):
        return "not measured", "-"
    r = sel.iloc[0].to_dict()
    w = r["workers"]
    return _judged(r, ">", 1.0, ctx.margin, f"{slow} x{w} / {fast} x{w} time")


def _processes_less(ctx):
    parts = [_faster_than(ctx, "threads", "processes"), _faster_than(ctx, "asyncio", "processes"),
             _speedup_at(ctx, "processes", 1.0, ">")]
    vs = [p[0] for p in parts]
    return ("not measured" if "not measured" in vs else _all_of(vs)), "; ".join(p[1] for p in parts)


def _vs_baseline_same_strategy(ctx, strategy, what, side):
    """what = 'speedup_ratio': (own speedup) / (baseline's speedup) of the same strategy x workers;
    'gain': baseline time / own time of the same strategy x workers."""
    w = ctx.reference(strategy)
    r = ctx.row(what, strategy, w) if w is not None else None
    if r is None:
        return "not measured", "-"
    text = (f"{strategy} x{w}, baseline time / own time" if what == "gain"
            else f"{strategy} x{w} speedup / the baseline's {strategy} x{w} speedup")
    return _judged(r, side, 1.0, ctx.margin, text)


def _slowdown(ctx):
    return _judged(ctx.row("slowdown"), ">", 1.0, ctx.margin, "sequential time / baseline's")


# (id, scope: a workload kind "io"/"cpu", "lecture-cpu" (the lecture's own CPU task) or "any";
#  the roles it is checked on; the claim; the lecture's printed figures; judge(ctx) -> (verdict,
#  measured text))
CLAIMS = (
    ("io-threads", "io", ALL_ROLES, "I/O: threads beat sequential by >= 2x",
     "14.29 s -> 3.72 s (3.8x)", lambda c: _speedup_at(c, "threads", WIDE_MARGIN, ">")),
    ("io-asyncio", "io", ALL_ROLES, "I/O: asyncio beats sequential by >= 2x",
     "14.29 s -> 2.57 s (5.6x)", lambda c: _speedup_at(c, "asyncio", WIDE_MARGIN, ">")),
    ("io-asyncio-best", "io", ALL_ROLES, "I/O: asyncio is faster than threads",
     "2.57 s vs 3.72 s", lambda c: _faster_than(c, "asyncio", "threads")),
    ("io-processes-less", "io", ALL_ROLES,
     "I/O: multiprocessing helps, but less than threads and asyncio",
     "5.72 s (2.5x) vs 3.72 s and 2.57 s", _processes_less),
    ("cpu-threads", "lecture-cpu", ALL_ROLES, "CPU: threads are no faster than sequential",
     "7.83 s -> 10.41 s (0.75x)", lambda c: _no_faster_any(c, "threads")),
    ("cpu-asyncio", "lecture-cpu", ALL_ROLES, "CPU: asyncio is no faster than sequential",
     "stated; the lecture gives no asyncio figure for CPU work",
     lambda c: _no_faster_any(c, "asyncio")),
    ("cpu-processes", "lecture-cpu", ALL_ROLES, "CPU: multiprocessing is faster than sequential",
     "7.83 s -> 2.52 s (3.1x)", lambda c: _speedup_at(c, "processes", 1.0, ">")),
    ("ft-threads-parallel", "cpu", ("free-threaded",),
     "free-threaded build: threads scale better than on the GIL build (same strategy, same "
     "thread count)", "stated, not measured",
     lambda c: _vs_baseline_same_strategy(c, "threads", "speedup_ratio", ">")),
    ("ft-single-thread", "any", FT_ROLES,
     "free-threaded build: single-threaded code is slower than on the GIL build",
     "stated, not measured", _slowdown),
    ("ft-processes", "any", FT_ROLES,
     "free-threaded build: multi-process programs are slower than on the GIL build",
     "stated, not measured",
     lambda c: _vs_baseline_same_strategy(c, "processes", "gain", "<")),
)
CLAIM_COLUMNS = ["host", "workload", "variant", "role", "claim_id", "claim", "lecture",
                 "measured", "verdict"]


def _applies(scope: str, kind, workload) -> bool:
    if scope == "any":
        return True
    if scope == "lecture-cpu":
        return workload in LECTURE_CPU_WORKLOADS
    return kind == scope


def lecture_claims(ratios: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """Each quantitative claim of the lecture, per host x workload x variant it applies to.

    Every number is a row of the ratios table (harness.analysis.ratios): the claims judge the
    ratios the headline and the report show, never a second estimate of them. A variant's role
    (baseline, free-threaded, control) is the table's ``role`` column, from harness.variants.
    """
    rows = []
    for (host, workload, variant), g in ratios.groupby(["host", "workload", "variant"], sort=False):
        first = g.iloc[0]
        r, kind = first["role"], first["kind"]
        cores = int(first["cpu_count"]) if not pd.isna(first["cpu_count"]) else None
        ctx = _ClaimContext(g, kind if isinstance(kind, str) else None, cores, margin)
        for cid, scope, claim_roles, claim, lecture, judge_fn in CLAIMS:
            if r in claim_roles and _applies(scope, ctx.kind, workload):
                v, text = judge_fn(ctx)
                rows.append({"host": host, "workload": workload, "variant": variant, "role": r,
                             "claim_id": cid, "claim": claim, "lecture": lecture,
                             "measured": text, "verdict": v})
    df = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    order = {c[0]: i for i, c in enumerate(CLAIMS)}
    return df.sort_values(["host", "workload", "claim_id"], kind="stable",
                          key=lambda c: c.map(order) if c.name == "claim_id" else c
                          ).reset_index(drop=True)


def claims_matrix(claims: pd.DataFrame, variant_key=None) -> pd.DataFrame:
    """The claims for reading: one row per host x workload x claim, one column per variant."""
    if claims.empty:
        return pd.DataFrame(columns=["host", "workload", "claim", "lecture"])
    cells = claims.assign(cell=claims["verdict"] + ": " + claims["measured"])
    wide = cells.pivot_table(index=["host", "workload", "claim_id", "claim", "lecture"],
                             columns="variant", values="cell", aggfunc="first", sort=False)
    variants = sorted(wide.columns, key=variant_key) if variant_key else list(wide.columns)
    order = {c[0]: i for i, c in enumerate(CLAIMS)}
    wide = wide[variants].reset_index()
    wide = wide.sort_values(["host", "workload", "claim_id"], kind="stable",
                            key=lambda c: c.map(order) if c.name == "claim_id" else c)
    wide = wide.drop(columns="claim_id").reset_index(drop=True)
    wide.columns.name = None
    return wide.fillna("n/a")
