"""The strategies themselves: the registry, and the subinterpreter pool (``interpreters``).

The in-process tests of ``interpreters`` run where the running Python has subinterpreters (3.13 with
backports.interpreters, or >= 3.14); on the host Python they are skipped, and the slow tests run the
same checks on ftbench's real 3.13 and 3.13t builds, in their bench venvs.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAULT_WORKLOADS, REPO, Bench, bench_venv

from harness.measure import strategies
from harness.measure.workload import ALL_STRATEGIES, Context
from workloads import cpu_sum_squares

sys.path.insert(0, str(FAULT_WORKLOADS))
import ftfault  # noqa: E402

LENS = {w.name: w for w in ftfault.WORKLOADS if w.name.startswith("ftfault_lens_")}

UNAVAILABLE = strategies.unavailable_reason("interpreters")
needs_interpreters = pytest.mark.skipif(UNAVAILABLE is not None, reason=str(UNAVAILABLE))


def test_registry_matches_the_declared_order():
    assert tuple(strategies.STRATEGIES) == ALL_STRATEGIES
    assert ALL_STRATEGIES.index("interpreters") == ALL_STRATEGIES.index("processes") + 1


def test_only_interpreters_can_be_unavailable():
    for s in ALL_STRATEGIES:
        if s != "interpreters":
            assert strategies.unavailable_reason(s) is None
    if sys.version_info < (3, 13):
        reason = strategies.unavailable_reason("interpreters")
        assert "_interpreters" in reason and platform.python_version() in reason
        assert strategies.not_applicable_reason(cpu_sum_squares.WORKLOAD, "interpreters") == reason
        assert strategies.worker_sweep(cpu_sum_squares.WORKLOAD, "interpreters", 2) == ()
    assert cpu_sum_squares.WORKLOAD.not_applicable_reason("interpreters") is None  # the workload's own say


def test_an_unknown_strategy_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: sequential, threads, processes, interpreters"):
        cpu_sum_squares.WORKLOAD.not_applicable_reason("fibers")


def _alive() -> int:
    from backports import interpreters as pep734  # noqa: F401 - on 3.14 it re-exports the stdlib

    return len(pep734.list_all())


@needs_interpreters
@pytest.mark.parametrize("workers", [1, 2, 5])
def test_interpreters_return_results_in_task_order(workers):
    w = cpu_sum_squares.WORKLOAD
    tasks = w.make_tasks(w.sizes["tiny"], Context(workers=workers))
    before = _alive()
    results = strategies.run("interpreters", w, tasks, workers)
    w.check(tasks, results, None)
    assert _alive() == before  # no interpreter outlives its run


@needs_interpreters
@pytest.mark.parametrize(("workload", "message"), [
    (LENS["ftfault_lens_raise"], f"ValueError: {ftfault.LENS_MESSAGE} [task 2 (2), in a subinterpreter]"),
    (LENS["ftfault_lens_init"], f"RuntimeError: {ftfault.LENS_INIT_MESSAGE} [starting a worker, in a subinterpreter]"),
])
def test_a_raising_task_fails_the_run_with_its_text_and_closes_the_pool(workload, message):
    tasks = workload.make_tasks(workload.sizes["tiny"], Context())
    before = _alive()
    for _ in range(3):  # no leak across runs either
        with pytest.raises(strategies.TaskFailed) as info:
            strategies.run("interpreters", workload, tasks, 2)
        assert str(info.value) == message
        assert info.value.__notes__[0].splitlines()[-1] == message.split(" [")[0]  # the traceback there
        assert _alive() == before




@pytest.mark.slow
@pytest.mark.parametrize("build", ["3.13", "3.13t"])
def test_interpreters_on_the_real_builds(build):
    """This file's in-process tests, run by pytest inside the bench venv of the real build."""
    python = bench_venv(build)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "pytest"], check=True, capture_output=True)
    r = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
                        str(Path(__file__))], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " skipped" not in r.stdout.splitlines()[-1], r.stdout[-2000:]


@pytest.mark.slow
def test_a_task_raising_in_a_subinterpreter_is_recorded_failed_with_its_text(ft_python, tmp_path):
    runner = Bench(ft_python, tmp_path)
    try:
        r = runner.run("--quick", "--size", "tiny", "--workloads", "ftfault_lens_raise,cpu_sum_squares",
                       "--strategies", "interpreters", "--workers", "2")
        state = runner.state()["benchmarks"]
        assert r.returncode == 1, r.stdout + r.stderr
        assert state["ftfault_lens_raise/interpreters/2"]["status"] == "failed"
        assert ftfault.LENS_MESSAGE in state["ftfault_lens_raise/interpreters/2"]["error"]
        assert state["cpu_sum_squares/interpreters/2"]["status"] == "ok", json.dumps(state)
    finally:
        runner.cleanup()


@pytest.mark.parametrize(("code", "how"), [(3, "exit code 3"), (-9, "signal SIGKILL")])
def test_a_pool_worker_that_dies_fails_the_processes_run_at_once(code, how):
    """multiprocessing.Pool replaces a dead worker and waits for its lost task forever; the run must fail now."""
    import time

    hard_exit = next(w for w in ftfault.WORKLOADS if w.name == "ftfault_hard_exit")
    tasks = [(code if code >= 0 else 0, x) for x in range(4)]
    if code < 0:  # a signal instead: the task kills its own process
        import dataclasses
        import functools

        hard_exit = dataclasses.replace(hard_exit, task=functools.partial(_kill_self, -code))
    started = time.monotonic()
    with pytest.raises(strategies.PoolWorkerError, match=f"ended with {how} while its tasks were running"):
        strategies.processes(hard_exit, tasks, 2, None, Context(workers=2))
    assert time.monotonic() - started < 10


def _kill_self(signum: int, task) -> int:
    import os

    if task[1] == 1:
        os.kill(os.getpid(), signum)
    return task[1]


def test_a_healthy_pool_map_returns_every_result_in_order():
    assert strategies.processes(cpu_sum_squares.WORKLOAD, [3, 1, 2], 2, None, Context(workers=2)) == [
        cpu_sum_squares.WORKLOAD.task(t) for t in [3, 1, 2]]
