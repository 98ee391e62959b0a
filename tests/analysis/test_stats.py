"""harness.analysis.stats by hand: t quantiles, intervals over processes, verdicts, scaling figures."""

import math

import numpy as np
import pytest
from handmade import approx

from harness.analysis import stats


def test_t_quantile_table_and_real_df():
    assert stats.t_quantile(1) == 12.7062 and stats.t_quantile(2) == 4.3027
    assert stats.t_quantile(60) == pytest.approx(2.0003, abs=2e-4)
    assert stats.t_quantile(10_000) == pytest.approx(1.9602, abs=2e-4)
    assert 4.3027 < stats.t_quantile(1.5) < 12.7062  # Welch df are real numbers
    assert stats.t_quantile(10, 0.99) == pytest.approx(3.1693, abs=1e-3)
    assert math.isnan(stats.t_quantile(0.5))


def test_contrast_by_hand():
    a, b = [2.0, 2.2, 1.8], [1.0, 1.1]
    c = stats.contrast([(a, 1), (b, -1)])
    ma, mb = 2.0, 1.05
    ua, ub = np.var(a, ddof=1) / (3 * ma**2), np.var(b, ddof=1) / (2 * mb**2)
    se = math.sqrt(ua + ub)
    df = (ua + ub) ** 2 / (ua**2 / 2 + ub**2 / 1)
    assert c.value == pytest.approx(ma / mb)
    assert c.se == pytest.approx(se) and c.df == pytest.approx(df)
    t = stats.t_quantile(df)
    assert c.low == pytest.approx(ma / mb * math.exp(-t * se))
    assert c.high == pytest.approx(ma / mb * math.exp(t * se))


def test_one_process_gives_no_interval_and_none_gives_no_value():
    c = stats.contrast([([2.0], 1), ([1.0, 1.1], -1)])
    assert c.value == pytest.approx(2 / 1.05) and math.isnan(c.low) and c.n_min == 1
    assert stats.ratio_verdict(c.low, c.high) == "n/a"
    assert math.isnan(stats.contrast([([], 1), ([1.0, 1.0], -1)]).value)


def test_constant_samples_give_an_exact_interval():
    c = stats.contrast([([2.0, 2.0], 1), ([1.0, 1.0], -1)])
    assert (c.value, c.low, c.high) == (2.0, 2.0, 2.0)


def test_bonferroni_interval_is_wider():
    c = stats.contrast([([2.0, 2.2, 1.8, 2.1], 1), ([1.0, 1.1, 0.9], -1)])
    lo, hi = c.at(1 - 0.05 / 3)
    assert lo < c.low and hi > c.high


def test_three_valued_verdicts_with_margin():
    v = stats.ratio_verdict
    assert v(1.06, 1.2) == "greater" and v(1.01, 1.2) == "inconclusive"
    assert v(0.8, 0.94) == "less" and v(0.97, 1.03) == "equivalent"
    assert v(0.9, 1.1) == "inconclusive" and v(1.06, 1.2, margin=0.1) == "inconclusive"


def test_process_means_ignore_empty_runs():
    assert list(stats.process_means([(1.0, 3.0), (), (4.0,)])) == [2.0, 4.0]


def test_usable_cores():
    assert stats.usable_cores(4, 2) == 2 and stats.usable_cores(1, 2) == 1
    assert stats.usable_cores(4, None) == 4


def test_describe_runs_values_t_interval_over_process_means():
    # three processes with means 1, 2, 3: t(0.975, df=2) * s / sqrt(n), s = 1
    got = stats.describe_runs_values([(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)])
    half = 4.3027 * 1.0 / math.sqrt(3)
    assert got["n"] == 6 and got["n_processes"] == 3
    assert got["ci95_low"] == approx(2 - half) and got["ci95_high"] == approx(2 + half)
    assert got["precision"] == approx(half / 2)


def test_one_process_has_no_interval():
    got = stats.describe_runs_values([(0.5, 0.6, 0.7)])
    assert got["n_processes"] == 1 and math.isnan(got["ci95_low"]) and math.isnan(got["precision"])


def test_efficiency_and_karp_flatt_use_usable_cores():
    assert stats.efficiency(1.6, 2, cores=2) == approx(0.8)
    assert stats.karp_flatt(1.6, 2, cores=2) == approx(0.25)  # (1/1.6 - 1/2) / (1 - 1/2)
    # 4 threads on 2 cores, speedup 1.995: p = 2, serial fraction ~0.0025 (not 0.335 with p = 4)
    assert stats.karp_flatt(1.995, 4, cores=2) == approx((1 / 1.995 - 0.5) / 0.5)
    assert stats.efficiency(1.995, 4, cores=2) == approx(1.995 / 2)
    assert math.isnan(stats.karp_flatt(1.0, 1, cores=2))  # p = 1: undefined
    assert math.isnan(stats.efficiency(30.0, 64, cores=2, kind="io"))  # waiting, not cores
    assert math.isnan(stats.karp_flatt(30.0, 64, cores=2, kind="io"))


def test_break_even_is_the_fewest_threads_that_beat_the_baseline():
    assert stats.measured_break_even_workers({1: 3.0, 4: 1.0, 2: 1.9}, baseline_best=2.0) == 2
    assert stats.measured_break_even_workers({1: 3.0, 2: 2.5}, baseline_best=2.0) is None
