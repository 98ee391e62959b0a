"""numpy_blocks, cpu_realistic, shared_state (x3) and ipc_payload: every strategy, tiny size.

Real threads, real forked processes, real shared memory; each check must pass on the right
results and raise CheckFailed on a corrupted one.
"""

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from harness.measure import strategies
from harness.measure.workload import ALL_STRATEGIES, CheckFailed, Context, Workload
from workloads import cpu_realistic, ipc_payload, numpy_blocks, shared_state

WORKLOADS = {w.name: w for w in [numpy_blocks.WORKLOAD, cpu_realistic.WORKLOAD,
                                 ipc_payload.WORKLOAD, *shared_state.WORKLOADS]}


def _run(workload: Workload, strategy: str, workers: int = 2):
    ctx = Context(workers=workers)
    tasks = workload.make_tasks(workload.sizes["tiny"], ctx)
    shared = workload.setup(strategy, ctx) if workload.setup else None
    results = strategies.run(strategy, workload, tasks, workers, shared, ctx)
    return tasks, results, shared


def _corrupt(result):
    if isinstance(result, bytes):
        return result[:-1] + bytes([result[-1] ^ 1])
    if isinstance(result, str):
        return result[::-1]
    return result + 1  # int, float


def test_all_strategies_declared():
    assert len(WORKLOADS) == 6
    for workload in WORKLOADS.values():
        assert tuple(workload.strategies) == ALL_STRATEGIES


def test_what_cannot_run_in_a_subinterpreter_says_why():
    assert "numpy" in numpy_blocks.WORKLOAD.not_applicable_reason("interpreters")
    for workload in shared_state.WORKLOADS:
        assert "Lock" in workload.not_applicable_reason("interpreters")
        assert workload.workers_for("interpreters", 2) == ()


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_check_passes_then_fails_on_a_corrupted_result(name):
    """A check must catch a corrupted value, not only a missing one (every strategy's run is checked in
    tests/workload_files/test_workloads.py; the check is the same whatever produced the results)."""
    workload = WORKLOADS[name]
    tasks, results, shared = _run(workload, "sequential")
    assert len(results) == len(tasks)
    figures = workload.check(tasks, results, shared)
    if name == "shared_state_unsafe":
        assert isinstance(figures["lost_updates"], int) and figures["lost_updates"] >= 0
    else:
        assert figures is None
    bad = list(results)
    bad[-1] = _corrupt(bad[-1])
    with pytest.raises(CheckFailed):
        workload.check(tasks, bad, shared)
    with pytest.raises(CheckFailed):
        workload.check(tasks, results[:-1], shared)


@pytest.mark.parametrize("name", ["shared_state", "shared_state_local"])
@pytest.mark.parametrize("strategy", ["threads", "processes"])
def test_safe_shared_state_has_exact_totals(name, strategy):
    workload = WORKLOADS[name]
    tasks, results, shared = _run(workload, strategy)
    assert sum(shared[1]) == sum(n for _, n in tasks)  # not one update lost
    shared[1][0] -= 1  # one lost update
    with pytest.raises(CheckFailed, match="lost or extra"):
        workload.check(tasks, results, shared)


def test_unsafe_check_fails_only_for_impossible_states():
    workload = WORKLOADS["shared_state_unsafe"]
    tasks, results, shared = _run(workload, "sequential")
    assert workload.check(tasks, results, shared) == {"lost_updates": 0}
    lost = (None, list(shared[1]))
    lost[1][3] -= 5
    assert workload.check(tasks, results, lost) == {"lost_updates": 5}
    shared[1][3] += 1  # an update that was never made
    with pytest.raises(CheckFailed, match="impossible"):
        workload.check(tasks, results, shared)


def test_shared_state_is_fresh_per_run():
    workload = WORKLOADS["shared_state"]
    for _ in range(2):
        tasks, results, shared = _run(workload, "processes")
        workload.check(tasks, results, shared)


def test_numpy_blas_pinned_before_numpy_loads():
    """In a fresh interpreter with none of the variables set, importing the module pins BLAS."""
    env = {k: v for k, v in os.environ.items() if k not in numpy_blocks.BLAS_ENV}
    code = "import json, workloads.numpy_blocks as m; print(json.dumps(m.blas_metadata()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    meta = json.loads(out)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    assert {k: v for k, v in meta.items() if k != "blas"} == {
        "openblas_threads": "1", "omp_threads": "1", "mkl_threads": "1", "blis_threads": "1",
        "veclib_threads": "1", "blas_threads": "1"}
    assert meta["blas"] not in ("", "?")


def test_numpy_check_is_not_fooled_by_a_small_error():
    task = (0, 32, 2)
    got = numpy_blocks.matmul_chain(task)
    numpy_blocks.check([task], [got], None)
    with pytest.raises(CheckFailed):
        numpy_blocks.check([task], [got + 1e-3], None)
