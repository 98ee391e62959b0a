"""harness.analysis and harness.analysis.plots on synthetic pyperf results written into tmp_path.

The statistics are checked against numbers computed by hand; the loader against real pyperf
files (built with pyperf.Run / Benchmark / BenchmarkSuite), corrupt ones included; the notebook by
executing it headless on a synthetic results directory.
"""

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

sys.path.insert(0, str(Path(__file__).parent))

from synth import Spec, model_results, write_variant  # noqa: E402

from harness import analysis  # noqa: E402
from harness.analysis import AnalysisError, NoResults, report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def approx(x, rel=1e-9):
    return pytest.approx(x, rel=rel)


# --- statistics, by hand (more in tests/test_stats.py) -------------------------------------------


def test_describe_runs_values_t_interval_over_process_means():
    # three processes with means 1, 2, 3: t(0.975, df=2) * s / sqrt(n), s = 1
    got = analysis.describe_runs_values([(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)])
    half = 4.3027 * 1.0 / math.sqrt(3)
    assert got["n"] == 6 and got["n_processes"] == 3
    assert got["ci95_low"] == approx(2 - half) and got["ci95_high"] == approx(2 + half)
    assert got["precision"] == approx(half / 2)


def test_one_process_has_no_interval():
    got = analysis.describe_runs_values([(0.5, 0.6, 0.7)])
    assert got["n_processes"] == 1 and math.isnan(got["ci95_low"]) and math.isnan(got["precision"])


def test_efficiency_and_karp_flatt_use_usable_cores():
    assert analysis.efficiency(1.6, 2, cores=2) == approx(0.8)
    assert analysis.karp_flatt(1.6, 2, cores=2) == approx(0.25)  # (1/1.6 - 1/2) / (1 - 1/2)
    # 4 threads on 2 cores, speedup 1.995: p = 2, serial fraction ~0.0025 (not 0.335 with p = 4)
    assert analysis.karp_flatt(1.995, 4, cores=2) == approx((1 / 1.995 - 0.5) / 0.5)
    assert analysis.efficiency(1.995, 4, cores=2) == approx(1.995 / 2)
    assert math.isnan(analysis.karp_flatt(1.0, 1, cores=2))  # p = 1: undefined
    assert math.isnan(analysis.efficiency(30.0, 64, cores=2, kind="io"))  # waiting, not cores
    assert math.isnan(analysis.karp_flatt(30.0, 64, cores=2, kind="io"))


def test_break_even_is_the_fewest_threads_that_beat_the_baseline():
    assert analysis.measured_break_even_workers({1: 3.0, 4: 1.0, 2: 1.9}, baseline_best=2.0) == 2
    assert analysis.measured_break_even_workers({1: 3.0, 2: 2.5}, baseline_best=2.0) is None


# --- a hand-computed summary ----------------------------------------------------------------------


def S(strategy, workers, *values, workload="cpu_sum_squares", kind="cpu"):
    """One value per pyperf process (so each value is its own unit)."""
    return Spec(workload, kind, strategy, workers, runs=[[v] for v in values])


@pytest.fixture
def hand(tmp_path):
    """3.13: seq 1.0, threads x2 1.1, processes x2 0.5; 3.13t: seq 1.2, threads x2 0.6, x4 0.4."""
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [S("sequential", 1, 0.9, 1.1), S("threads", 2, 1.1, 1.1),
                                     S("processes", 2, 0.5, 0.5)])
    write_variant(raw, "h", "3.13t", [
        S("sequential", 1, 1.2, 1.2), S("threads", 1, 1.3, 1.3), S("threads", 2, 0.6, 0.6),
        S("threads", 4, 0.4, 0.4), S("processes", 2, 0.7, 0.7),
        Spec("cpu_sum_squares", "cpu", "processes", 4, status="timeout", error="killed after 9 s")])
    write_variant(raw, "h", "3.13t-gil", [S("sequential", 1, 0.8, 1.2), S("threads", 2, 1.0, 1.0)])
    return raw


def _row(summary, variant, host="h", workload="cpu_sum_squares"):
    sel = summary[(summary["host"] == host) & (summary["variant"] == variant)
                  & (summary["workload"] == workload)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_summary_ratios_by_hand(hand):
    s = analysis.summary_table(analysis.load_raw(hand))
    t = _row(s, "3.13t")
    assert t["seq_time"] == approx(1.2) and t["role"] == "free-threaded"
    assert t["baseline"] == "3.13"
    assert t["slowdown"] == approx(1.2)  # 1.2 / mean(0.9, 1.1)
    # Welch on logs: se = sqrt(0 + var(0.9, 1.1) / (2 * 1.0^2)) = 0.1, df = 1 (t = 12.706)
    assert t["slowdown_ci_low"] == approx(1.2 * math.exp(-12.7062 * 0.1))
    assert t["slowdown_ci_high"] == approx(1.2 * math.exp(12.7062 * 0.1))
    assert t["slowdown_verdict"] == "inconclusive" and not t["slowdown_significant"]
    assert (t["workers_threads"], t["speedup_threads"]) == (2, approx(2.0))  # the core count
    assert t["efficiency_threads"] == approx(1.0)
    assert t["karp_flatt_threads"] == approx(0.0)
    assert t["gain_threads"] == approx(1.1 / 0.6)  # 3.13's threads x2 / 3.13t's threads x2
    assert (t["best_strategy"], t["best_workers"]) == ("threads", 4)
    assert t["baseline_best"] == "processes x2"
    assert t["gain_best"] == approx(0.5 / 0.4)  # held-out halves: one process each
    assert math.isnan(t["gain_best_ci_low"]) and t["gain_best_verdict"] == "n/a"
    assert "CI n/a" in t["note"]
    assert t["break_even_workers"] == 4  # 0.6 s at 2 threads does not beat 0.5 s; 0.4 s does
    assert t["break_even_verdict"] == "significant"  # constant samples: zero-width CI
    assert t["speedup_processes"] == approx(1.2 / 0.7)
    assert t["n_failed"] == 1 and "processes/4 timeout" in t["note"]
    assert not any("313" in c for c in s.columns)


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


def test_summary_flags_a_ratio_whose_interval_contains_one(hand):
    s = analysis.summary_table(analysis.load_raw(hand))
    g = _row(s, "3.13t-gil")
    assert g["role"] == "control" and g["slowdown"] == approx(1.0)
    assert g["slowdown_ci_low"] < 1 < g["slowdown_ci_high"]
    assert g["slowdown_verdict"] == "inconclusive"
    assert pd.isna(g["break_even_workers"])  # 1.0 s threads never beat 3.13's 0.5 s


def test_summary_baseline_row_compares_with_itself(hand):
    b = _row(analysis.summary_table(analysis.load_raw(hand)), "3.13")
    assert b["slowdown"] == 1.0 and b["slowdown_verdict"] == "baseline"
    assert b["gain_best"] == 1.0 and pd.isna(b["break_even_workers"])
    assert b["speedup_processes"] == approx(2.0) and "CI n/a" in b["note"]


def test_claims_three_valued(hand):
    claims = analysis.analyse(hand).claims
    verdict = claims.set_index(["variant", "claim_id"])["verdict"]
    # 1.0 / 1.1 with a noisy two-process sequential side (df = 1): not enough to confirm
    assert verdict[("3.13", "cpu-threads")] == "inconclusive"
    assert verdict[("3.13t", "cpu-threads")] == "refuted"  # 3x faster on 3.13t
    assert verdict[("3.13t", "ft-threads-parallel")] == "inconclusive"  # baseline seq: df = 1
    assert verdict[("3.13t", "ft-single-thread")] == "inconclusive"  # 2 processes, df = 1
    assert verdict[("3.13t-gil", "ft-single-thread")] == "inconclusive"
    assert verdict[("3.13", "cpu-processes")] == "inconclusive"  # 2x, but df = 1
    assert verdict[("3.13t-gil", "cpu-processes")] == "not measured"
    assert set(claims["verdict"]) <= {"confirmed", "refuted", "inconclusive", "not measured"}
    matrix = analysis.claims_matrix(claims)
    row = matrix[matrix["claim"].str.startswith("CPU: threads")].iloc[0]
    assert row["3.13t"].startswith("refuted") and row["3.13"].startswith("inconclusive")


def test_io_claims_from_the_model(tmp_path):
    model_results(tmp_path / "raw")
    claims = analysis.analyse(tmp_path / "raw").claims
    io = claims[claims["workload"] == "io_download"].set_index(["variant", "claim_id"])["verdict"]
    for variant in ("3.13", "3.13t", "3.13t-gil"):
        for cid in ("io-threads", "io-asyncio", "io-processes-less", "io-asyncio-best"):
            assert io[(variant, cid)] == "confirmed", (variant, cid)


def test_verdict_text(hand):
    text = analysis.verdict(analysis.summary_table(analysis.load_raw(hand)), "cpu_sum_squares")
    assert "**inconclusive**" in text and "threads x4" in text
    assert "from 4 threads on" in text


# --- newer run metadata (busy cores, foreign load, tree memory, precision, weak scaling) ----------


def _runs(strategy, workers, means, busy, flagged=(), mem=100 * 2**20, weak=False):
    meta = {"ftbench_precision": 0.015, "ftbench_stop_reason": "target"}
    if weak:
        meta["ftbench_scaling"] = "weak"
    run_meta = [{"ftbench_busy_cores": busy, "ftbench_foreign_cores": 0.5 if i in flagged else 0.0,
                 "ftbench_foreign_flagged": "yes" if i in flagged else "no",
                 "ftbench_peak_tree_memory": mem, "ftbench_round": i} for i in range(len(means))]
    return Spec("cpu_sum_squares", "cpu", strategy, workers, runs=[[m, m * 1.001] for m in means],
                run_meta=run_meta, meta=meta)


def test_new_run_metadata_flagged_runs_busy_cores_and_why(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [_runs("sequential", 1, [1.0, 1.01, 0.99], 1.0),
                                     _runs("threads", 2, [1.0, 1.02, 0.99], 1.0)])
    write_variant(raw, "h", "3.13t", [
        _runs("sequential", 1, [1.2, 1.21, 1.19, 9.0], 1.0, flagged=(3,)),  # a disturbed run
        _runs("threads", 2, [0.61, 0.6, 0.62], 1.95, mem=60 * 2**20),
        _runs("processes", 2, [0.9, 0.91, 0.9], 1.9, mem=300 * 2**20)])
    res = analysis.regenerate(raw, tmp_path, figures=False)
    b = res.benchmarks
    seq = b[(b["variant"] == "3.13t") & (b["strategy"] == "sequential")].iloc[0]
    assert seq["n_runs_flagged"] == 1 and seq["n_processes"] == 3  # left out, counted
    assert seq["mean"] == approx(1.2, rel=1e-2)
    assert seq["precision_target"] == approx(0.015) and seq["stop_reason"] == "target"
    sc = res.scaling.set_index(["variant", "strategy", "workers"])
    assert sc.loc[("3.13", "threads", 2), "why"] == "serialised"
    assert sc.loc[("3.13t", "threads", 2), "why"] == "scaling"
    assert sc.loc[("3.13t", "processes", 2), "why"] == "contended"
    assert sc.loc[("3.13t", "threads", 2), "cpu_per_work"] == approx(1.95 / (1.2 / 0.61), rel=1e-2)
    assert sc.loc[("3.13t", "threads", 2), "mb_per_speedup"] == approx(60 / (1.2 / 0.61), rel=1e-2)
    assert res.metadata.set_index("variant").loc["3.13t", "runs_flagged"] == 1
    report = (tmp_path / "REPORT.md").read_text()
    assert "left out: 1 in these results" in report
    kept = analysis.load_raw(raw, keep_flagged=True)
    assert max(len(r) for r in kept["runs"]) == 4


def test_weak_scaling_reports_efficiency(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13t", [_runs("sequential", 1, [1.0, 1.0, 1.01], 1.0, weak=True),
                                      _runs("threads", 2, [1.25, 1.24, 1.26], 1.9, weak=True)])
    res = analysis.analyse(raw)
    r = res.ratios[res.ratios["strategy"] == "threads"].iloc[0]
    assert r["metric"] == "weak_efficiency" and r["value"] == approx(0.8, rel=1e-2)
    row = res.scaling[res.scaling["strategy"] == "threads"].iloc[0]
    assert row["weak_efficiency"] == approx(0.8, rel=1e-2) and pd.isna(row["speedup"])


def test_a_new_strategy_is_ordered_from_the_data(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [S("sequential", 1, 1.0, 1.0), S("interpreters", 2, 0.5, 0.5),
                                     S("processes", 2, 0.6, 0.6), S("threads", 2, 1.0, 1.0)])
    res = analysis.analyse(raw)
    assert list(dict.fromkeys(res.scaling["strategy"])) == ["sequential", "threads", "processes",
                                                            "interpreters"]
    assert res.summary.iloc[0]["speedup_interpreters"] == approx(2.0)


# --- loading --------------------------------------------------------------------------------------


def test_load_raw_reads_pyperf_and_failed_rows(hand):
    raw = analysis.load_raw(hand)
    assert len(raw) == 3 + 6 + 2  # the .state.json files beside them are not results
    ok = raw[(raw["variant"] == "3.13t") & (raw["name"] == "cpu_sum_squares/threads/4")].iloc[0]
    assert ok["values"] == (0.4, 0.4) and ok["status"] == "ok" and ok["workers"] == 4
    assert ok["peak_rss"] == 50_000_001  # max over the runs (the synth adds the run index)
    assert ok["gil_enabled"] == "no" and ok["free_threaded"] == "yes" and ok["check"] == "ok"
    assert ok["cpu_count"] == 2 and ok["date_first"] < ok["date_last"]
    assert "--disable-gil" in ok["configure_args"]
    bad = raw[raw["status"] == "timeout"].iloc[0]
    assert (bad["variant"], bad["strategy"], bad["workers"]) == ("3.13t", "processes", 4)
    assert bad["error"] == "killed after 9 s" and bad["values"] == ()
    assert bad["cpu_model"] == "Synthetic CPU @ 3.0GHz"  # identity filled from its file


def test_benchmarks_table_keeps_failures_with_empty_numbers(hand, tmp_path):
    b = analysis.benchmarks_table(analysis.load_raw(hand))
    assert list(b.columns[:len(analysis.BENCHMARK_COLUMNS)]) == list(analysis.BENCHMARK_COLUMNS)
    assert b["busy_cores"].isna().all()  # older runs: the new run metadata is simply empty
    assert len(b) == 11
    bad = b[b["status"] == "timeout"].iloc[0]
    assert bad["host"] == "h" and bad["workers"] == 4 and pd.isna(bad["mean"])
    seq = b[(b["variant"] == "3.13") & (b["strategy"] == "sequential")].iloc[0]
    assert (seq["n"], seq["mean"], seq["min"], seq["max"]) == (2, approx(1.0), 0.9, 1.1)
    assert seq["check_ok"]


def test_figures_returned_by_a_check_become_columns(tmp_path):
    spec = S("threads", 2, 1.0, 1.0, workload="shared_state_unsafe")
    spec.figures = {"lost_updates": 12}
    write_variant(tmp_path, "h", "3.13t", [S("sequential", 1, 1.0, 1.0,
                                                workload="shared_state_unsafe"), spec])
    b = analysis.benchmarks_table(analysis.load_raw(tmp_path))
    assert b.loc[b["strategy"] == "threads", "figure_lost_updates"].iloc[0] == 12


def test_csv_ok_row_without_values_is_kept_as_missing(tmp_path):
    write_variant(tmp_path, "h", "3.13", [S("sequential", 1, 1.0, 1.0)])
    csv = tmp_path / "h" / "3.13.csv"
    line = csv.read_text().splitlines()[1].replace("sequential/1", "threads/2").replace(
        ",sequential,1,", ",threads,2,")
    csv.write_text(csv.read_text() + line + "\n")
    raw = analysis.load_raw(tmp_path)
    miss = raw[raw["name"] == "cpu_sum_squares/threads/2"].iloc[0]
    assert miss["status"] == "missing" and "absent from 3.13.json" in miss["error"]


def test_two_hosts_merge_into_the_same_tables(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "a", "3.13", [S("sequential", 1, 1.0, 1.0)])
    write_variant(raw, "a", "3.13t", [S("sequential", 1, 1.5, 1.5)], cpu_count=2)
    write_variant(raw, "b", "3.13", [S("sequential", 1, 2.0, 2.0)], cpu_count=8)
    write_variant(raw, "b", "3.13t", [S("sequential", 1, 2.2, 2.2)], cpu_count=8)
    res = analysis.regenerate(raw, tmp_path, figures=False)
    bench = pd.read_csv(tmp_path / "benchmarks.csv")
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert sorted(set(bench["host"])) == ["a", "b"] and len(bench) == 4
    assert len(summary) == 4
    # each host is compared with its own 3.13: 1.5/1.0 on a, 2.2/2.0 on b
    assert _row(summary, "3.13t", host="a")["slowdown"] == approx(1.5, rel=1e-5)
    assert _row(summary, "3.13t", host="b")["slowdown"] == approx(1.1, rel=1e-5)
    assert _row(summary, "3.13t", host="b")["cpu_count"] == 8
    assert set(res.metadata["host"]) == {"a", "b"}


def test_missing_baseline_gives_empty_comparisons_and_a_note(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13t", [S("sequential", 1, 1.2, 1.2), S("threads", 2, 0.6, 0.6)])
    res = analysis.regenerate(raw, tmp_path, figures=False)
    t = _row(res.summary, "3.13t")
    for col in ("slowdown", "gain_best", "gain_threads"):
        assert pd.isna(t[col]) and pd.isna(t[f"{col}_significant"]), col
    assert pd.isna(t["break_even_workers"])
    assert "no successful 3.13 run" in t["note"] or "no baseline" in t["note"]
    assert t["speedup_threads"] == approx(2.0)  # what needs no baseline is still there
    claims = res.claims.set_index("claim_id")["verdict"]
    assert claims["ft-single-thread"] == "not measured"
    assert "cannot say" in analysis.verdict(res.summary, "cpu_sum_squares")
    assert "3.13" in (tmp_path / "REPORT.md").read_text()


def test_a_variant_whose_every_benchmark_failed_is_reported_not_dropped(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [S("sequential", 1, 1.0, 1.0), S("threads", 2, 1.1, 1.1)])
    write_variant(raw, "h", "3.13t", [  # no .json at all: only the CSV lists them
        Spec("cpu_sum_squares", "cpu", "sequential", 1, status="failed", error="ImportError: x"),
        Spec("cpu_sum_squares", "cpu", "threads", 2, status="timeout", error="killed")])
    assert not (raw / "h" / "3.13t.json").exists()
    res = analysis.regenerate(raw, tmp_path)
    t = _row(res.summary, "3.13t")
    assert t["n_ok"] == 0 and t["n_failed"] == 2 and pd.isna(t["slowdown"])
    assert "no successful sequential run of 3.13t" in t["note"]
    assert t["free_threaded"] == "yes"  # from the variant name when no run says it
    assert len(analysis.failures_table(res.benchmarks)) == 2
    assert "ImportError: x" in (tmp_path / "REPORT.md").read_text()
    assert "3.13t" in analysis.describe_runs(res)  # the notebook's first cell: no crash on NaN provenance


def test_corrupt_json_names_the_file(tmp_path):
    write_variant(tmp_path, "h", "3.13t", [S("sequential", 1, 1.0, 1.0)])
    path = tmp_path / "h" / "3.13t.json"
    path.write_text("this is not json")
    with pytest.raises(AnalysisError, match=r"h/3\.13t\.json: not valid pyperf JSON"):
        analysis.load_raw(tmp_path)


def test_truncated_json_names_the_file(tmp_path):
    write_variant(tmp_path, "h", "3.13", [S("sequential", 1, 1.0, 1.0)])
    path = tmp_path / "h" / "3.13.json"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(AnalysisError, match=r"h/3\.13\.json: not valid pyperf JSON"):
        analysis.load_raw(tmp_path)


def test_json_that_is_not_a_pyperf_suite_names_the_file(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "3.13.json").write_text(json.dumps({"version": "1.0", "hello": 1}))
    with pytest.raises(AnalysisError, match=r"3\.13\.json: not valid pyperf JSON"):
        analysis.load_raw(tmp_path)


def test_truncated_csv_names_the_file(tmp_path):
    write_variant(tmp_path, "h", "3.13", [S("sequential", 1, 1.0, 1.0),
                                          Spec("w", "cpu", "threads", 2, status="failed",
                                               error="boom")])
    csv = tmp_path / "h" / "3.13.csv"
    csv.write_text(csv.read_text()[:-40])
    with pytest.raises(AnalysisError, match=r"h/3\.13\.csv: line 3"):
        analysis.load_raw(tmp_path)


def test_json_variant_mismatch_is_an_error(tmp_path):
    write_variant(tmp_path, "h", "3.13", [S("sequential", 1, 1.0, 1.0)])
    (tmp_path / "h" / "3.13.json").rename(tmp_path / "h" / "3.13t.json")
    with pytest.raises(AnalysisError, match=r"3\.13t\.json: .* measured as variant '3\.13'"):
        analysis.load_raw(tmp_path)


def test_no_results_is_its_own_error(tmp_path):
    with pytest.raises(NoResults):
        analysis.load_raw(tmp_path / "nothing")
    (tmp_path / "raw" / "h").mkdir(parents=True)
    with pytest.raises(NoResults):
        analysis.load_raw(tmp_path / "raw")
    assert "No results to analyse" in analysis.open_results(tmp_path).message


def test_reads_what_the_runner_writes(tmp_path):
    """harness.measure.results.VariantStore writes the files; the analysis must read them back."""
    import pyperf
    from synth import run_metadata

    from harness.measure.results import VariantStore

    store = VariantStore(tmp_path, "h", "3.13")
    store.load({"profile": "quick"}, fresh=False)
    spec = S("sequential", 1, 1.0, 1.1)
    bench = pyperf.Benchmark([pyperf.Run(v, metadata=run_metadata(spec, "h", "3.13", 2, i),
                                         collect_metadata=False)
                              for i, v in enumerate(spec.runs)])
    identity = {"workload": "cpu_sum_squares", "kind": "cpu", "strategy": "sequential",
                "workers": 1}
    store.record(spec.name, identity, "ok", bench=bench)
    store.record("cpu_sum_squares/threads/2", {**identity, "strategy": "threads", "workers": 2},
                 "failed", "CheckFailed: wrong")
    raw = analysis.load_raw(tmp_path / "raw")
    assert sorted(raw["status"]) == ["failed", "ok"]
    assert raw.loc[raw["status"] == "ok", "values"].iloc[0] == (1.0, 1.1)


# --- CLI, report, plots, notebook -----------------------------------------------------------------


def test_cli_writes_everything(tmp_path, capsys):
    model_results(tmp_path / "raw")
    assert analysis.main(["--raw", str(tmp_path / "raw"), "--out", str(tmp_path)]) == 0
    for name in ("benchmarks.csv", "ratios.csv", "summary.csv", "scaling.csv", "claims.csv", "flavours.csv",
                 "REPORT.md"):
        assert (tmp_path / name).stat().st_size > 0
    report = (tmp_path / "REPORT.md").read_text()
    for heading in ("## Headline", "## The lecture's claims", "### Hosts", "## How to read it",
                    "Known-truth", "## Measurement hygiene",
                    "### Interpreters and provenance", "93e583f2", "--disable-gil"):
        assert heading in report
    assert "figures/headline_h1.png" in report


def test_cli_error_is_one_line_naming_the_file(tmp_path, capsys):
    write_variant(tmp_path, "h", "3.13", [S("sequential", 1, 1.0, 1.0)])
    (tmp_path / "h" / "3.13.json").write_text("{")
    assert analysis.main(["--raw", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ftbench: error: ") and "h/3.13.json" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out" / "summary.csv").exists()


def _png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


def test_plots_are_non_empty_pngs_for_any_core_count(tmp_path):
    model_results(tmp_path / "raw", hosts=("two", "eight"), cores=2)
    model_results(tmp_path / "raw", hosts=("eight",), cores=8)
    res = analysis.regenerate(tmp_path / "raw", tmp_path)
    kinds = {(f.kind, f.host) for f in res.figures}
    for host in ("two", "eight"):
        assert {("scaling", host), ("slowdown", host), ("headline", host),
                ("memory", host)} <= kinds
    assert all(_png(Path(f.path)) for f in res.figures)
    assert len(res.figure_paths("scaling", "io_download")) == 2


def test_plots_survive_a_lone_variant(tmp_path):
    write_variant(tmp_path / "raw", "h", "3.13t", [S("sequential", 1, 1.2, 1.2),
                                                   S("threads", 2, 0.7, 0.6)])
    res = analysis.regenerate(tmp_path / "raw", tmp_path)
    assert res.figures and all(_png(Path(f.path)) for f in res.figures)


def _execute_notebook(results: Path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.setenv("FTBENCH_RESULTS", str(results))
    nb = nbformat.read(REPO / "analysis.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            text.append(json.dumps(out.get("data", {}).get("text/markdown", "")))
            text.append(json.dumps(out.get("data", {}).get("text/html", "")))
    images = sum("image/png" in out.get("data", {})
                 for c in nb.cells for out in c.get("outputs", []))
    return "\n".join(text), images


def test_notebook_executes_headless_on_synthetic_results(tmp_path, monkeypatch):
    model_results(tmp_path / "raw")
    text, images = _execute_notebook(tmp_path, monkeypatch)
    assert "3.13t" in text and ("pays off" in text or "inconclusive" in text)
    assert "refuted" in text  # the claims table, threads on 3.13t
    assert images >= 5
    assert (tmp_path / "summary.csv").exists()


def test_notebook_says_clearly_when_there_is_nothing(tmp_path, monkeypatch):
    text, images = _execute_notebook(tmp_path, monkeypatch)
    assert "No results to analyse" in text and images == 0


def test_notebook_is_paired_with_its_py_percent_source():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(REPO / "analysis.ipynb", as_version=4)
    source = (REPO / "analysis.py").read_text()
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code and all(c in source for c in code)
    # committed executed, with its outputs: a reviewer reads it without running anything
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def test_notebook_executes_on_the_committed_results_and_reproduces_them(tmp_path, monkeypatch):
    """The published CSVs and report are exactly what the analysis derives from the raw files."""
    published = REPO / "results"
    assert (published / "raw").is_dir(), "no published run under results/raw"
    shutil.copytree(published / "raw", tmp_path / "raw")
    if (published / "reruns").is_dir():  # a rerun beside the published set: the report compares the two
        shutil.copytree(published / "reruns", tmp_path / "reruns")
    text, images = _execute_notebook(tmp_path, monkeypatch)
    assert images >= 5 and "refuted" in text
    for name in ("benchmarks.csv", "ratios.csv", "summary.csv", "scaling.csv", "claims.csv", "flavours.csv",
                 "REPORT.md", *(["reproducibility.csv"] if (published / "reruns").is_dir() else [])):
        assert (tmp_path / name).read_text() == (published / name).read_text(), name
    res = analysis.regenerate(tmp_path / "raw", tmp_path / "again", figures=False)
    readme = (REPO / "README.md").read_text()
    assert report.readme_headline(res) in readme  # README's table is the real one


def test_busy_cores_figure_when_recorded(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [_runs("sequential", 1, [1.0, 1.01, 0.99], 1.0),
                                     _runs("threads", 2, [1.0, 1.02, 0.99], 1.0)])
    write_variant(raw, "h", "3.13t", [_runs("sequential", 1, [1.2, 1.21, 1.19], 1.0),
                                      _runs("threads", 2, [0.61, 0.6, 0.62], 1.95)])
    res = analysis.regenerate(raw, tmp_path)
    busy = res.figure_paths("busy")
    assert len(busy) == 1 and _png(Path(busy[0]))


def test_no_interpreter_version_literal_in_the_analysis():
    import re

    for path in (REPO / "harness" / "analysis").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"""["']3\.\d+t?(-gil)?["']""", text), path
        assert "vs313" not in text, path


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
