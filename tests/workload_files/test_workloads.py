"""Every workload file x every strategy it declares passes its check at tiny size, in strong and weak scaling.

Parametrised from discovery, so a new file in workloads/ is tested without editing this file; and
a file there that declares no workload fails the suite instead of being silently skipped. The
weak-scaling matrix beyond sequential runs with -m slow.
"""

from __future__ import annotations

import pkgutil

import pytest
from conftest import REPO

from harness.measure import strategies
from harness.measure.server import Server
from harness.measure.workload import SIZES, Context, Workload, discover

WORKLOADS = discover()


def _case(name: str, strategy: str, slow_unless_sequential: bool = False):
    marks = [pytest.mark.slow] if slow_unless_sequential and strategy != "sequential" else []
    return pytest.param(name, strategy, marks=marks, id=f"{name}-{strategy}")


SMOKE = [_case(w.name, s) for w in WORKLOADS.values() for s in w.strategies]
WEAK = [_case(w.name, s, slow_unless_sequential=True) for w in WORKLOADS.values() for s in w.strategies]


@pytest.fixture(scope="module")
def server():
    with Server(latency=(0.001, 0.003)) as srv:
        yield srv


def test_every_workload_file_declares_a_workload():
    files = {m.name for m in pkgutil.iter_modules([str(REPO / "workloads")]) if not m.name.startswith("_")}
    declared = {w.task.__module__.rsplit(".", 1)[-1] for w in WORKLOADS.values()}
    assert files == declared, f"files without a WORKLOAD: {sorted(files - declared)}"


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_interface(name):
    w: Workload = WORKLOADS[name]
    assert set(SIZES) <= set(w.sizes)
    assert w.description and w.task.__module__.startswith("workloads.")
    assert w.workers_for("sequential", 2) == (1,)
    if w.kind == "cpu":
        assert w.workers_for("threads", 2) == (2, 4) and w.workers_for("threads", 8)[-1] == 16


def _run(w: Workload, strategy: str, url: str, repeat: int = 1):
    """A tiny run of ``w`` under ``strategy`` with 2 workers: (tasks, results, shared); skipped if not applicable."""
    reason = strategies.not_applicable_reason(w, strategy)
    if reason:  # declared by the workload, or the strategy is unavailable here (e.g. interpreters < 3.13)
        pytest.skip(f"{w.name}/{strategy} not applicable: {reason}")
    ctx = Context(server_url=url if w.needs_server else None, workers=2)
    tasks = w.make_tasks(w.sizes["tiny"], ctx) * repeat
    shared = w.setup(strategy, ctx) if w.setup else None
    return tasks, strategies.run(strategy, w, tasks, 2, shared, ctx), shared


@pytest.mark.parametrize(("name", "strategy"), SMOKE)
def test_tiny_run_passes_its_check_and_a_missing_result_fails_it(name, strategy, server):
    """The smoke test of every workload x strategy it declares, at the smallest size."""
    w = WORKLOADS[name]
    tasks, results, shared = _run(w, strategy, server.url)
    assert len(results) == len(tasks)
    w.check(tasks, results, shared)  # raises CheckFailed on any wrong result
    with pytest.raises(AssertionError):  # CheckFailed is an AssertionError
        w.check(tasks, results[:-1], shared)


@pytest.mark.parametrize(("name", "strategy"), WEAK)
def test_weak_scaling_tiny_run_passes_its_check(name, strategy, server):
    """``--scaling weak`` repeats the task list once per worker (harness.measure.run): checks accept it.

    Sequential in the fast suite (a check sees the same repeated list whatever ran it); every
    strategy with -m slow.
    """
    w = WORKLOADS[name]
    tasks, results, shared = _run(w, strategy, server.url, repeat=2)
    assert len(results) == len(tasks)
    w.check(tasks, results, shared)
    with pytest.raises(AssertionError):  # and a result missing from the doubled list is still caught
        w.check(tasks, results[:-1], shared)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_not_applicable_is_a_reason_never_a_gap(name):
    """Every strategy of ALL_STRATEGIES either runs (a worker sweep) or has a one-line reason."""
    w = WORKLOADS[name]
    for strategy in strategies.STRATEGIES:
        reason = strategies.not_applicable_reason(w, strategy)
        assert (reason is None) == bool(strategies.worker_sweep(w, strategy, 2)), (strategy, reason)
        assert reason is None or (reason and "\n" not in reason)
