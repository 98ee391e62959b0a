"""The standard-suite workloads (nbody, richards, raytrace): their checks fail on wrong results.

tests/test_workloads.py runs every workload x strategy at tiny size and drops a result; here each
check meets the wrong results it exists to catch: a perturbed value, results of another task, a
lost packet, a wrong pixel. A check that cannot fail is worthless.
"""

from __future__ import annotations

import pickle

import pytest

from harness import CheckFailed, Context
from workloads import nbody, raytrace, richards

QUICK = Context(workers=1)


def run(module, size: str = "tiny"):
    w = module.WORKLOAD
    tasks = w.make_tasks(w.sizes[size], QUICK)
    return tasks, [w.task(t) for t in tasks]


@pytest.mark.parametrize("module", [nbody, richards, raytrace])
def test_tasks_are_independent_picklable_and_deterministic(module):
    w = module.WORKLOAD
    assert all(w.sizes[s]["count"] == 20 for s in ("quick", "default", "rigorous"))
    tasks, results = run(module)
    assert pickle.loads(pickle.dumps(w.task)) is w.task  # processes find it by name
    assert [w.task(t) for t in reversed(tasks)] == results[::-1]  # no state shared between tasks
    assert len(set(map(repr, results))) == len(results)  # every task does different work
    w.check(tasks, results, None)


def test_nbody_conserves_energy_and_momentum():
    tasks, results = run(nbody, "quick")
    figures = nbody.check(tasks, results, None)
    assert 0 < figures["energy_drift"] < nbody.ENERGY_TOLERANCE / 3


def _with_body(results, index: int, body: int, axis: int, factor: float):
    out = [list(map(list, r)) for r in results]
    out[index][body][axis] *= factor
    return out


@pytest.mark.parametrize(("index", "body", "axis", "factor"), [
    (1, 1, 3, 1.01),   # one planet's velocity 1% off: energy and momentum
    (2, 0, 4, 1.5),    # the star's velocity: momentum
    (3, 2, 0, 1.01),   # a position 1% off: energy
    (0, 3, 1, 1 + 1e-12),  # a last-bit difference in the first task: the exact recomputation
])
def test_nbody_check_fails_on_a_wrong_state(index, body, axis, factor):
    tasks, results = run(nbody)
    with pytest.raises(CheckFailed):
        nbody.check(tasks, _with_body(results, index, body, axis, factor), None)


def test_nbody_check_fails_on_another_tasks_result():
    tasks, results = run(nbody)
    with pytest.raises(CheckFailed, match="energy"):
        nbody.check(tasks, [results[0], results[2], results[1], results[3]], None)


@pytest.mark.parametrize(("index", "field", "value"), [
    (2, 4, richards.PACKETS - 1),  # a packet lost
    (1, 4, richards.PACKETS + 1),  # a packet duplicated
    (3, 2, 0),                     # nothing written
    (0, 3, 12345),                 # the first task's checksum: the exact recomputation
    (0, 0, None),                  # the first task's packet count
])
def test_richards_check_fails_on_wrong_counts(index, field, value):
    tasks, results = run(richards)
    wrong = [list(r) for r in results]
    wrong[index][field] = value if value is not None else wrong[index][field] + 1
    with pytest.raises(CheckFailed):
        richards.check(tasks, [tuple(r) for r in wrong], None)


def test_richards_kernel_counts_are_consistent():
    sent, holds, written, checksum, alive = richards.run_kernel((7, 500))
    assert alive == richards.PACKETS and 0 < written < holds < sent and checksum > 0


def test_raytrace_check_fails_on_a_wrong_pixel():
    tasks, results = run(raytrace, "quick")
    background = raytrace.BACKGROUND[0] << 16 | raytrace.BACKGROUND[1] << 8 | raytrace.BACKGROUND[2]
    band = results[10]
    lit = next(i for i, rgb in enumerate(band) if rgb != background)
    for i, rgb in ((lit, background), (band.index(background), 0x808080)):  # hit shown as sky, sky as hit
        wrong = list(results)
        wrong[10] = band[:i] + [rgb] + band[i + 1:]
        with pytest.raises(CheckFailed, match="disagrees"):
            raytrace.check(tasks, wrong, None)


def test_raytrace_check_retraces_one_pixel_per_band():
    tasks, results = run(raytrace, "quick")
    background = raytrace.BACKGROUND[0] << 16 | raytrace.BACKGROUND[1] << 8 | raytrace.BACKGROUND[2]
    for band, (first, rows, width, _) in enumerate(tasks):
        x, y = (first * 7) % width, first + rows // 2
        i = (y - first) * width + x
        if results[band][i] != background:  # a lit pixel: only the retrace can see one bit off
            break
    wrong = list(results)
    wrong[band] = results[band][:i] + [results[band][i] ^ 1] + results[band][i + 1:]  # one bit of blue
    with pytest.raises(CheckFailed, match="traced again"):
        raytrace.check(tasks, wrong, None)


def test_raytrace_check_fails_on_swapped_or_short_bands():
    tasks, results = run(raytrace, "quick")
    with pytest.raises(CheckFailed):
        raytrace.check(tasks, [results[1], results[0], *results[2:]], None)
    with pytest.raises(CheckFailed, match="pixels"):
        raytrace.check(tasks, [results[0][:-1], *results[1:]], None)
