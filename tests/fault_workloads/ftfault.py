"""The fault workloads of the tests: each breaks the benchmark in one known way, beside a healthy one.

Loaded only by the tests (``FTBENCH_WORKLOAD_PATH``), never part of the default suite. One file,
one ``Workload`` per fault, each named ``ftfault_<fault>``; options (``--option KEY=VALUE``) pick
the variations a test needs:

- ``ftfault_ok``: squares of a few small numbers, always passes in milliseconds;
- ``ftfault_raise``: the third task raises ValueError (recorded failed with its text, never timed);
- ``ftfault_wrong``: one result off by one, so the check fails;
- ``ftfault_deadlock``: the lecture's deadlock, two threads taking two locks in opposite orders
  (a barrier makes it certain); only the runner's timeout ends it;
- ``ftfault_hold``: tasks wait while the file ``hold=PATH`` exists, after creating ``started=PATH``
  (a test interrupts the runner mid-benchmark);
- ``ftfault_gil``: imports an extension without ``Py_mod_gil`` from ``gil_ext_dir=DIR``, which
  re-enables the GIL on a free-threaded build;
- ``ftfault_probe_alloc``: each task holds ``mb=64`` MB of touched memory for ``hold=0.5`` s
  (one task per worker: the tree-memory probe must see the sum);
- ``ftfault_probe_exit``: a task calls ``sys.exit(code)`` (``code=0``);
- ``ftfault_probe_figure``: check() returns the figure chosen by ``bad=`` (str, nan, inf, bool,
  list, none, or ok);
- ``ftfault_lens_raise`` / ``ftfault_lens_init``: a task / an initializer raising inside a
  subinterpreter;
- ``ftfault_orphan``: the first task starts ``sleep 300`` and does not wait for it, appending its
  pid to ``pids=PATH`` (a process left behind after the benchmark);
- ``ftfault_hard_exit``: the second task ends its process with ``os._exit(code)`` (``code=3``): no
  exception, no cleanup, as a crash or the OOM killer would.
"""

import importlib
import os
import subprocess
import sys
import threading
import time

from harness import SIZES, CheckFailed, Context, Workload

MESSAGE = "ftfault: task 2 exploded on purpose"
LENS_MESSAGE = "ftfault_lens: task 2 exploded in a subinterpreter"
LENS_INIT_MESSAGE = "ftfault_lens: initializer exploded in a subinterpreter"
GIL_MODULE = "ftgilext"  # answer() -> 42
HOLD_LIMIT = 120.0  # seconds: a leaked worker still ends by itself
PAGE = 4096
BAD_FIGURES = {"str": {"lost": "many"}, "nan": {"lost": float("nan")}, "inf": {"lost": float("inf")},
               "bool": {"lost": True}, "list": [("lost", 1)], "ok": {"lost": 0, "ratio": 0.5}, "none": None}

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()
BOTH_HOLD_ONE = threading.Barrier(2)


def count(n: int):
    """make_tasks of ``n`` small integers."""
    return lambda params, ctx: list(range(n))


def no_check(tasks, results, shared) -> None:
    """For faults that fail before any check could."""
    return None


def square(x: int) -> int:
    return x * x


def check_squares(tasks: list[int], results: list[int], shared) -> None:
    if results != [x * x for x in tasks]:
        raise CheckFailed(f"wrong squares: {results}")


def explode(x: int) -> int:
    if x == 2:
        raise ValueError(MESSAGE)
    return x


def off_by_one(x: int) -> int:
    return x * x + (x == 1)  # the lost update of a race, in miniature


def check_wrong(tasks: list[int], results: list[int], shared) -> None:
    for x, got in zip(tasks, results, strict=True):
        if got != x * x:
            raise CheckFailed(f"ftfault_wrong: square({x}) = {got}, expected {x * x}")


def transfer(direction: int) -> int:
    first, second = (LOCK_A, LOCK_B) if direction == 0 else (LOCK_B, LOCK_A)
    with first:
        BOTH_HOLD_ONE.wait()
        with second:  # never acquired: the other thread holds it and waits for ours
            return direction


def hold_tasks(params: dict, ctx: Context) -> list[tuple]:
    return [(ctx.options.get("started", ""), ctx.options.get("hold", ""), i) for i in range(2)]


def wait_while_held(arg: tuple) -> int:
    started, hold, i = arg
    if started:
        with open(started, "a") as f:
            f.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + HOLD_LIMIT
    while hold and os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
    return i


def check_held(tasks: list[tuple], results: list[int], shared) -> None:
    if results != [t[2] for t in tasks]:
        raise CheckFailed(f"results {results}")


def gil_tasks(params: dict, ctx: Context) -> list[str]:
    return [ctx.options.get("gil_ext_dir", "")] * 2


def import_and_call(ext_dir: str) -> int:
    if ext_dir not in sys.path:
        sys.path.insert(0, ext_dir)
    return importlib.import_module(GIL_MODULE).answer()


def check_answers(tasks: list[str], results: list[int], shared) -> None:
    if results != [42] * len(tasks):
        raise CheckFailed(f"results {results}")


def alloc_tasks(params: dict, ctx: Context) -> list[tuple[int, float]]:
    return [(int(ctx.options.get("mb", 64)), float(ctx.options.get("hold", 0.5)))] * ctx.workers


def hold_memory(task: tuple[int, float]) -> int:
    """Map ``mb`` MB, touch every page, hold them, unmap: no allocator keeps them after the task."""
    import mmap

    mb, hold = task
    if not mb:
        time.sleep(hold)
        return 0
    size = mb << 20
    block = mmap.mmap(-1, size)  # anonymous and private; a bytearray's pages may outlive it in the allocator
    try:
        block[::PAGE] = b"\x01" * len(range(0, size, PAGE))  # touch every page: resident
        time.sleep(hold)
        return sum(block[::PAGE])
    finally:
        block.close()


def check_memory(tasks, results, shared) -> None:
    want = [len(range(0, mb << 20, PAGE)) if mb else 0 for mb, _ in tasks]
    if results != want:
        raise CheckFailed(f"ftfault_probe_alloc: touched {results}, expected {want}")


def leave(code: int) -> int:
    sys.exit(code)


def echo(value):
    return value


def bad_figure(tasks, results, shared):
    return BAD_FIGURES[tasks[0]]


def explode_in_interpreter(x: int) -> int:
    if x == 2:
        raise ValueError(LENS_MESSAGE)
    return x


def bad_init(shared) -> None:
    raise RuntimeError(LENS_INIT_MESSAGE)


def start_and_leave(task: tuple[str, int]) -> int:
    pids, x = task
    if x == 0:
        orphan = subprocess.Popen(["sleep", "300"])
        with open(pids, "a") as f:
            f.write(f"{orphan.pid}\n")
        orphan.returncode = 0  # never waited for: no ResourceWarning, and no reaping either
    return x * x


def exit_hard(task: tuple[int, int]) -> int:
    code, x = task
    if x == 1:
        os._exit(code)
    return x


FOUR = count(4)


def fault(name: str, task, check=no_check, make_tasks=FOUR, strategies=("sequential",), values: int = 1,
          **kw) -> Workload:
    """A fault workload: never in the default suite, one process of ``values`` values and no warm-up."""
    kw.setdefault("sizes", {s: {} for s in SIZES})
    return Workload(name=name, kind=kw.pop("kind", "cpu"), description=f"test fault {name}", make_tasks=make_tasks,
                    task=task, check=check, strategies=strategies, in_default_suite=False,
                    pyperf={p: {"processes": 1, "values": values, "warmups": 0} for p in ("quick", "default",
                                                                                         "rigorous")},
                    **kw)


WORKLOADS = [
    fault("ftfault_ok", square, check_squares, strategies=("sequential", "threads"), values=2),
    fault("ftfault_raise", explode, strategies=("sequential", "threads", "processes")),
    fault("ftfault_wrong", off_by_one, check_wrong, make_tasks=count(3)),
    fault("ftfault_deadlock", transfer, make_tasks=count(2), strategies=("threads",), sweep=lambda cores: (2,)),
    fault("ftfault_hold", wait_while_held, check_held, make_tasks=hold_tasks, kind="io",
          strategies=("sequential", "processes"), sweep=lambda cores: (2,)),
    fault("ftfault_gil", import_and_call, check_answers, make_tasks=gil_tasks),
    fault("ftfault_probe_alloc", hold_memory, check_memory, make_tasks=alloc_tasks,
          strategies=("sequential", "threads", "processes")),
    fault("ftfault_probe_exit", leave, make_tasks=lambda params, ctx: [int(ctx.options.get("code", 0))] * 2,
          strategies=("sequential", "threads", "processes", "asyncio")),
    fault("ftfault_probe_figure", echo, bad_figure, make_tasks=lambda params, ctx: [ctx.options.get("bad", "str")] * 2),
    fault("ftfault_lens_raise", explode_in_interpreter, make_tasks=count(6), strategies=("sequential", "interpreters")),
    fault("ftfault_lens_init", echo, make_tasks=count(6), initializer=bad_init,
          strategies=("sequential", "interpreters")),
    fault("ftfault_orphan", start_and_leave,
          make_tasks=lambda params, ctx: [(ctx.options["pids"], x) for x in range(2)]),
    fault("ftfault_hard_exit", exit_hard, strategies=("sequential", "processes"), sweep=lambda cores: (2,),
          make_tasks=lambda params, ctx: [(int(ctx.options.get("code", 3)), x) for x in range(4)]),
]
