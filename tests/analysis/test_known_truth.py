"""Known truth on the production path: a simulated drifting machine (harness.analysis.simulate)
measures workloads in rounds, and the functions ratios_table calls estimate them.

Coverage is asserted two-sided (93-97% for a 95% interval, with n >= 1000 a miss of 3 standard
errors either way) and each tail separately (an interval too wide or too narrow, or shifted, fails);
wrong-verdict rates and power are printed (``pytest -s -m known_truth``) and bounded. Monte Carlo,
so out of the fast default (marker known_truth; CI runs them).
"""

import pytest

from harness.analysis import simulate

pytestmark = pytest.mark.known_truth
N = 2000


def _line(label, got):
    wrong = ", ".join(f"{v} {100 * x:.1f}%" for v, x in got["wrong_verdicts"].items())
    return (f"{label}: coverage {100 * got['coverage']:.1f}% (CI above the truth {100 * got['above']:.1f}%, below "
            f"{100 * got['below']:.1f}%); verdicts greater {100 * got['greater']:.1f}%, equivalent "
            f"{100 * got['equivalent']:.1f}%, less {100 * got['less']:.1f}%, inconclusive "
            f"{100 * got['inconclusive']:.1f}%; wrong: {wrong}")


def _covers(got):
    assert 0.93 <= got["coverage"] <= 0.97, got
    assert got["above"] <= 0.04 and got["below"] <= 0.04, got  # each tail near 2.5%
    assert abs(got["bias"]) < 0.003, got


@pytest.fixture(scope="module")
def headline():
    return {t: simulate.headline_slowdown(t, N) for t in simulate.TRUTHS}


@pytest.mark.parametrize("truth", simulate.TRUTHS)
def test_the_headline_slowdown_covers_its_truth_on_and_near_the_margin(headline, truth):
    got = headline[truth]
    print("\n" + _line(f"slowdown {truth:.2f}, {got['mean_rounds']:.1f} planned rounds", got))
    _covers(got)
    assert got["wrong"] <= 0.06  # at exactly the margin both "greater" and "equivalent" count as wrong
    for verdict, rate in got["wrong_verdicts"].items():
        assert rate <= 0.035, (verdict, rate)  # each one-sided error at most ~2.5%


def test_the_fewest_rounds_a_confirmation_may_plan_still_cover_on_the_margin():
    got = simulate.headline_slowdown(1.05, N, rounds=simulate.MIN_ROUNDS)
    print("\n" + _line(f"slowdown 1.05, {simulate.MIN_ROUNDS} rounds", got))
    _covers(got)
    assert max(got["wrong_verdicts"].values()) <= 0.035


def test_the_headline_slowdown_decides_a_ten_percent_slowdown(headline):
    assert headline[1.10]["greater"] >= 0.90  # power
    assert headline[1.00]["equivalent"] >= 0.80  # and a true 1.00 is shown equivalent, not just "not different"


def test_the_older_rule_measuring_until_decided_undercovers_which_the_fallback_note_says():
    """The older sets' reference: measured from 3 rounds until a 99% interval decides, reported at 95%.
    At a truth exactly on the margin it ends decided (wrongly, either way) more often than a fixed
    sample and covers less: why ratios.csv notes that such an interval ignores its stopping rule."""
    got = simulate.until_decided_slowdown(1.05, N)
    fixed = simulate.headline_slowdown(1.05, N)
    print("\n" + _line(f"until decided at 99%, truth 1.05, {got['mean_rounds']:.1f} rounds", got))
    assert got["coverage"] < 0.93 < fixed["coverage"]
    assert got["greater"] + got["equivalent"] > fixed["greater"] + fixed["equivalent"] + 0.02


def test_the_confirmed_best_option_is_unbiased_and_covers_where_the_sweep_that_chose_it_is_biased():
    """Winner's curse: ten equally fast options, the fastest of the sweep confirmed in 8 fresh rounds
    beside its sequential reference; best_speedup and gain_best estimated there cover two-sided and
    are unbiased; the same gain read off the sweep rounds that chose it is biased upward."""
    got = simulate.confirmed_best(N)
    for metric in ("best_speedup", "gain_best"):
        print("\n" + _line(f"{metric}, confirmed", got[metric]) + f"; bias {100 * got[metric]['bias']:+.2f}%")
        _covers(got[metric])
    print(f"gain of the option chosen and estimated on the same sweep rounds: bias {100 * got['naive_bias']:+.2f}%")
    assert got["naive_bias"] > 0.01
    assert got["gain_best"]["less"] >= 0.7  # power: the true 0.91 is called "less" (beyond the margin)


def test_the_sweeps_ratios_in_shared_rounds_cover_under_drift():
    """speedup, gain and the four-series speedup_ratio in 5 shared rounds of a machine whose speed
    swings +-30%: paired by round, the drift cancels and the intervals keep their 95%."""
    got = simulate.sweep_ratios(N)
    for metric, rates in got.items():
        print("\n" + _line(metric, rates))
        _covers(rates)


def test_a_tie_is_a_shown_equivalence_never_a_slower_option():
    same, slower = simulate.ties(1.00, N), simulate.ties(1.10, N)
    print(f"\ntied with the fastest, 5 rounds: truly as fast {100 * same['tied']:.1f}%, "
          f"truly 10% slower {100 * slower['tied']:.1f}%")
    assert slower["tied"] <= 0.01 and same["tied"] >= 0.3
