"""harness.analysis.canary: the speed canary's adjustment, its decision, and its known truth.

The known-truth tests simulate a machine whose speed changes from process to process and within a
process (tests/analysis/canary_sim.py) and estimate every simulated campaign with the production
functions: adjusted, the intervals are narrower and still cover the truth; a canary that does not
track the drift is left out and coverage stays as it was. Run with ``pytest -s`` to see the rates.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import canary_sim  # noqa: E402
from synth import Spec, write_variant  # noqa: E402

from harness import metadata  # noqa: E402
from harness.analysis import canary, pipeline  # noqa: E402


def _data(rng, tracking: float, n_series: int = 4, per: int = 10):
    series = np.repeat(np.arange(n_series), per)
    machine = rng.normal(0, 0.1, len(series))
    y = np.log(1 + series) + machine + rng.normal(0, 0.02, len(series))
    c = np.log(0.004) + tracking * machine + rng.normal(0, 0.02, len(series))
    return y, c, series


def test_a_tracking_canary_is_fitted_within_series():
    y, c, series = _data(np.random.default_rng(1), 1.0)
    f = canary.fit(y, c, series)
    assert f.tracks and f.slope == pytest.approx(1.0, abs=0.1) and f.r > 0.9
    assert f.explained == pytest.approx(f.r ** 2) and (f.processes, f.series, f.df) == (40, 4, 35)
    assert canary.decide(f) == (True, f"adjusted: on the workload's other benchmarks tracks (r = {f.r:.2f}, "
                                      f"t = {f.t:.1f})")


def test_a_canary_that_does_not_track_is_left_out():
    f = canary.fit(*_data(np.random.default_rng(2), 0.0))
    assert not f.tracks and abs(f.r) < 0.4 and "does not track" in f.reason
    assert not canary.decide(f)[0] and not canary.decide(None)[0]


def test_too_few_processes_leave_the_times_unadjusted():
    y, c, series = _data(np.random.default_rng(3), 1.0, n_series=4, per=3)  # 12 processes, 4 series: 7 df
    f = canary.fit(y, c, series)
    assert not f.tracks and f.df == 7 and "fewer than 8" in f.reason
    assert not canary.fit(y[:4], c[:4], series[:4]).tracks


def test_the_series_means_do_not_move_the_slope():
    rng = np.random.default_rng(4)
    y, c, series = _data(rng, 0.0)
    c = c + 0.5 * series  # canary means that differ by series as the times do: no process-level tracking
    assert not canary.fit(y, c, series).tracks


def test_the_adjustment_is_centred_on_each_variants_round():
    rng = np.random.default_rng(5)
    y = rng.normal(0, 0.1, 8)
    c = np.r_[np.full(4, -5.5), np.full(4, -5.7)] + rng.normal(0, 0.05, 8)  # B's build: a faster canary
    groups = [("A", 1), ("A", 1), ("A", 2), ("A", 2), ("B", 1), ("B", 1), ("B", 2), ("B", 2)]
    centre = canary.centres(c, groups)
    adjusted = canary.adjust(y, c, centre, 0.8)
    for g in set(groups):  # neither a variant's canary cost nor a round's machine moves its mean
        idx = [i for i, x in enumerate(groups) if x == g]
        assert adjusted[idx].mean() == pytest.approx(y[idx].mean())
    assert adjusted[0] == pytest.approx(y[0] - 0.8 * (c[0] - c[:2].mean()))
    alone = canary.adjust(y[:1], c[:1], canary.centres(c[:1], [("A", 3)]), 0.8)  # alone in its round
    assert alone[0] == y[0]


def test_paired_by_round_the_adjusted_ratio_equals_the_workload_centred_one():
    """Balanced rounds: centring on the variant's round moves each paired ratio exactly as centring on
    the variant's whole workload would; only its interval differs (the round's part stays in it)."""
    procs = canary_sim.campaign(np.random.default_rng(6), 6, 1.0, options=4)
    y = np.log([float(np.mean(p["values"])) for p in procs])
    c = np.log([p["canary"] for p in procs])
    by_round = canary.adjust(y, c, canary.centres(c, [(p["variant"], p["round"]) for p in procs]), 1.0)
    by_variant = canary.adjust(y, c, canary.centres(c, [p["variant"] for p in procs]), 1.0)
    for num, den, _ in canary_sim.RATIOS.values():
        def log_ratio(adj, num=num, den=den):
            return (np.mean([a for a, p in zip(adj, procs, strict=True) if (p["variant"], p["option"]) == num])
                    - np.mean([a for a, p in zip(adj, procs, strict=True) if (p["variant"], p["option"]) == den]))
        assert log_ratio(by_round) == pytest.approx(log_ratio(by_variant))


# --- the raw table through the pipeline ------------------------------------------------------------------

OPTIONS = {"seq": ("sequential", 1), "thr": ("threads", 2), "o3": ("processes", 2)}
VARIANTS = {"A": "3.13", "B": "3.13t", "C": "3.13t-gil"}


def _write_campaign(root: Path, procs: list[dict], with_canary: bool = True) -> None:
    """The simulated processes as pyperf files of one host, rounds and canaries in each run's metadata."""
    by: dict = {}
    for p in procs:
        by.setdefault((p["variant"], p["option"]), []).append(p)
    for v, name in VARIANTS.items():
        specs = []
        for option, (strategy, workers) in OPTIONS.items():
            runs = by[(v, option)]
            meta = []
            for p in runs:
                m = {}
                metadata.put(m, "round", p["round"])
                if with_canary:
                    metadata.put(m, "canary_seconds", p["canary"])
                meta.append(m)
            specs.append(Spec("cpu_sum_squares", "cpu", strategy, workers, [list(p["values"]) for p in runs],
                              run_meta=meta))
        write_variant(root, "sim", name, specs)


def test_the_pipeline_adjusts_the_benchmarks_the_canary_tracks_and_says_so(tmp_path):
    procs = canary_sim.campaign(np.random.default_rng(7), 12, 1.0, options=3)
    _write_campaign(tmp_path / "raw", procs)
    res = pipeline.analyse(tmp_path / "raw")
    fits = res.canary.set_index("strategy")
    assert list(res.canary["workers"]) == [1, 2, 2] and fits["used"].all() and (fits["processes"] == 36).all()
    assert (res.canary["r_others"] > 0.9).all() and res.canary["reason"].str.startswith("adjusted: on the").all()
    slow = res.ratios[res.ratios["metric"] == "slowdown"].iloc[0]
    assert "canary-adjusted (sequential x1 r = " in slow["note"] and "; unadjusted " in slow["note"]
    # the same estimate as the simulation's production functions on the same processes
    raw, reported, sim_fits = canary_sim.estimate(procs)
    assert sim_fits["seq"][0].slope == pytest.approx(fits.loc["sequential", "slope"])
    assert (slow["value"], slow["ci_low"], slow["ci_high"]) == pytest.approx(tuple(reported["slowdown"][:3]))
    assert slow["ci_high"] / slow["ci_low"] < raw["slowdown"].high / raw["slowdown"].low
    text = "\n".join(canary.section_markdown(res.canary))
    assert "## Speed canary" in text and "| sim | cpu_sum_squares | 3 of 3 | " in text and "(adjusted) |" in text


def test_a_benchmark_the_canary_does_not_track_keeps_its_own_slope_near_zero(tmp_path):
    procs = canary_sim.campaign(np.random.default_rng(8), 12, 1.0, options=3)
    rng = np.random.default_rng(0)
    for p in procs:  # threads x2 on its own: its canary sees nothing of its machine
        if p["option"] == "thr":
            p["canary"] = 0.004 * float(np.exp(rng.normal(0, 0.03)))
    _write_campaign(tmp_path / "raw", procs)
    res = pipeline.analyse(tmp_path / "raw")
    fits = res.canary.set_index("strategy")
    assert fits["used"].all()  # the other benchmarks track: each is adjusted by its own slope
    assert abs(fits.loc["threads", "slope"]) < 0.3 < fits.loc["sequential", "slope"]
    assert abs(fits.loc["threads", "r"]) < 0.5 < fits.loc["sequential", "r"]


def test_a_set_without_rounds_is_not_adjusted(tmp_path):
    procs = canary_sim.campaign(np.random.default_rng(9), 12, 1.0, options=3)
    _write_campaign(tmp_path / "raw", procs)
    res = pipeline.analyse(tmp_path / "raw")
    raw = res.raw.assign(run_rounds=[tuple(None for _ in r) for r in res.raw["runs"]])
    assert len(canary.apply(raw).fits) == 0


def test_a_set_without_canaries_is_analysed_as_before(tmp_path):
    procs = canary_sim.campaign(np.random.default_rng(8), 6, 1.0, options=3)
    _write_campaign(tmp_path / "raw", procs, with_canary=False)
    res = pipeline.analyse(tmp_path / "raw")
    assert len(res.canary) == 0 and not res.ratios["note"].fillna("").str.contains("canary").any()
    assert canary.section_markdown(res.canary) == []


# --- known truth ---------------------------------------------------------------------------------------------


def _show(name, got):
    print(f"\n{name}: adjustment used {got['used']:.0%}, median r {got['r']:.2f}")
    for ratio in canary_sim.RATIOS:
        print(f"  {ratio}: coverage {got[f'{ratio} unadjusted coverage']:.3f} unadjusted, "
              f"{got[f'{ratio} reported coverage']:.3f} reported; median half-width "
              f"{got[f'{ratio} unadjusted width']:.3f} -> {got[f'{ratio} reported width']:.3f}")


def test_known_truth_smoke_a_tracking_canary_narrows_and_covers():
    got = canary_sim.coverage(200, 10, 1.0, options=6, seed=3)
    for ratio in canary_sim.PAIRED:
        assert 0.88 <= got[f"{ratio} reported coverage"] <= 0.99
        assert got[f"{ratio} reported width"] < 0.7 * got[f"{ratio} unadjusted width"]


@pytest.mark.known_truth
@pytest.mark.parametrize("rounds, options", [(4, 10), (10, 6), (30, 4)])
@pytest.mark.parametrize("unseen", [0.0, 0.08])
def test_known_truth_a_tracking_canary_narrows_the_intervals_and_still_covers(rounds, options, unseen):
    """unseen 0.08: half the machine's process-to-process change is out of the canary's sight (r ~ 0.7)."""
    got = canary_sim.coverage(2000, rounds, 1.0, options=options, unseen_sd=unseen)
    _show(f"tracking, unseen noise {unseen}, {rounds} rounds, {options} options", got)
    assert got["used"] > (0.99 if not unseen else 0.6)
    for ratio in canary_sim.RATIOS:
        # Welch over processes ignores that both options shared each round (the round's machine): conservative
        upper = 0.975 if ratio in canary_sim.PAIRED else 1.0
        assert 0.93 <= got[f"{ratio} reported coverage"] <= upper, ratio
        assert got[f"{ratio} reported width"] < (0.8 if not unseen else 0.95) * got[f"{ratio} unadjusted width"], ratio


@pytest.mark.known_truth
@pytest.mark.parametrize("rounds, options", [(4, 10), (10, 6), (30, 4)])
def test_known_truth_a_canary_that_does_not_track_does_not_make_coverage_worse(rounds, options):
    got = canary_sim.coverage(2000, rounds, 0.0, options=options)
    _show(f"not tracking, {rounds} rounds, {options} options", got)
    assert got["used"] <= 0.03
    for ratio in canary_sim.RATIOS:
        assert got[f"{ratio} reported coverage"] >= got[f"{ratio} unadjusted coverage"] - 0.005, ratio
        assert 0.93 <= got[f"{ratio} reported coverage"] <= (0.975 if ratio in canary_sim.PAIRED else 1.0), ratio
