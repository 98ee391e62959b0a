"""Free-threading pitfalls: eight patterns that scale badly on 3.13t when their object is shared.

Each pattern comes twice: ``pitfall_<pattern>_shared`` works on ONE object that every worker uses,
``pitfall_<pattern>_private`` does the same work on an object of the task's own. At threads x2 on
3.13t the gap between the two is the cost of sharing, measured rather than guessed.

The patterns follow CPython's ``Tools/ftscalingbench/ftscalingbench.py`` ("patterns that ought to
scale well, but haven't in the past ... typically due to reference count contention or lock
contention") and the free-threading HOWTO (docs.python.org/3.13/howto/free-threading-python.html):
  dict       read and write one dict                  list       append to one list
  global     read a module-global list in a hot loop  classattr  read a class attribute in a hot loop
  attrs      write attributes of one instance         alloc      many short-lived instances of one class
  dataclass  instantiate one dataclass                lock       take one threading.Lock (private: one per task)
The shared objects are module globals, reset by ``setup`` before every run. Threads and asyncio share
them; processes and subinterpreters each get their own copy, so there "shared" is per worker and both
versions should scale alike (the control). Every task returns a sum that does not depend on how the
workers interleave, so every run is checked. Not in the default suite: ``--workloads`` names them.
"""

import dataclasses
import functools
import threading

from harness import CheckFailed, Context, Workload, paired

COUNT = 20  # tasks per run
KEYS = 64  # dict keys per task
TABLE = [3, 1, 4, 1, 5, 9, 2, 6]  # the module global read in a hot loop


class Config:
    FACTORS = [2, 7, 1, 8, 2, 8, 1, 8]


class Point:
    def __init__(self, x: int, y: int):
        self.x, self.y = x, y


@dataclasses.dataclass
class Record:
    x: int
    y: int


class Box:
    y = 3


SHARED = {"dict": {}, "list": [], "box": Box(), "lock": threading.Lock()}


def setup(strategy: str, ctx: Context) -> dict:
    SHARED["dict"].clear()
    SHARED["list"].clear()
    return SHARED


def _dict(t, n, d):
    acc = 0
    for i in range(n):
        d[t * KEYS + (i & 63)] = 3 * (t * KEYS + (i & 63))
        k = t * KEYS + ((i * 5) & 63)
        acc += d.get(k, 3 * k)  # the value depends on the key only: any interleaving gives one sum
    return acc


def _list(t, n, lst):
    acc = 0
    for i in range(n):
        lst.append(i)
        acc += i ^ t
    return acc


def _global(t, n, _):
    acc = 0
    for i in range(n):
        acc += TABLE[i & 7] ^ t  # LOAD_GLOBAL, and a reference count taken on the one shared list
    return acc


def _global_local(t, n, _):
    table, acc = list(TABLE), 0
    for i in range(n):
        acc += table[i & 7] ^ t
    return acc


def _classattr(t, n, _):
    acc = 0
    for i in range(n):
        acc += Config.FACTORS[i & 7] ^ t
    return acc


def _classattr_local(t, n, _):
    factors, acc = list(Config.FACTORS), 0
    for i in range(n):
        acc += factors[i & 7] ^ t
    return acc


def _attrs(t, n, box):
    acc = 0
    for i in range(n):
        box.x = i  # the write every worker makes to the one instance
        acc += box.y + i
    return acc


def _alloc(t, n, cls):
    acc = 0
    for i in range(n):
        p = cls(i, t)
        acc += p.x + p.y
    return acc


def _lock(t, n, lock):
    acc = 0
    for i in range(n):
        with lock:
            acc += i ^ t
    return acc


# pattern -> (work, shared object, private object (made per task), one term of the expected sum)
PATTERNS = {
    "dict": (_dict, lambda: SHARED["dict"], dict, lambda t, i: 3 * (t * KEYS + ((i * 5) & 63))),
    "list": (_list, lambda: SHARED["list"], list, lambda t, i: i ^ t),
    "global": (_global, None, None, lambda t, i: TABLE[i & 7] ^ t),
    "classattr": (_classattr, None, None, lambda t, i: Config.FACTORS[i & 7] ^ t),
    "attrs": (_attrs, lambda: SHARED["box"], Box, lambda t, i: 3 + i),
    "alloc": (_alloc, lambda: Point, lambda: type("Point", (), {"__init__": Point.__init__}), lambda t, i: i + t),
    "dataclass": (_alloc, lambda: Record, lambda: dataclasses.make_dataclass("Record", ["x", "y"]),
                  lambda t, i: i + t),
    "lock": (_lock, lambda: SHARED["lock"], threading.Lock, lambda t, i: i ^ t),
}
LOCAL_WORK = {"global": _global_local, "classattr": _classattr_local}  # private: a local copy
# sequential at the default size on 3.13t, quiet 2-core VM: 0.2-0.35 s for each of the 16
DEFAULT_N = {"dict": 50_000, "list": 150_000, "global": 220_000, "classattr": 220_000, "attrs": 150_000,
             "alloc": 60_000, "dataclass": 60_000, "lock": 100_000}


def run_task(task: tuple[str, bool, int, int]) -> int:
    pattern, shared, t, n = task
    work, shared_obj, private_obj, _ = PATTERNS[pattern]
    if shared:
        return work(t, n, shared_obj() if shared_obj else None)
    work = LOCAL_WORK.get(pattern, work)
    return work(t, n, private_obj() if private_obj else None)


@functools.lru_cache(maxsize=1024)
def expected(pattern: str, t: int, n: int) -> int:
    term = PATTERNS[pattern][3]
    return sum(term(t, i) for i in range(n))


def check(tasks: list, results: list, shared: dict) -> None:
    for (pattern, _, t, n), got in paired(tasks, results):
        if got != expected(pattern, t, n):
            raise CheckFailed(f"{pattern} task {t}: sum {got}, expected {expected(pattern, t, n)}")
    appended = len(shared["list"])  # here (threads, asyncio) every append, or none (other processes)
    if tasks and tasks[0][:2] == ("list", True) and appended not in (0, sum(task[3] for task in tasks)):
        raise CheckFailed(f"{appended} items in the shared list: appends were lost")


def _workload(pattern: str, is_shared: bool) -> Workload:
    def make_tasks(params: dict, ctx: Context) -> list:
        return [(pattern, is_shared, t, params["n"]) for t in range(params["count"])]

    n = DEFAULT_N[pattern]
    return Workload(
        name=f"pitfall_{pattern}_{'shared' if is_shared else 'private'}",
        kind="cpu",
        description=f"{pattern} pattern on {'one object shared by all workers' if is_shared else 'a private object'}",
        sizes={"tiny": {"n": 200, "count": 4}, "quick": {"n": n // 10, "count": COUNT},
               "default": {"n": n, "count": COUNT}, "rigorous": {"n": 3 * n, "count": COUNT}},
        make_tasks=make_tasks,
        task=run_task,
        check=check,
        setup=setup,
        in_default_suite=False,
        tags=("pitfalls",),
        pyperf={"quick": {"processes": 1, "values": 2, "warmups": 1},
                "default": {"processes": 2, "values": 2, "warmups": 1},
                "rigorous": {"processes": 6, "values": 3, "warmups": 1}},
    )


WORKLOADS = [_workload(p, s) for p in PATTERNS for s in (True, False)]
