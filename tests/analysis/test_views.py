"""harness.analysis.views: summary.csv and scaling.csv pivoted from the ratios, against numbers
computed by hand, with every gap explained in a note."""

import math

import pytest

pd = pytest.importorskip("pandas")

from handmade import S, approx, row_of, runs_with_metadata, write_hand  # noqa: E402
from synth import Spec, write_variant  # noqa: E402

from harness import analysis  # noqa: E402


@pytest.fixture
def hand(tmp_path):
    """Raw results whose ratios are computed by hand (handmade.write_hand)."""
    return write_hand(tmp_path)


def test_summary_ratios_by_hand(hand):
    s = analysis.summary_table(analysis.load_raw(hand))
    t = row_of(s, "3.13t")
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


def test_summary_flags_a_ratio_whose_interval_contains_one(hand):
    s = analysis.summary_table(analysis.load_raw(hand))
    g = row_of(s, "3.13t-gil")
    assert g["role"] == "control" and g["slowdown"] == approx(1.0)
    assert g["slowdown_ci_low"] < 1 < g["slowdown_ci_high"]
    assert g["slowdown_verdict"] == "inconclusive"
    assert pd.isna(g["break_even_workers"])  # 1.0 s threads never beat 3.13's 0.5 s


def test_summary_baseline_row_compares_with_itself(hand):
    b = row_of(analysis.summary_table(analysis.load_raw(hand)), "3.13")
    assert b["slowdown"] == 1.0 and b["slowdown_verdict"] == "baseline"
    assert b["gain_best"] == 1.0 and pd.isna(b["break_even_workers"])
    assert b["speedup_processes"] == approx(2.0) and "CI n/a" in b["note"]


def test_new_run_metadata_flagged_runs_busy_cores_and_why(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [runs_with_metadata("sequential", 1, [1.0, 1.01, 0.99], 1.0),
                                     runs_with_metadata("threads", 2, [1.0, 1.02, 0.99], 1.0)])
    write_variant(raw, "h", "3.13t", [
        runs_with_metadata("sequential", 1, [1.2, 1.21, 1.19, 9.0], 1.0, flagged=(3,)),  # a disturbed run
        runs_with_metadata("threads", 2, [0.61, 0.6, 0.62], 1.95, mem=60 * 2**20),
        runs_with_metadata("processes", 2, [0.9, 0.91, 0.9], 1.9, mem=300 * 2**20)])
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
    write_variant(raw, "h", "3.13t", [runs_with_metadata("sequential", 1, [1.0, 1.0, 1.01], 1.0, weak=True),
                                      runs_with_metadata("threads", 2, [1.25, 1.24, 1.26], 1.9, weak=True)])
    res = analysis.analyse(raw)
    r = res.ratios[(res.ratios["strategy"] == "threads") & (res.ratios["metric"] != "regret")].iloc[0]
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
    assert row_of(summary, "3.13t", host="a")["slowdown"] == approx(1.5, rel=1e-5)
    assert row_of(summary, "3.13t", host="b")["slowdown"] == approx(1.1, rel=1e-5)
    assert row_of(summary, "3.13t", host="b")["cpu_count"] == 8
    assert set(res.metadata["host"]) == {"a", "b"}


def test_missing_baseline_gives_empty_comparisons_and_a_note(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13t", [S("sequential", 1, 1.2, 1.2), S("threads", 2, 0.6, 0.6)])
    res = analysis.regenerate(raw, tmp_path, figures=False)
    t = row_of(res.summary, "3.13t")
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
    t = row_of(res.summary, "3.13t")
    assert t["n_ok"] == 0 and t["n_failed"] == 2 and pd.isna(t["slowdown"])
    assert "no successful sequential run of 3.13t" in t["note"]
    assert t["free_threaded"] == "yes"  # from the variant name when no run says it
    assert len(analysis.failures_table(res.benchmarks)) == 2
    assert "ImportError: x" in (tmp_path / "REPORT.md").read_text()
    assert "3.13t" in analysis.describe_runs(res)  # the notebook's first cell: no crash on NaN provenance
