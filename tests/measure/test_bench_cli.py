"""harness.measure.bench's parsing and planning: profiles, the plan, host labels, each variant's python.

Pure functions on the host Python (parse_args, plan, host_label, resolve_pythons with fake
pythons); refusals of bad input are in tests/measure/test_reliability_cli.py. The slow tests run a
real --quick campaign on ftbench's 3.13t build.
"""

import os
import re
import subprocess
import sys

import pytest
from conftest import FAKE_DEFAULT, FAKE_FT, FAULT_WORKLOADS, fake_python

from harness.measure import bench
from harness.measure.bench import UsageError, parse_args, plan
from harness.measure.workload import SIZES, Workload, discover, io_sweep
from workloads.cpu_sum_squares import WORKLOAD as CPU

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



def test_good_latencies_and_timeouts_parse():
    args = parse_args(["--variant", "3.13t", "--latency", "0:60", "--timeout", "0.5"])
    assert (args.latency, args.timeout) == ((0.0, 60.0), 0.5)
    assert parse_args(["--variant", "3.13t", "--latency", "0.02"]).latency == (0.02, 0.02)



@pytest.fixture(scope="module")
def workloads():
    old = os.environ.get("FTBENCH_WORKLOAD_PATH")
    os.environ["FTBENCH_WORKLOAD_PATH"] = str(FAULT_WORKLOADS)
    try:
        return discover()
    finally:
        if old is None:
            del os.environ["FTBENCH_WORKLOAD_PATH"]
        else:
            os.environ["FTBENCH_WORKLOAD_PATH"] = old


def test_duplicate_names_are_counted_once_in_order(workloads):
    args = parse_args(["--variants", "3.13t,3.13t-gil,3.13t", "--workloads", "ftfault_ok,cpu_sum_squares,ftfault_ok",
                       "--strategies", "threads,sequential,threads", "--workers", "2,2"])
    assert args.variant_names == ["3.13t", "3.13t-gil"]
    names = [p.name for p in plan(args, workloads, 2)]
    assert names == ["ftfault_ok/sequential/1", "ftfault_ok/threads/2",
                     "cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2"]
    config = bench.make_config(args, {"3.13t": "/py", "3.13t-gil": "/py"})
    assert config.variants == ("3.13t", "3.13t-gil") and config.pythons == (("3.13t", "/py"), ("3.13t-gil", "/py"))



@pytest.mark.parametrize(("cores", "cap"), [(1, 256), (2, 256), (64, 256), (100, 400)])
def test_the_worker_cap_is_max_256_or_4_per_core(workloads, cores, cap):
    ok = parse_args(["--variant", "3.13t", "--workloads", "ftfault_ok", "--workers", f"1,{cap}"])
    assert [p.workers for p in plan(ok, workloads, cores)][-1] == cap
    over = parse_args(["--variant", "3.13t", "--workloads", "ftfault_ok", "--workers", f"1,{cap + 1}"])
    with pytest.raises(UsageError, match=rf"at most {cap} workers per benchmark on this {cores}-core machine"):
        plan(over, workloads, cores)



def test_the_default_sweeps_stay_under_the_cap(workloads):
    for cores in (1, 2, 8, 64, 200):
        args = parse_args(["--variant", "3.13t"])
        assert max(p.workers for p in plan(args, workloads, cores)) <= bench.worker_cap(cores)



def test_oversubscribing_processes_gets_one_warning_line(workloads):
    def warnings(*argv):
        args = parse_args(["--variant", "3.13t", "--workloads", "cpu_sum_squares", *argv])
        return bench.warnings_for(args, plan(args, workloads, 2), 2)

    assert warnings("--strategies", "processes", "--workers", "2,16") == [
        "--workers 16 starts 16 worker processes per 'processes' benchmark on 2 cores "
        "(over 4 x cores: the times include the scheduler's work)"]
    assert warnings("--strategies", "processes", "--workers", "8") == []
    assert warnings("--strategies", "threads", "--workers", "64") == []
    assert warnings() == []  # the default sweeps are the design, not a mistake



# --- host labels --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("node", "label"), [
    ("lab-pc1.example.org", "lab-pc1.example.org"), ("../../evil host", "evil_host"), ("", "host"),
    ("..", "host"), ("日本", "host"), ("-x", "x"), ("a" * 100, "a" * 40)])
def test_the_default_host_label_is_sanitised(monkeypatch, node, label):
    monkeypatch.setattr(bench.platform, "node", lambda: node)
    got = bench.host_label(None)  # the sanitised hostname, then the machine's fingerprint
    assert re.fullmatch(re.escape(label) + r"-[0-9a-f]{6}", got)
    assert bench.HOST_LABEL.fullmatch(got) and len(got) <= bench.MAX_HOST_LABEL


def test_good_host_labels_pass():
    for host in ("vm", "lab-pc1", "ftbtest0123abcd", "a.b_c-d", "X" * 64):
        assert bench.host_label(host) == host



# --- --python: each variant's benchmark venv, asked once what it is -----------------------------------------




def test_each_variant_gets_its_checked_python(tmp_path):
    ft, default = fake_python(tmp_path, "ft", FAKE_FT), fake_python(tmp_path, "default", FAKE_DEFAULT)
    args = parse_args(["--variants", "3.13,3.13t,3.13t-gil", "--python", f"3.13={default}", "--python",
                       f"3.13t={ft}", "--python", f"3.13t-gil={ft}", "--scaling", "weak"])
    pythons = bench.resolve_pythons(args)
    assert pythons == {"3.13": default, "3.13t": ft, "3.13t-gil": ft}
    config = bench.make_config(args, pythons)
    assert config.variants == ("3.13", "3.13t", "3.13t-gil") and config.scaling == "weak"
    assert config.python_of("3.13") == default and config.python_of("3.13t-gil") == ft



def test_a_variant_of_the_running_build_defaults_to_this_python(monkeypatch):
    monkeypatch.setattr(bench, "build_of_running_python", lambda: ("3.13", True))
    args = parse_args(["--variants", "3.13t,3.13t-gil"])
    assert bench.resolve_pythons(args) == {"3.13t": sys.executable, "3.13t-gil": sys.executable}
    with pytest.raises(UsageError, match=r"variant 3.13 cannot run on this free-threaded Python .*; give "
                                         r"--python 3.13=PATH, or use nox -s bench-3.13 \(or nox -s bench"):
        bench.resolve_pythons(parse_args(["--variants", "3.13t,3.13"]))



def test_a_python_for_a_variant_outside_the_campaign_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "build_of_running_python", lambda: ("3.13", True))
    monkeypatch.chdir(tmp_path)
    fake_python(tmp_path, "ft", FAKE_FT)
    args = parse_args(["--variant", "3.13t", "--python", "3.13=/nonexistent", "--python", "3.13t-gil=ft"])
    assert bench.resolve_pythons(args) == {"3.13t": sys.executable}
    args = parse_args(["--variant", "3.13t-gil", "--python", "3.13t-gil=ft"])  # relative: made absolute
    assert bench.resolve_pythons(args) == {"3.13t-gil": str(tmp_path / "ft")}



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

