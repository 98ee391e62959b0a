"""A projected break-even core count: from how many cores would free-threaded threads beat the GIL
build's processes? A projection, not a measurement: only the point at the machine's cores is
measured.

Model (Amdahl, with the Karp-Flatt serial fraction measured at p0 = min(workers, cores) usable
cores, workers == the machine's cpu_count when measured, else the largest count below it)::

    f_t  = serial fraction of the free-threaded variant's threads, from its speedup over its own
           sequential run at p0
    f_b  = serial fraction of the baseline's (GIL build's) best parallel option, processes, from
           the baseline's processes speedup at p0
    S    = t_seq(free-threaded) / t_seq(baseline): the single-thread slowdown

Times relative to the baseline's sequential time, on p cores::

    threads_ft(p)     = S * (f_t + (1 - f_t) / p)
    processes_base(p) = f_b + (1 - f_b) / p

The break-even p* is the smallest real p >= p0 with threads_ft(p) <= processes_base(p); in closed
form p* (S f_t - f_b) = (1 - f_b) - S (1 - f_t). "already": the threads already win at p0 (the
model at p0 *is* the measurement, so that case is measured, not projected); "never": the lines do
not cross at any p >= p0. A serial fraction outside [0, 1] (speedup above p0, or below 1) is not a
serial fraction: it is clipped to [0, 1] and noted (then the model at p0 no longer equals the
measurement exactly).

Uncertainty: Monte Carlo (fixed seed, one stream per host x workload x variant) drawing S and the
two speedups from log-t distributions with the se_log and df of their ratios-table rows, computing
p* per draw: the median and the 2.5-97.5% range of p*, and the share of draws that never cross.
The three inputs are drawn independently (S and the threads speedup share the free-threaded
sequential mean; that correlation is ignored).
Amdahl assumes the serial fraction stays what it was at p0: contention, memory bandwidth and
the cost of a process pool on more cores are outside the model, hence "projection".

I/O-bound workloads (kind == "io") get no projection: cores are not what limits them.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd

from harness.analysis.order import baseline_variant, role
from harness.analysis.stats import karp_flatt

__all__ = ["COLUMNS", "DRAWS", "LABEL", "SEED", "projected_break_even_cores", "processes_time", "project",
           "section_markdown", "threads_time"]

SEED = 20250703
DRAWS = 4000
LABEL = "projection (Amdahl from the serial fraction at {p} cores)"
COLUMNS = ("host", "workload", "kind", "variant", "baseline", "cores_measured", "slowdown",
           "speedup_threads", "speedup_processes_baseline", "f_threads", "f_processes_baseline",
           "status", "break_even_cores", "break_even_ceil", "median", "low", "high", "never_share",
           "already_share", "note", "label")


def threads_time(p, S, f_t):
    """The free-threaded variant's threads on p cores, relative to the baseline's sequential time."""
    return S * (f_t + (1 - f_t) / p)


def processes_time(p, f_b):
    """The baseline's processes on p cores, relative to the baseline's sequential time."""
    return f_b + (1 - f_b) / p


def _projected_break_even_cores_vectorised(S, f_t, f_b, p_min):
    """Vectorised projected_break_even_cores: inf where never, p_min where already."""
    S, f_t, f_b = (np.asarray(x, dtype=float) for x in (S, f_t, f_b))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # NaN and inf inputs: handled below
        a = S * f_t - f_b  # threads_ft(p) - processes_base(p) = a + b / p
        b = S * (1 - f_t) - (1 - f_b)
        holds = a * p_min + b <= 0
        cross = np.where(a < 0, -b / a, np.inf)
    out = np.where(holds, float(p_min), cross)
    return np.where(np.isnan(S) | np.isnan(f_t) | np.isnan(f_b), np.nan, out)


def projected_break_even_cores(S: float, f_t: float, f_b: float, p_min: float = 1.0) -> float:
    """Smallest real p >= p_min where S (f_t + (1 - f_t)/p) <= f_b + (1 - f_b)/p; inf for never.

    Closed form: with a = S f_t - f_b and b = S (1 - f_t) - (1 - f_b) the difference of the two
    times is a + b/p, so the condition is a p + b <= 0: p_min if it holds there; otherwise
    p* = -b/a = ((1 - f_b) - S (1 - f_t)) / (S f_t - f_b) when a < 0 (the threads' time falls
    faster), never (inf) when a >= 0. NaN for NaN input.
    """
    return float(_projected_break_even_cores_vectorised(S, f_t, f_b, p_min))


def _serial_fraction(speedup, p):
    """Karp-Flatt at p cores, clipped to [0, 1] (vectorised)."""
    s = np.asarray(speedup, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (1 / s - 1 / p) / (1 - 1 / p)
    return np.clip(f, 0.0, 1.0)


def _numeric_column(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(np.nan, index=df.index)


def _rows_where(rows: pd.DataFrame, **where) -> pd.DataFrame:
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows


def _draw(rng, value, se, df, n):
    """n log-t draws around value with se on the log scale (normal when df is not >= 1)."""
    if se == 0:
        return np.full(n, value)
    z = rng.standard_t(df, n) if df >= 1 else rng.standard_normal(n)
    with np.errstate(over="ignore"):  # a heavy t tail (df ~ 2) may overflow: inf is a valid draw
        return value * np.exp(se * z)


def project(ratios: pd.DataFrame, seed: int = SEED, draws: int = DRAWS) -> pd.DataFrame:
    """One row per host x workload x free-threaded variant of the tidy ratios table.

    Columns (COLUMNS): cores_measured (p0), slowdown (S), the two speedups and serial fractions,
    status (already / projected / never / n/a), break_even_cores (closed form on the point
    estimates; p0 when already, inf when never), break_even_ceil (the whole cores), median, low,
    high (Monte Carlo 2.5-97.5%; inf when the upper end never crosses), never_share and
    already_share (shares of draws), note (why no number, clipping, CI n/a), label.
    """
    if ratios is None or len(ratios) == 0:
        return pd.DataFrame(columns=list(COLUMNS))
    r = ratios.copy()
    for col in ("value", "se_log", "df", "workers", "cpu_count"):
        r[col] = _numeric_column(r, col)
    r["host"] = r["host"].astype(str)
    rows = []
    for host, h in r.groupby("host", sort=True):
        names = list(dict.fromkeys(h["variant"].astype(str)))
        cores = h["cpu_count"].dropna()
        cpu = int(cores.iloc[0]) if len(cores) else None
        for (workload, variant), g in h.groupby(["workload", "variant"], sort=False):
            if role(variant) != "free-threaded":
                continue
            base = baseline_variant(variant, names)
            kind = g["kind"].iloc[0] if "kind" in g else None
            # one stream per row: a workload's interval does not depend on what else the table holds
            rng = np.random.default_rng([seed, zlib.crc32(f"{host}\0{workload}\0{variant}".encode())])
            rows.append(_project_one(h, host, workload, kind, variant, base, cpu, rng, draws))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    return out.sort_values(["host", "workload", "variant"], kind="stable").reset_index(drop=True)


def _project_one(h, host, workload, kind, variant, base, cpu, rng, draws) -> dict:
    """The projection row of one free-threaded variant of a workload; ``note`` says why a number is missing."""
    row = dict.fromkeys(COLUMNS, math.nan)
    row.update(host=host, workload=workload, kind=kind, variant=variant, baseline=base, status="n/a",
               note="", label=LABEL.format(p="N"), never_share=math.nan, already_share=math.nan)

    def fail(note):
        row["note"] = note
        return row

    if kind == "io":
        return fail("I/O-bound: waiting, not cores, limits it; Amdahl on cores does not apply")
    if base is None:
        return fail("no baseline variant")
    if cpu is None:
        return fail("cpu_count unknown")
    w = h[h["workload"] == workload]
    sd = _rows_where(w, variant=variant, metric="slowdown", strategy="sequential")
    th = _rows_where(w, variant=variant, metric="speedup", strategy="threads")
    pr = _rows_where(w, variant=base, metric="speedup", strategy="processes")
    if sd.empty or th.empty or pr.empty:
        missing = [n for n, d in (("slowdown", sd), (f"{variant} threads speedup", th),
                                  (f"{base} processes speedup", pr)) if d.empty]
        return fail(f"not measured: {', '.join(missing)}")
    common = sorted(set(th["workers"].dropna().astype(int)) & set(pr["workers"].dropna().astype(int)))
    under = [x for x in common if x <= cpu]
    if not under:
        return fail(f"no common worker count <= {cpu} cores for threads and processes")
    workers = cpu if cpu in under else under[-1]
    p0 = min(workers, cpu)
    row.update(cores_measured=p0, label=LABEL.format(p=p0))
    if p0 < 2:
        return fail("measured at one usable core only: no serial fraction")
    s_row, t_row = sd.iloc[0], th[th["workers"] == workers].iloc[0]
    b_row = pr[pr["workers"] == workers].iloc[0]
    S, sp_t, sp_b = float(s_row["value"]), float(t_row["value"]), float(b_row["value"])
    if not (S > 0 and sp_t > 0 and sp_b > 0):
        return fail("a ratio is missing or not positive")
    notes = []
    raw_t, raw_b = karp_flatt(sp_t, workers, cpu), karp_flatt(sp_b, workers, cpu)
    f_t, f_b = (min(max(raw, 0.0), 1.0) for raw in (raw_t, raw_b))  # the model's serial fractions
    for name, raw, f in (("threads", raw_t, f_t), (f"{base} processes", raw_b, f_b)):
        if raw != f:
            notes.append(f"{name}: Karp-Flatt {raw:.3f} outside [0, 1], taken as {f:g}")
    p_star = projected_break_even_cores(S, f_t, f_b, p_min=p0)
    status = "already" if p_star == p0 else ("never" if math.isinf(p_star) else "projected")
    row.update(slowdown=S, speedup_threads=sp_t, speedup_processes_baseline=sp_b, f_threads=f_t,
               f_processes_baseline=f_b, status=status, break_even_cores=p_star,
               break_even_ceil=math.ceil(p_star) if math.isfinite(p_star) else p_star)
    if status == "already":
        notes.append(f"threads already beat {base}'s processes at the {p0} measured cores (measured, "
                     "not projected)")
    inputs = [(float(x["se_log"]), float(x["df"])) for x in (s_row, t_row, b_row)]
    if any(not math.isfinite(se) for se, _ in inputs):
        notes.append("an input has no CI (one process on a side): no interval")
    else:
        S_d = _draw(rng, S, *inputs[0], draws)
        t_d = _draw(rng, sp_t, *inputs[1], draws)
        b_d = _draw(rng, sp_b, *inputs[2], draws)
        p_d = _projected_break_even_cores_vectorised(S_d, _serial_fraction(t_d, p0), _serial_fraction(b_d, p0), p0)
        q = np.quantile(p_d, [0.5, 0.025, 0.975], method="inverted_cdf")
        row.update(median=float(q[0]), low=float(q[1]), high=float(q[2]),
                   never_share=float(np.mean(np.isinf(p_d))),
                   already_share=float(np.mean(p_d == p0)))
    row["note"] = "; ".join(notes)
    return row


# ---------------------------------------------------------------------------------------------
# REPORT.md.

TITLE = "## Projected break-even core count (a projection, not a measurement)"


def _fmt_cores(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return "never" if math.isinf(v) else f"{v:.1f}"


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v).replace("|", "\\|")


def section_markdown(df: pd.DataFrame) -> str:
    """The REPORT.md section: one table row per host x workload x free-threaded variant."""
    out = [TITLE, ""]
    if df is None or df.empty:
        out.append("No projection: the ratios have no free-threaded variant with its baseline.")
        return "\n".join(out) + "\n"
    cores = sorted({int(c) for c in df["cores_measured"].dropna()})
    at = ", ".join(map(str, cores)) or "N"
    out += [f"**Projection, not a measurement.** Only the point at the machine's {at} cores is "
            "measured. From how many cores would the free-threaded variant's threads beat the GIL "
            "build's processes, if each kept the serial fraction (Karp-Flatt) it showed there? "
            "Amdahl: threads_ft(p) = S (f_t + (1 - f_t)/p) against processes_base(p) = f_b + "
            "(1 - f_b)/p (both relative to the baseline's sequential time; S: single-thread "
            "slowdown). Break-even p* solves p* (S f_t - f_b) = (1 - f_b) - S (1 - f_t). "
            "*already*: the threads already win at the measured cores (measured); *never*: the "
            f"lines do not cross. The 95% range is Monte Carlo ({DRAWS} draws of S and the two "
            "speedups from their CIs), with the shares of draws that never cross and that already win "
            "at the measured cores. Contention, "
            "memory bandwidth and pool costs on more cores are outside the model. I/O-bound "
            "workloads get no projection.", ""]
    head = ["host", "workload", "variant", "vs", "measured at", "slowdown S", "f threads",
            "f processes (baseline)", "break-even cores", "95% range", "draws never / already", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in df.to_dict("records"):
        if r["status"] == "already":
            be = f"already at {int(r['cores_measured'])} (measured)"
        elif r["status"] == "never":
            be = "never"
        elif r["status"] == "projected":
            be = f"{r['break_even_cores']:.1f} (ceil {int(r['break_even_ceil'])})"
        else:
            be = "-"
        low, high = float(r["low"]), float(r["high"])
        if math.isnan(low):
            rng = "-"
        elif math.isinf(low):
            rng = "never"
        else:
            rng = f"{_fmt_cores(low)}-{_fmt_cores(high)} (median {_fmt_cores(float(r['median']))})"
        never = ("-" if math.isnan(r["never_share"])
                 else f"{100 * r['never_share']:.0f}% / {100 * r['already_share']:.0f}%")
        at_p = "-" if math.isnan(r["cores_measured"]) else f"{int(r['cores_measured'])} cores"
        lines.append("| " + " | ".join(_cell(x) for x in (
            r["host"], r["workload"], r["variant"], r["baseline"], at_p,
            "-" if math.isnan(r["slowdown"]) else f"{r['slowdown']:.2f}x",
            r["f_threads"], r["f_processes_baseline"], be, rng, never, r["note"] or "")) + " |")
    out += lines
    return "\n".join(out) + "\n"
