"""Many workers updating ONE shared histogram: the lecture's race conditions and locks, measured.

Every update does the same small piece of work (a function call, summed into a task-local
result) and adds one to bucket ``(t + i) % BUCKETS`` of the shared histogram:
  shared_state         each increment under a lock: correct, pays for contention (a futex
                       between processes; between threads serialised by the GIL on 3.13 and
                       truly contended on 3.13t)
  shared_state_local   task-local counts merged into the shared histogram under the lock once
                       per task: correct, and the contention all but disappears
  shared_state_unsafe  no lock, the work inside the read-modify-write window
                       (``x = counts[b]; work; counts[b] = x + 1``): the race made visible. The
                       call lets the GIL switch threads inside the window, so updates get lost on
                       3.13 too; the check records them as a figure instead of failing.
Threads and asyncio share a list and a ``threading.Lock``, processes a ``RawArray`` in shared
memory and a ``multiprocessing.Lock``; ``setup`` makes them fresh for every run.
"""

import functools
import threading

from harness import CheckFailed, Context, Workload, paired

COUNT = 20  # tasks per run
BUCKETS = 8
_SHARED = None  # (lock, counts) of the current run, installed in each worker by `install`


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, int]]:
    return [(t, params["updates"]) for t in range(params["count"])]


def setup(strategy: str, ctx: Context) -> tuple:
    if strategy == "processes":
        import multiprocessing

        return multiprocessing.Lock(), multiprocessing.RawArray("q", BUCKETS)
    return threading.Lock(), [0] * BUCKETS


def install(shared: tuple) -> None:
    global _SHARED
    _SHARED = shared


def _work(t: int, i: int) -> int:
    """The per-update work, a little integer hashing (a call: a place where the GIL can switch)."""
    h = (t * 1_000_003 + i) * 2_654_435_761 % 4_294_967_291
    return h ^ (h >> 7)


def update_locked(task: tuple[int, int]) -> int:
    t, updates = task
    lock, counts = _SHARED
    acc = 0
    for i in range(updates):
        acc += _work(t, i)
        with lock:
            counts[(t + i) % BUCKETS] += 1
    return acc


def update_local(task: tuple[int, int]) -> int:
    t, updates = task
    local = [0] * BUCKETS
    acc = 0
    for i in range(updates):
        acc += _work(t, i)
        local[(t + i) % BUCKETS] += 1
    lock, counts = _SHARED
    with lock:
        for b, n in enumerate(local):
            counts[b] += n
    return acc


def update_unsafe(task: tuple[int, int]) -> int:
    t, updates = task
    counts = _SHARED[1]
    acc = 0
    for i in range(updates):
        b = (t + i) % BUCKETS
        x = counts[b]  # read ...
        acc += _work(t, i)  # ... work ...
        counts[b] = x + 1  # ... write: whatever another worker wrote meanwhile is lost
    return acc


@functools.lru_cache(maxsize=256)
def _expected_acc(t: int, updates: int) -> int:
    return sum(_work(t, i) for i in range(updates))


def _expected_counts(tasks: list) -> list[int]:
    """Update i of task t goes to bucket (t + i) % BUCKETS: count them in closed form."""
    counts = [0] * BUCKETS
    for t, updates in tasks:
        for b in range(BUCKETS):
            counts[b] += len(range((b - t) % BUCKETS, updates, BUCKETS))
    return counts


def _check_results(tasks: list, results: list) -> list[int]:
    """Check each task's own (task-local, race-free) result; return the expected bucket counts."""
    for (t, updates), got in paired(tasks, results):
        if got != _expected_acc(t, updates):
            raise CheckFailed(f"task {t}: work sum {got}, expected {_expected_acc(t, updates)}")
    return _expected_counts(tasks)


def check_exact(tasks: list, results: list, shared: tuple) -> None:
    want, got = _check_results(tasks, results), list(shared[1])
    if got != want:
        raise CheckFailed(f"bucket counts {got}, expected {want} (lost or extra updates)")


def check_unsafe(tasks: list, results: list, shared: tuple) -> dict[str, int]:
    """Lost updates are the figure measured; only more updates than were made is an error."""
    want, got = _check_results(tasks, results), list(shared[1])
    if any(not 0 <= g <= w for g, w in zip(got, want, strict=True)):
        raise CheckFailed(f"bucket counts {got} impossible: at most {want} updates were made")
    return {"lost_updates": sum(want) - sum(got)}


def _workload(name: str, task, check, description: str) -> Workload:
    return Workload(
        name=name,
        kind="cpu",
        description=description,
        sizes={
            "tiny": {"updates": 500, "count": 4},
            "quick": {"updates": 5_000, "count": COUNT},
            # the same 900k updates for all three, to compare them; sequential on a 2-core VM:
            # locked 0.37 / local 0.24 / unsafe 0.24 s on 3.13, 0.48 / 0.30 / 0.30 s on 3.13t
            "default": {"updates": 45_000, "count": COUNT},
            "rigorous": {"updates": 120_000, "count": COUNT},
        },
        make_tasks=make_tasks,
        task=task,
        check=check,
        setup=setup,
        initializer=install,
        pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
                "default": {"processes": 2, "values": 2, "warmups": 1},
                "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
        not_applicable={"interpreters": "one lock and one histogram shared by every worker: neither a "
                                        "threading.Lock nor a multiprocessing Lock crosses interpreters"},
    )


WORKLOADS = [
    _workload("shared_state", update_locked, check_exact,
              "updates of one shared histogram, each under a lock"),
    _workload("shared_state_local", update_local, check_exact,
              "task-local counts merged into one shared histogram once per task"),
    _workload("shared_state_unsafe", update_unsafe, check_unsafe,
              "unlocked read-modify-write of one shared histogram; lost updates recorded"),
]
