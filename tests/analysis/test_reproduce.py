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


def test_a_set_against_itself_agrees_fully(tmp_path):
    a, _ = _sets(tmp_path, 100)
    ra = analysis.analyse(a)
    got = analysis.reproduce(ra, ra)
    assert got["headline_agree"] == 1.0 and got["best_family_agree"] == 1.0 and got["contradictions"] == 0
    assert got["a_inside_b"] == 1.0 and got["headline_n"] > 0 and got["best_tied_agree"] == 1.0


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
