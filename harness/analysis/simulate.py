"""Known-truth simulation: pyperf-shaped samples where the true ratio is known (numpy only).

A benchmark is ``processes`` pyperf processes x ``values`` values; value = mu * (1 + e) with
e = sigma * (sqrt(rho) * u_process + sqrt(1 - rho) * u_value), u standard normal, so values of
one process correlate with coefficient rho (default 0.3); sigma (the noise) is drawn per comparison
uniformly from 2-10% (wide enough for the noise of small shared VMs, where campaigns run). The
"precision" shape adds processes (from ``processes`` up to ``cap``) until the 95% CI half-width of
the mean over processes is <= 2%, as the precision-target profile does.

``compare`` runs S comparisons of two such benchmarks with the process-level method of the analysis
(Welch on log process means, harness.analysis.stats.contrast; rates under ``"new"``) and with a
percentile bootstrap of the flattened values (``"old"``: values resampled as if independent, the
reference the process-level method is shown to beat), and returns the rates the known-truth tests
and the report quote.
"""

from __future__ import annotations

import math

import numpy as np

from harness.analysis.stats import CONFIDENCE, MARGIN, t_quantile

__all__ = ["compare", "rerun_agreement", "sample", "verdicts", "welch_log_ratio", "old_bootstrap_ratio"]


def sample(rng, n_sim: int, processes: int, values: int, sigma, rho: float = 0.3,
           mu: float = 1.0) -> np.ndarray:
    """Values of shape (n_sim, processes, values)."""
    sigma = np.asarray(sigma, dtype=float).reshape(-1, 1, 1)
    u_p = rng.standard_normal((n_sim, processes, 1))
    u_v = rng.standard_normal((n_sim, processes, values))
    return mu * (1 + sigma * (math.sqrt(rho) * u_p + math.sqrt(1 - rho) * u_v))


_tq = np.vectorize(lambda d, c: t_quantile(float(d), c), otypes=[float])


def welch_log_ratio(pa: np.ndarray, pb: np.ndarray, na=None, nb=None, confidence: float = CONFIDENCE):
    """Vectorised stats.contrast([(a, 1), (b, -1)]) on process means of shape (S, n).

    ``na``/``nb``: how many leading processes of each row count (the precision shape), else all.
    Returns value, low, high (arrays of S).
    """
    def moments(p, n):
        if n is None:
            n = np.full(p.shape[0], p.shape[1])
        mask = np.arange(p.shape[1])[None, :] < n[:, None]
        m = (p * mask).sum(1) / n
        v = (((p - m[:, None]) ** 2) * mask).sum(1) / (n - 1)
        return m, v, n

    ma, va, na = moments(pa, na)
    mb, vb, nb = moments(pb, nb)
    ua, ub = va / (na * ma**2), vb / (nb * mb**2)
    se = np.sqrt(ua + ub)
    df = (ua + ub) ** 2 / (ua**2 / (na - 1) + ub**2 / (nb - 1))
    t = _tq(np.maximum(df, 1.0), confidence)
    r = ma / mb
    return r, r * np.exp(-t * se), r * np.exp(t * se)


def old_bootstrap_ratio(a: np.ndarray, b: np.ndarray, n_boot: int = 1000, seed: int = 1):
    """The value-level bootstrap, vectorised: values flattened and resampled as if independent."""
    rng = np.random.default_rng(seed)
    fa, fb = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    s, k = fa.shape
    ia = rng.integers(0, k, size=(n_boot, k))
    ib = rng.integers(0, fb.shape[1], size=(n_boot, fb.shape[1]))
    ra = fa[:, ia].mean(2) / fb[:, ib].mean(2)  # (S, n_boot)
    low, high = np.quantile(ra, [0.025, 0.975], axis=1)
    return fa.mean(1) / fb.mean(1), low, high


def _precision_n(p: np.ndarray, start: int, target: float = 0.02) -> np.ndarray:
    """Processes used when adding them from ``start`` until the CI half-width <= target."""
    s, cap = p.shape
    n = np.arange(1, cap + 1)
    csum, csq = np.cumsum(p, 1), np.cumsum(p**2, 1)
    mean = csum / n
    var = np.where(n > 1, (csq - n * mean**2) / np.maximum(n - 1, 1), np.inf)
    tq = np.array([t_quantile(k - 1) if k > 1 else np.inf for k in n])
    half = tq * np.sqrt(np.maximum(var, 0) / n) / mean
    ok = (half <= target) & (n >= start)
    ok[:, -1] = True  # the cap
    return ok.argmax(1) + 1


def compare(n_sim: int = 2000, true_ratio: float = 1.0, processes: int = 2, values: int = 2,
            rho: float = 0.3, noise=(0.02, 0.10), precision_cap: int | None = None,
            margin: float = MARGIN, seed: int = 7, old: bool = True) -> dict:
    """Rates over ``n_sim`` simulated comparisons a / b with true ratio ``true_ratio``.

    significant: CI leaves 1.0 out; right: significant on the true side (true_ratio != 1);
    right_margin: the three-valued verdict is the true one ("greater" above 1 + margin);
    coverage: the CI contains the true ratio.
    """
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(*noise, n_sim)
    cap = precision_cap or processes
    a = sample(rng, n_sim, cap, values, sigma, rho, true_ratio)
    b = sample(rng, n_sim, cap, values, sigma, rho, 1.0)
    pa, pb = a.mean(2), b.mean(2)
    na = nb = None
    if precision_cap:
        na, nb = _precision_n(pa, processes), _precision_n(pb, processes)
    out = {"n_sim": n_sim, "true_ratio": true_ratio, "processes": processes, "values": values,
           "precision_cap": precision_cap,
           "median_processes": float(np.median(np.r_[na, nb])) if precision_cap else processes}

    def rates(r, lo, hi):
        sig = (lo > 1) | (hi < 1)
        res = {"significant": float(sig.mean()),
               "coverage": float(((lo <= true_ratio) & (true_ratio <= hi)).mean())}
        if true_ratio != 1:
            side = (lo > 1) if true_ratio > 1 else (hi < 1)
            res["right"] = float(side.mean())
            res["right_margin"] = float(((lo > 1 + margin) if true_ratio > 1
                                         else (hi < 1 / (1 + margin))).mean())
        else:
            res["equivalent"] = float(((lo >= 1 / (1 + margin)) & (hi <= 1 + margin)).mean())
        return res

    out["new"] = rates(*welch_log_ratio(pa, pb, na, nb))
    if old:
        if precision_cap:  # the bootstrap on the same processes: keep the first n of each
            fa = np.where(np.arange(cap)[None, :, None] < na[:, None, None], a, np.nan)
            fb = np.where(np.arange(cap)[None, :, None] < nb[:, None, None], b, np.nan)
            out["old"] = rates(*_old_ragged(fa, fb))
        else:
            out["old"] = rates(*old_bootstrap_ratio(a, b))
    return out


def _old_ragged(a, b, n_boot: int = 400, seed: int = 1):
    """The old bootstrap on samples of unequal length (NaN-padded), one comparison at a time."""
    rng = np.random.default_rng(seed)
    r, lo, hi = [], [], []
    for x, y in zip(a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1), strict=True):
        x, y = x[~np.isnan(x)], y[~np.isnan(y)]
        mx = x[rng.integers(0, len(x), (n_boot, len(x)))].mean(1)
        my = y[rng.integers(0, len(y), (n_boot, len(y)))].mean(1)
        q = np.quantile(mx / my, [0.025, 0.975])
        r.append(x.mean() / y.mean())
        lo.append(q[0])
        hi.append(q[1])
    return np.array(r), np.array(lo), np.array(hi)


def verdicts(low: np.ndarray, high: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """Vectorised stats.ratio_verdict: greater / less / equivalent / inconclusive."""
    up, down = 1 + margin, 1 / (1 + margin)
    return np.select([low > up, high < down, (low >= down) & (high <= up)],
                     ["greater", "less", "equivalent"], "inconclusive")


def _true_verdicts(truth: np.ndarray, margin: float) -> np.ndarray:
    up, down = 1 + margin, 1 / (1 + margin)
    return np.select([truth > up, truth < down], ["greater", "less"], "equivalent")


def _campaign(rng, truth, sigma, processes, values, rho, margin, extend_to, stop_confidence=CONFIDENCE):
    """Verdicts (95% CIs) of one simulated campaign, and the processes per side it used: with
    ``extend_to``, rounds are added until a ``stop_confidence`` interval decides (or the cap)."""
    cap = extend_to or processes
    s = len(truth)
    a = sample(rng, s, cap, values, sigma, rho).mean(2) * truth[:, None]
    b = sample(rng, s, cap, values, sigma, rho).mean(2)
    call = np.full(s, "inconclusive", dtype=object)
    used = np.full(s, cap)
    open_ = np.ones(s, dtype=bool)
    for n in range(processes, cap + 1):  # one look per added round, as the campaign would
        nn = np.full(s, n)
        _, lo, hi = welch_log_ratio(a, b, nn, nn)
        v = verdicts(lo, hi, margin)
        decides = v if stop_confidence == CONFIDENCE else verdicts(
            *welch_log_ratio(a, b, nn, nn, stop_confidence)[1:], margin)
        stop = open_ & ((decides != "inconclusive") | (n == cap))
        call[stop], used[stop] = v[stop], n
        open_ &= ~stop
    return call.astype(str), used


def rerun_agreement(n_sim: int = 2000, processes: int = 3, values: int = 2, true_range=(0.9, 1.6),
                    rho: float = 0.3, noise=(0.02, 0.10), margin: float = MARGIN, seed: int = 11,
                    extend_to: int | None = None, stop_confidence: float = CONFIDENCE) -> dict:
    """How often two campaigns of one truth give the same three-valued verdict on a ratio a / b.

    Each comparison draws a true ratio uniformly from ``true_range`` (ratios of the size the
    headline compares, on both sides of the margin) and its noise from ``noise``; campaign 1 and
    campaign 2 each measure a and b with ``processes`` processes per side, or, with ``extend_to``,
    add processes while the verdict is inconclusive by a ``stop_confidence`` interval, up to
    ``extend_to`` (the campaign's rule for a workload's sequential reference). Returns the share of
    comparisons whose verdicts agree, the share of disagreements where one verdict is decided and the
    other inconclusive, the share of decided verdicts that are wrong (the truth is on another side of
    the margin) and of all comparisons (wrong_calls), and the mean processes per side.
    """
    rng = np.random.default_rng(seed)
    truth = rng.uniform(*true_range, n_sim)
    sigma = rng.uniform(*noise, n_sim)
    runs = [_campaign(rng, truth, sigma, processes, values, rho, margin, extend_to, stop_confidence)
            for _ in range(2)]
    (c1, n1), (c2, n2) = runs
    agree = c1 == c2
    half_decided = ~agree & ((c1 == "inconclusive") | (c2 == "inconclusive"))
    decided = c1 != "inconclusive"
    wrong = decided & (c1 != _true_verdicts(truth, margin))
    return {"n_sim": n_sim, "processes": processes, "extend_to": extend_to, "agree": float(agree.mean()),
            "decided_vs_inconclusive": float(half_decided.sum() / max((~agree).sum(), 1)),
            "wrong": float(wrong.sum() / max(decided.sum(), 1)), "wrong_calls": float(wrong.mean()),
            "decided": float(decided.mean()),
            "mean_processes": float(np.r_[n1, n2].mean())}
