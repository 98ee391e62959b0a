"""The verdict in words: sentences generated from the analysis' tables, quoting their figures exactly.

Synthetic campaigns (tests/synth.py) with a known truth give each case: free-threading pays off, does
not, no practical difference, cannot tell (and why), one variant alone, no threads measured; hand-made
runs carry the busy cores behind the "why" sentence. The findings command prints them and writes
nothing; the pipeline writes the README's findings block above its headline.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time

import pytest

pytest.importorskip("pandas")

from handmade import runs_with_metadata  # noqa: E402
from synth import campaign_results, model_results, write_variant  # noqa: E402

from harness import analysis  # noqa: E402
from harness.analysis import findings  # noqa: E402
from harness.analysis.cli import measured_since  # noqa: E402
from harness.analysis.values import fmt_ratio_column  # noqa: E402

CPU = (("cpu_sum_squares", "cpu", 1.0),)
THREADS = (("threads", 2), ("threads", 4))  # 3.13t's best in these sets (3.13's: processes, 1 / 1.8 = 0.556)


def truth(time: float) -> dict:
    """3.13t's threads at ``time`` (3.13's best, processes x2 and x4, take 1 / 1.8 of a second)."""
    return {("3.13t", o): time for o in THREADS}


def analysed(tmp_path, **kw):
    return analysis.analyse(campaign_results(tmp_path / "raw", workloads=CPU, **kw))


def row(res, variant="3.13t", workload="cpu_sum_squares"):
    s = res.summary
    return s[(s["variant"] == variant) & (s["workload"] == workload)].iloc[0].to_dict()


def said(res, workload="cpu_sum_squares", host="h1") -> str:
    return " ".join(findings.sentences(res, host, workload))


def test_pays_off_quotes_the_gain_and_the_price_as_the_headline_table_has_them(tmp_path):
    res = analysed(tmp_path, truth=truth(0.4))
    r = row(res)
    assert r["gain_best_verdict"] == "greater"
    text = said(res)
    assert "free-threading pays off on this 2-core machine" in text
    head = analysis.headline_table(res.summary).set_index("variant")
    for col, cell in (("gain_best", "gain vs baseline best"), ("slowdown", "slowdown vs baseline")):
        figure = fmt_ratio_column(r, col)  # e.g. "1.39x [1.36-1.42]"
        assert figure in text and head.loc["3.13t", cell].startswith(figure)
    assert text.startswith("cpu_sum_squares: 3.13t runs single-threaded code ")
    assert "the control 3.13t-gil" in text


def test_does_not_pay_off_with_the_projected_break_even_of_the_projection_table(tmp_path):
    res = analysed(tmp_path)  # the model: 3.13t 1.3x slower, its threads scale to 0.95 per core
    assert row(res)["gain_best_verdict"] == "less"
    text = said(res)
    assert "free-threading does not pay off on this 2-core machine" in text
    p = res.projection.set_index("variant").loc["3.13t"]
    assert p["status"] == "projected"
    assert f"projected to break even at {p['break_even_cores']:.1f} cores [{p['low']:.1f}-" in text
    assert "pays off on" not in text.replace("does not pay off on", "")


def test_no_practical_difference_only_when_the_ci_lies_inside_the_margin(tmp_path):
    res = analysed(tmp_path, truth=truth(1 / 1.8), confirm_rounds=8, noise=0.005)
    r = row(res)
    assert r["gain_best_verdict"] == "equivalent"
    assert 1 / 1.05 < r["gain_best_ci_low"] and r["gain_best_ci_high"] < 1.05
    assert "no practical difference on this 2-core machine (within +-5%)" in said(res)


def test_inconclusive_says_why_with_the_rounds_and_the_noise_of_the_ratio(tmp_path):
    res = analysed(tmp_path, truth=truth(1 / 1.8), confirm_rounds=3, noise=0.06, seed=4)
    r = row(res)
    assert r["gain_best_verdict"] == "inconclusive"
    text = said(res)
    assert "pays off" not in text and "no practical difference" not in text  # not significant is never confirmed
    ratio = res.ratios[(res.ratios["variant"] == "3.13t") & (res.ratios["metric"] == "gain_best")].iloc[0]
    assert ratio["estimator"] == "paired" and ratio["n_processes"] == 3
    noise = 100 * ratio["se_log"] * math.sqrt(3)  # the spread of one round's ratio behind the interval
    assert "cannot tell within +-5% on this 2-core machine: " in text
    assert re.search(rf"3 rounds, {noise:.1f}% round-to-round noise", text), text
    assert f"{fmt_ratio_column(r, 'gain_best')} (3 rounds)" in text  # the flag the table prints beside it


def test_a_welch_interval_names_the_processes_of_each_side():
    r = {"estimator": "welch", "n_processes": 2, "n_processes_baseline": 3, "se_log": 0.05}
    assert findings.noise_reason(r) == f"2 and 3 processes, {100 * 0.05 / math.sqrt(1 / 2 + 1 / 3):.1f}% " \
                                       "process-to-process noise"
    assert findings.noise_reason({**r, "n_processes_baseline": 1, "se_log": math.nan}) == \
        "2 and 1 processes: too few for an interval"


def test_one_variant_alone_says_its_best_option_and_how_to_compare(tmp_path):
    res = analysed(tmp_path, variants=("3.13t",))
    text = said(res)
    r = row(res)
    assert text.startswith("cpu_sum_squares: only 3.13t measured here: 3.13t's best option (")
    assert fmt_ratio_column(r, "best_speedup") in text and "its sequential speed" in text
    assert "`nox -s bench` measures the variants side by side" in text
    assert "slower" not in text and "pays off;" not in text
    assert "no free-threaded variant measured beside its baseline" in findings.host_line(res, "h1")


def test_one_option_without_a_sequential_run(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13t", [runs_with_metadata("threads", 2, [0.61, 0.6, 0.62], 1.95)])
    text = " ".join(findings.sentences(analysis.analyse(raw), "h", "cpu_sum_squares"))
    assert "3.13t's fastest option is threads x2, with no sequential run to give its speedup" in text
    assert "threads x2 keep 1.95 of the 2 cores busy on 3.13t (no verdict without its speedup)" in text
    assert "not told apart" not in text


def test_benchmarks_that_failed_are_named_with_their_first_error(tmp_path):
    from synth import Spec

    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13t", [
        runs_with_metadata("sequential", 1, [1.2, 1.21, 1.19], 1.0),
        Spec("cpu_sum_squares", "cpu", "threads", 2, status="failed", error="ValueError: boom")])
    write_variant(raw, "h", "3.13", [Spec("cpu_sum_squares", "cpu", "sequential", 1, status="timeout",
                                          error="killed after 9 s")])
    text = " ".join(findings.sentences(analysis.analyse(raw), "h", "cpu_sum_squares"))
    assert "nothing of 3.13 was measured; 3.13t's best option is its sequential run" in text
    assert text.endswith("Not measured: 1 of 3.13's 1 benchmarks (sequential/1 timeout; first error: killed after "
                         "9 s); 1 of 3.13t's 2 benchmarks (threads/2 failed; first error: ValueError: boom).")


def test_without_threads_no_projection_and_it_says_why(tmp_path):
    options = [("sequential", 1), ("processes", 2), ("processes", 4)]
    res = analysed(tmp_path, options=options)
    text = said(res)
    assert "no projected break-even (not measured: 3.13t threads speedup)" in text
    assert "threads x" not in text
    assert text.endswith("No busy cores recorded for these options: no why.")


def test_why_they_stop_quotes_the_busy_cores_and_the_scaling_verdict(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [runs_with_metadata("sequential", 1, [1.0, 1.01, 0.99], 1.0),
                                     runs_with_metadata("threads", 2, [1.0, 1.02, 0.99], 1.0),
                                     runs_with_metadata("processes", 2, [0.55, 0.56, 0.55], 1.9)])
    write_variant(raw, "h", "3.13t", [runs_with_metadata("sequential", 1, [1.2, 1.21, 1.19], 1.0),
                                      runs_with_metadata("threads", 2, [0.61, 0.6, 0.62], 1.95),
                                      runs_with_metadata("processes", 2, [1.0, 1.01, 1.0], 1.9)])
    res = analysis.analyse(raw)
    why = findings.sentences(res, "h", "cpu_sum_squares")[-1]
    assert why == ("Why they stop there: threads x2 keep 1.00 of the 2 cores busy on 3.13 (serialised: one at a "
                   "time) and 1.95 on 3.13t (scaling up to the cores); processes x2 keep 1.90 busy on 3.13 "
                   "(scaling up to the cores).")


def test_the_host_line_counts_the_verdicts(tmp_path):
    res = analysis.analyse(campaign_results(tmp_path / "raw", truth=truth(0.4)))
    line = findings.host_line(res, "h1")
    assert line.startswith("On `h1` (Synthetic CPU @ 3.0GHz, 2 cores), of 2 workloads, 3.13t's best option beat "
                           "3.13's best on 1 (cpu_sum_squares)")
    assert "single-threaded it was slower beyond the margin on 2 (" in line


def test_report_opens_with_the_findings(tmp_path):
    raw = campaign_results(tmp_path / "raw", workloads=CPU)
    res = analysis.regenerate(raw, tmp_path / "out", figures=False)
    report = (tmp_path / "out" / "REPORT.md").read_text()
    assert report.index("## Findings") < report.index("## How to read it") < report.index("## Headline")
    assert " ".join(findings.sentences(res, "h1", "cpu_sum_squares")) in report


def test_the_findings_lead_with_the_newest_set():
    import pandas as pd

    from harness.analysis.results import Results

    res = Results(summary=pd.DataFrame({"host": ["old", "undated", "new", "old"]}),
                  metadata=pd.DataFrame({"host": ["old", "new", "new"],
                                         "date_last": ["2026-12-01 10:00", "2026-11-30 09:00", "2026-12-03 01:00"]}))
    # by when each set's campaign ended, not by name or table order; a set without a date goes last
    assert res.hosts_newest_first == ["new", "old", "undated"]
    assert Results().hosts_newest_first == []


# -- python -m harness.analysis findings ---------------------------------------------------------------------


def files(root) -> dict:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def test_findings_command_prints_the_sentences_and_writes_nothing(tmp_path, capsys):
    raw = campaign_results(tmp_path / "raw", workloads=CPU + (("my_task", "cpu", 0.5),))
    before = files(tmp_path)
    assert analysis.main(["findings", "--raw", str(raw / "h1"), "--workload", "my_task"]) == 0
    out = capsys.readouterr().out
    assert files(tmp_path) == before
    res = analysis.analyse(raw)
    assert " ".join(findings.sentences(res, "h1", "my_task")) in out and "cpu_sum_squares:" not in out


def test_findings_command_on_a_single_variant_set(tmp_path, capsys):
    raw = campaign_results(tmp_path / "raw", workloads=CPU, variants=("3.13t",))
    assert analysis.main(["findings", "--raw", str(raw)]) == 0  # a raw directory holding one set
    assert "only 3.13t measured here" in capsys.readouterr().out


@pytest.mark.parametrize("args, says", [
    (["--raw", "{tmp}/nowhere"], "no such directory"),
    (["--raw", "{tmp}/empty"], "no results set"),
    (["--raw", "{tmp}/raw"], "holds 2 results sets"),
    (["--raw", "{tmp}/raw/h1", "--workload", "nbody"], "--workload nbody: not in"),
    (["--since", "yesterday"], "expected seconds since the epoch"),
    (["--margin", "2"], "expected a fraction in [0, 1)"),
])
def test_findings_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, says):
    model_results(tmp_path / "raw", hosts=("h1", "h2"))
    (tmp_path / "empty").mkdir()
    assert exit_status(["findings", *[a.format(tmp=tmp_path) for a in args]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ftbench: error: ") and says in err and err.count("\n") == 1, err


def exit_status(argv) -> int:
    """main's return value, or the status of the SystemExit argparse raises for a bad argument."""
    try:
        return analysis.main(argv)
    except SystemExit as stop:
        return stop.code


def test_since_keeps_the_sets_written_and_the_workloads_finished_since(tmp_path, capsys):
    raw = campaign_results(tmp_path / "raw", workloads=CPU + (("io_download", "io", 2.0),))
    state = {"benchmarks": {"io_download/asyncio/4": {"finished": "2025-07-01T10:00:05", "workload": "io_download"},
                            "cpu_sum_squares/threads/2": {"finished": "2025-07-01T09:00:00",
                                                          "workload": "cpu_sum_squares"}}}
    (raw / "h1" / "3.13t.state.json").write_text(json.dumps(state))
    start = time.mktime((2025, 7, 1, 10, 0, 0, 0, 0, -1))  # local time, as the state files write it
    assert measured_since(raw / "h1", start) == ["io_download"]
    assert measured_since(raw / "h1", start + 3600) == []
    (raw / "h1" / "3.13t.state.json").write_text("{}")
    assert measured_since(raw / "h1", start) is None  # not recorded: every workload of the set
    assert analysis.main(["findings", "--raw", str(raw), "--since", "0"]) == 0
    out = capsys.readouterr().out
    assert "cpu_sum_squares:" in out and "io_download:" in out and "On `h1`" in out
    future = time.time() + 3600
    assert analysis.main(["findings", "--raw", str(raw), "--since", f"{future:.0f}"]) == 0
    assert "nothing to say" in capsys.readouterr().out


# -- README ----------------------------------------------------------------------------------------------------


def test_the_pipeline_writes_the_findings_block_above_the_headline(tmp_path):
    raw = campaign_results(tmp_path / "raw", workloads=CPU)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{findings.START}\nSTALE\n{findings.END}\n\ntext\n\n<!-- headline:start -->\nSTALE\n"
                      "<!-- headline:end -->\n")
    assert analysis.main(["--raw", str(raw), "--out", str(tmp_path / "out"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    block = text[text.index(findings.START):text.index(findings.END)]
    res = analysis.analyse(raw)
    assert findings.readme_line(res, "h1", "cpu_sum_squares") in block and "STALE" not in text
    assert fmt_ratio_column(row(res), "gain_best") in block
    assert text.index(findings.END) < text.index("<!-- headline:start -->")
    head = text[text.index("<!-- headline:start -->"):]
    assert "| workload | variant |" in head and "| host |" not in head and "tied with fastest" not in head


def test_a_readme_without_the_findings_markers_gets_its_headline_alone(tmp_path):
    raw = model_results(tmp_path / "raw")
    readme = tmp_path / "README.md"
    readme.write_text("<!-- headline:start -->\n<!-- headline:end -->\n")
    assert analysis.main(["--raw", str(raw), "--out", str(tmp_path / "out"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "| workload | variant |" in text and findings.START not in text and "pays off" not in text


# -- the end of a real bench session ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_bench_session_ends_with_the_findings_and_changes_no_published_file(tmp_path):
    from conftest import REPO

    results = tmp_path / "results"
    args = ["--size", "tiny", "--workloads", "cpu_sum_squares", "--strategies", "threads", "--workers", "2",
            "--results", str(results), "--host", "findings-e2e"]
    published = files(REPO / "results")
    run = subprocess.run([sys.executable, "-m", "nox", "-s", "bench-3.13t", "--", *args], cwd=REPO,
                         capture_output=True, text=True, timeout=1800)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-3000:]
    assert f"Findings of {results / 'raw' / 'findings-e2e'}" in log, log[-3000:]
    res = analysis.analyse(results / "raw")
    sentences = " ".join(findings.sentences(res, "findings-e2e", "cpu_sum_squares"))
    assert sentences.startswith("cpu_sum_squares: only 3.13t measured here: ") and sentences in log, log[-3000:]
    assert files(REPO / "results") == published


@pytest.mark.slow
def test_a_bench_session_with_a_failed_benchmark_still_ends_with_the_findings_of_your_own_workloads(tmp_path):
    from conftest import FAULT_WORKLOADS, REPO

    results = tmp_path / "results"
    args = ["--workload-path", str(FAULT_WORKLOADS / "ftfault.py"), "--workloads", "ftfault_ok,ftfault_raise",
            "--strategies", "sequential,threads", "--workers", "1,2", "--results", str(results), "--host", "own"]
    run = subprocess.run([sys.executable, "-m", "nox", "-s", "bench-3.13t", "--", *args], cwd=REPO,
                         capture_output=True, text=True, timeout=1800)
    log = run.stdout + run.stderr
    assert run.returncode == 1 and "some benchmarks produced no time" in log, log[-3000:]
    res = analysis.analyse(results / "raw")
    for workload in ("ftfault_ok", "ftfault_raise"):
        assert " ".join(findings.sentences(res, "own", workload)) in log, log[-3000:]


def test_one_process_a_side_is_said_in_the_singular():
    from harness.analysis.findings import noise_reason

    row = {"n_processes": 1, "n_processes_baseline": 1, "se_log": float("nan"), "estimator": "welch"}
    assert noise_reason(row) == "1 process a side: too few for an interval"
    assert noise_reason(row | {"estimator": "paired"}) == "1 round: too few for an interval"
