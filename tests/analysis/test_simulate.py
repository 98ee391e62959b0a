"""harness.analysis.simulate: the drifting machine behind the known-truth tests, and proof that what
it hands the analysis is what the loader builds from pyperf files, so the known-truth rates are
rates of the production path."""

import numpy as np
import pytest

pytest.importorskip("pandas")

from synth import Spec, write_variant  # noqa: E402

from harness import analysis  # noqa: E402
from harness.analysis import simulate  # noqa: E402
from harness.analysis.cells import workload_cells  # noqa: E402
from harness.analysis.ratios import best_option_rows, slowdown_rows  # noqa: E402


def test_the_machine_drifts_alike_for_the_series_of_one_round():
    """Without process noise the per-round ratio of two series is the true one up to the drift
    between their two slots of a round (3 s of a 40-minute swing), and the rounds alternate order."""
    rng = np.random.default_rng(1)
    got = simulate.measure(rng, [1.2, 1.0], 200, 40, noise=(0.0, 0.0))
    assert got.shape == (200, 2, 40)
    per_round = got[:, 0, :] / got[:, 1, :]
    assert np.all(np.abs(per_round / 1.2 - 1) < 0.006)
    assert np.ptp(np.log(got[:, 1, :]), axis=1).mean() > 0.05  # the machine itself moves between rounds
    assert abs(np.exp(np.log(per_round).mean()) / 1.2 - 1) < 1e-3  # ABBA order: no side always later


def test_the_plan_looks_at_the_pilot_only_and_stays_within_5_to_30_rounds():
    assert simulate.plan_rounds(np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])) == simulate.MIN_ROUNDS
    assert simulate.plan_rounds(np.array([[1.0, 1.5, 0.7], [1.0, 1.0, 1.0]])) == simulate.MAX_ROUNDS
    mid = simulate.plan_rounds(np.array([[1.00, 1.02, 0.98], [1.0, 1.0, 1.0]]))  # sd 0.02: (4.3 * 1)^2
    assert mid == 19


def _spec(option, values, stage=""):
    return Spec("w", "cpu", option[0], option[1], [[float(v)] for v in values], stage=stage,
                run_meta=[{"ftbench_round": r + 1, "ftbench_invocation": "sim"} for r in range(len(values))],
                meta={"ftbench_stop_reason": "fixed"})


def test_the_simulated_cells_are_the_cells_the_loader_builds_from_pyperf_files(tmp_path):
    """The same simulated process means written as pyperf JSON and read by load_raw give the same
    headline slowdown, best speedup and best gain rows as the cells the simulation builds directly."""
    rng = np.random.default_rng(2)
    seq, best = ("sequential", 1), ("threads", 2)
    sweep = simulate.measure(rng, [1.3, 0.7, 1.0, 0.5], 1, 3)[0]
    confirm = simulate.measure(rng, [1.3, 0.7, 1.0, 0.5], 1, 6)[0]
    for variant, (s, b) in (("3.13t", (0, 1)), ("3.13", (2, 3))):
        specs = [_spec(seq, sweep[s]), _spec(best, sweep[b]), _spec(seq, confirm[s], "confirm"),
                 _spec(best, confirm[b], "confirm")]
        write_variant(tmp_path, "sim", variant, specs)
    cells = workload_cells(analysis.load_raw(tmp_path))
    loaded = (cells[("sim", "3.13t", "w")], cells[("sim", "3.13", "w")])
    direct = (simulate._cell("3.13t", {seq: sweep[0], best: sweep[1]}, {seq: confirm[0], best: confirm[1]}),
              simulate._cell("3.13", {seq: sweep[2], best: sweep[3]}, {seq: confirm[2], best: confirm[3]}))
    keys = ["metric", "strategy", "workers", "value", "ci_low", "ci_high", "df", "estimator", "n_processes", "note"]
    for rows in (slowdown_rows, best_option_rows):
        got = [{k: r[k] for k in keys} for r in rows(*loaded, 0.05)]
        want = [{k: r[k] for k in keys} for r in rows(*direct, 0.05)]
        assert got == want and got[0]["estimator"] == "paired" and got[0]["n_processes"] == 6


def test_the_vectorised_stopping_rule_is_the_paired_interval_at_each_look():
    """simulate.decided_at stops where harness.intervals.paired_product_interval (99%) first decides."""
    from harness.intervals import paired_product_interval, ratio_verdict

    rng = np.random.default_rng(3)
    data = simulate.measure(rng, [1.05, 1.0], 60, 12)
    got = simulate.decided_at(data[:, 0], data[:, 1])
    for (x, y), stop in zip(data, got, strict=True):
        want = next((n for n in range(3, 12) if ratio_verdict(*paired_product_interval(
            [(dict(enumerate(x[:n])), 1), (dict(enumerate(y[:n])), -1)], 0.99)[1:3]) != "inconclusive"), 12)
        assert stop == want
    assert 3 <= got.min() and (got < 12).any() and (got == 12).any()
