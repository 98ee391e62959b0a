"""Cancel the machine's speed: each process adjusted for the speed canary timed beside its values.

Every pyperf worker times a fixed pure-Python loop before and after each value
(harness.measure.canary); a process whose canary ran slow ran on a slow machine. On the log
scale, with p a process of series s (one benchmark on one variant, one stage) that ran in
round r on variant v::

    log m_p = mu_s + slope * (c_p - c_vr) + e_p

m_p is the process mean, c_p the log of its canary's mean time and c_vr the mean of c over the
processes of variant v in round r (every benchmark of the workload, the round as the campaign
numbered it within its invocation and stage). The slope is one per benchmark (strategy x workers),
common to its variants and stages: a sequential run slows with the machine as the single-threaded
canary does, a run of two threads on two cores may not (docs/noise.md). It is estimated within
series (deviations from each series' mean), so differences between series cannot move it.

Why the centre is the variant's round. The canary's cost differs by build, so it must be centred
per variant; but whether B's canary ran faster because B's build runs it faster or because B's
processes met a faster machine cannot be told from the canary alone. Centred on the variant's
processes of the same round, the adjustment of a ratio paired by round stays a per-round quantity:
what is left of the machine's noise (the round's mean over the variant's options) stays in the
per-round differences, so the paired interval counts it, with rounds - 1 degrees of freedom, and
in a balanced round design the estimate equals the one centred on each variant's whole workload.
Between two options of one variant the centre cancels: the canary removes the machine's difference
between their processes. A round where a variant ran one benchmark only (a reference's extra
rounds) is left as measured: there the canary cannot be told from the build.

The adjustment of a benchmark is used where the canary tracks the workload: the pooled
within-series correlation of log time and log canary over the workload's *other* benchmarks must
make a one-sided t test of slope > 0 pass at ALPHA (1%) with at least MIN_DF degrees of freedom.
Judged on the benchmark's own processes, the choice would follow their noise (adjusted where the
adjustment happened to look good), and the chosen intervals would cover less than 95% (the
known-truth test of few rounds shows it); judged on the others, it does not depend on the processes
it adjusts. A canary that does not track is then left out 99% of the time, and when it passes by
chance each benchmark's own slope is near 0 and changes little. :func:`apply`
adjusts a raw table (each run's values scaled by exp(-slope (c_p - c_vr)), which moves its process
mean as the model says), so every estimator downstream runs unchanged on the adjusted processes;
:func:`choose` notes each ratio the adjustment moved with the r of its adjusted benchmarks and
its unadjusted estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from harness.intervals import t_quantile

ALPHA = 0.01  # one-sided level of the test that the canary tracks (slope > 0)
MIN_DF = 8  # within-series degrees of freedom the slope needs at least
FIT_COLUMNS = ("host", "workload", "strategy", "workers", "processes", "series", "df", "r", "explained", "slope",
               "t", "r_others", "used", "reason")
RATIO_KEY = ["host", "workload", "variant", "metric", "strategy", "workers", "baseline"]
SEQUENTIAL = {("sequential", 1)}  # the reference a product of ratios or a best option's ratios also rest on


@dataclass(frozen=True)
class Fit:
    """The canary's regression on some processes: slope, how much it explains, and whether it tracks."""

    slope: float
    r: float  # pooled within-series correlation of log process time and log canary
    explained: float  # r^2: the share of the process-to-process variance the canary accounts for
    processes: int
    series: int
    df: int  # processes - series - 1
    t: float  # the slope's t statistic
    tracks: bool  # one-sided t test of slope > 0 at ALPHA, with at least MIN_DF df
    reason: str


def fit(log_times, log_canary, series) -> Fit:
    """The pooled within-series regression of log process time on log canary, and its test.

    ``series``: a label per process (processes of one label share a mean).
    """
    y, c = np.asarray(log_times, float), np.asarray(log_canary, float)
    labels = pd.Series(list(series))
    n, k = len(y), labels.nunique()
    df = n - k - 1
    if df < 1:
        return Fit(math.nan, math.nan, math.nan, n, k, df, math.nan, False, "too few processes for a slope")
    yd = y - pd.Series(y).groupby(labels).transform("mean").to_numpy()
    cd = c - pd.Series(c).groupby(labels).transform("mean").to_numpy()
    sxx, syy, sxy = float(cd @ cd), float(yd @ yd), float(cd @ yd)
    if sxx <= 0 or syy <= 0:
        return Fit(math.nan, math.nan, math.nan, n, k, df, math.nan, False, "no spread within series")
    slope, r = sxy / sxx, sxy / math.sqrt(sxx * syy)
    resid = max(syy - slope * sxy, 0.0) / df
    t = slope / math.sqrt(resid / sxx) if resid > 0 else math.inf
    if df < MIN_DF:
        return Fit(slope, r, r * r, n, k, df, t, False, f"{df} degrees of freedom, fewer than {MIN_DF}")
    if t > t_quantile(df, 1 - 2 * ALPHA):
        return Fit(slope, r, r * r, n, k, df, t, True, f"the canary tracks (r = {r:.2f}, t = {t:.1f})")
    return Fit(slope, r, r * r, n, k, df, t, False, f"the canary does not track (r = {r:.2f}, t = {t:.1f})")


def decide(others: Fit | None) -> tuple[bool, str]:
    """Adjust a benchmark? Yes when the canary tracks the workload's other benchmarks (``others``)."""
    if others is None:
        return False, "no other benchmark in the workload to judge the canary on: unadjusted"
    if others.tracks:
        return True, f"adjusted: on the workload's other benchmarks {others.reason.removeprefix('the canary ')}"
    return False, f"unadjusted: on the workload's other benchmarks {others.reason.removeprefix('the canary ')}"


def centres(log_canary, groups) -> np.ndarray:
    """Each process's centre: the mean log canary of its group (its variant's processes of its round)."""
    return pd.Series(np.asarray(log_canary, float)).groupby(pd.Series(list(groups))).transform("mean").to_numpy()


def adjust(log_times, log_canary, centre, slope: float) -> np.ndarray:
    """Log process times at their centre's canary: log m - slope (c - centre)."""
    return np.asarray(log_times, float) - slope * (np.asarray(log_canary, float) - np.asarray(centre, float))


@dataclass
class Adjustment:
    """What :func:`apply` returns: the adjusted raw table and the fits."""

    raw: pd.DataFrame
    fits: pd.DataFrame


def _processes(rows: pd.DataFrame) -> pd.DataFrame | None:
    """One line per kept process of a workload's rows: row index, run position, series, group, y, c.

    None when a process has no canary or no round (older sets): the workload cannot be adjusted.
    """
    out = []
    for idx, rec in rows.iterrows():
        runs, canaries = rec.get("runs") or (), rec.get("run_canary") or ()
        rounds = rec.get("run_rounds") or ()
        invocations = rec.get("run_invocations") or (None,) * len(runs)
        if (len(canaries) != len(runs) or len(rounds) != len(runs) or len(invocations) != len(runs)
                or any(c is None or not c > 0 for c in canaries) or any(r is None for r in rounds)):
            return None
        stage = rec.get("stage") or "sweep"
        series = (rec["variant"], rec["strategy"], int(rec["workers"]), stage)
        for i, (values, c) in enumerate(zip(runs, canaries, strict=True)):
            if len(values):
                group = (rec["variant"], invocations[i], stage, int(rounds[i]))
                out.append((idx, i, series, group, math.log(float(np.mean(values))), math.log(float(c))))
    return pd.DataFrame(out, columns=["row", "run", "series", "group", "y", "c"]) if out else None


def _scale_runs(out: pd.DataFrame, procs: pd.DataFrame, factor: np.ndarray) -> None:
    """Multiply each process's values by its factor, in place in ``out``."""
    for idx, g in procs.assign(factor=factor).groupby("row"):
        runs = list(out.at[idx, "runs"])
        for i, scale in zip(g["run"], g["factor"], strict=True):
            runs[i] = tuple(v * scale for v in runs[i])
        out.at[idx, "runs"] = tuple(runs)
        out.at[idx, "values"] = tuple(v for r in runs for v in r)


def apply(raw: pd.DataFrame) -> Adjustment:
    """The raw table with each run's values scaled for the canary where it tracks, and the fits.

    One fit per host x workload x benchmark (strategy x workers: its variants and stages), centred
    on each variant's round over the whole workload; the rows of a benchmark whose canary does not
    track, or of a workload whose canary or rounds were not recorded, are returned as they were.
    """
    fits, out = [], raw.copy()
    if "run_canary" not in raw.columns or not len(raw):
        return Adjustment(out, pd.DataFrame(columns=list(FIT_COLUMNS)))
    ok = raw[(raw["status"] == "ok") & (raw["values"].map(len) > 0)]
    for (host, workload), rows in ok.groupby(["host", "workload"], sort=True):
        procs = _processes(rows)
        if procs is None:
            continue
        procs["centre"] = centres(procs["c"], procs["group"])
        bench = procs["series"].map(lambda s: s[1:3])
        for (strategy, workers), g in procs.groupby(bench, sort=False):
            own = fit(g["y"], g["c"], g["series"])
            rest = procs[bench != (strategy, workers)]
            others = fit(rest["y"], rest["c"], rest["series"]) if len(rest) else None
            used, reason = decide(others)
            fits.append({"host": host, "workload": workload, "strategy": strategy, "workers": workers,
                         **{k: v for k, v in asdict(own).items() if k in FIT_COLUMNS},
                         "r_others": others.r if others else math.nan, "used": used, "reason": reason})
            if used and not math.isnan(own.slope):
                _scale_runs(out, g, np.exp(adjust(g["y"], g["c"], g["centre"], own.slope) - g["y"].to_numpy()))
    return Adjustment(out, pd.DataFrame(fits, columns=list(FIT_COLUMNS)))


def _benchmarks_of(rec: dict) -> set:
    """The benchmarks (strategy, workers) a ratios.csv row is taken from: its own option, what it is
    taken against ('3.13 sequential x1'), and the sequential reference of a product of ratios."""
    out = {(rec["strategy"], int(rec["workers"]))}
    parts = str(rec["baseline"]).split(" ")
    if len(parts) == 3 and parts[2].startswith("x") and parts[2][1:].isdigit():
        out.add((parts[1], int(parts[2][1:])))
    if rec["metric"] in ("speedup_ratio", "best_speedup", "gain_best"):
        out |= SEQUENTIAL
    return out


def choose(unadjusted: pd.DataFrame, adjusted: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """The ratios to report: ``adjusted`` (whose benchmarks without a tracking canary were not touched);
    each row the adjustment moved is noted with the r of its adjusted benchmarks and its unadjusted
    estimate."""
    used = {(f["host"], f["workload"], f["strategy"], int(f["workers"])): f
            for f in fits[fits["used"].astype(bool)].to_dict("records")}
    before = {tuple(r[c] for c in RATIO_KEY): r for r in unadjusted.to_dict("records")}
    out = adjusted.copy()
    for i, rec in zip(out.index, out.to_dict("records"), strict=True):
        old = before.get(tuple(rec[c] for c in RATIO_KEY))
        if old is not None and all(_same(rec[k], old[k]) for k in ("value", "ci_low", "ci_high")):
            continue
        which = sorted(b for b in _benchmarks_of(rec) if (rec["host"], rec["workload"], *b) in used)
        said = "canary-adjusted (" + ", ".join(
            f"{s} x{w} r = {used[(rec['host'], rec['workload'], s, w)]['r']:.2f}" for s, w in which) + ")" \
            if which else "canary-adjusted (the best option chosen on adjusted times)"
        if old is not None and not pd.isna(old["ci_low"]):
            said += f"; unadjusted {old['value']:.3f} [{old['ci_low']:.3f}, {old['ci_high']:.3f}]"
        out.loc[i, "note"] = "; ".join(x for x in (str(rec.get("note") or ""), said) if x)
    return out


def _same(a, b) -> bool:
    """Two table cells equal, NaN equal to NaN."""
    if pd.isna(a) and pd.isna(b):
        return True
    return not (pd.isna(a) or pd.isna(b)) and math.isclose(float(a), float(b), rel_tol=1e-12)


def adjusted_ratios(raw: pd.DataFrame, unadjusted: pd.DataFrame, ratios_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pipeline's hook: (ratios to report, fits). ``ratios_of(raw) -> ratios`` is the ratios table's
    function; it runs again on the adjusted processes only when some workload's canary tracks."""
    adj = apply(raw)
    if not len(adj.fits) or not adj.fits["used"].astype(bool).any():
        return unadjusted, adj.fits
    return choose(unadjusted, ratios_of(adj.raw), adj.fits), adj.fits


def section_markdown(fits: pd.DataFrame) -> list[str]:
    """REPORT.md's lines on the speed canary: per workload, the benchmarks adjusted and their r."""
    if fits is None or not len(fits):
        return []
    lines = ["## Speed canary", "",
             "Every process timed a fixed pure-Python loop before and after each value. Per benchmark (its "
             "variants together), r is the correlation of log process time and log canary within each variant. "
             "A benchmark is adjusted for the canary (its own slope, centred on its variant's round) when the "
             "canary tracks the workload's other benchmarks (one-sided t test of slope > 0 at 1%, at least "
             f"{MIN_DF} degrees of freedom), so the choice does not follow the noise of the processes it adjusts; "
             "every ratio the adjustment moved says so in its `note` in ratios.csv, with its unadjusted estimate. "
             "Per benchmark: `canary.csv`.", "",
             "| host | workload | benchmarks adjusted | r of the sequential reference | r of the others (range) |",
             "|---|---|---|---|---|"]
    for (host, workload), g in fits.groupby(["host", "workload"], sort=False):
        seq = g[g["strategy"] == "sequential"]
        ref = "n/a" if not len(seq) or pd.isna(seq["r"].iloc[0]) else (
            f"{seq['r'].iloc[0]:.2f} ({'adjusted' if seq['used'].iloc[0] else 'unadjusted'})")
        rest = g[g["strategy"] != "sequential"]["r"].dropna()
        span = f"{rest.min():.2f} to {rest.max():.2f}" if len(rest) else "n/a"
        lines.append(f"| {host} | {workload} | {int(g['used'].astype(bool).sum())} of {len(g)} | {ref} | {span} |")
    return [*lines, ""]
