"""Measurement hygiene on the real builds: a CPU hog is flagged, the memory of threads and processes is summed.

Each test runs the measuring script of one benchmark (``python -m harness.measure.run``, the pyperf
script with the ``ftbench`` hook) on ftbench's 3.13t (or 3.13) build, with seconds of work, and reads
what the probe wrote into each pyperf run's metadata. The figures are printed: run with ``-s``.
The machine is shared: a "quiet" run is only quiet if nothing else ran, so the foreign load is also
measured from outside (``/proc/stat`` minus this test's children) and the quiet-run assertion is
made only when that shows a quiet machine.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FAULT_WORKLOADS, REPO, bench_venv

from harness import metadata
from harness.measure import accounting, worker

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs /proc")]
MB = 1 << 20
ONE_PROCESS = ("--processes", "1", "--values", "1", "--warmups", "0")


@pytest.fixture(scope="module")
def py313() -> Path:
    return bench_venv("3.13")


@pytest.fixture(scope="module")
def py313t() -> Path:
    return bench_venv("3.13t")


def measure(python: Path, tmp: Path, workload: str, strategy: str, workers: int, *args: str,
            pyperf=ONE_PROCESS, env=None, timeout: float = 180, preexec_fn=None):
    """Run one benchmark; return (completed process, [run metadata], [values]) (empty when it failed)."""
    out = tmp / f"{workload}-{strategy}-{workers}-{time.monotonic_ns()}.json"
    cmd = [str(python), "-m", "harness.measure.run", "--workload", workload, "--strategy", strategy,
           "--workers", str(workers), "--variant", "test", *args, *pyperf, "--loops", "1", "--hook", "ftbench",
           "--inherit-environ", "FTBENCH_WORKLOAD_PATH", "-o", str(out)]
    env = {**os.environ, "FTBENCH_WORKLOAD_PATH": str(FAULT_WORKLOADS), **(env or {})}
    env.pop("PYTHON_GIL", None)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout,
                       preexec_fn=preexec_fn)
    if not out.exists():
        return r, [], []
    text = out.read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c} in {out}"))
    import pyperf

    bench = pyperf.BenchmarkSuite.load(str(out)).get_benchmarks()[0]
    runs = [run for run in bench.get_runs() if run.values]
    return r, [run.get_metadata() for run in runs], [v for run in runs for v in run.values]


def get(runs: list[dict], name: str) -> list:
    return [metadata.get(m, name) for m in runs]


# --- the CPU hog -----------------------------------------------------------------------------------


def _children_cpu() -> float:
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def _measured_with_background(python, tmp, **kw):
    """measure() plus the machine's load other than the benchmark over the whole command, in cores."""
    busy0, own0, wall0 = accounting.machine_busy(), _children_cpu(), time.perf_counter()
    r, runs, values = measure(python, tmp, "cpu_sum_squares", "sequential", 1, "--size", "quick",
                              pyperf=("--processes", "2", "--values", "3"), **kw)
    wall = time.perf_counter() - wall0
    other = (accounting.machine_busy() - busy0) - (_children_cpu() - own0)
    return r, runs, values, other / wall


def test_a_cpu_hog_flags_the_runs_it_disturbed_and_only_those(py313t, tmp_path):
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two cores")
    bench_core, hog_core = cores[0], cores[1]
    pin = lambda: os.sched_setaffinity(0, {bench_core})  # noqa: E731

    r, quiet, quiet_values, quiet_background = _measured_with_background(py313t, tmp_path, preexec_fn=pin)
    assert quiet, r.stdout + r.stderr
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(hog.pid, {hog_core})
        hog0 = accounting.process_cpu(hog.pid)
        t0 = time.perf_counter()
        r, hogged, hog_values, hog_background = _measured_with_background(py313t, tmp_path, preexec_fn=pin)
        hog_cores = (accounting.process_cpu(hog.pid) - hog0) / (time.perf_counter() - t0)
    finally:
        hog.kill()
        hog.wait()
    assert hogged, r.stdout + r.stderr

    print(f"\nhog test (cpu_sum_squares/sequential/1, quick, 3.13t, 2 processes x 3 values, threshold 0.10):"
          f"\n  quiet: foreign_cores per run {_fmt(get(quiet, 'foreign_cores'))},"
          f" flagged {get(quiet, 'foreign_flagged')},"
          f" busy_cores {_fmt(get(quiet, 'busy_cores'))}, mean {statistics.mean(quiet_values) * 1e3:.1f} ms;"
          f" others' load seen from outside {quiet_background:.2f} cores"
          f"\n  hog:   foreign_cores per run {_fmt(get(hogged, 'foreign_cores'))},"
          f" flagged {get(hogged, 'foreign_flagged')},"
          f" busy_cores {_fmt(get(hogged, 'busy_cores'))}, mean {statistics.mean(hog_values) * 1e3:.1f} ms;"
          f" the hog ran {hog_cores:.2f} cores, others' load from outside {hog_background:.2f} cores")

    assert get(hogged, "foreign_flagged") == ["yes"] * len(hogged)
    # what the probe saw inside its timed runs agrees with what ran beside the whole command, hog included
    for foreign in get(hogged, "foreign_cores"):
        assert foreign >= 0.7 * hog_cores and abs(foreign - hog_background) <= 0.35, (foreign, hog_background)
    for foreign in get(quiet, "foreign_cores"):
        assert abs(foreign - quiet_background) <= 0.35, (foreign, quiet_background)
    if quiet_background < 0.05:
        assert get(quiet, "foreign_flagged") == ["no"] * len(quiet)
    else:
        print(f"  (machine not quiet: {quiet_background:.2f} cores of others' load; the quiet runs' flags "
              "are only checked against it)")


def _fmt(values, digits: int = 2) -> str:
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


# --- memory of the whole process tree --------------------------------------------------------------


@pytest.mark.parametrize("build", ["3.13", "3.13t"])
@pytest.mark.parametrize("strategy", ["threads", "processes"])
def test_the_peak_memory_of_the_tree_sums_every_worker(tmp_path, strategy, build):
    python = bench_venv(build)
    _, base, _ = measure(python, tmp_path, "ftfault_probe_alloc", strategy, 4, "--option", "mb=0")
    r, held, _ = measure(python, tmp_path, "ftfault_probe_alloc", strategy, 4, "--option", "mb=64")
    assert base and held, r.stdout + r.stderr
    baseline, peak = get(base, "peak_tree_memory")[0], get(held, "peak_tree_memory")[0]
    expected = baseline + 4 * 64 * MB
    print(f"\n{strategy} x4 on {build} ({get(held, 'memory_method')[0]}): baseline {baseline / MB:.1f} MB, "
          f"peak {peak / MB:.1f} MB, expected {expected / MB:.1f} MB ({(peak - expected) / expected:+.1%}); "
          f"{get(held, 'memory_samples')[0]} samples, sampler {get(held, 'sampler_cores')[0]:.4f} cores; "
          f"peak_rss (max of own, largest child) {get(held, 'peak_rss')[0] / MB:.1f} MB")
    assert peak == pytest.approx(expected, rel=0.10)


def test_the_samplers_cost_on_a_sequential_cpu_benchmark_is_negligible(py313, py313t, tmp_path):
    """Its CPU per second of wall (sampler_cores) is what it takes from a one-core benchmark."""
    for name, python in (("3.13", py313), ("3.13t", py313t)):
        r, runs, values = measure(python, tmp_path, "cpu_sum_squares", "sequential", 1, "--size", "quick",
                                  pyperf=("--processes", "2", "--values", "3"))
        assert runs, r.stdout + r.stderr
        share = get(runs, "sampler_cores")
        print(f"\nsampler on cpu_sum_squares/sequential/1 quick, {name}: {_fmt(share, 4)} cores "
              f"({get(runs, 'memory_samples')} samples, mean {statistics.mean(values) * 1e3:.1f} ms)")
        # negligible: well under the +-5% margin of every verdict, even where a /proc read is slow
        assert max(share) < 0.02


# --- check() figures and sys.exit, through the real worker and the campaign's error line -------------


@pytest.mark.parametrize("bad, message", [
    ("str", "FigureError: ftfault_probe_figure: check() figure 'lost' = 'many' is not a number"),
    ("nan", "FigureError: ftfault_probe_figure: check() figure 'lost' = nan is not finite"),
    ("inf", "FigureError: ftfault_probe_figure: check() figure 'lost' = inf is not finite"),
    ("list", "FigureError: ftfault_probe_figure: check() returned list [('lost', 1)]; expected None or a dict"),
])
def test_a_bad_figure_fails_the_benchmark_and_nothing_is_written(py313t, tmp_path, bad, message):
    r, runs, _ = measure(py313t, tmp_path, "ftfault_probe_figure", "sequential", 1, "--option", f"bad={bad}")
    assert r.returncode != 0 and not runs
    assert message in worker.error_line(r.stdout + r.stderr, r.returncode)


def test_good_figures_are_written_as_strict_json(py313t, tmp_path):
    r, runs, _ = measure(py313t, tmp_path, "ftfault_probe_figure", "sequential", 1, "--option", "bad=ok")
    assert runs, r.stdout + r.stderr
    assert metadata.figures(runs[0]) == {"lost": 0.0, "ratio": 0.5}
    assert get(runs, "foreign_flagged")[0] in ("yes", "no", "short")  # "short": a run of milliseconds


@pytest.mark.parametrize("strategy", ["sequential", "threads", "processes", "asyncio"])
def test_a_task_calling_sys_exit_is_reported_as_such(py313t, tmp_path, strategy):
    r, runs, _ = measure(py313t, tmp_path, "ftfault_probe_exit", strategy, 2, timeout=60)
    assert r.returncode != 0 and not runs
    line = worker.error_line(r.stdout + r.stderr, r.returncode)
    assert line == "RuntimeError: ftfault_probe_exit: task called sys.exit(0)", r.stdout + r.stderr
