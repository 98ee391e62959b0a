"""The lecture's ways of running many tasks: in sequence, in threads, in processes, with asyncio.

Each strategy is ``run(workload, tasks, workers, shared, ctx) -> results`` (results in task order).
The time a benchmark reports is one call of a strategy, and that includes creating and tearing
down its executor, pool or event loop, exactly as the lecture's examples time them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
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
    return multiprocessing.get_start_method()


def processes(workload: Workload, tasks: list, workers: int, shared, ctx: Context) -> list:
    """``multiprocessing.Pool.map`` as in the lecture: bypasses the GIL, pays for pickling."""
    with multiprocessing.get_context().Pool(processes=workers, **_init(workload, shared)) as pool:
        return pool.map(workload.task, tasks)


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


STRATEGIES = {
    "sequential": sequential,
    "threads": threads,
    "processes": processes,
    "asyncio": asyncio_native,
    "asyncio_threads": asyncio_threads,
}


def run(strategy: str, workload: Workload, tasks: list, workers: int, shared=None,
        ctx: Context | None = None) -> list:
    return STRATEGIES[strategy](workload, tasks, workers, shared, ctx or Context(workers=workers))
