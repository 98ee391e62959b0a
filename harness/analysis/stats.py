"""The pure statistics behind every number of the analysis (numpy only, no tables).

Kept apart so each figure can be checked against hand-computed numbers without pandas or files:
the t interval of a mean, the bootstrap CI of a ratio of means (the unit of every comparison),
and the scaling figures derived from a speedup (efficiency, Karp-Flatt serial fraction,
break-even thread count).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CONFIDENCE", "N_BOOT", "SEED", "bootstrap_ratio", "break_even", "describe_values",
           "efficiency", "karp_flatt", "significant", "t_quantile"]

N_BOOT = 2000  # bootstrap resamples per ratio: CI bounds stable to ~1% at n = 3-10 values
SEED = 20250701  # every ratio uses the same seeded generator: reruns give identical CSVs
CONFIDENCE = 0.95
# Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (no scipy needed).
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t_quantile(df: int) -> float:
    """Student's t 97.5% quantile: table up to 30 df, Cornish-Fisher expansion beyond."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def describe_values(values) -> dict:
    """n, mean, median, stdev (n-1), min, max and the t-based 95% CI of the mean."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    out = dict.fromkeys(("mean", "median", "stdev", "min", "max", "ci95_low", "ci95_high"),
                        math.nan)
    out["n"] = n
    if n == 0:
        return out
    out.update(mean=v.mean(), median=float(np.median(v)), min=v.min(), max=v.max())
    if n > 1:
        sd = v.std(ddof=1)
        half = t_quantile(n - 1) * sd / math.sqrt(n)
        out.update(stdev=sd, ci95_low=v.mean() - half, ci95_high=v.mean() + half)
    return {k: (float(x) if k != "n" else x) for k, x in out.items()}


def bootstrap_ratio(num, den, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[float, float, float]:
    """mean(num) / mean(den) and its percentile-bootstrap CI (each side resampled on its own).

    The bounds are NaN when a side has fewer than two values: one value gives no spread.
    """
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan
    ratio = float(a.mean() / b.mean())
    if len(a) < 2 or len(b) < 2:
        return ratio, math.nan, math.nan
    rng = np.random.default_rng(seed)
    ma = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
    mb = b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(ma / mb, [tail, 1 - tail])
    return ratio, float(low), float(high)


def significant(low: float, high: float) -> bool:
    """A ratio differs from 1.0 only if its CI exists and leaves 1.0 out."""
    if math.isnan(low) or math.isnan(high):
        return False
    return not low <= 1.0 <= high


def efficiency(speedup: float, workers: int) -> float:
    """Parallel efficiency: the share of ideal linear speedup reached (1.0 = perfect)."""
    return speedup / workers if workers and workers > 0 else math.nan


def karp_flatt(speedup: float, workers: int) -> float:
    """Experimentally determined serial fraction e = (1/S - 1/p) / (1 - 1/p), for p > 1."""
    if not workers or workers <= 1 or not speedup > 0:
        return math.nan
    return (1 / speedup - 1 / workers) / (1 - 1 / workers)


def break_even(thread_means: dict[int, float], baseline_best: float) -> int | None:
    """Fewest threads whose mean time beats ``baseline_best``; None if no count does."""
    for workers in sorted(thread_means):
        if thread_means[workers] < baseline_best:
            return workers
    return None
