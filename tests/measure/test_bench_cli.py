"""harness.measure.bench's command line: bad input, the plan, the progress line and the speedup table.

Fast tests run on the host Python (parse_args and plan are pure; the CLI is run as a real
subprocess). The slow ones run a real --quick campaign on ftbench's 3.13t build.
"""

import re
import subprocess
import sys
from types import SimpleNamespace

import pyperf
import pytest
from conftest import REPO

from harness.measure import bench, console, worker
from harness.measure.bench import UsageError, parse_args, plan
from harness.measure.planned import Planned
from harness.measure.workload import ALL_STRATEGIES, SIZES, Workload, io_sweep
from workloads.cpu_sum_squares import WORKLOAD as CPU

STRATEGIES = ", ".join(ALL_STRATEGIES)  # the valid strategies, named in every refusal


def _cli(tmp_path, *args):
    results = tmp_path / "results"
    r = subprocess.run([sys.executable, "-m", "harness.measure.bench", *args, "--results", str(results)],
                       capture_output=True, text=True, cwd=REPO, timeout=30)
    return r, results


@pytest.mark.parametrize(("args", "message"), [
    (["--variant", "nope"], "unknown variant 'nope'; valid: 3.13, 3.13t, 3.13t-gil"),
    (["--variant", "3.13t", "--profile", "nope"], "unknown profile 'nope'; valid: quick, default, rigorous"),
    (["--variant", "3.13t", "--quick", "--profile", "rigorous"], "--profile rigorous contradicts --quick"),
    (["--variant", "3.13t", "--size", "huge"], "unknown size 'huge'; valid: tiny, quick, default, rigorous"),
    (["--variant", "3.13t", "--workloads", "nope"], "unknown workload 'nope'; valid: "),
    (["--variant", "3.13t", "--workloads", "cpu_sum_squares,"], "--workloads 'cpu_sum_squares,': empty item"),
    (["--variant", "3.13t", "--strategies", "threads,greenlets"],
     f"unknown strategy 'greenlets'; valid: {STRATEGIES}"),
    (["--variant", "3.13t", "--strategies", ""], f"--strategies '': empty item; valid: {STRATEGIES}"),
    (["--variant", "3.13t", "--workers", "0"], "--workers '0': expected integers >= 1, e.g. 1,2,4"),
    (["--variant", "3.13t", "--workers", "-1"], "--workers '-1': expected integers >= 1, e.g. 1,2,4"),
    (["--variant", "3.13t", "--workers", "abc"], "--workers 'abc': expected integers >= 1, e.g. 1,2,4"),
    (["--variant", "3.13t", "--workers", "1.5"], "--workers '1.5': expected integers >= 1, e.g. 1,2,4"),
    (["--variant", "3.13t", "--workers", ""], "--workers '': empty item; valid: integers >= 1"),
    (["--variant", "3.13t", "--workers", "1,,2"], "--workers '1,,2': empty item; valid: integers >= 1"),
    (["--variant", "3.13t", "--timeout", "0"], "--timeout '0': expected a finite number > 0"),
    (["--variant", "3.13t", "--timeout", "soon"], "--timeout 'soon': expected a finite number > 0"),
    (["--variant", "3.13t", "--latency", "a:b"],
     "--latency 'a:b': expected LO:HI seconds with 0 <= LO <= HI <= 60, e.g. 0.02:0.05"),
    (["--variant", "3.13t", "--option", "unsafe"], "--option 'unsafe': expected KEY=VALUE"),
    (["--variant", "3.13t", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: --variant or --variants; valid: 3.13, 3.13t, 3.13t-gil"),
])
def test_bad_input_exits_2_with_one_line_and_touches_nothing(tmp_path, args, message):
    r, results = _cli(tmp_path, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ftbench bench: error: "), r.stderr
    assert message in lines[0]
    assert r.stdout == "" and not results.exists()


def test_unknown_workload_lists_every_workload(tmp_path):
    r, _ = _cli(tmp_path, "--variant", "3.13", "--workloads", "cpu_sum_squares,nope")
    valid = r.stderr.split("valid: ")[1].strip().split(", ")
    assert "cpu_sum_squares" in valid and "io_download" in valid


def test_a_python_that_is_not_the_variant_is_refused(tmp_path):
    # The host Python (3.11, default build) is neither 3.13 nor 3.13t: refused after the input checks.
    r, results = _cli(tmp_path, "--variant", "3.13t", "--quick", "--workloads", "cpu_sum_squares")
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"ftbench bench: error: variant 3.13t cannot run on this default Python "
        f"{'.'.join(map(str, sys.version_info[:3]))} ({sys.executable}); give --python 3.13t=PATH, "
        "or use nox -s bench-3.13t (or nox -s bench for every variant)"]
    assert not results.exists()


# --- the plan ---------------------------------------------------------------------------------------


def _io_task(x):
    return x


async def _io_atask(x, session):
    return x


IO = Workload(name="io_fake", kind="io", description="", sizes={s: {} for s in SIZES},
              make_tasks=lambda p, c: [], task=_io_task, atask=_io_atask, async_session=None,
              check=lambda t, r, s: None, sweep=io_sweep)
HIDDEN = Workload(name="hidden", kind="cpu", description="", sizes={s: {} for s in SIZES},
                  make_tasks=lambda p, c: [], task=_io_task, check=lambda t, r, s: None,
                  strategies=("sequential", "threads"), in_default_suite=False)
WORKLOADS = {w.name: w for w in (CPU, IO, HIDDEN)}


def _plan(*argv, cores=2):
    return [p.name for p in plan(parse_args(["--variant", "3.13t", *argv]), WORKLOADS, cores)]


def test_default_sweep_depends_on_the_cores_for_cpu_only():
    for cores, sweep in ((2, [2, 4]), (8, [2, 4, 8, 16]), (3, [2, 4, 6]), (1, [2])):
        names = _plan(cores=cores)
        cpu = [n for n in names if n.startswith("cpu_sum_squares/")]
        assert cpu == ["cpu_sum_squares/sequential/1",
                       *[f"cpu_sum_squares/threads/{n}" for n in sweep],
                       *[f"cpu_sum_squares/processes/{n}" for n in sweep],
                       "cpu_sum_squares/asyncio/1",  # no atask: coroutines calling the task, one worker
                       *[f"cpu_sum_squares/asyncio_threads/{n}" for n in sweep]]
        io = [n for n in names if n.startswith("io_fake/")]
        assert io == ["io_fake/sequential/1", *[f"io_fake/{s}/{n}" for s in
                                                 ("threads", "processes", "asyncio", "asyncio_threads")
                                                 for n in (4, 16, 64)]]
        assert not any(n.startswith("hidden/") for n in names)  # not in the default suite


def test_workers_override_keeps_sequential_at_one():
    names = _plan("--workloads", "cpu_sum_squares", "--workers", "8,2,2", cores=2)
    assert names == ["cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2", "cpu_sum_squares/threads/8",
                     "cpu_sum_squares/processes/2", "cpu_sum_squares/processes/8", "cpu_sum_squares/asyncio/1",
                     "cpu_sum_squares/asyncio_threads/2", "cpu_sum_squares/asyncio_threads/8"]


def test_filters_and_order():
    assert _plan("--workloads", "hidden,io_fake", "--strategies", "threads,sequential", "--workers", "1") == [
        "hidden/sequential/1", "hidden/threads/1", "io_fake/sequential/1", "io_fake/threads/1"]
    assert _plan("--workloads", " cpu_sum_squares ", "--strategies", "sequential") == ["cpu_sum_squares/sequential/1"]


def test_filters_that_leave_nothing_are_bad_input():
    with pytest.raises(UsageError, match="the filters leave no benchmark to run"):
        _plan("--workloads", "hidden", "--strategies", "processes")


def test_profiles_and_sizes():
    args = parse_args(["--variant", "3.13", "--quick"])
    assert (args.profile, args.size, args.timeout) == ("quick", "quick", bench.DEFAULT_TIMEOUT)
    args = parse_args(["--variant", "3.13", "--rigorous", "--size", "tiny", "--timeout", "5"])
    assert (args.profile, args.size, args.timeout) == ("rigorous", "tiny", 5.0)
    assert parse_args(["--variant", "3.13t-gil", "--profile", "quick", "--quick"]).profile == "quick"
    assert parse_args(["--variant", "3.13", "--latency", "0.01"]).latency == (0.01, 0.01)


# --- progress line, speedup table, error line, GIL verdict ------------------------------------------


def _bench(name, values, **run_meta):
    run = pyperf.Run(values, metadata={"name": name, "loops": 1, **run_meta}, collect_metadata=False)
    return pyperf.Benchmark([run])


def test_progress_line_format():
    ok = console.progress_line(3, 12, "cpu_sum_squares/threads/2", "ok", "", _bench("x", [0.5, 0.5]))
    assert ok == f"[3/12] {'cpu_sum_squares/threads/2':<36}    500.0 ms +-      0.0 ms  ok"
    assert re.fullmatch(r"\[1/1\] w/s/1 +\s+12\.00 s  \+- +0\.0 ms  ok",
                        console.progress_line(1, 1, "w/s/1", "ok", "", _bench("x", [12.0])))
    assert console.progress_line(2, 9, "w/threads/2", "timeout", "killed after 5 s", None) == \
        f"[2/9] {'w/threads/2':<36} TIMEOUT: killed after 5 s"
    assert console.progress_line(4, 9, "w/s/1", "failed", "ValueError: boom", None).endswith(
        " FAILED: ValueError: boom")


def test_speedup_table():
    planned = [Planned(CPU, s, n) for s, n in
               (("sequential", 1), ("threads", 1), ("threads", 2), ("threads", 4))]
    store = SimpleNamespace(suite=pyperf.BenchmarkSuite([
        _bench("cpu_sum_squares/sequential/1", [1.0, 1.0]),
        _bench("cpu_sum_squares/threads/1", [1.25, 1.25]),
        _bench("cpu_sum_squares/threads/2", [0.5, 0.5]),
        _bench("other/threads/2", [0.1, 0.1]),
    ]))
    assert console.speedup_table(store, planned).splitlines() == [
        f"  {'cpu_sum_squares':<22} {'sequential':<16} 1: 1.00x",
        f"  {'cpu_sum_squares':<22} {'threads':<16} 1: 0.80x  2: 2.00x  4:   --",
    ]
    assert "--" in console.speedup_table(SimpleNamespace(suite=None), planned)  # nothing measured yet


def test_error_line_prefers_the_workers_exception_over_pyperfs_wrapper():
    log = ("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
           "ValueError: ftfault: task 2 exploded\n"
           "Traceback (most recent call last):\n  File \"_manager.py\", line 118\n"
           "RuntimeError: /venv/bin/python failed with exit code 1\n")
    assert worker.error_line(log, 1) == "ValueError: ftfault: task 2 exploded"
    assert worker.error_line("harness.measure.workload.CheckFailed: sum_squares(3) = 4, expected 5\n"
                             "RuntimeError: /p failed with exit code 1\n", 1) == \
        "harness.measure.workload.CheckFailed: sum_squares(3) = 4, expected 5"
    assert worker.error_line("RuntimeError: /p failed with exit code 1\n", 1) == \
        "RuntimeError: /p failed with exit code 1"
    assert worker.error_line("some output\nlast words\n", 3) == "last words"
    assert worker.error_line("", -9) == "exit status -9"


def test_gil_verdict():
    gil_on = _bench("w/s/1", [1.0], ftbench_gil_enabled="yes", ftbench_gil_reenabled_by="ftgilext")
    gil_off = _bench("w/s/1", [1.0], ftbench_gil_enabled="no")
    assert "re-enabled by module ftgilext (--allow-gil to accept)" in worker.gil_verdict(gil_on, "3.13t", False)
    assert worker.gil_verdict(gil_on, "3.13t", True) == ""
    assert worker.gil_verdict(gil_off, "3.13t", False) == ""
    assert "PYTHON_GIL=1 not honoured" in worker.gil_verdict(gil_off, "3.13t-gil", False)
    assert worker.gil_verdict(gil_on, "3.13t-gil", False) == ""
    assert worker.gil_verdict(gil_on, "3.13", False) == ""


# --- end to end on the real 3.13t --------------------------------------------------------------------


@pytest.mark.slow
def test_quick_campaign_on_313t_records_everything(runner):
    r = runner.run("--quick", "--size", "tiny", "--workloads", "cpu_sum_squares", "--workers", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    names = ["cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2", "cpu_sum_squares/processes/2",
             "cpu_sum_squares/interpreters/2", "cpu_sum_squares/asyncio/1", "cpu_sum_squares/asyncio_threads/2"]
    progress = [ln for ln in r.stdout.splitlines() if ln.startswith("[")]
    assert [ln.split()[1] for ln in progress] == names
    assert all(re.fullmatch(rf"\[{k}/6\] \S+ +[\d.]+ m?s +\+- +[\d.]+ m?s +ok", ln)
               for k, ln in enumerate(progress, 1)), progress
    assert "6 benchmarks, 0 already measured, profile quick" in r.stdout
    assert "speedup vs sequential on 3.13t" in r.stdout and "threads          2:" in r.stdout

    suite = runner.suite()
    assert sorted(suite.get_benchmark_names()) == sorted(names)
    sha = runner.state()["settings"]["source_sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", sha)
    for b in suite.get_benchmarks():
        wl, strategy, workers = b.get_name().split("/")
        for run in b.get_runs():
            if not run.values:
                continue
            meta = run.get_metadata()
            assert meta["ftbench_gil_enabled"] == "no" and meta["ftbench_free_threaded"] == "yes"
            assert (meta["ftbench_workload"], meta["ftbench_strategy"], meta["ftbench_workers"]) == \
                (wl, strategy, int(workers))
            assert meta["ftbench_variant"] == "3.13t" and meta["ftbench_kind"] == "cpu"
            assert meta["ftbench_check"] == "ok" and meta["ftbench_peak_rss"] > 10_000_000
            assert meta["ftbench_source_sha256"] == sha and "--disable-gil" in meta["ftbench_configure_args"]
            assert meta["ftbench_size"] == "tiny" and meta["ftbench_profile"] == "quick"
            assert meta["ftbench_pyperf"] == "2.10.0" and meta["ftbench_accelerators"] == "pure"
            for key in ("ftbench_start_method", "ftbench_numpy", "ftbench_aiohttp", "ftbench_requests",
                        "ftbench_c_extensions", "ftbench_compiler", "ftbench_build_date", "python_version"):
                assert meta.get(key), key
    rows = runner.csv_rows()
    assert sorted(rows) == sorted(names)
    assert all(row["status"] == "ok" and row["gil_enabled"] == "no" and float(row["mean"]) > 0
               for row in rows.values())
    show = subprocess.run([str(runner.python), "-m", "pyperf", "show", str(runner.raw / "3.13t.json")],
                          capture_output=True, text=True, timeout=60)
    assert show.returncode == 0 and "cpu_sum_squares/threads/2" in show.stdout, show.stderr


@pytest.mark.slow
def test_control_variant_runs_the_313t_binary_with_the_gil(runner):
    runner.variant = "3.13t-gil"
    r = runner.run("--quick", "--size", "tiny", "--workloads", "ftfault_ok", "--strategies", "threads",
                  "--workers", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    (b,) = runner.suite().get_benchmarks()
    metas = [run.get_metadata() for run in b.get_runs() if run.values]
    assert metas and all(m["ftbench_gil_enabled"] == "yes" and m["ftbench_free_threaded"] == "yes"
                         and m["ftbench_variant"] == "3.13t-gil" for m in metas)
