"""The lecture's ways of running many tasks: in sequence, in threads, in processes, with asyncio;
and the fourth way of 2026, in subinterpreters (PEP 734: one interpreter, with its own GIL, per worker).

Each strategy is ``run(workload, tasks, workers, shared, ctx) -> results`` (results in task order).
The time a benchmark reports is one call of a strategy, and that includes creating and tearing
down its executor, pool or event loop, exactly as the lecture's examples time them.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import multiprocessing
import platform
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from harness.measure.workload import Context, Workload


def _init(workload: Workload, shared) -> tuple:
    if workload.initializer is None:
        return {}
    return {"initializer": workload.initializer, "initargs": (shared,)}


def sequential(workload: Workload, tasks: list, workers: int, shared, ctx: Context) -> list:
    """One loop in the main thread: the baseline every speedup is measured against."""
    if workload.initializer:
        workload.initializer(shared)
    return [workload.task(t) for t in tasks]


def threads(workload: Workload, tasks: list, workers: int, shared, ctx: Context) -> list:
    """``ThreadPoolExecutor.map``: parallel on 3.13t, interleaved under the GIL."""
    with ThreadPoolExecutor(max_workers=workers, **_init(workload, shared)) as pool:
        return list(pool.map(workload.task, tasks))


def start_method() -> str:
    """multiprocessing's start method (fork, forkserver or spawn): recorded, it changes what processes cost."""
    return multiprocessing.get_start_method()


class PoolWorkerError(RuntimeError):
    """A process of the ``processes`` pool ended while its tasks were running: the run fails at once."""


POOL_WATCH = 0.05  # seconds between looks at the pool's processes while its map runs


def processes(workload: Workload, tasks: list, workers: int, shared, ctx: Context) -> list:
    """``multiprocessing.Pool.map`` as in the lecture: bypasses the GIL, pays for pickling.

    A worker that dies (``os._exit``, a signal, the OOM killer) fails the run with its exit code
    (:class:`PoolWorkerError`): the Pool would replace it and wait for its lost task forever.
    """
    with multiprocessing.get_context().Pool(processes=workers, **_init(workload, shared)) as pool:
        return _map_watching_workers(pool, workload.task, tasks)


def _map_watching_workers(pool, task, tasks: list) -> list:
    """``pool.map(task, tasks)``, raising :class:`PoolWorkerError` as soon as one of its processes has ended.

    The pool's processes are read from ``Pool._pool`` (multiprocessing's own list, the same since
    Python 3.0): taken before the tasks are handed out, every death is seen, even one the pool has
    already replaced (a Process keeps its exit code). Waiting in slices of :data:`POOL_WATCH` adds
    no delay: ``wait`` returns as soon as the map is done.
    """
    seen = list(getattr(pool, "_pool", ()))
    pending = pool.map_async(task, tasks)
    while not pending.ready():
        seen += [p for p in getattr(pool, "_pool", ()) if p not in seen]
        dead = [p for p in seen if p.exitcode is not None]
        if dead:
            code = dead[0].exitcode
            how = f"exit code {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"
            raise PoolWorkerError(f"a processes pool worker (pid {dead[0].pid}) ended with {how} while "
                                  "its tasks were running")
        pending.wait(POOL_WATCH)
    return pending.get()


def unavailable_reason(strategy: str) -> str | None:
    """Why ``strategy`` cannot run on this interpreter at all, or None.

    Each strategy that depends on the interpreter registers its own check in ``_AVAILABILITY``;
    the others run everywhere.
    """
    check = _AVAILABILITY.get(strategy)
    return check() if check is not None else None


def not_applicable_reason(workload: Workload, strategy: str) -> str | None:
    """Why ``workload`` is not run under ``strategy`` here, or None: what the plan asks.

    The workload's own declaration first (it knows what it shares), then the strategy's
    availability on the running interpreter (only the strategy knows what it needs).
    """
    return workload.not_applicable_reason(strategy) or unavailable_reason(strategy)


def worker_sweep(workload: Workload, strategy: str, cores: int) -> tuple[int, ...]:
    """The worker counts ``workload`` is measured with under ``strategy`` here; empty when not applicable."""
    if not_applicable_reason(workload, strategy):
        return ()
    return workload.workers_for(strategy, cores)


def _interpreters_unavailable() -> str | None:
    """``interpreters`` needs PEP 734's ``_interpreters`` (3.13+) and, before 3.14, backports.interpreters."""
    if importlib.util.find_spec("_interpreters") is None:  # PEP 734's low-level module, from 3.13 on
        return (f"subinterpreters need a CPython with _interpreters (this is {platform.python_version()}): "
                "PEP 734's API over _interpreters")
    if not _has_interpreter_pool():
        try:
            import backports.interpreters  # noqa: F401
        except ImportError:
            return "backports.interpreters is not installed (pip install -e '.[bench]')"
    return None


def _has_interpreter_pool() -> bool:
    """Does the stdlib have ``concurrent.futures.InterpreterPoolExecutor`` (CPython >= 3.14)?"""
    import concurrent.futures

    return hasattr(concurrent.futures, "InterpreterPoolExecutor")


class TaskFailed(RuntimeError):
    """A task raised inside a subinterpreter: the message is its error; the note, its traceback there."""


def _enter_interpreter(path: list, module: str | None, name: str | None, shared) -> None:
    """Runs INSIDE a new subinterpreter, once: the parent's sys.path, then the workload's initializer.

    Self-contained (the 3.13 backport runs this function's code against the interpreter's __main__).
    """
    import importlib
    import sys

    sys.path[:] = path
    if module is not None:
        fn = importlib.import_module(module)
        for part in name.split("."):
            fn = getattr(fn, part)
        fn(shared)


def _call_in_interpreter(module: str, name: str, arg):
    """Runs INSIDE a subinterpreter, once per task: the workload's task, imported there by name."""
    import importlib

    fn = importlib.import_module(module)
    for part in name.split("."):
        fn = getattr(fn, part)
    return fn(arg)


def _ref(fn) -> tuple[str, str]:
    return fn.__module__, fn.__qualname__


def _interpreter_pool_313(workload: Workload, tasks: list, workers: int, shared) -> list:
    """What ``InterpreterPoolExecutor`` does on 3.14, on 3.13's ``_interpreters`` (backports.interpreters).

    One thread per worker, each creating its own interpreter, running the initializer there, then
    taking the next task index until none is left or a task failed; every interpreter is closed
    before this returns, whatever happened. Never more interpreters than tasks (as the thread pool).
    """
    from backports import interpreters as pep734

    results: list = [None] * len(tasks)
    indices = itertools.count()  # the next task index, taken under `take` by every worker thread
    take = threading.Lock()
    failures: list[tuple[int, BaseException]] = []
    init = _ref(workload.initializer) if workload.initializer else (None, None)
    module, name = _ref(workload.task)

    def worker() -> None:
        interp = None
        try:
            interp = pep734.create()
            interp.call(_enter_interpreter, list(sys.path), *init, shared if workload.initializer else None)
            while not failures:
                with take:
                    i = next(indices)
                if i >= len(tasks):
                    return
                try:
                    results[i] = interp.call(_call_in_interpreter, module, name, tasks[i])
                except pep734.ExecutionFailed as e:
                    failures.append((i, e))
        except BaseException as e:  # noqa: BLE001 - creation or initializer failed: reported below
            failures.append((-1, e))
        finally:
            if interp is not None:
                try:
                    interp.close()
                except BaseException as e:  # noqa: BLE001 - reported with the run, never left in a thread
                    failures.append((-1, e))
                del interp  # the backport's __del__ must run now, not at interpreter shutdown

    pool = [threading.Thread(target=worker, name=f"ftbench-interp-{k}") for k in range(min(workers, len(tasks)))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise _task_failed(*min(failures, key=lambda f: f[0] if f[0] >= 0 else len(tasks)), tasks)
    return results


def _task_failed(i: int, exc: BaseException, tasks: list) -> TaskFailed:
    info = getattr(exc, "excinfo", None)
    if info is not None and getattr(info, "type", None) is not None:
        what = " ".join(f"{info.type.__name__}: {info.msg}".split())[:300]
        detail = getattr(info, "formatted", "") or str(exc)
    else:
        what, detail = _one_line(exc), ""
    where = f"task {i} ({tasks[i]!r:.60})" if i >= 0 else "starting a worker"
    err = TaskFailed(f"{what} [{where}, in a subinterpreter]")
    if detail:
        err.add_note(detail.rstrip())
    return err


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def interpreters(workload: Workload, tasks: list, workers: int, shared, ctx: Context) -> list:
    """A pool of subinterpreters, one per worker: parallel even under a GIL, since each has its own.

    Tasks and results are pickled across interpreters; the workload's module is imported again in
    each interpreter (same sys.path as here), so creating them (and their imports) is part of the
    timing, as creating a process pool is. A task that raises fails the run with its error text
    (:class:`TaskFailed`), and every interpreter of the pool is closed first.
    """
    reason = unavailable_reason("interpreters")
    if reason:
        raise RuntimeError(reason)
    if not _has_interpreter_pool():
        return _interpreter_pool_313(workload, tasks, workers, shared)
    from concurrent.futures import InterpreterPoolExecutor

    init = _ref(workload.initializer) if workload.initializer else (None, None)
    module, name = _ref(workload.task)
    with InterpreterPoolExecutor(max_workers=workers, initializer=_enter_interpreter,
                                 initargs=(list(sys.path), *init,
                                           shared if workload.initializer else None)) as pool:
        futures = [pool.submit(_call_in_interpreter, module, name, t) for t in tasks]
        results = []
        for i, future in enumerate(futures):
            try:
                results.append(future.result())
            except Exception as e:
                for f in futures:
                    f.cancel()
                raise _task_failed(i, e, tasks) from e
        return results


async def _gather_limited(coros_of, tasks: list, limit: int) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def one(t):
        async with semaphore:
            return await coros_of(t)

    return await asyncio.gather(*(one(t) for t in tasks))


def asyncio_native(workload: Workload, tasks: list, workers: int, shared, ctx: Context) -> list:
    """Native coroutines on one event loop, at most ``workers`` in flight.

    A workload without ``atask`` runs its sync task inside coroutines: the event loop then
    runs them one after another, the lecture's point that asyncio does not help CPU work.
    """
    if workload.initializer:
        workload.initializer(shared)

    async def main():
        if workload.atask is None:
            async def call(t):
                return workload.task(t)

            return await _gather_limited(call, tasks, workers)
        async with workload.async_session(ctx) as session:
            return await _gather_limited(lambda t: workload.atask(t, session), tasks, workers)

    return asyncio.run(main())


def asyncio_threads(workload: Workload, tasks: list, workers: int, shared, ctx: Context) -> list:
    """An event loop that offloads the sync task to a thread pool (``run_in_executor``)."""

    async def main():
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=workers, **_init(workload, shared)) as pool:
            return await asyncio.gather(*(loop.run_in_executor(pool, workload.task, t) for t in tasks))

    return asyncio.run(main())


# strategy -> its check of the running interpreter (see unavailable_reason); absent: runs everywhere
_AVAILABILITY = {"interpreters": _interpreters_unavailable}

STRATEGIES = {
    "sequential": sequential,
    "threads": threads,
    "processes": processes,
    "interpreters": interpreters,
    "asyncio": asyncio_native,
    "asyncio_threads": asyncio_threads,
}


def run(strategy: str, workload: Workload, tasks: list, workers: int, shared=None,
        ctx: Context | None = None) -> list:
    """Run ``tasks`` of ``workload`` under ``strategy`` with ``workers``; the results in task order."""
    return STRATEGIES[strategy](workload, tasks, workers, shared, ctx or Context(workers=workers))
