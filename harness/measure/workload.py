"""The workload interface, and discovery of every workload file in ``workloads/``.

A workload is one small module in ``workloads/`` that defines ``WORKLOAD = Workload(...)``. Dropping
a new file there is enough: :func:`discover` finds it without any change to ``harness/``.

How a strategy uses a workload (see :mod:`harness.measure.strategies`)::

    params = workload.sizes[size]                      # e.g. {"n": 1_000_000, "count": 20}
    tasks  = workload.make_tasks(params, ctx)          # a list of picklable task arguments
    shared = workload.setup(strategy, ctx)             # per-run shared state, or None
    # in every worker (thread, process, subinterpreter or the main thread), once:  workload.initializer(shared)
    results = [workload.task(t) for t in tasks]        # in sequence, in threads, processes or subinterpreters
    results = [await workload.atask(t, session) ...]   # asyncio, when the workload has atask
    workload.check(tasks, results, shared)             # raises CheckFailed when anything is wrong;
                                                       # may return {"figure": number} to record

Strong and weak scaling. By default (``--scaling strong``) the task list is the same whatever the
worker count: N workers share the sequential run's work, and t(1) / t(N) is the speedup. With
``--scaling weak`` the task list is repeated ``workers`` times (``tasks * workers``): every worker gets
the sequential run's amount of work, total work grows with N, and t(1) / t(N) is the weak-scaling
efficiency (1.0 = perfect). ``check`` must therefore accept a task list with repeated tasks: check
each (task, result) pair with :func:`paired`, and compute any expected total from the tasks given,
never from the size's constants.

Subinterpreters (strategy ``interpreters``): the task, its argument and its result are pickled
across interpreters, the workload's module is imported again inside each one, and ``shared`` is a
pickled copy per interpreter (as per process). A workload that cannot run there (an extension
module without multi-phase init such as numpy, a ``threading.Lock`` shared by the workers)
says so in ``not_applicable={"interpreters": "reason"}``; the plan asks
:func:`harness.measure.strategies.not_applicable_reason`, which adds whether the running interpreter
offers the strategy at all.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("cpu", "io", "mixed")
EXTRA_PATH_ENV = "FTBENCH_WORKLOAD_PATH"
SIZES = ("tiny", "quick", "default", "rigorous")
ALL_STRATEGIES = ("sequential", "threads", "processes", "interpreters", "asyncio", "asyncio_threads")
NAME_RE = re.compile(r"[a-z][a-z0-9_]*")  # a workload name is also a file name and a pyperf name part


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
    """2, 4, 8, ... up to twice the core count (oversubscription shows what it costs).

    No x1: one worker of a parallel strategy is the sequential run plus the strategy's overhead,
    where efficiency and serial fraction mean nothing; leaving it out of the default suite keeps the
    default campaign short. ``--workers 1,2,4`` measures it.
    """
    out, w = [], 2
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
    # strategy -> why this workload cannot run under it (listed by the plan, never run, never a gap)
    not_applicable: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()  # groups, e.g. ("pitfalls",)

    def __post_init__(self):
        if not isinstance(self.name, str) or not NAME_RE.fullmatch(self.name):
            raise ValueError(f"workload name {self.name!r} must match {NAME_RE.pattern} "
                             "(it names files and benchmarks)")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} not in {KINDS}")
        missing = [s for s in SIZES if s not in self.sizes]
        if missing:
            raise ValueError(f"{self.name}: sizes missing {missing}")
        unknown = [s for s in self.strategies if s not in ALL_STRATEGIES]
        if unknown:
            raise ValueError(f"{self.name}: unknown strategies {unknown}")
        unknown = [s for s in self.not_applicable if s not in ALL_STRATEGIES]
        if unknown:
            raise ValueError(f"{self.name}: not_applicable names unknown strategies {unknown}")
        if not isinstance(self.tags, tuple) or not all(isinstance(t, str) for t in self.tags):
            raise ValueError(f"{self.name}: tags must be a tuple of str, got {self.tags!r}")
        for attr in ("make_tasks", "task", "check"):
            if not callable(getattr(self, attr)):
                raise ValueError(f"{self.name}: {attr} is not callable")

    def not_applicable_reason(self, strategy: str) -> str | None:
        """Why this workload, by its own declaration, does not run under ``strategy``; None when it does.

        Only what the workload says: whether the running interpreter offers the strategy at all is
        the strategy's to say (:func:`harness.measure.strategies.not_applicable_reason` asks both).
        """
        if strategy not in ALL_STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; valid: {', '.join(ALL_STRATEGIES)}")
        if strategy in self.not_applicable:
            return self.not_applicable[strategy]
        if strategy not in self.strategies:
            return f"the workload declares only {', '.join(self.strategies)}"
        return None

    def workers_for(self, strategy: str, cores: int) -> tuple[int, ...]:
        """The default worker sweep of one strategy (sequential runs one worker only).

        Empty when the workload declares the strategy not applicable: ask :meth:`not_applicable_reason` why.
        """
        if self.not_applicable_reason(strategy):
            return ()
        if strategy == "sequential" or (strategy == "asyncio" and self.atask is None):
            return (1,)
        return self.sweep(cores)


@dataclass(frozen=True)
class Problem:
    """A workload file that could not be used, said in one line: ``str(problem)``."""

    source: str  # the file (or directory, or environment variable) at fault
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class Discovered(dict):
    """``discover()``'s result: name -> Workload, with the files that failed in ``problems``."""

    problems: tuple[Problem, ...] = ()


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _candidates(package: str, problems: list):
    """(module name, file) of every workload module: the package's, then FTBENCH_WORKLOAD_PATH's."""
    try:
        pkg = importlib.import_module(package)
    except Exception as e:  # noqa: BLE001 - a broken package is reported, the extra dirs still load
        problems.append(Problem(package, _one_line(e)))
    else:
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                yield f"{package}.{info.name}", os.path.join(info.module_finder.path, info.name)
    # Extra directories of workload files (FTBENCH_WORKLOAD_PATH, like PATH): how the tests add
    # workloads that raise or deadlock without touching workloads/.
    for directory in filter(None, os.environ.get(EXTRA_PATH_ENV, "").split(os.pathsep)):
        if not os.path.isdir(directory):
            problems.append(Problem(f"{EXTRA_PATH_ENV}={directory}", "no such directory"))
            continue
        if directory not in sys.path:
            sys.path.append(directory)
        for info in sorted(pkgutil.iter_modules([directory]), key=lambda i: i.name):
            if not info.name.startswith("_"):
                yield info.name, os.path.join(directory, info.name)


def _declared(module) -> list:
    declared = list(getattr(module, "WORKLOADS", ()))
    if hasattr(module, "WORKLOAD"):
        declared.append(module.WORKLOAD)
    return declared


def discover_with_problems(package: str = "workloads") -> tuple[dict[str, Workload], list[Problem]]:
    """Every workload that loads, and one :class:`Problem` per file that does not.

    A file with a syntax or import error, an invalid ``Workload`` (bad name, kind, sizes...),
    no workload at all, a name already taken, or a module shadowed by another of the same name;
    and a missing ``FTBENCH_WORKLOAD_PATH`` directory. The other files still load.
    """
    found: dict[str, Workload] = {}
    origin: dict[str, str] = {}
    problems: list[Problem] = []
    for modname, stem in _candidates(package, problems):
        source = stem + ".py" if os.path.exists(stem + ".py") else stem
        try:
            module = importlib.import_module(modname)
        except Exception as e:  # noqa: BLE001 - any error in one file is that file's problem
            problems.append(Problem(source, _one_line(e)))
            continue
        where = getattr(module, "__file__", None) or ""
        if where and not os.path.realpath(where).startswith(os.path.realpath(stem)):
            problems.append(Problem(source, f"module name {modname!r} is already taken by {where}; rename the file"))
            continue
        declared = _declared(module)
        bad = [w for w in declared if not isinstance(w, Workload)]
        if bad:
            problems.append(Problem(source, f"WORKLOAD(S) holds {type(bad[0]).__name__}, not a Workload"))
            continue
        if not declared:
            problems.append(Problem(source, "defines no WORKLOAD or WORKLOADS (name helper modules _like_this)"))
            continue
        for workload in declared:
            if workload.name in found:
                problems.append(Problem(source, f"workload name {workload.name!r} already defined in "
                                                f"{origin[workload.name]}"))
                continue
            found[workload.name] = workload
            origin[workload.name] = source
    return found, problems


def discover(package: str = "workloads") -> Discovered:
    """Import every module of the package and collect its ``WORKLOAD`` (or ``WORKLOADS``).

    Files that fail are left out and listed, one line each, in the result's ``problems``.
    """
    found, problems = discover_with_problems(package)
    out = Discovered(found)
    out.problems = tuple(problems)
    return out
