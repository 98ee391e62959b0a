"""The t intervals and three-valued verdicts both sides need: stdlib only.

The campaign (benchmark venv) sizes its confirmation rounds from the sweep's paired spread and the
distance to the margin, and the analysis (analysis venv) gives every ratio its interval and
verdict: one t quantile, one margin, one paired estimator for both, so the campaign plans for
exactly the interval the analysis will report.
"""

from __future__ import annotations

import math
import statistics
from statistics import NormalDist

__all__ = ["CONFIDENCE", "MARGIN", "log_interval", "paired_product_interval", "paired_ratio_interval",
           "process_means", "ratio_interval", "ratio_verdict", "t_quantile", "welch"]

CONFIDENCE = 0.95
MARGIN = 0.05  # practical equivalence margin: +-5% is "no practical difference"
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def process_means(runs) -> list[float]:
    """The mean of each pyperf process (run) that has values: the unit of replication of every interval.

    Values within one worker process are correlated (the same interpreter, heap and CPU placement), so
    a process contributes one number, never its values one by one.
    """
    return [statistics.fmean(r) for r in runs if len(r)]


def t_quantile(df: float, confidence: float = CONFIDENCE) -> float:
    """Two-sided Student's t quantile for real ``df`` >= 1 (Hill 1970, ACM algorithm 396).

    Exact table values for integer df <= 30 at 95%; Hill's expansion otherwise (error < 1e-4
    for df >= 1). NaN for df < 1 or NaN.
    """
    if df is None or not df >= 1:
        return math.nan
    if confidence == CONFIDENCE and float(df).is_integer() and df <= len(_T975):
        return _T975[int(df) - 1]
    p = 1 - confidence  # two-sided tail probability
    n = float(df)
    if n == 1:
        return math.cos(p * math.pi / 2) / math.sin(p * math.pi / 2)
    if n == 2:
        return math.sqrt(2 / (p * (2 - p)) - 2)
    a = 1 / (n - 0.5)
    b = 48 / (a * a)
    c = ((20700 * a / b - 98) * a - 16) * a + 96.36
    d = ((94.5 / (b + c) - 3) / b + 1) * math.sqrt(a * math.pi / 2) * n
    x = d * p
    y = x ** (2 / n)
    if y > 0.05 + a:
        x = NormalDist().inv_cdf(p * 0.5)
        y = x * x
        if n < 5:
            c += 0.3 * (n - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x
        y = math.expm1(a * y * y)
    else:
        y = ((1 / (((n + 6) / (n * y) - 0.089 * d - 0.822) * (n + 2) * 3) + 0.5 / (n + 4)) * y
             - 1) * (n + 1) / (n + 2) + 1 / y
    return math.sqrt(n * y)


def log_interval(value: float, se: float, df: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """value * exp(-+ t(df) * se): the t interval of a ratio estimated on the log scale."""
    if math.isnan(se):
        return math.nan, math.nan
    if se == 0:
        return value, value
    t = t_quantile(df, confidence)
    return value * math.exp(-t * se), value * math.exp(t * se)


def welch(parts) -> tuple[float, float]:
    """(se, df) of a sum of independent estimates given as (variance, df): Welch-Satterthwaite.

    df = (sum v)^2 / sum(v^2 / df_i), at least 1 (the sum of the df when every variance is 0).
    """
    parts = list(parts)
    var = sum(v for v, _ in parts)
    denom = sum(v * v / d for v, d in parts)
    df = var * var / denom if denom > 0 else float(sum(d for _, d in parts))
    return math.sqrt(var), max(df, 1.0)


def ratio_interval(num: list[float], den: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """mean(num) / mean(den) with its Welch t interval on the log scale, from process means.

    The two-sample case of harness.analysis.stats.contrast: se^2 = s_a^2/(n_a m_a^2) + s_b^2/(n_b m_b^2),
    Welch-Satterthwaite df. NaN bounds with fewer than two processes on a side.
    """
    if not num or not den or min(num) <= 0 or min(den) <= 0:
        return math.nan, math.nan, math.nan
    ma, mb = statistics.fmean(num), statistics.fmean(den)
    value = ma / mb
    if len(num) < 2 or len(den) < 2:
        return value, math.nan, math.nan
    se, df = welch((statistics.variance(x) / (len(x) * m * m), len(x) - 1) for x, m in ((num, ma), (den, mb)))
    return (value, *log_interval(value, se, df, confidence))


def paired_ratio_interval(num: dict, den: dict, confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """(value, low, high, se_log) of mean(num) / mean(den) over the rounds both sides have, paired by round.

    ``num``/``den``: round -> process mean. The two sides of a cross-variant ratio of one benchmark
    run next to each other in every round, so the machine's drift over the minutes of a workload's
    rounds moves both alike: the interval comes from the spread of the per-round relative
    differences d_r = x_r / m_x - y_r / m_y (delta method on the log scale: se^2 = var(d) / n),
    t with n - 1 degrees of freedom. NaN bounds with fewer than two common rounds. The two-term
    case of :func:`paired_product_interval`.
    """
    return paired_product_interval([(num, 1), (den, -1)], confidence)[:4]


def paired_product_interval(terms, confidence: float = CONFIDENCE) -> tuple[float, float, float, float, int]:
    """(value, low, high, se_log, n) of prod_i mean(x_i) ** sign_i over the rounds every series has.

    ``terms``: [(series, sign), ...], a series {round: process mean}, sign +1 or -1. Every series was
    measured in the same rounds (the campaign interleaves them), so one estimator serves a ratio
    (two terms) and a ratio of ratios such as (seq_v / opt_v) / (seq_b / opt_b) (four terms): the
    delta method on the log scale gives per round d_r = sum_i sign_i * x_ir / m_i, se^2 = var(d) / n,
    and t with n - 1 degrees of freedom, so a drift that moves every series of a round alike cancels
    and the covariance of series that share rounds is counted once, not assumed away. ``n``: the
    common rounds; NaN bounds (and se) with fewer than two.
    """
    terms = [(dict(series), sign) for series, sign in terms]
    common = sorted(set.intersection(*(set(series) for series, _ in terms))) if terms else []
    columns = [([series[r] for r in common], sign) for series, sign in terms]
    if not common or any(min(x) <= 0 for x, _ in columns):
        return math.nan, math.nan, math.nan, math.nan, len(common)
    means = [statistics.fmean(x) for x, _ in columns]
    value = math.prod(m ** sign for m, (_, sign) in zip(means, columns, strict=True))
    if len(common) < 2:
        return value, math.nan, math.nan, math.nan, len(common)
    d = [sum(sign * x[i] / m for m, (x, sign) in zip(means, columns, strict=True)) for i in range(len(common))]
    se = statistics.stdev(d) / math.sqrt(len(common))
    return (value, *log_interval(value, se, len(common) - 1, confidence), se, len(common))


def ratio_verdict(low: float, high: float, margin: float = MARGIN) -> str:
    """greater / less / equivalent / inconclusive against the band [1/(1+m), 1+m]; n/a: no CI."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "n/a"
    up, down = 1 + margin, 1 / (1 + margin)
    if low > up:
        return "greater"
    if high < down:
        return "less"
    if down <= low and high <= up:
        return "equivalent"
    return "inconclusive"
