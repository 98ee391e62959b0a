"""python -m harness.analysis reproduce RAW_A RAW_B on synthetic result sets."""

import pytest

pytest.importorskip("pandas")

from synth import model_results  # noqa: E402

from harness import analysis  # noqa: E402


def _sets(tmp_path, seed_b):
    a = model_results(tmp_path / "a", variants=("3.13", "3.13t"), runs=4, values=2)
    b = tmp_path / "b"
    from synth import model_specs, write_variant

    for i, v in enumerate(("3.13", "3.13t")):
        write_variant(b, "h1", v, model_specs(v, seed=seed_b + i, runs=4, values=2))
    return a, b


def _summary(rows):
    import pandas as pd

    cols = ["workload", "variant", "best_strategy", "best_workers", "tied_with_fastest", "not_told_apart",
            "tie_size", "single_best"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], columns=cols)


def _regrets(rows):
    """Regret rows of a ratios table: (workload, variant, strategy, workers, value, low, high, verdict)."""
    import pandas as pd

    out = [{"workload": w, "variant": v, "metric": "regret", "strategy": s, "workers": n, "baseline": f"{v} fastest",
            "value": x, "ci_low": lo, "ci_high": hi, "significant": None, "verdict": vd}
           for w, v, s, n, x, lo, hi, vd in rows]
    return pd.DataFrame(out)


def test_best_option_agreement_is_read_against_chance_and_the_cross_run_regret():
    """Two workloads, hand-made: on w1 A picks threads x2 (alone in its tie set) and B processes x2
    (tied with threads x2): different families, and A's best is tied in B but B's is not in A, so
    the tie-aware agreement fails too; picking at random within the tie sets, the families agree half
    the time (threads x2 vs {processes x2, threads x2}). On w2 both pick threads x4 (chance 1).
    Timed in B, A's w1 choice (threads x2) is 1.02x B's fastest, CI inside +-5%; B's w1 choice timed
    in A is 1.10x A's fastest, slower beyond the margin."""
    from harness.analysis.results import Results

    a = Results(summary=_summary([("w1", "3.13t", "threads", 2, "threads x2", "threads x2, processes x2", 1, True),
                                  ("w2", "3.13t", "threads", 4, "threads x4", "threads x4", 1, True)]),
                ratios=_regrets([("w1", "3.13t", "threads", 2, 1.0, float("nan"), float("nan"), "fastest"),
                                 ("w1", "3.13t", "processes", 2, 1.10, 1.07, 1.13, "greater"),
                                 ("w2", "3.13t", "threads", 4, 1.0, float("nan"), float("nan"), "fastest")]))
    b = Results(summary=_summary([("w1", "3.13t", "processes", 2, "processes x2, threads x2", "processes x2, "
                                   "threads x2", 2, True),
                                  ("w2", "3.13t", "threads", 4, "threads x4", "threads x4", 1, True)]),
                ratios=_regrets([("w1", "3.13t", "processes", 2, 1.0, float("nan"), float("nan"), "fastest"),
                                 ("w1", "3.13t", "threads", 2, 1.02, 1.00, 1.04, "equivalent"),
                                 ("w2", "3.13t", "threads", 4, 1.0, float("nan"), float("nan"), "fastest")]))
    got = analysis.reproduce(a, b)
    assert (got["best_family_agree"], got["best_tied_agree"], got["best_family_n"]) == (0.5, 0.5, 2)
    assert got["chance_family"] == 0.75  # (1/2 + 1) / 2
    assert got["tie_sizes_a"] == {1: 2} and got["tie_sizes_b"] == {1: 1, 2: 1}
    ab, ba = got["regret_a_in_b"], got["regret_b_in_a"]
    assert (ab["n"], ab["inside"], ab["fastest"], ab["slower"]) == (2, 0.5, 0.5, 0.0)
    assert (ba["n"], ba["slower"], ba["fastest"]) == (2, 0.5, 0.5)
    table = got["regrets"].set_index(["chosen_in", "workload"])
    assert table.loc[("B", "w1"), "option"] == "processes x2" and table.loc[("B", "w1"), "regret"] == 1.10


def test_two_best_options_agree_only_when_each_is_tied_with_the_other_runs_fastest():
    import pandas as pd

    from harness.analysis.reproduce import best_options_tied

    row = lambda s, w, tied: pd.Series({"best_strategy": s, "best_workers": w,  # noqa: E731
                                        "tied_with_fastest": tied})
    threads = row("threads", 2, "threads x2, processes x4")
    assert best_options_tied(threads, row("processes", 4, "processes x4, threads x2"))
    assert not best_options_tied(threads, row("processes", 4, "processes x4"))  # the rerun tells threads apart
    assert not best_options_tied(threads, row("processes", 2, "processes x2, threads x2"))  # processes x2 slower
    assert not best_options_tied(threads, row("processes", 4, None))


def test_a_rerun_of_the_same_model_mostly_agrees(tmp_path, capsys):
    a, b = _sets(tmp_path, 100)
    assert analysis.main(["reproduce", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "headline verdicts agree" in out and "inside B's 95% CIs" in out and "by metric: slowdown" in out
    got = analysis.reproduce(analysis.analyse(a), analysis.analyse(b))
    assert got["headline_agree"] >= 0.75
    assert got["a_inside_b"] >= 0.75  # 1% noise, honest intervals: a rerun falls inside


def test_a_changed_machine_disagrees(tmp_path):
    a, _ = _sets(tmp_path, 100)
    slow = tmp_path / "slow"
    from synth import SLOWDOWN, model_specs, write_variant

    old = dict(SLOWDOWN)
    try:
        SLOWDOWN["3.13t"] = 0.8  # the free-threaded build suddenly faster single-threaded
        for i, v in enumerate(("3.13", "3.13t")):
            write_variant(slow, "h1", v, model_specs(v, seed=200 + i, runs=4, values=2))
    finally:
        SLOWDOWN.update(old)
    got = analysis.reproduce(analysis.analyse(a), analysis.analyse(slow))
    assert got["headline_agree"] < 1.0
    k, n = got["by_metric"]["slowdown"]
    assert n > 0 and k < n  # the slowdowns are where the machine changed
    assert sum(n for _, n in got["by_metric"].values()) == got["headline_n"]
    assert got["a_inside_b"] < 0.75
    assert got["contradictions"] > 0  # 3.13t now faster single-threaded: slowdown "greater" became "less"


def test_reproduce_reports_a_bad_directory(tmp_path, capsys):
    assert analysis.main(["reproduce", str(tmp_path / "no"), str(tmp_path / "no2")]) == 1
    assert capsys.readouterr().err.startswith("ftbench: error:")


def test_a_drift_of_parallel_efficiency_shows_in_speedups_and_not_in_cross_variant_ratios(tmp_path, capsys):
    """Known truth: in the rerun every parallel option of every variant runs 15% slower (the second
    core of a shared host busier), single-threaded ones do not. A variant's own speedups then move
    out of the first run's intervals while slowdowns and same-option gains between variants stay."""
    from dataclasses import replace

    from synth import model_specs, write_variant

    a = model_results(tmp_path / "a", variants=("3.13", "3.13t"), runs=4, values=2)
    b = tmp_path / "b"
    for i, v in enumerate(("3.13", "3.13t")):
        specs = [s if s.workers == 1 else replace(s, runs=[[x * 1.15 for x in r] for r in s.runs])
                 for s in model_specs(v, seed=100 + i, runs=4, values=2)]
        write_variant(b, "h1", v, specs)
    got = analysis.reproduce(analysis.analyse(a), analysis.analyse(b))
    by = got["inside_by_metric"]
    assert sum(n for _, _, n in by.values()) == got["ci_n"]
    assert by["speedup"][0] < 0.25 and by["speedup"][1] < 0.25
    assert by["slowdown"][0] >= 0.75 and by["gain"][0] >= 0.75
    assert analysis.main(["reproduce", str(a), str(b)]) == 0
    assert "by metric (A in B, B in A, ratios): " in capsys.readouterr().out


def test_the_newest_set_is_compared_with_the_earlier_ones_each_with_its_noise(tmp_path):
    """Another day: REPORT.md sets the newest set beside every earlier one of its build flavour and
    their reruns, with each set's process-to-process noise read from its sequential benchmarks."""
    import math

    import numpy as np
    from synth import campaign_results

    from harness.analysis import noise, pipeline

    raw = tmp_path / "results" / "raw"
    campaign_results(raw, host="vm-aaaaaa", seed=1, noise=0.02)
    campaign_results(tmp_path / "results" / "reruns" / "raw", host="vm-aaaaaa-rerun", seed=2, noise=0.02)
    campaign_results(raw, host="vm-bbbbbb", seed=3, noise=0.05)
    res = analysis.load_raw(raw)
    res = res[res["host"] == "vm-bbbbbb"]
    want = np.median([np.std([np.mean(r) for r in runs], ddof=1) / np.mean([np.mean(r) for r in runs])
                      for runs in res[(res["strategy"] == "sequential") & (res["stage"] != "confirm")]["runs"]])
    assert math.isclose(noise.process_noise(res, "vm-bbbbbb"), want)

    got = pipeline.regenerate(raw, tmp_path / "out", figures=False)
    newest = pipeline.newest_host(got)
    assert [(a, b) for a, b, _ in got.other_days] == [
        (newest, other) for other in (["vm-aaaaaa", "vm-aaaaaa-rerun"] if newest == "vm-bbbbbb" else ["vm-bbbbbb"])]
    report = (tmp_path / "out" / "REPORT.md").read_text()
    section = report[report.index("## Another day"):]
    assert f"| {newest} (newest) |" in section
    for _, other, comparison in got.other_days:
        row = next(line for line in section.splitlines() if line.startswith(f"| {other} |"))
        assert f"| {comparison['noise']:.1%} |" in row
        agree, n, contradictions = (comparison[k] for k in ("headline_agree", "headline_n", "contradictions"))
        assert f"| {agree:.0%} of {n} | {contradictions} |" in row
