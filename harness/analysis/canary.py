"""Cancel the machine's speed: each process adjusted for the speed canary timed beside its values.

Every pyperf worker times a fixed pure-Python loop before and after each value
(harness.measure.canary); a process whose canary ran slow ran on a slow machine. Per workload, on
the log scale, with p a process of series s (one benchmark on one variant, one stage) and v its
variant::

    log m_p = mu_s + slope * (c_p - c0_v) + e_p

m_p is the process mean, c_p the log of its canary's mean time, and c0_v the mean of c over every
process of variant v in the workload. The canary's cost differs by build, so it is centred per
variant; each series' adjusted mean is then its time at the variant's typical machine speed. The
slope is one per workload, common to its variants and options, estimated within series
(deviations from each series' mean), so differences between series cannot move it.

What the adjustment can and cannot cancel. Between two options of one variant (a speedup) the
centre cancels: the canary removes the machine's difference between their processes. Between two
variants (a slowdown, a gain) it cannot be told from the canary alone whether B's canary ran
faster because B's build runs it faster or because B's processes met a faster machine: the
centres c0_A and c0_B carry the machine's noise over the workload's processes, shared by every
round. :func:`widen` adds that term, slope^2 (var c0_A + var c0_B), to such a ratio's variance
(the fewest degrees of freedom of the parts), so its interval stays honest; the gain there grows with
the processes a workload has (every option of every round).

The adjustment is used only where the canary tracks the spread: the pooled within-series
correlation r of log time and log canary must make a one-sided t test of slope > 0 pass at ALPHA
(1%) with at least MIN_DF degrees of freedom. A canary that does not track is then left out 99% of
the time, and when it passes by chance its slope is near 0 and changes little. :func:`apply`
adjusts a raw table (each run's values scaled by exp(-slope (c_p - c0_v)), which moves its process
mean as the model says), so every estimator downstream runs unchanged on the adjusted processes;
:func:`choose` widens the cross-variant ratios of the adjusted workloads and notes each adjusted
row with r, the variance explained and the unadjusted estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from harness.intervals import log_interval, ratio_verdict, t_quantile

ALPHA = 0.01  # one-sided level of the test that the canary tracks (slope > 0)
MIN_DF = 8  # within-series degrees of freedom the slope needs at least
FIT_COLUMNS = ("host", "workload", "processes", "series", "df", "r", "explained", "slope", "t", "used", "reason")
RATIO_KEY = ["host", "workload", "variant", "metric", "strategy", "workers", "baseline"]
# ratios whose every variant appears once above and once below the line: the centres cancel
CENTRE_FREE = {"speedup_ratio"}


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


def adjust(log_times, log_canary, variants, slope: float) -> np.ndarray:
    """Log process times at each variant's typical canary: log m - slope (c - mean of c over the variant)."""
    y, c = np.asarray(log_times, float), np.asarray(log_canary, float)
    centre = pd.Series(c).groupby(pd.Series(list(variants))).transform("mean").to_numpy()
    return y - slope * (c - centre)


def centre_variance(log_canary, variants, rounds=None) -> dict:
    """variant -> (variance of its canary centre c0_v, df), for the difference of two centres.

    With the rounds known (``rounds``: a hashable round per process, e.g. (stage, round)), the
    machine's state shared by a round reaches every variant's centre alike (each variant runs in
    every round of its workload), so only the canary's spread within a variant's round counts:
    pooled variance of c around its (variant, round) means, / n_v. Without them, the whole spread
    of c over the variant, / n_v (larger: the conservative side).
    """
    c = pd.Series(np.asarray(log_canary, float))
    v = pd.Series(list(variants))
    sizes = v.value_counts().to_dict()
    if rounds is not None and all(r is not None for r in rounds):
        groups = pd.Series([(a, b) for a, b in zip(variants, rounds, strict=True)])
        dev = c - c.groupby(groups).transform("mean")
        df = len(c) - groups.nunique()
        if df >= 2:
            s2 = float(dev @ dev) / df
            return {name: (s2 / n, df) for name, n in sizes.items()}
    return {name: (float(g.var(ddof=1)) / len(g) if len(g) > 1 else math.inf, len(g) - 1)
            for name, g in c.groupby(v)}


def widen(value: float, se: float, df: float, slope: float, centres, confidence: float = 0.95):
    """(low, high, se, df) of a cross-variant ratio on adjusted processes: its own variance plus
    slope^2 x the variance of each variant's canary centre (``centres``: [(variance, df)]).

    The degrees of freedom are the fewest of the parts, not Welch-Satterthwaite's: with a few rounds
    the ratio's own variance is itself uncertain, and a Satterthwaite df grows exactly when that
    variance came out small by chance (the known-truth test of 4 rounds undercovers with it).
    """
    if math.isnan(se):
        return math.nan, math.nan, se, df
    extra = [(slope * slope * var, d) for var, d in centres]
    if any(not math.isfinite(v) or d < 1 for v, d in extra):
        return math.nan, math.nan, math.nan, math.nan
    se2 = math.sqrt(se * se + sum(v for v, _ in extra))
    df2 = min([df, *(d for _, d in extra)])
    return (*log_interval(value, se2, df2, confidence), se2, df2)


@dataclass
class Adjustment:
    """What :func:`apply` returns: the adjusted raw table, the fits, the centres' variances."""

    raw: pd.DataFrame
    fits: pd.DataFrame
    centres: dict = field(default_factory=dict)  # (host, workload, variant) -> (variance, df)


def _processes(rows: pd.DataFrame) -> pd.DataFrame | None:
    """One line per kept process of a workload's rows: row index, run position, variant, series, y, c.

    None when a process has no canary (older sets): the workload cannot be adjusted.
    """
    out = []
    for idx, rec in rows.iterrows():
        runs, canaries = rec.get("runs") or (), rec.get("run_canary") or ()
        if len(canaries) != len(runs) or any(c is None or not c > 0 for c in canaries):
            return None
        stage = rec.get("stage") or "sweep"
        series = (rec["variant"], rec["strategy"], int(rec["workers"]), stage)
        rounds = rec.get("run_rounds") or ()
        for i, (values, c) in enumerate(zip(runs, canaries, strict=True)):
            if len(values):
                r = (stage, rounds[i]) if len(rounds) == len(runs) and rounds[i] is not None else None
                out.append((idx, i, rec["variant"], series, r, math.log(float(np.mean(values))), math.log(float(c))))
    return pd.DataFrame(out, columns=["row", "run", "variant", "series", "round", "y", "c"]) if out else None


def _scale_runs(out: pd.DataFrame, procs: pd.DataFrame, factor: np.ndarray) -> None:
    """Multiply each process's values by its factor, in place in ``out``."""
    for idx, g in procs.assign(factor=factor).groupby("row"):
        runs = list(out.at[idx, "runs"])
        for i, scale in zip(g["run"], g["factor"], strict=True):
            runs[i] = tuple(v * scale for v in runs[i])
        out.at[idx, "runs"] = tuple(runs)
        out.at[idx, "values"] = tuple(v for r in runs for v in r)


def apply(raw: pd.DataFrame) -> Adjustment:
    """The raw table with each run's values scaled for the canary where it tracks, the fits, the centres.

    One fit per host x workload (its successful benchmarks, every variant and stage); the rows of a
    workload whose canary does not track, or was not recorded, are returned as they were.
    """
    fits, centres, out = [], {}, raw.copy()
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
            _scale_runs(out, procs, np.exp(adjust(procs["y"], procs["c"], procs["variant"], f.slope) - procs["y"]))
            for v, got in centre_variance(procs["c"], procs["variant"], list(procs["round"])).items():
                centres[(host, workload, v)] = got
    return Adjustment(out, pd.DataFrame(fits, columns=list(FIT_COLUMNS)), centres)


def _variant_of(baseline) -> str:
    """The variant a ratio is taken against, from ratios.csv's ``baseline`` ('3.13 sequential x1')."""
    return str(baseline).split(" ")[0]


def choose(unadjusted: pd.DataFrame, adjusted: pd.DataFrame, adj: Adjustment, margin: float) -> pd.DataFrame:
    """The ratios to report: ``adjusted`` (whose workloads without a tracking canary were not touched, so
    equal ``unadjusted``); each row of a workload where the canary tracks widened by its centres when it
    compares two variants, re-judged, and noted with r, the variance explained and the unadjusted estimate."""
    fits = adj.fits
    used = {(f["host"], f["workload"]): f for f in fits[fits["used"].astype(bool)].to_dict("records")}
    before = {tuple(r[c] for c in RATIO_KEY): r for r in unadjusted.to_dict("records")}
    out = adjusted.copy()
    for i, rec in zip(out.index, out.to_dict("records"), strict=True):
        f = used.get((rec["host"], rec["workload"]))
        if f is None:
            continue
        against = _variant_of(rec["baseline"])
        if against != rec["variant"] and rec["metric"] not in CENTRE_FREE and not pd.isna(rec["se_log"]):
            centres = [adj.centres.get((rec["host"], rec["workload"], v), (math.inf, 0))
                       for v in (rec["variant"], against)]
            low, high, se, df = widen(rec["value"], rec["se_log"], rec["df"], f["slope"], centres)
            out.loc[i, ["ci_low", "ci_high", "se_log", "df"]] = [low, high, se, df]
            out.loc[i, "verdict"] = ratio_verdict(low, high, margin)
            out.loc[i, "significant"] = (not low <= 1.0 <= high) if not math.isnan(low) else pd.NA
            out.loc[i, "precision"] = (high - low) / 2 / rec["value"] if not math.isnan(low) else math.nan
        old = before.get(tuple(rec[c] for c in RATIO_KEY))
        said = f"canary-adjusted (r = {f['r']:.2f}, {f['explained']:.0%} of the process variance)"
        if old is not None and not pd.isna(old["ci_low"]):
            said += f"; unadjusted {old['value']:.3f} [{old['ci_low']:.3f}, {old['ci_high']:.3f}]"
        out.loc[i, "note"] = "; ".join(x for x in (str(rec.get("note") or ""), said) if x)
    return out


def adjusted_ratios(raw: pd.DataFrame, unadjusted: pd.DataFrame, ratios_of, margin: float):
    """The pipeline's hook: (ratios to report, fits). ``ratios_of(raw) -> ratios`` is the ratios table's
    function; it runs again on the adjusted processes only when some workload's canary tracks."""
    adj = apply(raw)
    if not len(adj.fits) or not adj.fits["used"].astype(bool).any():
        return unadjusted, adj.fits
    return choose(unadjusted, ratios_of(adj.raw), adj, margin), adj.fits


def section_markdown(fits: pd.DataFrame) -> list[str]:
    """REPORT.md's lines on the speed canary: per workload r, the variance explained and the choice."""
    if fits is None or not len(fits):
        return []
    lines = ["## Speed canary", "",
             "Every process timed a fixed pure-Python loop before and after each value. Per workload, the "
             "correlation r of log process time and log canary within each benchmark (one slope per workload, "
             "the canary centred per variant); where the canary tracks (one-sided t test of slope > 0 at 1%, "
             f"at least {MIN_DF} degrees of freedom) the ratios are adjusted for it, a ratio of two variants "
             "widened by the uncertainty of the variants' canary centres, and their `note` in ratios.csv gives the "
             "unadjusted estimate; elsewhere they are as measured.", "",
             "| host | workload | processes | r | variance explained | slope | used |", "|---|---|---|---|---|---|---|"]
    for f in fits.to_dict("records"):
        r = "n/a" if pd.isna(f["r"]) else f"{f['r']:.2f}"
        ex = "n/a" if pd.isna(f["explained"]) else f"{f['explained']:.0%}"
        slope = "n/a" if pd.isna(f["slope"]) else f"{f['slope']:.2f}"
        lines.append(f"| {f['host']} | {f['workload']} | {f['processes']} | {r} | {ex} | {slope} | "
                     f"{'adjusted' if f['used'] else 'unadjusted: ' + f['reason'].split(':')[0]} |")
    return [*lines, ""]
