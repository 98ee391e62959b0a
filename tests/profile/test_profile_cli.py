"""``python -m harness.profile``: bad input and a missing perf in one line (exit 2); a real run end to end (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.profile import cli, outputs, record

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.profile", *args], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.parametrize(("args", "says"), [
    (["w", "--variants", "nope", f"--python=nope={sys.executable}"], "unknown variant 'nope'"),
    (["w", "--workers", "1"], "--workers 1: the parallel run needs at least 2 workers"),
    (["w", "--frequency", "0"], "--frequency 0"),
    (["w", "--stack-bytes", "100"], "--stack-bytes 100"),
    (["w", "--call-graph", "fp"], "invalid choice: 'fp'"),
    (["w", "--host", "../x"], "--host '../x'"),
    (["w"], "no python for"),
    (["w", "--python", "3.13t"], "expected VARIANT=PATH"),
])
def test_bad_input_is_one_line_and_exit_2(args, says):
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_missing_perf_is_one_line_that_says_how_to_get_it(tmp_path):
    """No perf on PATH: exit 2 before anything runs, and the line names the package."""
    env = {**os.environ, "PATH": str(tmp_path)}
    r = run_cli("pitfall_lock_shared", "--variants", "3.13t", f"--python=3.13t={sys.executable}",
                env=env)
    assert r.returncode == 2
    assert r.stderr.startswith("why: perf is not installed: install it (Debian: apt-get install linux-perf")
    assert len(r.stderr.strip().splitlines()) == 1


def test_perf_that_cannot_record_is_named_with_the_paranoid_setting(tmp_path, monkeypatch):
    fake = tmp_path / "perf"
    fake.write_text("#!/bin/sh\necho 'Error: perf_event_open(..., PERF_FLAG_FD_CLOEXEC) failed' >&2\nexit 255\n")
    fake.chmod(0o755)
    with pytest.raises(record.PerfUnavailable, match=r"perf record -e cpu-clock fails here \(Error: perf_event_open"
                                                     r".*perf_event_paranoid="):
        record.check_perf(str(fake))


def test_the_default_option_is_the_fastest_parallel_one_of_the_latest_campaign(tmp_path):
    raw = tmp_path / "raw" / "h1"
    raw.mkdir(parents=True)
    (raw / "3.13t.csv").write_text(
        "host,variant,name,workload,strategy,workers,status,mean\n"
        "h1,3.13t,w/sequential/1,w,sequential,1,ok,0.1\n"
        "h1,3.13t,w/threads/2,w,threads,2,ok,0.3\n"
        "h1,3.13t,w/processes/4,w,processes,4,ok,0.2\n"
        "h1,3.13t,w/threads/4,w,threads,4,failed,0.01\n"
        "h1,3.13t,v/threads/4,v,threads,4,ok,0.01\n")
    assert cli.best_option(str(tmp_path), ["h1-local", "h1"], "3.13t", "w") == ("processes", 4)
    assert cli.best_option(str(tmp_path), ["h1"], "3.13t", "missing") is None


def test_settings_make_the_perf_record_options():
    assert record.Settings().record_args() == ["-e", "cpu-clock", "-F", "999", "-k", "CLOCK_MONOTONIC",
                                               "--call-graph", "dwarf,16384"]
    assert "--call-graph" not in record.Settings(call_graph="flat").record_args()
    assert record.Settings().python_env() == {"PYTHON_PERF_JIT_SUPPORT": "1"}


def test_jit_files_are_removed_for_the_given_processes_only():
    mine, other = 2_000_000_001, 2_000_000_002  # above any pid_max: no live process owns them
    paths = [Path(f"/tmp/jit-{mine}.dump"), Path(f"/tmp/jitted-{mine}-1.so"), Path(f"/tmp/perf-{mine}.map"),
             Path(f"/tmp/jit-{other}.dump")]
    for p in paths:
        p.write_text("x")
    try:
        record._remove_jit_files({mine})
        assert [p.exists() for p in paths] == [False, False, False, True]
    finally:
        for p in paths:
            p.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def perf_ok():
    try:
        record.check_perf()
    except record.PerfUnavailable as e:
        pytest.skip(str(e))


@pytest.mark.slow
@pytest.mark.parametrize("call_graph", ["dwarf", "flat"])
def test_a_real_profile_end_to_end(ft_python, perf_ok, tmp_path, call_graph):
    """Files beside the results set (never a timing file), flame graphs that parse, a summary row per category."""
    r = run_cli("pitfall_lock_shared", "--variants", "3.13t", f"--python=3.13t={ft_python}", "--strategy", "threads",
                "--workers", "2", "--size", "quick", "--results", str(tmp_path), "--host", "e2e",
                "--call-graph", call_graph, "--frequency", "1999", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    host = tmp_path / "raw" / "e2e"
    assert sorted(p.name for p in host.iterdir()) == ["profiles"]  # no timing file is written
    folder = host / "profiles" / "pitfall_lock_shared"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"3.13t-{s}.{x}" for s in ("sequential-1", "threads-2") for x in ("folded", "svg", "json")]
        + ["3.13t-threads-2-diff.svg"])
    for svg in folder.glob("*.svg"):
        ET.parse(svg)
    doc = json.loads((folder / "3.13t-threads-2.json").read_text())
    s = doc["sampling"]
    assert (s["event"], s["frequency_hz"], s["call_graph"], s["lost"]) == ("cpu-clock", 1999, call_graph, 0)
    assert s["samples"] > 20 and 0.5 < s["overhead"] < 5
    assert doc["gil_enabled"] is False and doc["tasks"] == 20
    assert doc["extra"]["samples_n"] == s["samples"]
    rows = outputs.read_summary(tmp_path / "raw")
    assert len(rows) == 10 and {r["call_graph"] for r in rows} == {call_graph}
    folded = (folder / "3.13t-threads-2.folded").read_text()
    if call_graph == "dwarf":  # whole stacks: thread start, Python functions, C functions
        assert "py::_lock:" in folded and "start_thread" in folded
    assert "why:" in r.stdout and "sampling: 1999 Hz cpu-clock" in r.stdout


def test_a_run_that_hangs_is_killed_with_everything_it_started(tmp_path):
    pidfile = tmp_path / "child.pid"
    code = ("import subprocess, sys, time\n"
            "p = subprocess.Popen(['sleep', '60'])\n"
            f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
            "time.sleep(60)\n")
    with pytest.raises(record.RunFailed, match="timed out after 1 s"):
        record.run_group([sys.executable, "-c", code], dict(os.environ), timeout=1)
    child = int(pidfile.read_text())
    for _ in range(50):
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the run's child {child} outlived the timeout")
