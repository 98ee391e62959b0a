"""harness.analysis.standard: the single-thread price on pyperformance, on data with a known truth.

Every file here is written by the test (pyperf's own API, or plain JSON for the odd shapes); the
true slowdowns are known, so a wrong ratio, interval or placement fails.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyperf
import pytest

from harness.analysis import standard
from harness.analysis.stats import contrast

BASE, FT, CONTROL = "3.13", "3.13t", "3.13t-gil"


def _suite(path, benches: dict[str, list[list[float]]], calibration: bool = True) -> None:
    """A pyperf BenchmarkSuite file: {benchmark: [values of each process]}."""
    out = []
    for name, procs in benches.items():
        runs = []
        if calibration:  # pyperf's calibration run: warmups only, no values
            runs.append(pyperf.Run([], warmups=[(1, procs[0][0])], metadata={"name": name},
                                   collect_metadata=False))
        runs += [pyperf.Run(vals, metadata={"name": name}, collect_metadata=False) for vals in procs]
        out.append(pyperf.Benchmark(runs))
    pyperf.BenchmarkSuite(out).dump(str(path), replace=True)


def _status(path, entries: dict[str, tuple[str, str]]) -> None:
    path.write_text(json.dumps({"benchmarks": {n: {"status": s, "error": e, "seconds": 1.0}
                                               for n, (s, e) in entries.items()},
                                "settings": {"speed": "fast"}}))


def _procs(rng, mu, n_proc=6, n_val=3, sigma=0.01):
    return [list(mu * (1 + sigma * rng.standard_normal(n_val))) for _ in range(n_proc)]


TRUTH = {"nbody": 1.5, "richards": 2.0, "raytrace": 1.2}
MU = {"nbody": 0.2, "richards": 0.07, "raytrace": 0.7}


@pytest.fixture
def raw(tmp_path):
    """host 'h': baseline, free-threaded (true slowdowns TRUTH) and the control (1.1x everywhere)."""
    rng = np.random.default_rng(1)
    d = tmp_path / "raw" / "h" / "pyperformance"
    d.mkdir(parents=True)
    _suite(d / f"{BASE}.json", {b: _procs(rng, MU[b]) for b in TRUTH})
    _suite(d / f"{FT}.json", {b: _procs(rng, MU[b] * r) for b, r in TRUTH.items()})
    _suite(d / f"{CONTROL}.json", {b: _procs(rng, MU[b] * 1.1) for b in TRUTH})
    for v in (BASE, FT, CONTROL):
        _status(d / f"{v}.status.json", {b: ("ok", "") for b in TRUTH})
    return tmp_path / "raw"


def test_load_reads_process_means_and_skips_runs_without_values(raw):
    df = standard.load(raw)
    assert len(df) == 9 and set(df["status"]) == {"ok"}
    assert set(df["role"]) == {"baseline", "free-threaded", "control"}
    row = df[(df["variant"] == FT) & (df["benchmark"] == "nbody")].iloc[0]
    assert row["n_processes"] == 6 and len(row["means"]) == 6  # the calibration run is not a process
    assert row["mean"] == pytest.approx(0.3, rel=0.02)


def test_slowdowns_recover_the_known_ratios(raw):
    s = standard.slowdowns(standard.load(raw))
    assert set(s["variant"]) == {FT, CONTROL}  # the baseline is not compared with itself
    ft = s[s["variant"] == FT].set_index("benchmark")
    for bench, truth in TRUTH.items():
        r = ft.loc[bench]
        assert r["ci_low"] < truth < r["ci_high"]
        assert r["value"] == pytest.approx(truth, rel=0.02)
        assert r["verdict"] == "greater" and r["baseline"] == BASE and bool(r["compared"])
        assert r["n_processes"] == 6 and r["n_processes_baseline"] == 6
        # the same number as the campaign's own statistics
        df = standard.load(raw)
        means = {v: df[(df["variant"] == v) & (df["benchmark"] == bench)].iloc[0]["means"] for v in (FT, BASE)}
        assert r["value"] == pytest.approx(contrast([(means[FT], 1), (means[BASE], -1)]).value)
    ctl = s[s["variant"] == CONTROL]
    assert all(ctl["ci_low"] < 1.1) and all(ctl["ci_high"] > 1.1)


def test_geomean_known_truth_and_quantiles(raw):
    s = standard.slowdowns(standard.load(raw))
    g = standard.geomean(s).set_index("variant")
    truth = math.exp(np.mean(np.log(list(TRUTH.values()))))
    ft = g.loc[FT]
    assert ft["k"] == 3 and ft["n_not_compared"] == 0
    assert ft["ci_low"] < truth < ft["ci_high"]
    assert ft["geomean"] == pytest.approx(truth, rel=0.01)
    assert ft["min"] == pytest.approx(1.2, rel=0.02) and ft["max"] == pytest.approx(2.0, rel=0.02)
    assert ft["median"] == pytest.approx(1.5, rel=0.02)
    # se = sqrt(sum se_i^2) / k: the geomean is better known than any of its benchmarks
    sub = s[s["variant"] == FT]
    assert ft["se_log"] == pytest.approx(math.sqrt((sub["se_log"] ** 2).sum()) / 3)
    assert ft["verdict"] == "greater"


def _frame(rows):
    return pd.DataFrame(rows, columns=list(standard.LOAD_COLUMNS))


def _row(host, variant, bench, means, status="ok", error=""):
    means = np.asarray(means, dtype=float)
    return {"host": host, "variant": variant, "role": standard.role(variant), "benchmark": bench,
            "status": status, "error": error, "means": means, "n_processes": len(means),
            "n_values": len(means), "mean": means.mean() if len(means) else math.nan,
            "seconds": 1.0, "source": ""}


@pytest.mark.known_truth
def test_geomean_interval_covers_the_truth_about_95_percent_of_the_time():
    """400 simulated experiments (one host each): 5 benchmarks, 4 processes a side, 3% noise."""
    rng = np.random.default_rng(7)
    truths = np.array([1.1, 1.3, 1.5, 2.0, 0.9])
    rows = []
    for i in range(400):
        for j, t in enumerate(truths):
            rows.append(_row(f"h{i}", BASE, f"b{j}", 1 + 0.03 * rng.standard_normal(4)))
            rows.append(_row(f"h{i}", FT, f"b{j}", t * (1 + 0.03 * rng.standard_normal(4))))
    g = standard.geomean(standard.slowdowns(_frame(rows)))
    true_geo = math.exp(np.log(truths).mean())
    cover = ((g["ci_low"] < true_geo) & (true_geo < g["ci_high"])).mean()
    assert 0.915 <= cover <= 0.985, cover  # forgetting the 1/k (too wide) or the benchmarks' noise fails


def test_failed_and_missing_benchmarks_are_listed_not_compared(tmp_path):
    rng = np.random.default_rng(2)
    d = tmp_path / "h" / "pyperformance"
    d.mkdir(parents=True)
    _suite(d / f"{BASE}.json", {"a": _procs(rng, 1.0), "b": _procs(rng, 1.0), "c": _procs(rng, 1.0)})
    _suite(d / f"{FT}.json", {"a": _procs(rng, 1.4), "b": _procs(rng, 1.4)})
    _status(d / f"{BASE}.status.json", {"a": ("ok", ""), "b": ("ok", ""), "c": ("ok", "")})
    _status(d / f"{FT}.status.json", {"a": ("ok", ""), "b": ("failed", "ImportError: no greenlet"),
                                      "c": ("gil-reenabled", "RuntimeWarning: The global interpreter lock")})
    df = standard.load(tmp_path)
    b = df[(df["variant"] == FT) & (df["benchmark"] == "b")].iloc[0]
    assert b["status"] == "failed" and b["n_processes"] == 0  # values of a failed call are not used
    s = standard.slowdowns(df).set_index("benchmark")
    assert bool(s.loc["a", "compared"]) and s.loc["a", "value"] == pytest.approx(1.4, rel=0.03)
    assert math.isnan(s.loc["b", "value"]) and s.loc["b", "note"] == "failed on 3.13t: ImportError: no greenlet"
    assert s.loc["c", "status"] == "gil-reenabled" and "gil-reenabled on 3.13t" in s.loc["c", "note"]
    g = standard.geomean(s.reset_index()).iloc[0]
    assert g["k"] == 1 and g["n_not_compared"] == 2
    md = standard.section_markdown(s.reset_index(), standard.geomean(s.reset_index()), None)
    assert "ImportError: no greenlet" in md and "Not compared (2)" in md


def test_a_group_call_is_read_through_its_results_and_a_lost_result_is_missing(tmp_path):
    # pyperformance's base64 call writes base16_large, base64_small...: no result is named base64
    rng = np.random.default_rng(3)
    d = tmp_path / "h" / "pyperformance"
    d.mkdir(parents=True)
    for variant, mu in ((BASE, 1.0), (FT, 1.5)):
        _suite(d / f"{variant}.json", {"base16_large": _procs(rng, mu), "base64_small": _procs(rng, mu),
                                       "nbody": _procs(rng, mu)})
        _status(d / f"{variant}.status.json", {"base64": ("ok", ""), "nbody": ("ok", "")})
    s = standard.slowdowns(standard.load(tmp_path)).set_index("benchmark")
    assert sorted(s.index) == ["base16_large", "base64_small", "nbody"] and s["compared"].all()
    # a single call whose result is lost, with no unnamed result to account for it: missing
    _suite(d / f"{FT}.json", {"nbody": _procs(rng, 1.5)})
    _status(d / f"{FT}.status.json", {"nbody": ("ok", ""), "float": ("ok", "")})
    df = standard.load(tmp_path)
    assert df[(df["variant"] == FT) & (df["benchmark"] == "float")]["status"].tolist() == ["missing"]


def test_a_benchmark_only_one_side_ran_is_listed():
    rows = [_row("h", BASE, "a", [1.0, 1.01, 0.99]), _row("h", FT, "a", [1.5, 1.52, 1.49]),
            _row("h", BASE, "only_base", [1.0, 1.0])]
    s = standard.slowdowns(_frame(rows)).set_index("benchmark")
    assert s.loc["only_base", "note"] == "not run on 3.13t" and not bool(s.loc["only_base", "compared"])


def test_one_process_gives_ci_na_and_a_note_never_a_number():
    rows = [_row("h", BASE, "a", [1.0, 1.01, 0.99]), _row("h", FT, "a", [1.5]),
            _row("h", BASE, "b", [1.0, 1.02, 0.98]), _row("h", FT, "b", [2.0, 2.02, 1.98])]
    s = standard.slowdowns(_frame(rows)).set_index("benchmark")
    assert s.loc["a", "value"] == pytest.approx(1.5)
    assert math.isnan(s.loc["a", "ci_low"]) and math.isnan(s.loc["a", "ci_high"])
    assert s.loc["a", "verdict"] == "n/a" and "CI n/a" in s.loc["a", "note"]
    g = standard.geomean(s.reset_index()).iloc[0]
    assert g["geomean"] == pytest.approx(math.sqrt(1.5 * 2.0), rel=0.01)
    assert math.isnan(g["ci_low"]) and g["verdict"] == "n/a" and "a (one process)" in g["note"]
    md = standard.section_markdown(s.reset_index(), standard.geomean(s.reset_index()))
    assert "1.73x [CI n/a]" in md and "a 1.50x [CI n/a]" in md


def test_files_of_other_shapes_still_load(tmp_path):
    """A run with neither values nor warmups (pyperf refuses it) and a corrupt file."""
    d = tmp_path / "h" / "pyperformance"
    d.mkdir(parents=True)
    odd = {"version": "1.0", "metadata": {}, "benchmarks": [
        {"metadata": {"name": "a"}, "runs": [{"metadata": {}}, {"values": [1.0, 1.0]}, {"values": [1.2]},
                                              {"warmups": [[1, 3.0]]}]}]}
    (d / f"{BASE}.json").write_text(json.dumps(odd))
    (d / f"{FT}.json").write_text("{not json")
    _status(d / f"{FT}.status.json", {"a": ("ok", "")})
    df = standard.load(tmp_path).set_index("variant")
    assert df.loc[BASE, "n_processes"] == 2 and df.loc[BASE, "mean"] == pytest.approx(1.1)
    assert df.loc[FT, "status"] == "unreadable" and "unreadable" in df.loc[FT, "error"]
    s = standard.slowdowns(df.reset_index())
    assert len(s) == 1 and not bool(s.iloc[0]["compared"]) and "unreadable on 3.13t" in s.iloc[0]["note"]


def test_no_data_gives_an_empty_frame_and_one_line(tmp_path):
    df = standard.load(tmp_path / "nowhere")
    assert df.empty and list(df.columns) == list(standard.LOAD_COLUMNS)
    s = standard.slowdowns(df)
    assert s.empty and list(s.columns) == list(standard.SLOWDOWN_COLUMNS)
    assert standard.geomean(s).empty and standard.placement(s, None).empty
    md = standard.section_markdown(s, standard.geomean(s), standard.placement(s, None))
    body = [line for line in md.splitlines() if line.strip()]
    assert body[0] == standard.TITLE and len(body) == 2 and "nox -s pyperformance" in body[1]


def _ratios(host, variant, values):
    return pd.DataFrame([{"host": host, "cpu_count": 2, "workload": w, "kind": "cpu", "variant": variant,
                          "role": standard.role(variant), "strategy": "sequential", "workers": 1,
                          "metric": "slowdown", "value": v, "ci_low": v * 0.95, "ci_high": v * 1.05,
                          "verdict": "greater"} for w, v in values.items()]
                        + [{"host": host, "cpu_count": 2, "workload": "w_other", "kind": "cpu",
                            "variant": variant, "role": "x", "strategy": "threads", "workers": 2,
                            "metric": "speedup", "value": 9.0}])


def test_placement_is_the_share_of_benchmarks_below():
    rows = []
    for j, t in enumerate([1.1, 1.3, 1.5, 1.7]):
        rows += [_row("h", BASE, f"b{j}", [1.0, 1.0001, 0.9999]),
                 _row("h", FT, f"b{j}", [t, t * 1.0001, t * 0.9999])]
    s = standard.slowdowns(_frame(rows))
    pl = standard.placement(s, _ratios("h", FT, {"w_low": 1.0, "w_mid": 1.45, "w_high": 2.0}))
    got = pl.set_index("workload")
    assert list(got.index) == ["w_low", "w_mid", "w_high"]  # only metric == "slowdown", by slowdown
    assert got.loc["w_low", "percentile"] == 0 and got.loc["w_mid", "percentile"] == 0.5
    assert got.loc["w_high", "percentile"] == 1.0 and got.loc["w_mid", "k"] == 4
    assert got.loc["w_mid", "percentile_low"] == 0.5 and got.loc["w_mid", "percentile_high"] == 0.75  # 1.38-1.52
    # hosts are matched exactly: ratios of another host say nothing about this one
    assert standard.placement(s, _ratios("h2", FT, {"w": 1.4})).empty
    md = standard.section_markdown(s, standard.geomean(s), pl)
    assert "w_mid: 1.45x [1.38-1.52]; 50% of the benchmarks pay less (50%-75% over its CI)" in md


def test_published_references_are_labelled_quotations():
    assert len(standard.PUBLISHED_REFERENCES) >= 3
    for r in standard.PUBLISHED_REFERENCES:
        assert "published elsewhere" in r.label and "PGO+LTO" in r.label and r.source
        assert 1.0 < r.factor < 1.5
    factors = {r.version: r.factor for r in standard.PUBLISHED_REFERENCES}
    assert factors["3.14t"] < 1.11
    rows = [_row("h", BASE, "a", [1.0, 1.01, 0.99]), _row("h", FT, "a", [1.5, 1.52, 1.49])]
    md = standard.section_markdown(standard.slowdowns(_frame(rows)))
    assert "not our measurements" in md and "about 1.40x" in md and "PGO+LTO" in md


def test_only_the_quotations_about_the_measured_versions_are_shown():
    """What 3.13t disables, or what 3.14t costs, is a fact about that release: a set of another
    version does not quote it."""
    def section(base, ft):
        rows = [_row("h", base, "a", [1.0, 1.01, 0.99]), _row("h", ft, "a", [1.1, 1.11, 1.09])]
        return standard.section_markdown(standard.slowdowns(_frame(rows)))

    about = {r.version: r for r in standard.PUBLISHED_REFERENCES}
    fourteen = section("3.14", "3.14t")
    assert about["3.14t"].text in fourteen
    assert about["3.13t"].text not in fourteen and about["3.13.0t"].text not in fourteen
    assert "Only the quotations about the versions measured here (3.14) are shown: 2 about other versions left " \
           "out." in fourteen
    thirteen = section(BASE, FT)
    assert about["3.13t"].text in thirteen and about["3.13.0t"].text in thirteen
    assert about["3.14t"].text not in thirteen
    assert "No quotation is about the versions measured here (3.15): 3 about other versions left out." in section(
        "3.15", "3.15t")


def test_format():
    assert standard.fmt_ratio(2.314, 2.2, 2.43) == "2.31x [2.20-2.43]"
    assert standard.fmt_ratio(2.314, math.nan, math.nan) == "2.31x [CI n/a]"
    assert standard.fmt_ratio(math.nan, 1, 2) == "-"
