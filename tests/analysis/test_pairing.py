"""harness.intervals.paired_product_interval and harness.analysis.pairing: one estimator per ratio,
paired by (invocation, round) where the benchmarks shared rounds, Welch with a written reason where
they did not. Expected numbers are worked out here from the formula, never by calling the function
under test a second time."""

import math

import numpy as np
import pytest

from harness.analysis.pairing import LEGACY, estimate, series
from harness.intervals import paired_product_interval, paired_ratio_interval

T2, T3 = 4.3027, 3.1824  # Student's t, 97.5%, 2 and 3 degrees of freedom


def test_a_paired_ratio_by_hand():
    """x = 1.0, 1.2, 1.1 and y = 0.5, 0.55, 0.6 in rounds 1-3: m_x = 1.1, m_y = 0.55, value 2.0;
    d_r = x_r / 1.1 - y_r / 0.55 = 0, 1/11, -1/11; sd(d) = 1/11; se = 1/(11 sqrt 3); t(2) = 4.3027."""
    value, low, high, se, n = paired_product_interval([({1: 1.0, 2: 1.2, 3: 1.1}, 1), ({1: 0.5, 2: 0.55, 3: 0.6}, -1)])
    want_se = 1 / (11 * math.sqrt(3))
    assert (value, n) == (pytest.approx(2.0), 3) and se == pytest.approx(want_se)
    assert low == pytest.approx(2.0 * math.exp(-T2 * want_se)) and high == pytest.approx(2.0 * math.exp(T2 * want_se))
    assert (low, high) == pytest.approx((1.5957, 2.5067), abs=1e-4)  # 2 exp(-+0.22583)
    assert paired_ratio_interval({1: 1.0, 2: 1.2, 3: 1.1}, {1: 0.5, 2: 0.55, 3: 0.6})[:3] == pytest.approx(
        (value, low, high))


def test_a_ratio_of_two_speedups_is_one_paired_product_by_hand():
    """(a / b) / (c / e) over 4 rounds: value = (m_a m_e) / (m_b m_c), d_r = a_r/m_a - b_r/m_b - c_r/m_c + e_r/m_e.
    a = 2, 2.2, 1.8, 2 (m 2); b = 1, 1, 1, 1 (m 1); c = 1, 1.1, 0.9, 1 (m 1); e = 0.5, 0.5, 0.5, 0.5 (m 0.5):
    value = (2 * 0.5) / (1 * 1) = 1.0; d = 0, 0, 0, 0 + (0 - 0) ... a and c move together, so d = 0: the
    shared swing of a and c (the same round's drift on both speedups) cancels exactly."""
    a, b, c, e = ({r + 1: v for r, v in enumerate(x)} for x in
                  ((2, 2.2, 1.8, 2), (1, 1, 1, 1), (1, 1.1, 0.9, 1), (0.5, 0.5, 0.5, 0.5)))
    value, low, high, se, n = paired_product_interval([(a, 1), (b, -1), (c, -1), (e, 1)])
    assert (value, low, high, se, n) == pytest.approx((1.0, 1.0, 1.0, 0.0, 4))
    # b now wanders: d_r = -(b_r - 1) = 0.1, -0.1, 0.05, -0.05 -> sd = sqrt(0.025 / 3), se = sd / 2, t(3) = 3.1824
    b = {1: 0.9, 2: 1.1, 3: 0.95, 4: 1.05}
    value, low, high, se, n = paired_product_interval([(a, 1), (b, -1), (c, -1), (e, 1)])
    want_se = math.sqrt(0.025 / 3) / 2
    assert value == pytest.approx(1.0) and se == pytest.approx(want_se)
    assert (low, high) == pytest.approx((math.exp(-T3 * want_se), math.exp(T3 * want_se)))


def test_fewer_than_two_common_rounds_give_a_value_without_an_interval():
    value, low, high, se, n = paired_product_interval([({1: 2.0, 2: 2.0}, 1), ({2: 1.0, 3: 1.0}, -1)])
    assert value == 2.0 and n == 1 and all(math.isnan(x) for x in (low, high, se))


def _series(label, means, rounds=None, invocation="i1", stage="sweep", dates=None, flagged=()):
    rounds = rounds or list(range(1, len(means) + 1))
    return series(label, [(m,) for m in means], rounds, [invocation] * len(means), dates, stage, flagged)


def test_an_estimate_paired_by_round_cancels_a_drift_welch_counts_as_noise():
    drift = [1.0, 1.3, 0.8, 1.1, 0.9]
    a = _series("3.13t sequential x1", [1.2 * s for s in drift])
    b = _series("3.13 sequential x1", [1.0 * s for s in drift])
    paired = estimate([(a, 1), (b, -1)])
    assert paired.paired and paired.rounds == 5 and paired.estimator == "paired" and paired.note == ""
    assert (paired.contrast.value, paired.contrast.low, paired.contrast.high) == pytest.approx((1.2, 1.2, 1.2))
    assert paired.contrast.df == 4
    apart = estimate([(a, 1), (_series("3.13 sequential x1", [1.0 * s for s in drift], invocation="i2"), -1)])
    assert not apart.paired and apart.estimator == "welch"
    assert "different invocations (i1; i2)" in apart.note and apart.contrast.high / apart.contrast.low > 1.3


def test_the_sweep_and_the_confirmation_are_not_paired_round_by_round():
    sweep = _series("3.13 sequential x1", [1.0, 1.0, 1.0])
    confirm = _series("3.13 threads x2", [0.5, 0.5, 0.5], stage="confirm")
    got = estimate([(sweep, 1), (confirm, -1)])
    assert not got.paired and "different stages (sweep, confirmation)" in got.note


def test_a_flagged_round_is_left_out_of_the_pairing_and_said_so():
    a = _series("A", [1.0, 1.1, 1.2, 1.0], rounds=[1, 2, 4, 5], flagged=[("i1", 3)])
    b = _series("B", [0.5, 0.5, 0.5, 0.5, 0.5])
    got = estimate([(a, 1), (b, -1)])
    assert got.paired and got.rounds == 4 and "round(s) 3 left out" in got.note


def test_one_common_round_falls_back_to_welch_with_the_reason():
    got = estimate([(_series("A", [1.0, 1.1], rounds=[1, 2]), 1), (_series("B", [0.5, 0.6], rounds=[2, 3]), -1)])
    assert not got.paired and "1 round(s) shared by A and B: fewer than 2 to pair" in got.note


def _dates(minutes):
    return [f"2025-07-01 10:{m:02d}:00" for m in minutes]


def test_older_sets_pair_only_rounds_that_ran_together():
    """Without invocations (older sets) the rounds of two benchmarks are paired only if each common
    round ran before the next began: rounds numbered per benchmark (one benchmark after the other)
    are minutes apart, rounds shared by the workload are not."""
    seq = series("3.13 sequential x1", [(1.0,), (1.1,), (0.9,)], [1, 2, 3], None, _dates([0, 1, 2]))
    later = series("3.13 threads x2", [(0.5,), (0.55,), (0.45,)], [1, 2, 3], None, _dates([3, 4, 5]))
    shared = series("3.13 threads x2", [(0.5,), (0.55,), (0.45,)], [1, 2, 3], None, _dates([0, 1, 2]))
    assert seq.legacy and seq.keys[0] == (LEGACY, "sweep", 1)
    apart = estimate([(seq, 1), (later, -1)])
    assert not apart.paired and "ran in rounds of their own" in apart.note
    together = estimate([(seq, 1), (shared, -1)])
    assert together.paired and together.contrast.value == pytest.approx(2.0) and together.contrast.low == 2.0
    undated = series("3.13 threads x2", [(0.5,), (0.55,), (0.45,)], [1, 2, 3])
    assert not estimate([(seq, 1), (undated, -1)]).paired  # cannot be shown to be shared


def test_a_series_without_rounds_is_estimated_by_welch_on_its_processes():
    a = series("A", [(1.0,), (1.2,)])
    b = series("B", [(0.5,), (0.5,)])
    got = estimate([(a, 1), (b, -1)])
    # Welch on logs: se^2 = var(1.0, 1.2) / (2 * 1.1^2) = 0.02 / 2.42, df = 1 (t = 12.7062)
    se = math.sqrt(0.02 / 2.42)
    assert not got.paired and "rounds not recorded" in got.note
    assert (got.contrast.value, got.contrast.low) == pytest.approx((2.2, 2.2 * math.exp(-12.7062 * se)))


def test_a_half_of_a_series_keeps_its_rounds():
    s = _series("A", list(np.arange(1.0, 1.6, 0.1)))
    half = s.subset([0, 2, 4])
    assert list(half.rounds) == [("i1", "sweep", 1), ("i1", "sweep", 3), ("i1", "sweep", 5)]
    assert half.mean() == pytest.approx(1.2)
