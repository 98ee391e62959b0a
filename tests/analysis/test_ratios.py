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


def _round_means(raw, variant, name):
    """{round: mean of that run's values} of one benchmark, read from the raw frame by hand."""
    rec = raw[(raw["variant"] == variant) & (raw["name"] == name)].iloc[0]
    return {r: sum(run) / len(run) for r, run in zip(rec["run_rounds"], rec["runs"], strict=True)}


def _paired_by_hand(num: dict, den: dict):
    """mean(num) / mean(den) and its paired 95% interval, from the formula (t table for df 5)."""
    import statistics

    rounds = sorted(set(num) & set(den))
    mx, my = (statistics.fmean(s[r] for r in rounds) for s in (num, den))
    d = [num[r] / mx - den[r] / my for r in rounds]
    se = statistics.stdev(d) / len(rounds) ** 0.5
    t = {5: 2.5706, 2: 4.3027}[len(rounds) - 1]
    import math

    return mx / my, mx / my * math.exp(-t * se), mx / my * math.exp(t * se)


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    """A set laid out as the campaign measures today: invocations, rounds shared by the workload, each
    variant's best option confirmed beside its sequential reference in 6 planned rounds; a drifting machine."""
    from synth import campaign_results

    raw = campaign_results(tmp_path_factory.mktemp("current") / "raw", drift=0.3, seed=5)
    got = analysis.load_raw(raw)
    return got, analysis.ratios_table(got)


def _one(r, **where):
    for k, v in where.items():
        r = r[r[k] == v]
    assert len(r) == 1, where
    return r.iloc[0]


def test_the_headline_ratios_come_from_the_confirmation_rounds_paired_by_round(current):
    raw, r = current
    slow = _one(r, workload="cpu_sum_squares", variant="3.13t", metric="slowdown")
    want = _paired_by_hand(_round_means(raw, "3.13t", "cpu_sum_squares/sequential/1/confirm"),
                           _round_means(raw, "3.13", "cpu_sum_squares/sequential/1/confirm"))
    assert (slow["value"], slow["ci_low"], slow["ci_high"]) == pytest.approx(want, rel=1e-4)
    assert (slow["estimator"], slow["n_processes"], slow["df"], slow["note"], slow["flag"]) == ("paired", 6, 5, "", "")
    assert slow["selection"].endswith("; 6 rounds planned before the stage (synthetic: fixed)")
    assert _one(r, workload="cpu_sum_squares", variant="3.13t", metric="slowdown_sweep")["n_processes"] == 3
    best = _one(r, workload="cpu_sum_squares", variant="3.13t", metric="best_speedup")
    name = f"cpu_sum_squares/{best['strategy']}/{best['workers']}/confirm"
    want = _paired_by_hand(_round_means(raw, "3.13t", "cpu_sum_squares/sequential/1/confirm"),
                           _round_means(raw, "3.13t", name))
    assert (best["value"], best["ci_low"], best["ci_high"]) == pytest.approx(want, rel=1e-4)
    assert best["estimator"] == "paired" and "confirmation" in best["selection"]
    gain = _one(r, workload="cpu_sum_squares", variant="3.13t", metric="gain_best")
    base_best = _one(r, workload="cpu_sum_squares", variant="3.13", metric="best_speedup")
    want = _paired_by_hand(_round_means(raw, "3.13", f"cpu_sum_squares/{base_best['strategy']}/"
                                                     f"{base_best['workers']}/confirm"),
                           _round_means(raw, "3.13t", name))
    assert (gain["value"], gain["ci_low"], gain["ci_high"]) == pytest.approx(want, rel=1e-4)


def test_the_speedup_ratio_is_one_paired_product_of_four_series(current):
    import math
    import statistics

    raw, r = current
    row = _one(r, workload="cpu_sum_squares", variant="3.13t", metric="speedup_ratio", strategy="threads", workers=2)
    s = [_round_means(raw, v, f"cpu_sum_squares/{o}") for v, o in
         (("3.13t", "sequential/1"), ("3.13t", "threads/2"), ("3.13", "sequential/1"), ("3.13", "threads/2"))]
    signs = (1, -1, -1, 1)
    m = [statistics.fmean(x.values()) for x in s]
    value = m[0] * m[3] / (m[1] * m[2])
    d = [sum(sign * x[k] / mi for x, mi, sign in zip(s, m, signs, strict=True)) for k in (1, 2, 3)]
    se = statistics.stdev(d) / math.sqrt(3)
    assert (row["value"], row["se_log"], row["df"]) == pytest.approx((value, se, 2))
    assert row["ci_low"] == pytest.approx(value * math.exp(-4.3027 * se)) and row["estimator"] == "paired"


def test_every_sweep_ratio_of_a_current_set_is_paired(current):
    _, r = current
    ratios = r[r["metric"].isin(["speedup", "gain", "speedup_ratio", "speedup_vs_baseline", "slowdown_sweep",
                                 "vs_strategy"])]
    assert len(ratios) > 100 and set(ratios["estimator"]) == {"paired"} and (ratios["n_processes"] == 3).all()


def test_a_current_set_without_a_confirmation_is_not_called_an_older_set(tmp_path):
    """The quick profile has no precision target, so nothing is confirmed: the slowdown comes from the
    sweep's reference, and the note says why without blaming the set's age."""
    from synth import campaign_results

    r = analysis.ratios_table(analysis.load_raw(campaign_results(tmp_path / "raw", confirm_rounds=0)))
    slow = _one(r, workload="cpu_sum_squares", variant="3.13t", metric="slowdown")
    assert slow["note"].startswith("no confirmation in this run: slowdown from the sweep's reference, measured "
                                   "until its precision target (stopped: budget)")
    assert "older set" not in " ".join(r["note"])


@pytest.mark.parametrize("layout", ["workload-rounds", "per-benchmark"])
def test_older_sets_fall_back_and_say_so_in_the_note(tmp_path, layout):
    from synth import campaign_results

    r = analysis.ratios_table(analysis.load_raw(campaign_results(tmp_path / "raw", layout=layout)))
    slow = _one(r, workload="cpu_sum_squares", variant="3.13t", metric="slowdown")
    assert slow["estimator"] == "paired" and slow["note"].startswith(
        "older set: slowdown from the sweep's reference (no sequential confirmation), measured until its "
        "precision target (stopped: budget): its interval does not account for the stopping rule")
    assert slow["flag"] == "3 rounds" and "fewer than the 5 a headline interval needs" in slow["note"]
    best = _one(r, workload="cpu_sum_squares", variant="3.13t", metric="best_speedup")
    assert best["estimator"] == "welch"
    speedups = r[r["metric"] == "speedup"]
    if layout == "workload-rounds":
        assert best["note"].startswith("older set: no sequential reference in the confirmation rounds; ")
        assert "different stages (sweep, confirmation)" in best["note"]
        assert set(speedups["estimator"]) == {"paired"}  # the workload shared its rounds
    else:
        assert "ran in rounds of their own, minutes apart" in best["note"]
        assert set(speedups["estimator"]) == {"welch"}
        assert speedups["note"].str.contains("rounds numbered per benchmark").all()


def test_variants_measured_in_different_invocations_are_not_paired_and_say_so(tmp_path):
    from synth import campaign_results

    raw = campaign_results(tmp_path / "raw", variants=("3.13", "3.13t"), workloads=(("nbody", "cpu", 1.0),),
                           invocation_of=lambda v, stage: f"call-{v}")
    r = analysis.ratios_table(analysis.load_raw(raw))
    gain = _one(r, variant="3.13t", metric="gain", strategy="threads", workers=2)
    assert gain["estimator"] == "welch" and "different invocations (call-3.13; call-3.13t)" in gain["note"]
    assert _one(r, variant="3.13t", metric="speedup", strategy="threads", workers=2)["estimator"] == "paired"


def test_a_speedup_above_the_usable_cores_is_flagged_and_never_shown_plain(tmp_path):
    from synth import campaign_results

    truth = {("3.13", ("threads", 2)): 0.4, ("3.13", ("sequential", 1)): 1.0}  # 2.5x on 2 cores
    raw = campaign_results(tmp_path / "raw", variants=("3.13", "3.13t"), workloads=(("nbody", "cpu", 1.0),),
                           truth=truth)
    res = analysis.analyse(raw)
    r = res.ratios
    sp = _one(r, variant="3.13", metric="speedup", strategy="threads", workers=2)
    assert sp["flag"] == "above 2 cores" and "above the 2 usable cores (its whole CI)" in sp["note"]
    best = _one(r, variant="3.13", metric="best_speedup")
    assert (best["strategy"], best["workers"], best["flag"]) == ("threads", 2, "above 2 cores")
    head = analysis.headline_table(res.summary)
    cell = head[head["variant"] == "3.13"].iloc[0]["speedup"]
    assert cell.startswith("2.5") and cell.endswith("(above 2 cores)")
    io = r[(r["kind"] == "io") & (r["metric"] == "speedup")]
    assert not io["flag"].str.contains("cores").any()  # waiting, not cores, bounds I/O work


def test_ties_need_the_whole_interval_inside_the_margin_and_most_options_tied_is_no_single_best(tmp_path):
    """Four options of identical true time (0.5% noise, 6 shared rounds): their regrets' CIs sit inside
    +-5%, so they tie, and with 4 of 7 options tied no single one is named best. An option 30% slower
    is never tied."""
    truth = {("3.13", o): t for o, t in ((("sequential", 1), 1.0), (("threads", 1), 1.3), (("threads", 2), 0.5),
                                         (("threads", 4), 0.5), (("processes", 1), 1.3), (("processes", 2), 0.5),
                                         (("processes", 4), 0.5))}
    from synth import campaign_results

    raw = campaign_results(tmp_path / "raw", variants=("3.13",), workloads=(("nbody", "cpu", 1.0),), truth=truth,
                           sweep_rounds=6, noise=0.005, options=[o for _, o in truth])
    res = analysis.analyse(raw)
    reg = res.ratios[res.ratios["metric"] == "regret"].set_index(["strategy", "workers"])
    fast = {("threads", 2), ("threads", 4), ("processes", 2), ("processes", 4)}
    assert {k for k, v in reg["verdict"].items() if v in ("fastest", "equivalent")} == fast
    assert (reg.loc[("threads", 1), "verdict"], reg.loc[("threads", 1), "ci_low"] > 1.05) == ("greater", True)
    row = res.summary.iloc[0]
    assert row["tie_size"] == 4 and not row["single_best"]
    label = analysis.headline_table(res.summary).iloc[0]["best option"]
    assert label == "no single best (4 of 7)"


def test_a_workload_confirmed_again_after_a_resume_is_read_from_its_latest_confirmation(tmp_path):
    """A resumed workload is confirmed again, perhaps on another best option and with another plan:
    the headline reads the latest invocation's confirmation alone (the earlier one stays in the files)."""
    def runs(invocation, first_minute, n, time, planned=None):
        meta = [{"ftbench_invocation": invocation, "ftbench_round": r + 1,
                 "date": f"2025-07-01 10:{first_minute + r:02d}:00.000000",
                 **({"ftbench_planned_rounds": planned, "ftbench_plan_reason": f"plan {invocation}"}
                    if planned else {})} for r in range(n)]
        return [[time * (1 + 0.01 * ((r % 3) - 1))] for r in range(n)], meta

    def spec(strategy, workers, parts, stage=""):
        values = [v for p in parts for v in p[0]]
        meta = [m for p in parts for m in p[1]]
        return Spec("cpu_sum_squares", "cpu", strategy, workers, values, run_meta=meta, stage=stage,
                    meta={"ftbench_stage": stage} if stage else {})

    for v, seq, two, four in (("3.13", 1.0, 0.6, 0.55), ("3.13t", 1.3, 0.7, 0.66)):
        write_variant(tmp_path, "h1", v, [
            spec("sequential", 1, [runs("inv-1", 0, 3, seq), runs("inv-2", 30, 3, seq)]),
            spec("threads", 2, [runs("inv-1", 0, 3, two), runs("inv-2", 30, 3, two)]),
            spec("threads", 4, [runs("inv-1", 0, 3, four), runs("inv-2", 30, 3, four)]),
            # invocation 1 confirmed threads x2 in 5 planned rounds, invocation 2 threads x4 in 7
            spec("sequential", 1, [runs("inv-1", 10, 5, seq, 5), runs("inv-2", 40, 7, seq, 7)], "confirm"),
            spec("threads", 2, [runs("inv-1", 10, 5, two, 5)], "confirm"),
            spec("threads", 4, [runs("inv-2", 40, 7, four, 7)], "confirm"),
        ])
    r = analysis.ratios_table(analysis.load_raw(tmp_path))
    best = r[(r["variant"] == "3.13t") & (r["metric"] == "best_speedup")].iloc[0]
    assert (best["strategy"], best["workers"], best["n_processes"]) == ("threads", 4, 7)
    slow = r[(r["variant"] == "3.13t") & (r["metric"] == "slowdown")].iloc[0]
    assert slow["n_processes"] == 7 and slow["selection"].endswith("; 7 rounds planned before the stage (plan inv-2)")
