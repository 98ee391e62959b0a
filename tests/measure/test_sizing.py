"""harness.measure.sizing: the confirmation's rounds, fixed before the stage from the sweep's data.

Each rule against a hand computation: the paired interval the plan is sized for, the distance to
the margin, the rounds a spread needs, and the bounds (minimum, cap, budget) with their reasons.
"""

from __future__ import annotations

import math

import pytest

from harness import intervals
from harness.measure import sizing


def _series(values, invocation="i"):
    return {(invocation, r): x for r, x in enumerate(values, 1)}


def test_one_paired_interval_by_hand():
    """x = 1.0 1.1 1.05 0.98, y = 1.2 1.25 1.22 1.19: means 1.0325 and 1.215, ratio 0.849794;
    d_r = x_r / 1.0325 - y_r / 1.215 = -0.019131 0.036569 0.012834 -0.030271, sd 0.030465,
    se = 0.030465 / 2 = 0.015232; t(0.975, 3) = 3.1824: 0.849794 * exp(-+3.1824 * 0.015232)."""
    value, low, high, se = intervals.paired_ratio_interval(_series([1.0, 1.1, 1.05, 0.98]),
                                                           _series([1.2, 1.25, 1.22, 1.19]))
    assert value == pytest.approx(0.849794, abs=1e-6)
    assert se == pytest.approx(0.015232, abs=1e-6)
    assert (low, high) == pytest.approx((0.809582, 0.892004), abs=1e-6)
    # rounds pair by (invocation, round): the same round number of another campaign call is not a pair
    assert math.isnan(intervals.paired_ratio_interval(_series([1.0, 1.1]), _series([1.2, 1.3], "j"))[1])


def test_the_distance_to_the_margin_is_to_the_nearer_edge_on_the_log_scale():
    edge = math.log(1.05)
    assert sizing.margin_distance(1.05) == pytest.approx(0.0, abs=1e-12)
    assert sizing.margin_distance(1 / 1.05) == pytest.approx(0.0, abs=1e-12)
    assert sizing.margin_distance(1.0) == pytest.approx(edge)  # inside: the interval must end inside the band
    assert sizing.margin_distance(1.20) == pytest.approx(math.log(1.20) - edge)
    assert sizing.margin_distance(1 / 1.20) == pytest.approx(math.log(1.20) - edge)  # symmetric


def test_the_rounds_a_spread_needs_are_the_fewest_whose_t_half_width_fits():
    for spread, h in ((0.03, 0.1068), (0.0476, 0.01), (0.08, 0.037), (0.02, 0.02)):
        n = sizing.rounds_for(spread, h)
        assert intervals.t_quantile(n - 1) * spread / math.sqrt(n) <= h
        assert n == 2 or intervals.t_quantile(n - 2) * spread / math.sqrt(n - 1) > h
    assert sizing.rounds_for(0.03, 0.1068) == 3  # t(2) = 4.3027: 4.3027 * 0.03 / sqrt(3) = 0.0745
    assert sizing.rounds_for(0.0, 0.01) == 2


def test_a_need_comes_from_the_paired_spread_and_the_distance():
    far = sizing.need("r", _series([1.20, 1.26, 1.14]), _series([1.0, 1.0, 1.0]), unknown=30)
    assert far.value == pytest.approx(1.20)
    assert far.spread == pytest.approx(0.05)  # d = 0 +0.05 -0.05: sd 0.05
    assert far.rounds == sizing.rounds_for(0.05, 0.8 * (math.log(1.2) - math.log(1.05)))
    edge = sizing.need("r", _series([1.05, 1.1025, 0.9975]), _series([1.0, 1.0, 1.0]), unknown=30)
    assert edge.distance == pytest.approx(0.0, abs=1e-12)
    assert edge.rounds == sizing.rounds_for(edge.spread, sizing.H_MIN)  # on the edge: the floor of 1%
    lone = sizing.need("r", _series([1.2]), _series([1.0]), unknown=30)
    assert math.isnan(lone.spread) and lone.rounds == 30
    assert sizing.need("r", {}, _series([1.0]), unknown=30) is None


def _need(rounds, name="slowdown 3.13t/3.13", spread=0.031, value=1.03):
    return sizing.Need(name, value, spread, sizing.margin_distance(value), rounds)


def test_the_plan_takes_the_largest_need_within_the_minimum_and_the_cap():
    p = sizing.plan([_need(3, "gain"), _need(9)], cap=30, budget=0, round_seconds=0)
    assert p.rounds == 9 and p.reason.startswith("the sweep's 3.1% round-to-round spread of slowdown 3.13t/3.13 "
                                                 "(at 1.030, 1.9% from the margin's edge)")  # ln 1.05 - ln 1.03
    assert math.isinf(p.limit)
    low = sizing.plan([_need(2)], cap=30, budget=0, round_seconds=0)
    assert low.rounds == 5 and "it needs 2, raised to the minimum of 5" in low.reason
    high = sizing.plan([_need(80)], cap=30, budget=0, round_seconds=0)
    assert high.rounds == 30 and "it needs 80, capped at 30" in high.reason
    assert sizing.plan([], cap=30, budget=0, round_seconds=0).rounds == 30


def test_the_plan_fits_the_budget_but_never_goes_below_the_minimum():
    p = sizing.plan([_need(30)], cap=30, budget=240.0, round_seconds=10.0)
    assert p.rounds == 24 and "24 round(s) fit the 240 s budget at 10.0 s a round" in p.reason
    assert p.limit == sizing.HARD_LIMIT * 240.0
    slow = sizing.plan([_need(30)], cap=30, budget=240.0, round_seconds=100.0)
    assert slow.rounds == 5 and "the minimum of 5 taken anyway" in slow.reason
    assert slow.limit == sizing.HARD_LIMIT * 500.0  # the hard limit follows what the plan takes
    assert sizing.plan([_need(7)], cap=30, budget=240.0, round_seconds=10.0).rounds == 7
