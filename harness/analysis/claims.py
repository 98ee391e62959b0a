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

from harness.analysis.cells import WorkloadCell, reference_workers
from harness.analysis.stats import CONFIDENCE, MARGIN, contrast

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


def _fmt_contrast(c, lo=None, hi=None) -> str:
    lo = c.low if lo is None else lo
    hi = c.high if hi is None else hi
    if math.isnan(c.value):
        return "-"
    ci = "CI n/a" if math.isnan(lo) else f"{lo:.2f}-{hi:.2f}"
    return f"{c.value:.2f}x [{ci}]"


class _ClaimContext:
    """One host x workload x variant cell, its baseline's cell (None without one) and the margin."""

    def __init__(self, cell: WorkloadCell, base: WorkloadCell | None, margin: float):
        self.cell, self.base, self.margin = cell, base, margin

    def workers(self, strategy) -> list[int]:
        """The worker counts measured for ``strategy``, ascending."""
        return sorted(w for s, w in self.cell.options if s == strategy)

    def reference(self, strategy, other=None) -> int | None:
        """The worker count fixed in advance (:func:`reference_workers`), among the counts measured
        for ``strategy`` (and for ``other`` too, when two strategies are compared)."""
        ws = self.workers(strategy)
        if other is not None:
            ws = [w for w in ws if w in self.workers(other)]
        return reference_workers(self.cell.kind, ws, self.cell.cores)


def _speedup_at(ctx, strategy, threshold, side):
    w = ctx.reference(strategy)
    seq = ctx.cell.sequential
    if w is None or seq is None:
        return "not measured", "-"
    c = contrast([(seq, 1), (ctx.cell.options[(strategy, w)], -1)])
    return judge(c.low, c.high, side, threshold, ctx.margin), f"{strategy} x{w}: {_fmt_contrast(c)}"


def _no_faster_any(ctx, strategy):
    """R <= 1 at every worker count: Bonferroni-adjusted over the K counts measured."""
    seq, ws = ctx.cell.sequential, ctx.workers(strategy)
    if seq is None or not ws:
        return "not measured", "-"
    conf = 1 - (1 - CONFIDENCE) / len(ws)
    verdicts, texts = [], []
    for w in ws:
        c = contrast([(seq, 1), (ctx.cell.options[(strategy, w)], -1)])
        lo, hi = c.at(conf)
        verdicts.append(judge(lo, hi, "<=", 1.0, ctx.margin))
        texts.append(f"x{w} {_fmt_contrast(c, lo, hi)}")
    v = _all_of(verdicts)
    adj = f" ({100 * conf:.1f}% CIs, Bonferroni over {len(ws)} counts)" if len(ws) > 1 else ""
    return v, f"{strategy} " + ", ".join(texts) + adj


def _all_of(verdicts: list[str]) -> str:
    """A claim made of parts: refuted if any part is, confirmed only if every part is."""
    if "refuted" in verdicts:
        return "refuted"
    return "confirmed" if all(x == "confirmed" for x in verdicts) else "inconclusive"


def _faster_than(ctx, fast, slow):
    """time(slow) / time(fast) > 1 at the same worker count (fixed in advance)."""
    w = ctx.reference(fast, slow)
    if w is None:
        return "not measured", "-"
    c = contrast([(ctx.cell.options[(slow, w)], 1), (ctx.cell.options[(fast, w)], -1)])
    return (judge(c.low, c.high, ">", 1.0, ctx.margin),
            f"{slow} x{w} / {fast} x{w} time: {_fmt_contrast(c)}")


def _processes_less(ctx):
    parts = [_faster_than(ctx, "threads", "processes"), _faster_than(ctx, "asyncio", "processes"),
             _speedup_at(ctx, "processes", 1.0, ">")]
    vs = [p[0] for p in parts]
    return ("not measured" if "not measured" in vs else _all_of(vs)), "; ".join(p[1] for p in parts)


def _vs_baseline_same_strategy(ctx, strategy, what, side):
    """what = 'speedup_ratio': (own speedup) / (baseline's speedup) of the same strategy x workers;
    'gain': baseline time / own time of the same strategy x workers."""
    if ctx.base is None:
        return "not measured", "no baseline"
    w = ctx.reference(strategy)
    if w is None or (strategy, w) not in ctx.base.options:
        return "not measured", "-"
    own, base = ctx.cell.options[(strategy, w)], ctx.base.options[(strategy, w)]
    if what == "gain":
        c = contrast([(base, 1), (own, -1)])
        text = f"{strategy} x{w}, baseline time / own time: {_fmt_contrast(c)}"
    else:
        if ctx.cell.sequential is None or ctx.base.sequential is None:
            return "not measured", "-"
        c = contrast([(ctx.cell.sequential, 1), (own, -1), (ctx.base.sequential, -1), (base, 1)])
        text = f"{strategy} x{w} speedup / the baseline's {strategy} x{w} speedup: {_fmt_contrast(c)}"
    return judge(c.low, c.high, side, 1.0, ctx.margin), text


def _slowdown(ctx):
    if ctx.base is None or ctx.cell.sequential is None or ctx.base.sequential is None:
        return "not measured", "-"
    c = contrast([(ctx.cell.sequential, 1), (ctx.base.sequential, -1)])
    return judge(c.low, c.high, ">", 1.0, ctx.margin), f"sequential time / baseline's: {_fmt_contrast(c)}"


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


def lecture_claims(cells: dict, margin: float = MARGIN, roles=None,
                   baselines=None) -> pd.DataFrame:
    """Each quantitative claim of the lecture, per host x workload x variant it applies to.

    ``cells``: {(host, variant, workload): cell with .options (process means), .sequential, .kind,
    .cores}, as harness.analysis.cells builds them; ``roles`` {variant: role} and ``baselines``
    {variant: baseline variant name} come from harness.variants through the tables.
    """
    rows = []
    for (host, variant, workload), cell in cells.items():
        r = (roles or {}).get(variant)
        bname = (baselines or {}).get(variant)
        base = cells.get((host, bname, workload)) if bname and bname != variant else None
        ctx = _ClaimContext(cell, base, margin)
        for cid, scope, claim_roles, claim, lecture, judge_fn in CLAIMS:
            if r in claim_roles and _applies(scope, cell.kind, workload):
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
