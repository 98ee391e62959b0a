"""Faults, interruption and bad files: nothing measured is ever lost, no failure is ever a time.

Real processes and real signals: the runner (``python -m harness.measure.bench``) runs on ftbench's 3.13t
build with the fault workloads of tests/fault_workloads (a task that raises, a wrong result, the
lecture's deadlock, a task that waits on a file, an extension that re-enables the GIL), and is
interrupted with SIGINT, SIGTERM and SIGKILL at several points. Build faults are tested in
tests/provision/test_interpreters.py, server faults in tests/measure/test_server.py.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import Bench

TINY = ("--quick", "--size", "tiny")


def _no_tmp_files(raw):
    return [p.name for p in raw.iterdir() if ".tmp" in p.name] if raw.exists() else []


# --- a task raises, a result is wrong, a task hangs --------------------------------------------------


@pytest.mark.slow
def test_failures_are_recorded_with_their_error_and_the_rest_runs(runner):
    r = runner.run(*TINY, "--workloads", "ftfault_raise,ftfault_wrong,ftfault_ok",
                   "--strategies", "sequential,processes", "--workers", "2")
    assert r.returncode == 1, r.stdout + r.stderr
    raised = "ValueError: ftfault: task 2 exploded on purpose"
    wrong = "CheckFailed: ftfault_wrong: square(1) = 2, expected 1"
    state = runner.state()["benchmarks"]
    assert {n: (e["status"], e["error"]) for n, e in state.items()} == {
        "ftfault_raise/sequential/1": ("failed", raised),
        "ftfault_raise/processes/2": ("failed", raised),
        "ftfault_wrong/sequential/1": ("failed", f"harness.measure.workload.{wrong}"),
        "ftfault_ok/sequential/1": ("ok", ""),
    }
    rows = runner.csv_rows()
    assert rows["ftfault_raise/processes/2"]["status"] == "failed"
    assert rows["ftfault_raise/processes/2"]["error"] == raised and rows["ftfault_raise/processes/2"]["mean"] == ""
    assert rows["ftfault_wrong/sequential/1"]["mean"] == ""  # a failed check is never a time
    assert rows["ftfault_ok/sequential/1"]["status"] == "ok" and float(rows["ftfault_ok/sequential/1"]["mean"]) > 0
    assert runner.suite().get_benchmark_names() == ["ftfault_ok/sequential/1"]
    summary = r.stderr.splitlines()
    assert summary[summary.index("3 benchmark(s) did not produce a time:") + 1:] == [
        f"  ftfault_raise/sequential/1: failed: {raised}",
        f"  ftfault_raise/processes/2: failed: {raised}",
        f"  ftfault_wrong/sequential/1: failed: harness.measure.workload.{wrong}",
    ]
    assert runner.wait_no_processes() == []


@pytest.mark.slow
def test_a_deadlock_is_killed_after_the_timeout_and_the_run_continues(runner):
    started = time.monotonic()
    r = runner.run(*TINY, "--workloads", "ftfault_deadlock,ftfault_ok", "--strategies", "threads",
                   "--workers", "2", "--timeout", "5")
    assert r.returncode == 1, r.stdout + r.stderr
    assert time.monotonic() - started < 30
    state = runner.state()["benchmarks"]
    hung = state["ftfault_deadlock/threads/2"]
    assert (hung["status"], hung["error"]) == ("timeout", "killed after 5 s")
    assert 5 <= hung["seconds"] < 10
    assert state["ftfault_ok/threads/2"]["status"] == "ok"
    assert runner.csv_rows()["ftfault_deadlock/threads/2"]["status"] == "timeout"
    assert "[1/2] ftfault_deadlock/threads/2" in r.stdout and "TIMEOUT: killed after 5 s" in r.stdout
    assert "  ftfault_deadlock/threads/2: timeout: killed after 5 s" in r.stderr
    assert runner.wait_no_processes(timeout=2) == []  # the deadlocked worker went with its group


def _running(pid: int) -> bool:
    """Is ``pid`` a live process (a zombie no init has reaped yet is not)?"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


@pytest.mark.slow
def test_a_process_a_task_leaves_running_is_killed_after_the_run_and_recorded(runner, tmp_path):
    pids = tmp_path / "orphans"
    r = runner.run(*TINY, "--workloads", "ftfault_orphan", "--strategies", "sequential", "--option", f"pids={pids}")
    assert r.returncode == 0, r.stdout + r.stderr
    orphans = [int(x) for x in pids.read_text().split()]
    assert orphans  # one per run of the task list (the warm-up's too)
    assert [pid for pid in orphans if _running(pid)] == []  # killed with the benchmark's group, not left to run on
    (b,) = runner.suite().get_benchmarks()
    left = [int(run.get_metadata()["ftbench_leftover_processes"]) for run in b.get_runs() if run.values]
    assert left and all(n >= 1 for n in left)  # every measured process left at least its sleep behind


@pytest.mark.slow
def test_a_pool_worker_that_dies_fails_the_run_at_once_with_its_exit_code(runner):
    started = time.monotonic()
    r = runner.run(*TINY, "--workloads", "ftfault_hard_exit", "--strategies", "sequential,processes",
                   "--timeout", "40")
    assert r.returncode == 1, r.stdout + r.stderr
    assert time.monotonic() - started < 30  # not the timeout: the pool's wait ended when its worker died
    state = runner.state()["benchmarks"]
    assert state["ftfault_hard_exit/sequential/1"]["status"] == "failed"
    died = state["ftfault_hard_exit/processes/2"]
    assert died["status"] == "failed", died
    assert "PoolWorkerError" in died["error"] and "exit code 3" in died["error"], died
    assert runner.wait_no_processes() == []


# --- interruption --------------------------------------------------------------------------------------


POINTS = ("first_running", "after_first", "inside_second")
INTERRUPTIONS = [(sig, point) for sig in (signal.SIGINT, signal.SIGKILL) for point in POINTS]
INTERRUPTIONS.append((signal.SIGTERM, "inside_second"))  # ends a campaign as Ctrl-C does


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "point"), INTERRUPTIONS, ids=[f"{s.name}-{p}" for s, p in INTERRUPTIONS])
def test_interrupted_run_keeps_what_it_measured_and_resumes(runner, tmp_path, sig, point):
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()  # the second benchmark's tasks wait while this file exists
    args = (*TINY, "--workloads", "ftfault_ok,ftfault_hold", "--strategies", "sequential",
            "--option", f"hold={hold}", "--option", f"started={started}")
    run = runner.start(*args)
    if point == "first_running":
        run.wait_line(r"^ftbench: 3\.13t on ")
    elif point == "after_first":
        run.wait_line(r"^\[1/2\] ftfault_ok/sequential/1 .* ok$")
    else:
        run.wait_for(started.exists, what="the second benchmark's task to start")
    run.proc.send_signal(sig)
    code = run.finish()
    if sig != signal.SIGKILL:
        assert code == 130, run.err
        assert any("interrupted; everything measured so far is in" in ln for ln in run.err)
    else:
        assert code == -signal.SIGKILL
    assert runner.wait_no_processes() == []  # measure, pyperf's worker and its children went too

    completed = [ln.split()[1] for ln in run.out if ln.startswith("[") and ln.endswith(" ok")]
    if point != "first_running":
        assert completed == ["ftfault_ok/sequential/1"]
    assert _no_tmp_files(runner.raw) == []
    if completed:
        assert runner.suite().get_benchmark_names() == completed  # pyperf reads it
        assert sorted(runner.csv_rows()) == completed
        assert [n for n, e in runner.state()["benchmarks"].items() if e["status"] == "ok"] == completed
        kept_values = runner.suite().get_benchmark(completed[0]).get_values()

    hold.unlink()  # the same command again: resumes
    again = runner.run(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"2 benchmarks, {len(completed)} already measured" in again.stdout
    assert ("[1/2] ftfault_ok/sequential/1" in again.stdout) is (not completed)
    assert "[2/2] ftfault_hold/sequential/1" in again.stdout
    suite = runner.suite()
    assert sorted(suite.get_benchmark_names()) == ["ftfault_hold/sequential/1", "ftfault_ok/sequential/1"]
    if completed:  # not measured again
        assert suite.get_benchmark("ftfault_ok/sequential/1").get_values() == kept_values


@pytest.mark.slow
def test_fresh_keeps_backups_and_other_settings_are_refused(runner):
    args = (*TINY, "--workloads", "ftfault_ok", "--strategies", "sequential")
    assert runner.run(*args).returncode == 0
    before = runner.files()
    assert set(before) == {"3.13t.json", "3.13t.csv", "3.13t.state.json"}

    other = runner.run("--size", "tiny", "--workloads", "ftfault_ok", "--strategies", "sequential")  # default profile
    assert other.returncode == 2 and other.stdout == ""
    assert other.stderr.splitlines() == [
        f"ftbench bench: error: {runner.raw / '3.13t.json'} was measured with other settings "
        "(profile: 'quick' then, 'default' now); use --fresh to start over (the old files are kept as .bak) "
        "or --results DIR to write elsewhere"]
    assert runner.files() == before  # nothing overwritten

    same = runner.run(*args)
    assert same.returncode == 0 and "1 benchmarks, 1 already measured" in same.stdout
    assert runner.files() == before  # nothing to do, nothing rewritten

    for _ in (1, 2):  # twice within a second: the first backups must survive the second
        fresh = runner.run(*args, "--fresh")
        assert fresh.returncode == 0 and "1 benchmarks, 0 already measured" in fresh.stdout
    files = runner.files()
    backups = {name: data for name, data in files.items() if ".bak-" in name}
    assert len(backups) == 6
    for name, data in before.items():
        stem, suffix = name.rsplit(".", 1)
        assert any(b.startswith(f"{stem}.bak-") and b.endswith(f".{suffix}") and backups[b] == data
                   for b in backups), name
    assert runner.suite().get_benchmark_names() == ["ftfault_ok/sequential/1"]


@pytest.mark.slow
def test_a_second_run_into_the_same_files_is_refused_while_the_first_runs(runner, tmp_path):
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    args = (*TINY, "--workloads", "ftfault_ok,ftfault_hold", "--strategies", "sequential",
            "--option", f"hold={hold}", "--option", f"started={started}")
    first = runner.start(*args)
    first.wait_for(started.exists, what="the hold benchmark")
    before = runner.files()
    second = runner.run(*args)
    assert second.returncode == 2
    assert second.stderr.splitlines() == [
        f"ftbench bench: error: {runner.raw / '3.13t.json'} is being written by another ftbench run "
        f"(pid {first.proc.pid}); wait for it to end or use --results DIR"]
    assert runner.files() == before
    hold.unlink()
    assert first.finish() == 0, first.out + first.err
    assert sorted(runner.suite().get_benchmark_names()) == ["ftfault_hold/sequential/1", "ftfault_ok/sequential/1"]


@pytest.mark.slow
def test_a_temporary_file_left_by_a_killed_writer_is_ignored_and_removed(runner):
    args = (*TINY, "--workloads", "ftfault_ok", "--strategies", "sequential")
    assert runner.run(*args).returncode == 0
    stale = runner.raw / ".3.13t.json.tmp99999"
    stale.write_text('{"half": ')
    r = runner.run(*args)
    assert r.returncode == 0 and "1 already measured" in r.stdout
    assert not stale.exists()


# --- corrupt or truncated raw files before resuming ------------------------------------------------------


@pytest.fixture(scope="module")
def measured(ft_python, tmp_path_factory):
    """A results dir with one benchmark measured (copied by each test that damages it)."""
    b = Bench(ft_python, tmp_path_factory.mktemp("measured"))
    r = b.run(*TINY, "--workloads", "ftfault_ok", "--strategies", "sequential")
    assert r.returncode == 0, r.stdout + r.stderr
    return b


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "damage", "message"), [
    ("3.13t.json", _truncate, "not valid pyperf JSON"),
    ("3.13t.json", lambda p: p.write_text('{"version": "1.0", "benchmarks": "no"}'), "not valid pyperf JSON"),
    ("3.13t.state.json", _truncate, "unreadable"),
    ("3.13t.state.json", lambda p: p.write_text("[]\n"), "not an ftbench state file"),
    ("3.13t.state.json", lambda p: p.write_text('{"settings": null, "benchmarks": {}}'), "not an ftbench state file"),
    ("3.13t.state.json", lambda p: p.unlink(), "unreadable ([Errno 2] No such file"),
], ids=["json-truncated", "json-not-pyperf", "state-truncated", "state-a-list", "state-no-settings",
        "state-missing"])
def test_a_damaged_file_stops_the_run_naming_it_and_is_left_as_it_was(measured, tmp_path, name, damage, message):
    b = Bench(measured.python, tmp_path, host=measured.host)
    shutil.copytree(measured.results, b.results)
    damage(b.raw / name)
    before = b.files()
    r = b.run(*TINY, "--workloads", "ftfault_ok", "--strategies", "sequential")
    assert r.returncode == 2, r.stdout + r.stderr
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"ftbench bench: error: {b.raw / name}") and message in line
    assert "--fresh" in line
    assert b.files() == before


# --- the GIL re-enabled on 3.13t ---------------------------------------------------------------------------

GIL_EXTENSION = r"""
#include <Python.h>
/* Single-phase init, no Py_mod_gil slot and no PyUnstable_Module_SetGIL: 3.13t re-enables the GIL. */
static PyObject *answer(PyObject *self, PyObject *unused) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ftgilext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_ftgilext(void) { return PyModule_Create(&def); }
"""


@pytest.fixture(scope="module")
def gil_extension(ft_python, tmp_path_factory):
    """A directory holding ftgilext, compiled for 3.13t: an extension that does not declare Py_mod_gil."""
    out = tmp_path_factory.mktemp("gilext")
    paths = subprocess.run([str(ft_python), "-c", "import sysconfig as s; "
                            "print(s.get_paths()['include']); print(s.get_config_var('EXT_SUFFIX'))"],
                           capture_output=True, text=True, check=True).stdout.split()
    (out / "ftgilext.c").write_text(GIL_EXTENSION)
    cc = os.environ.get("CC", "cc").split()
    subprocess.run([*cc, "-shared", "-fPIC", f"-I{paths[0]}", "-o", str(out / f"ftgilext{paths[1]}"),
                    str(out / "ftgilext.c")], check=True, capture_output=True)
    return out


@pytest.mark.slow
def test_gil_reenabled_by_an_extension_fails_the_benchmark_naming_the_module(runner, gil_extension):
    r = runner.run(*TINY, "--workloads", "ftfault_gil,ftfault_ok", "--strategies", "sequential",
                   "--option", f"gil_ext_dir={gil_extension}")
    assert r.returncode == 1, r.stdout + r.stderr
    reason = "the GIL was enabled during the run; re-enabled by module ftgilext (--allow-gil to accept)"
    state = runner.state()["benchmarks"]
    assert (state["ftfault_gil/sequential/1"]["status"], state["ftfault_gil/sequential/1"]["error"]) == \
        ("failed", reason)
    assert state["ftfault_ok/sequential/1"]["status"] == "ok"  # its own process: the GIL stayed off
    assert runner.suite().get_benchmark_names() == ["ftfault_ok/sequential/1"]
    assert f"  ftfault_gil/sequential/1: failed: {reason}" in r.stderr


@pytest.mark.slow
def test_allow_gil_accepts_it_and_records_it(runner, gil_extension):
    r = runner.run(*TINY, "--workloads", "ftfault_gil", "--allow-gil", "--option", f"gil_ext_dir={gil_extension}")
    assert r.returncode == 0, r.stdout + r.stderr
    (b,) = runner.suite().get_benchmarks()
    metas = [run.get_metadata() for run in b.get_runs() if run.values]
    assert metas and all(m["ftbench_gil_enabled"] == "yes" and m["ftbench_gil_reenabled_by"] == "ftgilext"
                         for m in metas)
    assert runner.csv_rows()["ftfault_gil/sequential/1"]["gil_enabled"] == "yes"
