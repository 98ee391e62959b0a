"""harness.analysis.ratios and selection: every ratio in long form, and the best option chosen on
one sample and estimated on another."""

import pytest

pd = pytest.importorskip("pandas")

from handmade import approx, write_hand  # noqa: E402
from synth import Spec, write_variant  # noqa: E402

from harness import analysis  # noqa: E402


@pytest.fixture
def hand(tmp_path):
    """Raw results whose ratios are computed by hand (handmade.write_hand)."""
    return write_hand(tmp_path)


def test_ratios_are_long_one_row_each(hand):
    r = analysis.ratios_table(analysis.load_raw(hand))
    assert list(r.columns) == list(analysis.RATIO_COLUMNS)
    assert not r.duplicated(["host", "workload", "variant", "metric", "strategy", "workers"]).any()
    one = r[(r["variant"] == "3.13t") & (r["metric"] == "speedup") & (r["strategy"] == "threads")
            & (r["workers"] == 4)].iloc[0]
    assert one["value"] == approx(3.0) and one["baseline"] == "3.13t sequential x1"
    assert one["verdict"] == "greater" and one["n_processes"] == 2
    assert set(r["metric"]) >= {"speedup", "gain", "slowdown", "speedup_ratio", "gain_best",
                                "best_speedup", "speedup_vs_baseline"}


def test_a_confirmed_best_option_is_estimated_on_its_confirmation_processes_alone(tmp_path):
    """The campaign's confirmation stage: the best option chosen on the sweep is measured again;
    a lucky sweep (winner's curse) must not reach the gain, the fresh processes must."""
    def specs(seq, best, confirm, other):
        return [Spec("cpu_sum_squares", "cpu", "sequential", 1, [[seq]] * 3),
                Spec("cpu_sum_squares", "cpu", "threads", 2, [[best], [best * 1.01], [best * 0.99]]),
                Spec("cpu_sum_squares", "cpu", "processes", 2, [[other]] * 3),
                Spec("cpu_sum_squares", "cpu", "threads", 2,
                     [[confirm], [confirm * 1.01], [confirm * 0.99], [confirm]], stage="confirm")]

    write_variant(tmp_path, "h", "3.13", [
        Spec("cpu_sum_squares", "cpu", "sequential", 1, [[1.0]] * 3),
        Spec("cpu_sum_squares", "cpu", "threads", 2, [[1.0]] * 3),
        Spec("cpu_sum_squares", "cpu", "processes", 2, [[0.5], [0.505], [0.495]]),
        Spec("cpu_sum_squares", "cpu", "processes", 2, [[0.5], [0.505], [0.495], [0.5]], stage="confirm")])
    write_variant(tmp_path, "h", "3.13t", specs(1.2, 0.40, 0.55, 0.7))  # chosen on a lucky 0.40
    raw = analysis.load_raw(tmp_path)
    assert sorted(raw["stage"]) == ["confirm", "confirm"] + ["sweep"] * 6
    r = analysis.ratios_table(raw)
    gain = r[(r["variant"] == "3.13t") & (r["metric"] == "gain_best")].iloc[0]
    assert gain["value"] == approx(0.5 / 0.55, rel=1e-6) and gain["verdict"] == "less"
    assert (gain["strategy"], gain["workers"], gain["baseline"]) == ("threads", 2, "3.13 processes x2")
    assert gain["n_processes"] == 4 and gain["n_processes_baseline"] == 4
    assert "4 fresh confirmation processes" in gain["selection"]
    best = r[(r["variant"] == "3.13t") & (r["metric"] == "best_speedup")].iloc[0]
    assert best["value"] == approx(1.2 / 0.55, rel=1e-6)  # all 3 sweep sequential processes / the fresh ones
    s = analysis.summary_table(raw, r)
    row = s[s["variant"] == "3.13t"].iloc[0]
    assert row["best_time"] == approx(0.55, rel=1e-6) and row["n_ok"] == 3  # planned benchmarks only
    assert len(analysis.benchmarks_table(raw)) == 6  # the confirmations are no planned benchmarks
