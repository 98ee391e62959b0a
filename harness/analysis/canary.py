"""Cancel the machine's speed: each process adjusted for the speed canary timed beside its values.

Every pyperf worker times a fixed pure-Python loop before and after each value
(harness.measure.canary); a process whose canary ran slow ran on a slow machine. Per workload, on
the log scale, with p a process of series s (one benchmark on one variant, one stage) that ran in
round r on variant v::

    log m_p = mu_s + slope * (c_p - c_vr) + e_p

m_p is the process mean, c_p the log of its canary's mean time and c_vr the mean of c over the
processes of variant v in round r (the round as the campaign numbered it, within its invocation
and stage). The slope is one per workload, common to its variants and options, estimated within
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

The adjustment is used only where the canary tracks the spread: the pooled within-series
correlation r of log time and log canary must make a one-sided t test of slope > 0 pass at ALPHA
(1%) with at least MIN_DF degrees of freedom. A canary that does not track is then left out 99% of
the time, and when it passes by chance its slope is near 0 and changes little. :func:`apply`
adjusts a raw table (each run's values scaled by exp(-slope (c_p - c_vr)), which moves its process
mean as the model says), so every estimator downstream runs unchanged on the adjusted processes;
:func:`choose` notes each ratio of an adjusted workload with r, the variance explained and the
unadjusted estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from harness.intervals import t_quantile

ALPHA = 0.01  # one-sided level of the test that the canary tracks (slope > 0)
MIN_DF = 8  # within-series degrees of freedom the slope needs at least
FIT_COLUMNS = ("host", "workload", "processes", "series", "df", "r", "explained", "slope", "t", "used", "reason")
RATIO_KEY = ["host", "workload", "variant", "metric", "strategy", "workers", "baseline"]


@dataclass(frozen=True)
class Fit:
    """The canary's fit on one workload: slope, how much it explains, and whether it is used."""

    slope: float
    r: float  # pooled within-series correlation of log process time and log canary
    explained: float  # r^2: the share of the process-to-process variance the canary accounts for
    processes: int
    series: int
    df: int  # processes - series - 1
    t: float  # the slope's t statistic
    used: bool
    reason: str


def fit(log_times, log_canary, series) -> Fit:
    """The pooled within-series regression of log process time on log canary, and the decision.

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
        used, reason = False, f"{df} degrees of freedom, fewer than {MIN_DF}: unadjusted"
    elif t > t_quantile(df, 1 - 2 * ALPHA):
        used, reason = True, f"the canary explains {r * r:.0%} of the process-to-process variance (r = {r:.2f})"
    else:
        used, reason = False, f"r = {r:.2f}: the canary does not track this workload (t = {t:.1f}): unadjusted"
    return Fit(slope, r, r * r, n, k, df, t, used, reason)


def adjust(log_times, log_canary, groups, slope: float) -> np.ndarray:
    """Log process times at their group's mean canary: log m - slope (c - mean of c over the group).

    ``groups``: a label per process, its variant and round (see the module docstring).
    """
    y, c = np.asarray(log_times, float), np.asarray(log_canary, float)
    centre = pd.Series(c).groupby(pd.Series(list(groups))).transform("mean").to_numpy()
    return y - slope * (c - centre)


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

    One fit per host x workload (its successful benchmarks, every variant and stage); the rows of a
    workload whose canary does not track, or was not recorded, are returned as they were.
    """
    fits, out = [], raw.copy()
    if "run_canary" not in raw.columns or not len(raw):
        return Adjustment(out, pd.DataFrame(columns=list(FIT_COLUMNS)))
    ok = raw[(raw["status"] == "ok") & (raw["values"].map(len) > 0)]
    for (host, workload), rows in ok.groupby(["host", "workload"], sort=True):
        procs = _processes(rows)
        if procs is None:
            continue
        f = fit(procs["y"], procs["c"], procs["series"])
        fits.append({"host": host, "workload": workload, **{k: v for k, v in asdict(f).items() if k in FIT_COLUMNS}})
        if f.used:
            _scale_runs(out, procs, np.exp(adjust(procs["y"], procs["c"], procs["group"], f.slope) - procs["y"]))
    return Adjustment(out, pd.DataFrame(fits, columns=list(FIT_COLUMNS)))


def choose(unadjusted: pd.DataFrame, adjusted: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """The ratios to report: ``adjusted`` (whose workloads without a tracking canary were not touched, so
    equal ``unadjusted``), each row of a workload where the canary tracks noted with r, the variance
    explained and the unadjusted estimate."""
    used = {(f["host"], f["workload"]): f for f in fits[fits["used"].astype(bool)].to_dict("records")}
    before = {tuple(r[c] for c in RATIO_KEY): r for r in unadjusted.to_dict("records")}
    out = adjusted.copy()
    for i, rec in zip(out.index, out.to_dict("records"), strict=True):
        f = used.get((rec["host"], rec["workload"]))
        if f is None:
            continue
        old = before.get(tuple(rec[c] for c in RATIO_KEY))
        said = f"canary-adjusted (r = {f['r']:.2f}, {f['explained']:.0%} of the process variance)"
        if old is not None and not pd.isna(old["ci_low"]):
            said += f"; unadjusted {old['value']:.3f} [{old['ci_low']:.3f}, {old['ci_high']:.3f}]"
        out.loc[i, "note"] = "; ".join(x for x in (str(rec.get("note") or ""), said) if x)
    return out


def adjusted_ratios(raw: pd.DataFrame, unadjusted: pd.DataFrame, ratios_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pipeline's hook: (ratios to report, fits). ``ratios_of(raw) -> ratios`` is the ratios table's
    function; it runs again on the adjusted processes only when some workload's canary tracks."""
    adj = apply(raw)
    if not len(adj.fits) or not adj.fits["used"].astype(bool).any():
        return unadjusted, adj.fits
    return choose(unadjusted, ratios_of(adj.raw), adj.fits), adj.fits


def section_markdown(fits: pd.DataFrame) -> list[str]:
    """REPORT.md's lines on the speed canary: per workload r, the variance explained and the choice."""
    if fits is None or not len(fits):
        return []
    lines = ["## Speed canary", "",
             "Every process timed a fixed pure-Python loop before and after each value. Per workload, the "
             "correlation r of log process time and log canary within each benchmark (one slope per workload, "
             "the canary centred on the variant's processes of the same round); where the canary tracks (one-sided "
             f"t test of slope > 0 at 1%, at least {MIN_DF} degrees of freedom) the ratios are adjusted for it "
             "and their `note` in ratios.csv gives the unadjusted estimate; elsewhere they are as measured.", "",
             "| host | workload | processes | r | variance explained | slope | used |", "|---|---|---|---|---|---|---|"]
    for f in fits.to_dict("records"):
        r = "n/a" if pd.isna(f["r"]) else f"{f['r']:.2f}"
        ex = "n/a" if pd.isna(f["explained"]) else f"{f['explained']:.0%}"
        slope = "n/a" if pd.isna(f["slope"]) else f"{f['slope']:.2f}"
        lines.append(f"| {f['host']} | {f['workload']} | {f['processes']} | {r} | {ex} | {slope} | "
                     f"{'adjusted' if f['used'] else 'unadjusted: ' + f['reason'].split(':')[0]} |")
    return [*lines, ""]
