"""The workload interface, and discovery of every workload file in ``workloads/``.

A workload is one small module in ``workloads/`` that defines ``WORKLOAD = Workload(...)``. Dropping
a new file there is enough: :func:`discover` finds it without any change to ``harness/``.

How a strategy uses a workload (see ``harness/strategies.py``)::

    params = workload.sizes[size]                      # e.g. {"n": 1_000_000, "count": 20}
    tasks  = workload.make_tasks(params, ctx)          # a list of picklable task arguments
    shared = workload.setup(strategy, ctx)             # per-run shared state, or None
    # in every worker (thread, process or the main thread), once:  workload.initializer(shared)
    results = [workload.task(t) for t in tasks]        # in sequence, in threads or in processes
    results = [await workload.atask(t, session) ...]   # asyncio, when the workload has atask
    workload.check(tasks, results, shared)             # raises CheckFailed when anything is wrong;
                                                       # may return {"figure": number} to record
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("cpu", "io", "mixed")
EXTRA_PATH_ENV = "FTBENCH_WORKLOAD_PATH"
SIZES = ("tiny", "quick", "default", "rigorous")
ALL_STRATEGIES = ("sequential", "threads", "processes", "asyncio", "asyncio_threads")


class CheckFailed(AssertionError):
    """A workload's results are wrong: the benchmark is recorded failed, never timed."""


def paired(tasks: list, results: list):
    """(task, result) pairs for a check, after making sure no result went missing."""
    if len(results) != len(tasks):
        raise CheckFailed(f"{len(results)} results for {len(tasks)} tasks")
    return zip(tasks, results, strict=True)


@dataclass(frozen=True)
class Context:
    """What a workload may need from the harness at run time."""

    server_url: str | None = None  # base URL of the embedded HTTP server, for I/O workloads
    workers: int = 1
    options: dict = field(default_factory=dict)  # workload-specific switches, e.g. {"unsafe": True}


def cpu_sweep(cores: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to twice the core count (oversubscription shows what it costs)."""
    out, w = [], 1
    while w <= 2 * cores:
        out.append(w)
        w *= 2
    if out[-1] != 2 * cores:
        out.append(2 * cores)
    return tuple(out)


def io_sweep(cores: int) -> tuple[int, ...]:
    """Concurrency levels for waiting-bound work: independent of the core count."""
    return (4, 16, 64)


@dataclass(frozen=True)
class Workload:
    """One benchmarkable task from the lecture, with its own correctness check.

    ``task`` and ``initializer`` must be module-level functions (processes pickle them by name).
    ``atask(arg, session)`` is the native coroutine version for asyncio, with ``async_session``
    an async context manager factory ``async_session(ctx)`` that yields what ``atask`` needs
    (e.g. one aiohttp.ClientSession). Workloads without ``atask`` run under asyncio as coroutines
    that call ``task``: the lecture's point that an event loop does not parallelise CPU work.
    """

    name: str
    kind: str  # one of KINDS
    description: str
    sizes: dict[str, dict[str, Any]]  # one entry per SIZES
    make_tasks: Callable[[dict, Context], list]
    task: Callable[[Any], Any]
    check: Callable[[list, list, Any], dict | None]  # raise CheckFailed; may return figures
    strategies: Sequence[str] = ALL_STRATEGIES
    sweep: Callable[[int], tuple[int, ...]] = cpu_sweep
    atask: Callable[..., Any] | None = None
    async_session: Callable[[Context], Any] | None = None
    initializer: Callable[[Any], None] | None = None
    setup: Callable[[str, Context], Any] | None = None  # (strategy, ctx) -> shared state
    needs_server: bool = False
    # pyperf settings per profile for this workload: {"default": {"processes": 5, "values": 3}, ...}
    pyperf: dict[str, dict[str, int]] = field(default_factory=dict)
    extra_metadata: Callable[[], dict] | None = None  # e.g. BLAS thread settings
    in_default_suite: bool = True  # False: runs only when named with --workloads

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} not in {KINDS}")
        missing = [s for s in SIZES if s not in self.sizes]
        if missing:
            raise ValueError(f"{self.name}: sizes missing {missing}")
        unknown = [s for s in self.strategies if s not in ALL_STRATEGIES]
        if unknown:
            raise ValueError(f"{self.name}: unknown strategies {unknown}")

    def workers_for(self, strategy: str, cores: int) -> tuple[int, ...]:
        """The default worker sweep of one strategy (sequential runs one worker only)."""
        if strategy == "sequential" or (strategy == "asyncio" and self.atask is None):
            return (1,)
        return self.sweep(cores)


def _modules(package: str):
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{package}.{info.name}")
    # Extra directories of workload files (FTBENCH_WORKLOAD_PATH, like PATH): how the tests add
    # workloads that raise or deadlock without touching workloads/.
    for directory in filter(None, os.environ.get(EXTRA_PATH_ENV, "").split(os.pathsep)):
        if directory not in sys.path:
            sys.path.append(directory)
        for info in sorted(pkgutil.iter_modules([directory]), key=lambda i: i.name):
            if not info.name.startswith("_"):
                yield importlib.import_module(info.name)


def discover(package: str = "workloads") -> dict[str, Workload]:
    """Import every module of the package and collect its ``WORKLOAD`` (or ``WORKLOADS``)."""
    found: dict[str, Workload] = {}
    for module in _modules(package):
        declared = list(getattr(module, "WORKLOADS", ()))
        if isinstance(getattr(module, "WORKLOAD", None), Workload):
            declared.append(module.WORKLOAD)
        for workload in declared:
            if workload.name in found:
                raise ValueError(f"two workloads named {workload.name!r}")
            found[workload.name] = workload
    return found
