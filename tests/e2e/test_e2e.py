"""End to end, through the real entry points: nox builds (or reuses) CPython, makes the venvs and
benchmarks the whole suite at --quick on 3.13t; then pyperf and the analysis read what it wrote.

Slow (a few minutes; more on a machine that has to build CPython first): run in CI.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

from harness.measure.workload import discover
from harness.provision import fingerprint

pytestmark = pytest.mark.slow


def nox(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nox", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    ft = nox("-s", "bench-3.13t", "--", "--quick", "--results", str(out), "--host", "e2e")
    assert ft.returncode == 0, ft.stdout[-3000:] + ft.stderr[-3000:]
    base = nox("-s", "bench-3.13", "--", "--quick", "--workloads", "cpu_sum_squares",
               "--results", str(out), "--host", "e2e")
    assert base.returncode == 0, base.stdout[-3000:] + base.stderr[-3000:]
    return out, ft.stdout + ft.stderr


def venv_python(name: str) -> str:
    return str(REPO / ".nox" / name / "bin" / "python")


def test_every_default_workload_ran_and_passed(quick_run):
    out, log = quick_run
    rows = list(csv.DictReader(open(out / "raw" / "e2e" / "3.13t.csv")))
    expected = {n for n, w in discover().items() if w.in_default_suite}
    assert {r["workload"] for r in rows} == expected
    assert all(r["status"] == "ok" and r["check"] == "ok" for r in rows), \
        [r for r in rows if r["status"] != "ok"]
    assert "speedup vs sequential on 3.13t" in log


def test_the_gil_stayed_off_in_every_run(quick_run):
    out, _ = quick_run
    script = ("import json, sys, pyperf; s = pyperf.BenchmarkSuite.load(sys.argv[1]); "
              "print(json.dumps({b.get_name(): [r.get_metadata().get('ftbench_gil_enabled') "
              "for r in b.get_runs() if r.values] for b in s}))")
    r = subprocess.run([venv_python("venv-3-13t"), "-c", script, str(out / "raw" / "e2e" / "3.13t.json")],
                       capture_output=True, text=True, check=True)
    runs = json.loads(r.stdout)
    assert runs and all(states and set(states) == {"no"} for states in runs.values()), runs


def test_pyperf_reads_and_compares_the_raw_files(quick_run):
    out, _ = quick_run
    raw = out / "raw" / "e2e"
    show = subprocess.run([venv_python("venv-3-13t"), "-m", "pyperf", "show", str(raw / "3.13t.json")],
                          capture_output=True, text=True)
    assert show.returncode == 0 and "cpu_sum_squares/threads/2" in show.stdout, show.stderr
    cmp = subprocess.run([venv_python("venv-3-13t"), "-m", "pyperf", "compare_to",
                          str(raw / "3.13.json"), str(raw / "3.13t.json")], capture_output=True, text=True)
    assert cmp.returncode == 0 and "cpu_sum_squares/sequential/1" in cmp.stdout, cmp.stderr


def test_metadata_is_recorded(quick_run):
    out, _ = quick_run
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(out / "raw" / "e2e" / "3.13t.json"))
    bench = suite.get_benchmark("io_download/asyncio/16")
    meta = {**bench.get_metadata(), **bench.get_runs()[-1].get_metadata()}
    for key in ("ftbench_workload", "ftbench_kind", "ftbench_strategy", "ftbench_workers", "ftbench_variant",
                "ftbench_free_threaded", "ftbench_gil_enabled", "ftbench_cpu_count", "ftbench_start_method",
                "ftbench_numpy", "ftbench_aiohttp", "ftbench_requests", "ftbench_pyperf",
                "ftbench_c_extensions", "ftbench_peak_rss", "ftbench_check", "ftbench_source_sha256",
                "ftbench_configure_args", "ftbench_accelerators"):
        assert key in meta, key
    assert meta["ftbench_free_threaded"] == "yes" and meta["ftbench_variant"] == "3.13t"
    assert meta["ftbench_c_extensions"] == "aiohttp=no,yarl=no,multidict=no"
    assert "--disable-gil" in meta["ftbench_configure_args"]


def test_the_analysis_reads_the_run(quick_run, tmp_path):
    out, _ = quick_run
    r = subprocess.run([sys.executable, "-m", "harness.analysis", "--raw", str(out / "raw"), "--out",
                        str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    summary = list(csv.DictReader(open(tmp_path / "summary.csv")))
    cpu = [row for row in summary if row["workload"] == "cpu_sum_squares" and row["variant"] == "3.13t"]
    assert cpu and float(cpu[0]["slowdown"]) > 0
    assert (tmp_path / "REPORT.md").exists()


def test_a_second_identical_run_resumes_without_measuring(quick_run):
    out, _ = quick_run
    again = nox("-s", "bench-3.13", "--", "--quick", "--workloads", "cpu_sum_squares",
                "--results", str(out), "--host", "e2e")
    assert again.returncode == 0
    counts = re.search(r"(\d+) benchmarks, (\d+) already measured", again.stdout + again.stderr)
    assert counts and counts[1] == counts[2] and int(counts[1]) > 0


def test_a_fresh_clone_measures_beside_the_published_run_and_a_quick_smoke_run_needs_no_fresh(tmp_path):
    """A published run of this very machine (its default label): it must be neither resumed nor touched."""
    results = tmp_path / "results"
    shutil.copytree(REPO / "results" / "raw", results / "raw")
    mine = fingerprint.default_label()  # the plain flavour's label on this machine
    if not (results / "raw" / mine).exists():  # another machine than the published run's: stand one in
        shutil.copytree(REPO / "tests" / "data" / "old-format" / "vm", results / "raw" / mine)
        (results / "raw" / mine / fingerprint.PUBLISHED).write_text("published (test)\n")
    before = {p: p.read_bytes() for p in (results / "raw" / mine).rglob("*") if p.is_file()}
    published_before = {p: p.read_bytes() for p in (results / "raw").rglob("*") if p.is_file()}
    args = ("--size", "tiny", "--workloads", "cpu_sum_squares", "--strategies", "threads", "--workers", "2",
            "--results", str(results))
    default = nox("-s", "bench-3.13t", "--", *args)
    assert default.returncode == 0, default.stdout[-3000:] + default.stderr[-3000:]
    assert re.search(r"1 benchmarks, 0 already measured", default.stdout), default.stdout[-2000:]
    smoke = nox("-s", "bench-3.13t", "--", "--quick", *args)  # the README's example, no --fresh
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
    assert re.search(r"1 benchmarks, 0 already measured", smoke.stdout), smoke.stdout[-2000:]
    sets = sorted(p.name for p in (results / "raw").iterdir())
    published = sorted(p.parent.name for p in (results / "raw").glob("*/PUBLISHED"))
    assert len(sets) == len(published) + 2 and any(s.endswith("-quick") for s in sets), sets
    assert {p: p.read_bytes() for p in (results / "raw" / mine).rglob("*") if p.is_file()} == before
    assert (results / "raw" / f"{mine}-local").is_dir()
    assert all(p.read_bytes() == data for p, data in published_before.items())  # no published file touched
