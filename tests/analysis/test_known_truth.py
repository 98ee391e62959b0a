"""Known-truth tests: simulated pyperf-shaped comparisons where the true ratio is known.

Shape: intra-process correlation 0.3, noise drawn per comparison from 2-10% (harness.analysis.
simulate). 2,000 comparisons per case. "2 x 2" (2 processes x 2 values) is the smallest shape a
campaign measures, "10 x 3" a precision-profile shape. The value-level bootstrap (values resampled as
if independent) is the reference shown to fail what the process-level method passes. Monte Carlo,
so out of the fast default (marker known_truth; CI runs them). ``pytest -s`` shows the rates.
"""

import numpy as np
import pytest

from harness.analysis import simulate
from harness.measure.config import PRECISION

N = 2000
pytestmark = pytest.mark.known_truth


def _show(label, got):
    new, old = got["new"], got.get("old", {})
    keys = [k for k in ("significant", "coverage", "right", "right_margin") if k in new]
    print(f"\n{label}: " + "; ".join(
        f"{k} old {100 * old.get(k, float('nan')):.1f}% -> new {100 * new[k]:.1f}%" for k in keys))


@pytest.fixture(scope="module")
def equal_2x2():
    return simulate.compare(n_sim=N, true_ratio=1.0, processes=2, values=2)


def test_equal_means_2x2_shape(equal_2x2):
    _show("equal means, 2 processes x 2 values", equal_2x2)
    assert equal_2x2["new"]["significant"] <= 0.06
    assert equal_2x2["new"]["coverage"] >= 0.93


def test_old_value_bootstrap_fails_the_same_check(equal_2x2):
    assert equal_2x2["old"]["significant"] > 0.15  # ~22%, against a nominal 5%
    assert equal_2x2["old"]["coverage"] < 0.85


def test_equal_means_precision_shape():
    got = simulate.compare(n_sim=N, true_ratio=1.0, processes=10, values=3)
    _show("equal means, 10 processes x 3 values", got)
    assert got["new"]["significant"] <= 0.06 and got["new"]["coverage"] >= 0.93
    assert got["old"]["significant"] > 0.10


def test_true_ten_percent_difference_precision_shape():
    got = simulate.compare(n_sim=N, true_ratio=1.1, processes=10, values=3)
    _show("true ratio 1.10, 10 processes x 3 values", got)
    assert got["new"]["right"] >= 0.90
    assert got["new"]["coverage"] >= 0.93
    assert got["old"]["coverage"] < 0.88


def test_true_ten_percent_difference_2x2_shape_is_mostly_inconclusive():
    """At 2 x 2 no honest method finds a 10% difference in up to 10% noise: the process-level one says
    "not significant" rather than guessing, and it is never wrong in direction."""
    got = simulate.compare(n_sim=N, true_ratio=1.1, processes=2, values=2)
    _show("true ratio 1.10, 2 processes x 2 values", got)
    new = got["new"]
    assert new["coverage"] >= 0.93
    assert new["significant"] <= 0.25  # mostly inconclusive
    assert new["right"] == new["significant"]  # every significant call is on the true side
    assert got["old"]["significant"] > 0.5 and got["old"]["coverage"] < 0.85  # the bootstrap guesses


def test_stopping_on_the_estimated_precision_undercovers():
    """Documented for the precision-target profile: adding processes until the *estimated*
    half-width <= 2% stops early exactly when the spread is underestimated, so intervals of the
    stopped samples cover less than 95% (a reason for a floor of several processes)."""
    got = simulate.compare(n_sim=1000, true_ratio=1.0, processes=3, values=2, precision_cap=20,
                           old=False)
    _show("equal means, precision target 2% from 3 processes, cap 20", got)
    assert 0.80 < got["new"]["coverage"] < 0.95


def test_the_verdicts_of_two_reruns_of_one_truth_agree_more_with_more_processes():
    """What a rerun can agree on: two campaigns of the same truths (ratios 0.9-1.6; process means
    1-4% noisy, as a default campaign's are) agree on the three-valued verdict more often with
    more processes per side, never 100%: a truth near the margin is decided in one run and
    inconclusive in the other, hardly ever contradicted. A fixed 95% agreement costs about 15."""
    got = {n: simulate.rerun_agreement(n_sim=4000, processes=n, noise=(0.01, 0.04)) for n in (3, 6, 15, 30)}
    print("\nrerun agreement, noise 1-4%: " + ", ".join(f"{n} processes {g['agree']:.1%}" for n, g in got.items()))
    agree = [g["agree"] for g in got.values()]
    assert agree == sorted(agree) and agree[0] < agree[1]
    assert agree[0] < 0.92 and agree[2] >= 0.95 and agree[3] < 0.99
    # almost every disagreement is decided vs inconclusive, not greater vs less or equivalent
    assert all(g["decided_vs_inconclusive"] >= 0.9 for g in got.values())


def test_measuring_the_reference_until_decided_agrees_as_often_as_15_processes_at_a_third_of_the_cost():
    """The campaign's rule for a workload's sequential reference (campaign.ratios_decided):
    from 3 processes, add rounds while the 99% interval leaves the verdict inconclusive, up to 15."""
    kw = dict(n_sim=4000, noise=(0.01, 0.04), processes=3, extend_to=15)
    rule = simulate.rerun_agreement(**kw, stop_confidence=0.99)
    fixed = simulate.rerun_agreement(n_sim=4000, noise=(0.01, 0.04), processes=15)
    print(f"\nuntil decided: agreement {rule['agree']:.1%} at {rule['mean_processes']:.1f} processes per side; "
          f"fixed 15: {fixed['agree']:.1%}")
    assert rule["agree"] >= 0.945 and rule["mean_processes"] <= 6.0
    assert rule["wrong"] <= 0.01  # a decided verdict is hardly ever on the wrong side of the margin


def test_a_cap_of_30_for_the_reference_agrees_more_than_15_for_one_more_process_per_side():
    """The default cap (config.PRECISION["default"].reference_max_processes): with a cap of 15 a
    reference near the margin stops undecided in one run and decided in the other more often."""
    kw = dict(n_sim=4000, noise=(0.01, 0.04), processes=3, stop_confidence=0.99)
    at15, at30 = (simulate.rerun_agreement(**kw, extend_to=n) for n in (15, 30))
    print(f"\nuntil decided, cap 15: {at15['agree']:.1%} at {at15['mean_processes']:.1f} processes; "
          f"cap 30: {at30['agree']:.1%} at {at30['mean_processes']:.1f}")
    assert at30["agree"] >= at15["agree"] + 0.01 and at30["agree"] >= 0.96
    assert at30["mean_processes"] <= at15["mean_processes"] + 1.5 and at30["wrong"] <= 0.01
    assert PRECISION["default"].reference_max_processes == 30


def test_deciding_on_a_99_percent_interval_keeps_the_error_at_the_margin_near_nominal():
    """Optional stopping: stopping at the first look whose 95% interval decides calls a truth that
    sits exactly on the margin (1.05) "greater" about 8% of the time; deciding on a 99% interval
    (the verdict still reported at 95%) keeps it near the 2.5% a fixed sample has."""
    edge = dict(n_sim=4000, noise=(0.01, 0.04), true_range=(1.05, 1.05), processes=3, extend_to=15)
    at95 = simulate.rerun_agreement(**edge)
    at99 = simulate.rerun_agreement(**edge, stop_confidence=0.99)
    fixed = simulate.rerun_agreement(**{**edge, "extend_to": None, "processes": 6})
    print(f"\ntruth on the margin, wrong calls: stop at 95% {at95['wrong_calls']:.1%}, at 99% "
          f"{at99['wrong_calls']:.1%}, fixed 6 processes {fixed['wrong_calls']:.1%}")
    assert at95["wrong_calls"] > 0.06 and at99["wrong_calls"] <= 0.05


def _best_gain(rng, confirm: int, noise: float = 0.03, options: int = 10, sweep: int = 3):
    """One simulated workload through the analysis's own ``best_option``: the baseline has one best
    option (0.5 s); the variant's ``options`` options are all truly 0.55 s (true gain 0.5/0.55).
    Process means are log-normal with ``noise``; the confirmation stage measures each chosen
    option again in ``confirm`` fresh processes."""
    from harness.analysis.cells import WorkloadCell
    from harness.analysis.selection import best_option

    def pm(t, n):
        return t * np.exp(rng.normal(0.0, noise, n))

    def cell(variant, times):
        truth = {("sequential", 1): 1.0, **{("threads", w): t for w, t in enumerate(times, 1)}}
        c = WorkloadCell("h", variant, "w", "cpu", 2, {k: pm(t, sweep) for k, t in truth.items()}, {})
        best = min(c.options, key=lambda k: (c.options[k].mean(), k[1]))  # as the campaign chooses
        c.confirm = {best: pm(truth[best], confirm)}
        return c

    base = cell("3.13", [0.5] + [0.8] * (options - 1))
    best = best_option(cell("3.13t", [0.55] * options), base, 0.05)
    gain = next(e for e in best.estimates if e.metric == "gain_best")
    return {"value": gain.contrast.value, "ci_low": gain.contrast.low, "ci_high": gain.contrast.high,
            "n_processes": best.n_processes, "selection": gain.selection}


def test_the_confirmed_best_gain_is_unbiased_and_covers_where_choosing_on_the_same_processes_would_not():
    """Winner's curse, known truth: ten equally fast options, the fastest of their noisy sweep
    means is chosen. Estimated on the fresh confirmation processes the gain's 95% CI covers the
    truth >= 93% of the time with no bias; estimated on the sweep processes that chose it, the
    same gain is biased upward."""
    rng = np.random.default_rng(20261126)
    truth = 0.5 / 0.55
    confirmed = [_best_gain(rng, confirm=5) for _ in range(N)]
    cover = np.mean([r["ci_low"] <= truth <= r["ci_high"] for r in confirmed])
    bias = np.exp(np.mean([np.log(r["value"] / truth) for r in confirmed])) - 1
    naive = np.exp(np.mean([np.log(0.5 / min((0.55 * np.exp(rng.normal(0.0, 0.03, 3))).mean() for _ in range(10))
                                   / truth) for _ in range(N)])) - 1
    print(f"\nbest gain, 10 tied options: confirmed on 5 fresh processes: coverage {cover:.1%}, "
          f"bias {bias:+.2%}; chosen and estimated on the same 3 processes: bias {naive:+.2%}")
    assert cover >= 0.93 and abs(bias) < 0.005
    assert all(r["n_processes"] == 5 and "confirmation" in r["selection"] for r in confirmed)
    assert naive > 0.02  # the curse the confirmation stage removes
