"""harness.analysis.simulate against the analysis's own code: its vectorised methods are the scalar
ones, so the known-truth rates it reports (tests/analysis/test_known_truth.py, REPORT.md) are rates of
the methods the analysis runs."""

import numpy as np
import pytest

from harness.analysis import simulate, stats


def old_value_bootstrap(num, den, n_boot=2000, seed=20250701):
    """The value-level bootstrap written plainly, one comparison at a time: values flattened,
    resampled as if independent, percentile CI."""
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    rng = np.random.default_rng(seed)
    ma = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
    mb = b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1)
    low, high = np.quantile(ma / mb, [0.025, 0.975])
    return float(a.mean() / b.mean()), float(low), float(high)


def test_old_reference_function_agrees_with_the_vectorised_one():
    """The simulation's vectorised value-level bootstrap is the plain one."""
    rng = np.random.default_rng(3)
    a = simulate.sample(rng, 5, 2, 2, 0.05)
    b = simulate.sample(rng, 5, 2, 2, 0.05)
    r, lo, hi = simulate.old_bootstrap_ratio(a, b, n_boot=4000)
    for i in range(5):
        r1, lo1, hi1 = old_value_bootstrap(a[i].ravel(), b[i].ravel(), n_boot=4000)
        assert r1 == pytest.approx(r[i])
        assert lo1 == pytest.approx(lo[i], abs=0.01) and hi1 == pytest.approx(hi[i], abs=0.01)


def test_vectorised_welch_is_stats_contrast():
    rng = np.random.default_rng(4)
    pa = simulate.sample(rng, 4, 3, 2, 0.05).mean(2)
    pb = simulate.sample(rng, 4, 5, 2, 0.05).mean(2)
    r, lo, hi = simulate.welch_log_ratio(pa, pb)
    for i in range(4):
        c = stats.contrast([(pa[i], 1), (pb[i], -1)])
        assert (c.value, c.low, c.high) == pytest.approx((r[i], lo[i], hi[i]), rel=1e-3)


def test_vectorised_verdicts_are_the_scalar_ones():
    lows = np.array([1.06, 0.5, 0.97, 0.99, np.nan])
    highs = np.array([1.2, 0.9, 1.04, 1.1, np.nan])
    want = [stats.ratio_verdict(lo, hi) for lo, hi in zip(lows[:4], highs[:4], strict=True)]
    assert list(simulate.verdicts(lows[:4], highs[:4])) == want == ["greater", "less", "equivalent", "inconclusive"]
