"""The pure statistics behind every number of the analysis (numpy only, no tables).

The unit of replication is the pyperf *process* (a run): values measured inside one process share
its start-up, its memory layout and whatever else ran on the machine at the time, so they are
correlated and are never resampled as if independent. Every interval here is computed from the
process means:

- the mean of a benchmark: Student's t on its process means, n_processes - 1 degrees of freedom;
- a ratio of means (or any product of means with exponents +-1, e.g. a ratio of two speedups):
  Welch's t on the log scale, with the delta-method standard error
  se^2 = sum_i s_i^2 / (n_i m_i^2) over the means i involved and the Welch-Satterthwaite degrees
  of freedom. One process on a side gives no interval ("n/a"), never a number.
- a ratio of benchmarks measured in the same rounds (every ratio of a campaign that interleaves a
  workload's options and variants in shared rounds) is paired by round instead
  (harness.analysis.pairing, :func:`paired_contrast` for two series): the machine's drift over a
  workload's minutes moves every side alike and cancels, where Welch would count it as noise; a
  ratio of two speedups is ONE paired product of four series, never two ratios taken as independent.

A verdict is three-valued against a practical equivalence margin (default 5%): "greater" only when
the whole CI lies above 1 + margin, "less" only when it lies below 1 / (1 + margin), "equivalent"
when it lies inside that band, otherwise "inconclusive". ``significant`` (CI leaves 1.0 out) is
kept for the figures' hollow markers.

The scaling figures (efficiency, Karp-Flatt) divide by the cores actually usable,
p = min(workers, cores), and are undefined where they mean nothing (p = 1, waiting-bound work).
"""

from __future__ import annotations

import math

import numpy as np

from harness import intervals
from harness.intervals import CONFIDENCE, MARGIN, log_interval, paired_ratio_interval, ratio_verdict, t_quantile, welch

__all__ = ["CONFIDENCE", "MARGIN", "Contrast", "contrast", "describe_runs_values", "describe_values",
           "efficiency", "karp_flatt", "log_interval", "measured_break_even_workers", "paired_contrast",
           "process_means", "ratio_verdict", "significant", "t_quantile", "usable_cores", "welch"]


def process_means(runs) -> np.ndarray:
    """:func:`harness.intervals.process_means` as an array, for the analysis's vector arithmetic."""
    return np.asarray(intervals.process_means(runs), dtype=float)


def describe_values(values) -> dict:
    """n, mean, median, stdev (n-1), min, max of the values (description, no interval)."""
    v = np.asarray(values, dtype=float)
    out = dict.fromkeys(("mean", "median", "stdev", "min", "max"), math.nan)
    out["n"] = len(v)
    if len(v):
        out.update(mean=float(v.mean()), median=float(np.median(v)), min=float(v.min()),
                   max=float(v.max()))
        if len(v) > 1:
            out["stdev"] = float(v.std(ddof=1))
    return out


def describe_runs_values(runs, confidence: float = CONFIDENCE) -> dict:
    """Process-level description of one benchmark: values, processes, mean and its t interval.

    ci95_low/high come from the process means (t with n_processes - 1 df); ``precision`` is the
    CI half-width relative to the mean. With one process the interval is NaN ("n/a").
    """
    values = [v for r in runs for v in r]
    out = describe_values(values)
    m = process_means(runs)
    n = len(m)
    out.update(n_processes=n, ci95_low=math.nan, ci95_high=math.nan, precision=math.nan)
    if n >= 2:
        mean = float(m.mean())
        half = t_quantile(n - 1, confidence) * float(m.std(ddof=1)) / math.sqrt(n)
        out.update(ci95_low=mean - half, ci95_high=mean + half,
                   precision=half / mean if mean > 0 else math.nan)
    return out


class Contrast(tuple):
    """(value, ci_low, ci_high, df, se_log, n_min): a product of means with its Welch interval."""

    __slots__ = ()

    def __new__(cls, value, low, high, df, se, n_min):
        """A tuple, so a Contrast unpacks like one, with named fields for reading."""
        return super().__new__(cls, (value, low, high, df, se, n_min))

    value = property(lambda s: s[0])
    low = property(lambda s: s[1])
    high = property(lambda s: s[2])
    df = property(lambda s: s[3])
    se = property(lambda s: s[4])
    n_min = property(lambda s: s[5])

    def at(self, confidence: float) -> tuple[float, float]:
        """The interval at another confidence level (e.g. Bonferroni-adjusted for a family)."""
        return log_interval(self.value, self.se, self.df, confidence)


def contrast(terms, confidence: float = CONFIDENCE) -> Contrast:
    """prod_i mean_i ** sign_i over ``terms`` = [(process_means, +1 or -1), ...], with its CI.

    Welch on the log scale: log(value) +- t(df) * se, se^2 = sum s_i^2 / (n_i m_i^2),
    df = se^4 / sum (s_i^2 / (n_i m_i^2))^2 / (n_i - 1). A side with no process gives NaN;
    a side with one process gives the value with an "n/a" interval (NaN bounds).
    """
    logv, parts, n_min = 0.0, [], math.inf
    for means, sign in terms:
        m = np.asarray(means, dtype=float)
        n = len(m)
        if n == 0 or not np.all(m > 0):
            return Contrast(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
        mu = float(m.mean())
        logv += sign * math.log(mu)
        n_min = min(n_min, n)
        if n >= 2:
            v = float(m.var(ddof=1)) / (n * mu * mu)
            parts.append((v, n - 1))
    value = math.exp(logv)
    if n_min < 2:
        return Contrast(value, math.nan, math.nan, math.nan, math.nan, int(n_min))
    se, df = welch(parts)
    low, high = log_interval(value, se, df, confidence)
    return Contrast(value, low, high, df, se, int(n_min))


def paired_contrast(num: dict, den: dict, confidence: float = CONFIDENCE) -> Contrast:
    """mean(num) / mean(den) over the rounds both have (``{round: process mean}``), paired by round:
    :func:`harness.intervals.paired_ratio_interval` (df = common rounds - 1), as the campaign decides."""
    value, low, high, se = paired_ratio_interval(num, den, confidence)
    n = len(set(num) & set(den))
    return Contrast(value, low, high, n - 1 if n >= 2 else math.nan, se, n)


def significant(low: float, high: float) -> bool:
    """A ratio differs from 1.0 only if its CI exists and leaves 1.0 out."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return False
    return not low <= 1.0 <= high


def usable_cores(workers, cores) -> int | None:
    """p = min(workers, cores): the cores a pool of ``workers`` can keep busy at once."""
    if workers is None or workers != workers:
        return None
    if cores is None or cores != cores:
        return int(workers)
    return int(min(int(workers), int(cores)))


def efficiency(speedup: float, workers: int, cores: int | None = None,
               kind: str | None = "cpu") -> float:
    """Parallel efficiency S / p with p = min(workers, cores); NaN for p = 1 and for I/O work."""
    p = usable_cores(workers, cores)
    if kind == "io" or p is None or p <= 1 or not speedup > 0:
        return math.nan
    return speedup / p


def karp_flatt(speedup: float, workers: int, cores: int | None = None,
               kind: str | None = "cpu") -> float:
    """Serial fraction e = (1/S - 1/p) / (1 - 1/p) with p = min(workers, cores), for p > 1.

    Outside [0, 1] it is not a serial fraction (superlinear speedup, or slower than sequential):
    callers flag it (harness.analysis.views). NaN for I/O work, where p is not the limit.
    """
    p = usable_cores(workers, cores)
    if kind == "io" or p is None or p <= 1 or not speedup > 0:
        return math.nan
    return (1 / speedup - 1 / p) / (1 - 1 / p)


def measured_break_even_workers(thread_means: dict[int, float], baseline_best: float) -> int | None:
    """Fewest threads whose mean time beats ``baseline_best``; None if no count does."""
    for workers in sorted(thread_means):
        if thread_means[workers] < baseline_best:
            return workers
    return None
