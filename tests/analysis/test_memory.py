"""harness.analysis.memory: the memory ratios of ratios.csv, their reading, and their known truth.

Fast tests write hand-made results (tests/synth.py) whose per-process peaks and rounds are chosen
here, and check ratios_table's memory rows against the formulas computed by hand; the Monte Carlo
check (marker known_truth) draws peaks of a known true ratio and asserts the coverage of the
intervals memory_ratios returns, two-sided.
"""

import math
import statistics

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from handmade import approx  # noqa: E402
from synth import Spec, write_variant  # noqa: E402

from harness import analysis  # noqa: E402
from harness.analysis import memory  # noqa: E402
from harness.analysis.cells import WorkloadCell  # noqa: E402
from harness.analysis.pairing import series  # noqa: E402
from harness.intervals import paired_ratio_interval  # noqa: E402

MIB = 2 ** 20
W = "cpu_sum_squares"


def spec(strategy, workers, times, peaks=None, rounds=True, method="pss", stage="", invocation="inv-1"):
    """One benchmark, one process per round (rounds 1, 2, ...), each with its peak tree memory."""
    run_meta = []
    for i in range(len(times)):
        m = {}
        if rounds:
            m |= {"ftbench_round": i + 1, "ftbench_invocation": invocation}
        if peaks is not None:
            m |= {"ftbench_peak_tree_memory": int(peaks[i]), "ftbench_memory_method": method}
        run_meta.append(m)
    return Spec(W, "cpu", strategy, workers, [[t] for t in times], run_meta=run_meta, stage=stage)


def mib(*xs):
    return [int(x * MIB) for x in xs]


BASE_SEQ = mib(20, 21, 20.5, 20.2)
FT_SEQ = mib(26, 26.6, 25.8, 26.1)
BASE_THREADS = mib(22, 22.4, 21.8, 22.2)
FT_THREADS = mib(30, 31, 29.5, 30.2)


def _write(tmp_path, with_memory=True, **kw):
    """3.13 and 3.13t, sequential and threads x2, four processes each in rounds 1-4."""
    peaks = (lambda xs: xs) if with_memory else (lambda xs: None)  # noqa: E731
    write_variant(tmp_path, "h", "3.13", [spec("sequential", 1, [1.0, 1.01, 0.99, 1.0], peaks(BASE_SEQ), **kw),
                                          spec("threads", 2, [0.9, 0.91, 0.89, 0.9], peaks(BASE_THREADS), **kw)])
    write_variant(tmp_path, "h", "3.13t", [spec("sequential", 1, [1.3, 1.31, 1.29, 1.3], peaks(FT_SEQ), **kw),
                                           spec("threads", 2, [0.7, 0.71, 0.69, 0.7], peaks(FT_THREADS), **kw)])
    return analysis.load_raw(tmp_path)


def _row(ratios, metric, variant="3.13t"):
    sel = ratios[(ratios["variant"] == variant) & (ratios["metric"] == metric)]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_the_sequential_memory_ratio_is_the_paired_ratio_of_the_mean_peaks(tmp_path):
    r = analysis.ratios_table(_write(tmp_path))
    row = _row(r, "memory_ratio")
    by_round = lambda xs: {("inv-1", "sweep", i + 1): x for i, x in enumerate(xs)}  # noqa: E731
    value, low, high, se = paired_ratio_interval(by_round(FT_SEQ), by_round(BASE_SEQ))
    assert row["value"] == approx(statistics.fmean(FT_SEQ) / statistics.fmean(BASE_SEQ))
    assert (row["ci_low"], row["ci_high"], row["se_log"]) == (approx(low), approx(high), approx(se))
    assert row["estimator"] == "paired" and row["df"] == 3 and row["n_processes"] == row["n_processes_baseline"] == 4
    assert (row["strategy"], row["workers"], row["baseline"]) == ("sequential", 1, "3.13 sequential x1")
    assert row["verdict"] == "greater" and row["role"] == "free-threaded"
    assert row["flag"] == "4 rounds"  # a headline interval on fewer than 5 rounds says so
    assert not len(r[(r["variant"] == "3.13") & r["metric"].isin(memory.MEMORY_METRICS)])  # the baseline has none


def test_the_best_option_memory_is_taken_on_the_processes_that_estimate_its_gain(tmp_path):
    """No confirmation: both best options (threads x2) are chosen on processes 2, 4 and estimated
    on 1, 3; the memory ratio of the best options is taken on those same processes 1, 3."""
    r = analysis.ratios_table(_write(tmp_path))
    row, gain = _row(r, "memory_ratio_best"), _row(r, "gain_best")
    assert (row["strategy"], row["workers"], row["baseline"]) == ("threads", 2, "3.13 threads x2")
    assert row["value"] == approx(statistics.fmean(FT_THREADS[0::2]) / statistics.fmean(BASE_THREADS[0::2]))
    assert row["selection"] == gain["selection"] == "chosen on processes 2, 4, ..., estimated on 1, 3, ..."
    assert row["n_processes"] == 2 and row["estimator"] == "paired"


def test_a_confirmed_set_takes_both_memory_ratios_from_the_confirmation_rounds(tmp_path):
    """The current campaign: each variant's best option is measured again beside its sequential
    reference in the confirmation's rounds; the sweep's peaks (deliberately different) are not used."""
    confirm_seq = {"3.13": mib(21, 21.2, 20.9), "3.13t": mib(27, 27.3, 26.8)}
    confirm_best = {"3.13": mib(40, 41, 40.5), "3.13t": mib(30, 30.5, 29.8)}
    best = {"3.13": ("processes", 2), "3.13t": ("threads", 2)}
    for variant, t in (("3.13", 1.0), ("3.13t", 1.3)):
        specs = [spec("sequential", 1, [t] * 3, [99 * MIB] * 3), spec("threads", 2, [t * 0.9] * 3, [99 * MIB] * 3),
                 spec("processes", 2, [t * 0.55 if variant == "3.13" else t] * 3, [99 * MIB] * 3),
                 spec("sequential", 1, [t] * 3, confirm_seq[variant], stage="confirm", invocation="inv-1"),
                 spec(*best[variant], [t * 0.5] * 3, confirm_best[variant], stage="confirm", invocation="inv-1")]
        write_variant(tmp_path, "h", variant, specs)
    r = analysis.ratios_table(analysis.load_raw(tmp_path))
    seq, best_row = _row(r, "memory_ratio"), _row(r, "memory_ratio_best")
    assert seq["value"] == approx(statistics.fmean(confirm_seq["3.13t"]) / statistics.fmean(confirm_seq["3.13"]))
    assert seq["selection"] == "sequential references measured side by side in the confirmation rounds"
    assert best_row["value"] == approx(statistics.fmean(confirm_best["3.13t"]) / statistics.fmean(confirm_best["3.13"]))
    assert (best_row["strategy"], best_row["baseline"]) == ("threads", "3.13 processes x2")
    assert "3 fresh confirmation processes" in best_row["selection"] and best_row["estimator"] == "paired"


def test_without_rounds_the_ratio_is_welch_over_processes_and_says_so(tmp_path):
    r = analysis.ratios_table(_write(tmp_path, rounds=False))
    row = _row(r, "memory_ratio")
    c = analysis.contrast([(np.array(FT_SEQ), 1), (np.array(BASE_SEQ), -1)])
    assert row["estimator"] == "welch" and "rounds not recorded" in row["note"]
    assert (row["value"], row["ci_low"], row["ci_high"]) == (approx(c.value), approx(c.low), approx(c.high))


def test_rss_is_noted_and_two_methods_give_no_ratio(tmp_path):
    r = analysis.ratios_table(_write(tmp_path / "rss", method="rss"))
    assert "peak RSS of the process tree" in _row(r, "memory_ratio")["note"]
    write_variant(tmp_path / "mixed", "h", "3.13", [spec("sequential", 1, [1.0] * 4, BASE_SEQ, method="pss")])
    write_variant(tmp_path / "mixed", "h", "3.13t", [spec("sequential", 1, [1.3] * 4, FT_SEQ, method="rss")])
    row = _row(analysis.ratios_table(analysis.load_raw(tmp_path / "mixed")), "memory_ratio")
    assert math.isnan(row["value"]) and row["verdict"] == "n/a"
    assert "measured as rss for 3.13t sequential x1 and pss for 3.13 sequential x1: no ratio" in row["note"]


def test_results_without_tree_memory_have_no_memory_ratio_and_say_so_in_the_report(tmp_path):
    _write(tmp_path / "raw", with_memory=False)
    res = analysis.regenerate(tmp_path / "raw", tmp_path / "out", figures=False)
    assert not res.ratios["metric"].isin(memory.MEMORY_METRICS).any()
    row = res.summary[res.summary["variant"] == "3.13t"].iloc[0]
    assert math.isnan(row["memory_ratio"])
    assert "No run recorded its process tree's peak memory" in res.report.read_text()


def test_summary_headline_report_and_figure(tmp_path):
    _write(tmp_path / "raw")
    res = analysis.regenerate(tmp_path / "raw", tmp_path / "out")
    s = res.summary.set_index("variant")
    assert s.loc["3.13t", "memory_ratio"] == approx(statistics.fmean(FT_SEQ) / statistics.fmean(BASE_SEQ))
    assert s.loc["3.13", "memory_ratio"] == 1.0 and s.loc["3.13", "memory_ratio_verdict"] == "baseline"
    head = analysis.headline_table(res.summary).set_index("variant")["memory vs baseline"]
    assert head["3.13"] == "baseline" and head["3.13t"].startswith("1.28x [") and head["3.13t"].endswith("(4 rounds)")
    from harness.analysis.report import readme_headline

    assert "memory vs baseline" not in readme_headline(res)  # the README stays within its 10 KB
    text = res.report.read_text()
    assert "## The memory price" in text and "### Memory per unit of speedup" in text
    assert "| h | cpu_sum_squares | 3.13t | 1.28x [" in text
    assert [f.path.name for f in res.figures if f.kind == "memory_per_speedup"] == ["memory_per_speedup_h.png"]


def test_memory_per_speedup_is_read_at_the_reference_workers(tmp_path):
    _write(tmp_path)
    res = analysis.analyse(tmp_path)
    table = memory.memory_per_speedup(res.summary, res.scaling).set_index(["variant", "strategy"])
    ft = table.loc[("3.13t", "threads")]
    assert ft["workers"] == 2 and ft["speedup"] == approx(1.3 / 0.7, rel=1e-3)
    assert ft["peak_tree_memory_mb"] == approx(max(FT_THREADS) / MIB)
    assert ft["mb_per_speedup"] == approx(max(FT_THREADS) / MIB / (1.3 / 0.7), rel=1e-3)
    assert table.loc[("3.13t", "sequential"), "mb_per_speedup"] == approx(max(FT_SEQ) / MIB)
    wide = memory.per_speedup_table(res.summary, res.scaling).set_index("variant")
    assert wide.loc["3.13t", "threads"] == f"{max(FT_THREADS) / MIB / (1.3 / 0.7):.0f} (x2)"


def test_the_memory_sentence_of_the_findings(tmp_path):
    r = analysis.ratios_table(_write(tmp_path))
    seq, best = _row(r, "memory_ratio"), _row(r, "memory_ratio_best")
    fmt = lambda x: f"{x['value']:.2f}x [{x['ci_low']:.2f}-{x['ci_high']:.2f}]"  # noqa: E731
    assert memory.memory_sentence(r, W, "3.13t", "h") == (
        f"3.13t needs {fmt(seq)} (more, beyond the margin) the memory of 3.13 running cpu_sum_squares "
        f"sequentially; at its best option, threads x2, {fmt(best)} (more, beyond the margin) that of 3.13's "
        "best, threads x2.")
    assert memory.memory_sentence(r, W, "3.13t").startswith("On h, 3.13t needs ")  # every host, named
    assert memory.memory_sentence(r, W, "3.13") == ""  # the baseline against itself: no sentence


def _pyperformance(raw, variant, peaks: dict, key="mem_max_rss"):
    """results/raw/h/pyperformance/<variant>.json as pyperf writes it: a calibration run without values
    (and without memory), then one run per process with its peak RSS."""
    import pyperf

    benches = []
    for name, per_process in peaks.items():
        runs = [pyperf.Run([], warmups=[(1, 0.1)], metadata={"name": name}, collect_metadata=False)]
        runs += [pyperf.Run([0.1 + 0.001 * i], metadata={"name": name, **({key: int(m)} if m else {})},
                            collect_metadata=False) for i, m in enumerate(per_process)]
        benches.append(pyperf.Benchmark(runs))
    (raw / "h" / "pyperformance").mkdir(parents=True, exist_ok=True)
    pyperf.BenchmarkSuite(benches).dump(str(raw / "h" / "pyperformance" / f"{variant}.json"), replace=True)


def test_pyperformance_memory_is_pyperfs_peak_rss_per_process(tmp_path):
    raw = tmp_path / "raw"
    _write(raw)
    base = {"nbody": mib(20, 20.2, 19.8), "python_startup": mib(10, 10.1, 9.9), "richards": mib(21, 21, 21)}
    ft = {"nbody": mib(23, 23.2, 22.8), "python_startup": mib(12, 12.1, 11.9), "richards": [mib(25)[0], None, None]}
    _pyperformance(raw, "3.13", base)
    _pyperformance(raw, "3.13t", ft)
    res = analysis.analyse(raw)
    by = res.standard_memory.set_index("benchmark")
    assert by.loc["nbody", "value"] == approx(statistics.fmean(ft["nbody"]) / statistics.fmean(base["nbody"]))
    assert by.loc["nbody", "n_processes"] == 3  # the calibration run has no value: not a process
    assert not by.loc["richards", "compared"] and "no peak RSS for 2 of its 3 processes" in by.loc["richards", "note"]
    geo = res.standard_memory_geomean.iloc[0]
    ratios = [statistics.fmean(ft[b]) / statistics.fmean(base[b]) for b in ("nbody", "python_startup")]
    assert geo["k"] == 2 and geo["geomean"] == approx(math.sqrt(ratios[0] * ratios[1]))
    lines = memory.pyperformance_lines(res.standard_memory_geomean)
    assert lines[0].startswith("- **3.13t vs 3.13** on *h*: 2 benchmarks, geometric mean 1.")
    assert "1 not compared" in lines[0]


def test_a_command_benchmarks_peak_is_the_timed_commands(tmp_path):
    raw = tmp_path / "raw"
    _write(raw)
    _pyperformance(raw, "3.13", {"python_startup": mib(10, 10, 10)}, key="command_max_rss")
    _pyperformance(raw, "3.13t", {"python_startup": mib(12, 12, 12)}, key="command_max_rss")
    row = analysis.analyse(raw).standard_memory.iloc[0]
    assert row["value"] == approx(1.2, rel=1e-6) and row["compared"]


# --- known truth ---------------------------------------------------------------------------------

SEQ = ("sequential", 1)


def _coverage(truth: float, n_sim: int, rounds: int, paired: bool, seed: int = 7) -> dict:
    """memory_ratios on simulated peaks: each process's peak is its truth x a factor shared by the
    round (what the two benchmarks of a round share: the machine's page cache, the allocator's
    state) x its own noise; log-normal, sd drawn per campaign."""
    rng = np.random.default_rng([seed, round(truth * 1e4), rounds])
    inside = above = below = 0
    for _ in range(n_sim):
        shared = rng.normal(0, rng.uniform(0.005, 0.03), rounds)
        sd = rng.uniform(0.002, 0.02)
        cells, peaks = {}, {}
        for variant, true in (("A", 1.0), ("B", truth)):
            values = 30 * MIB * true * np.exp(shared + rng.normal(0, sd, rounds))
            keys = list(range(1, rounds + 1)) if paired else None
            s = series(f"{variant} sequential x1", [(1.0,)] * rounds, keys, ["sim"] * rounds)
            cells[variant] = WorkloadCell("sim", variant, "w", "cpu", 2, {SEQ: s}, {})
            peaks[("sim", variant, "w", "sweep", SEQ)] = memory.Peaks(
                series(s.label, [(float(v),) for v in values], keys, ["sim"] * rounds), "pss")
        got = [m for m in memory.memory_ratios(cells["B"], cells["A"], peaks) if m.metric == "memory_ratio"][0]
        c = got.estimate.contrast
        inside += c.low <= truth <= c.high
        above += c.low > truth
        below += c.high < truth
    return {"coverage": inside / n_sim, "above": above / n_sim, "below": below / n_sim}


@pytest.mark.known_truth
@pytest.mark.parametrize(("truth", "rounds"), [(1.00, 5), (1.05, 5), (1.24, 8), (1.40, 3)])
def test_the_paired_memory_ratio_covers_its_truth_two_sided(truth, rounds):
    got = _coverage(truth, 2000, rounds, paired=True)
    print(f"\nmemory_ratio {truth}, {rounds} rounds, paired: {got}")
    assert 0.93 <= got["coverage"] <= 0.97, got
    assert got["above"] <= 0.04 and got["below"] <= 0.04, got  # each tail near 2.5%


@pytest.mark.known_truth
def test_ignoring_the_rounds_overcovers_which_the_two_sided_bound_catches():
    """Welch over processes (rounds not recorded) counts the factor a round shares twice: too wide an
    interval, whose coverage the upper bound of the check above would refuse."""
    got = _coverage(1.24, 1000, 8, paired=False)
    print(f"\nmemory_ratio 1.24, 8 rounds, Welch: {got}")
    assert got["coverage"] > 0.97 and got["above"] <= 0.04 and got["below"] <= 0.04, got
