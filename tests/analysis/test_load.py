"""harness.analysis.load: raw pyperf files (built with pyperf.Run / Benchmark / BenchmarkSuite, corrupt
ones included) into one row per benchmark; nothing measured is dropped, bad input names its file."""

import json

import pytest

pd = pytest.importorskip("pandas")

from handmade import S, approx, write_hand  # noqa: E402
from synth import Spec, write_variant  # noqa: E402

from harness import analysis  # noqa: E402
from harness.analysis import AnalysisError, NoResults  # noqa: E402


@pytest.fixture
def hand(tmp_path):
    """Raw results whose ratios are computed by hand (handmade.write_hand)."""
    return write_hand(tmp_path)


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
