"""The workload interface, and discovery of workload files: ``workloads/``, and the user's own.

A workload is one small module that defines ``WORKLOAD = Workload(...)``. Dropping a new file in
``workloads/`` is enough: :func:`discover` finds it without any change to ``harness/``. A file or
directory anywhere else is found the same way when named (``--workload-path``: :func:`discover`'s
``paths``); the measuring process then imports that one file alone (:func:`load`), so another
workload's imports never reach its process.

Requirements. ``Workload(requires=["pkg==1.2"])`` names the packages the file imports that the
benchmark venvs do not hold. They are read from the file's source before it is imported
(:func:`declared_requirements`: a literal list, since the file cannot be imported without them)
and installed per interpreter into a cached overlay (:mod:`harness.provision.requirements`) that
only this file's processes put first on ``sys.path``.

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

import ast
import contextlib
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator, Sequence
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
    # packages the file imports beyond the benchmark venv's, as pip requirements ("pkg==1.2"); a
    # literal list (read before import: declared_requirements), installed per interpreter
    requires: Sequence[str] = ()

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
        if isinstance(self.requires, str) or not all(isinstance(r, str) and r.strip() for r in self.requires):
            raise ValueError(f"{self.name}: requires must be a list of pip requirements such as "
                             f"['pkg==1.2'], got {self.requires!r}")
        object.__setattr__(self, "requires", tuple(r.strip() for r in self.requires))

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



# --- discovery ------------------------------------------------------------------------------------


class LoadError(Exception):
    """A workload file that cannot be used, said in one line (naming the file)."""


@dataclass(frozen=True)
class Problem:
    """A workload file that could not be used, said in one line: ``str(problem)``."""

    source: str  # the file (or directory, or environment variable) at fault
    message: str
    given: bool = False  # named by the user (--workload-path): a usage error, not a file to skip

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class Discovered(dict):
    """``discover()``'s result: name -> Workload, with the files that failed in ``problems``.

    ``origins``: name -> the file that defines it; ``requirements``: name -> its file's requirements
    (every ``requires`` of the file: what importing it needs); ``given``: the names found in
    ``paths``, in order (what a campaign measures when the user names files and no workloads).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems: tuple[Problem, ...] = ()
        self.origins: dict[str, str] = {}
        self.requirements: dict[str, tuple[str, ...]] = {}
        self.given: tuple[str, ...] = ()


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _modules_in(directory: str) -> Iterator[tuple[str, str]]:
    """(module name, path without suffix) of every public module of ``directory``."""
    for info in sorted(pkgutil.iter_modules([directory]), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield info.name, os.path.join(directory, info.name)


def _candidates(package: str, paths: Sequence[str], problems: list):
    """(module name, path without suffix, given) of every workload module: the package's, then
    FTBENCH_WORKLOAD_PATH's directories, then ``paths`` (files or directories, given by the user)."""
    try:
        pkg = importlib.import_module(package)
    except Exception as e:  # noqa: BLE001 - a broken package is reported, the extra dirs still load
        problems.append(Problem(package, _one_line(e)))
    else:
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                yield f"{package}.{info.name}", os.path.join(info.module_finder.path, info.name), False
    # Extra directories of workload files (FTBENCH_WORKLOAD_PATH, like PATH): how the tests add
    # workloads that raise or deadlock without touching workloads/.
    for directory in filter(None, os.environ.get(EXTRA_PATH_ENV, "").split(os.pathsep)):
        if not os.path.isdir(directory):
            problems.append(Problem(f"{EXTRA_PATH_ENV}={directory}", "no such directory"))
            continue
        _on_path(directory)
        for name, stem in _modules_in(directory):
            yield name, stem, False
    for path in paths:
        if os.path.isdir(path):
            _on_path(path)
            for name, stem in _modules_in(path):
                yield name, stem, True
        elif not os.path.exists(path):
            problems.append(Problem(path, "no such file or directory", given=True))
        elif not path.endswith(".py"):
            problems.append(Problem(path, "not a Python file (*.py) or a directory of them", given=True))
        else:
            _on_path(os.path.dirname(os.path.abspath(path)))
            yield os.path.basename(path)[:-3], os.path.abspath(path)[:-3], True


def _on_path(directory: str) -> None:
    """Make the modules of ``directory`` importable by name, after everything else (never shadowing)."""
    directory = os.path.abspath(directory)
    if directory not in sys.path:
        sys.path.append(directory)


def _declared(module) -> list:
    declared = list(getattr(module, "WORKLOADS", ()))
    if hasattr(module, "WORKLOAD"):
        declared.append(module.WORKLOAD)
    return declared


def declared_requirements(source: str) -> tuple[str, ...]:
    """Every ``requires=`` of the ``Workload(...)`` calls in the file, read without importing it.

    The file cannot be imported before its requirements are installed, so they must be a literal
    list of strings, inline or bound once to a module-level name; anything else is a
    :class:`LoadError`. A file that does not parse has none (its import then says why).
    """
    try:
        with open(source, "rb") as f:
            text = f.read()
        if b"requires" not in text:  # most files: no parse needed
            return ()
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return ()
    constants = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
    found: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Workload"):
            continue
        for kw in node.keywords:
            if kw.arg != "requires":
                continue
            value = constants.get(kw.value.id, kw.value) if isinstance(kw.value, ast.Name) else kw.value
            try:
                items = ast.literal_eval(value)
            except ValueError:
                items = None
            if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
                raise LoadError(f"{source}: requires= must be a literal list of strings, e.g. "
                                "requires=[\"pkg==1.2\"] (it is read before the file is imported)")
            found.extend(i.strip() for i in items)
    return tuple(dict.fromkeys(found))


@contextlib.contextmanager
def first_on_path(directory: str | None):
    """``directory`` first on ``sys.path`` while the block runs (a requirements overlay for an import)."""
    if not directory:
        yield
        return
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(directory)


def _import(modname: str, stem: str, overlay: str | None = None):
    """Import one workload module; a :class:`LoadError` (one line, naming the file) if it fails or
    if the name already belongs to another module."""
    source = stem + ".py" if os.path.exists(stem + ".py") else stem
    try:
        with first_on_path(overlay):
            module = importlib.import_module(modname)
    except Exception as e:  # noqa: BLE001 - any error in one file is that file's problem
        raise LoadError(f"{source}: {_one_line(e)}") from None
    where = getattr(module, "__file__", None) or ""
    if where and not os.path.realpath(where).startswith(os.path.realpath(stem)):
        raise LoadError(f"{source}: module name {modname!r} is already taken by {where}; rename the file")
    return module


def _found_in(module, source: str) -> list:
    declared = _declared(module)
    bad = [w for w in declared if not isinstance(w, Workload)]
    if bad:
        raise LoadError(f"{source}: WORKLOAD(S) holds {type(bad[0]).__name__}, not a Workload")
    if not declared:
        raise LoadError(f"{source}: defines no WORKLOAD or WORKLOADS (name helper modules _like_this)")
    return declared


def discover_with_problems(package: str = "workloads", paths: Sequence[str] = (),
                           provide: Callable[[tuple[str, ...]], str] | None = None,
                           ) -> tuple[Discovered, list[Problem]]:
    """Every workload that loads, and one :class:`Problem` per file that does not.

    A file with a syntax or import error, an invalid ``Workload`` (bad name, kind, sizes...),
    no workload at all, a name already taken, or a module shadowed by another of the same name;
    and a missing ``FTBENCH_WORKLOAD_PATH`` directory or ``paths`` entry. The other files still load.
    ``provide(requirements) -> directory``: installs a file's requirements for this interpreter
    (raising an exception whose text is one line) before the file is imported; without it, a file
    is imported with what is installed.
    """
    found = Discovered()
    given: list[str] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for modname, stem, from_paths in _candidates(package, paths, problems):
        source = stem + ".py" if os.path.exists(stem + ".py") else stem
        if os.path.realpath(source) in seen:  # the same file named twice (or a path into workloads/)
            given.extend(n for n, o in found.origins.items()
                         if from_paths and os.path.realpath(o) == os.path.realpath(source))
            continue
        seen.add(os.path.realpath(source))
        try:
            requires = declared_requirements(source)
            overlay = provide(requires) if provide and requires else None
            declared = _found_in(_import(modname, stem, overlay), source)
        except Exception as e:  # noqa: BLE001 - LoadError, or the provider's one-line failure
            message = str(e) if isinstance(e, LoadError) else f"{source}: {e}"
            problems.append(Problem(source, message.removeprefix(f"{source}: "), given=from_paths))
            continue
        for workload in declared:
            if workload.name in found:
                problems.append(Problem(source, f"workload name {workload.name!r} already defined in "
                                                f"{found.origins[workload.name]}", given=from_paths))
                continue
            found[workload.name] = workload
            found.origins[workload.name] = source
            found.requirements[workload.name] = requires
            if from_paths:
                given.append(workload.name)
    found.given = tuple(dict.fromkeys(given))
    return found, problems


def discover(package: str = "workloads", paths: Sequence[str] = (),
             provide: Callable[[tuple[str, ...]], str] | None = None) -> Discovered:
    """Import every module of the package (and of ``paths``) and collect its ``WORKLOAD`` (or ``WORKLOADS``).

    Files that fail are left out and listed, one line each, in the result's ``problems``.
    """
    found, problems = discover_with_problems(package, paths, provide)
    found.problems = tuple(problems)
    return found


def load(source: str, name: str | None, package: str = "workloads", overlay: str | None = None) -> Workload:
    """The workload ``name`` of the file ``source`` (None: its first), importing that file alone (and its imports).

    The module is named as :func:`discover` names it (``workloads.<stem>`` inside the package, the
    file's stem elsewhere, its directory then on ``sys.path``), so tasks pickle by the same name in
    every process. ``overlay``: the directory of the file's installed requirements, put first on
    ``sys.path`` (and kept there: the tasks, pools and subinterpreters import from it too).
    """
    stem = os.path.abspath(source)[:-3] if source.endswith(".py") else os.path.abspath(source)
    spec = importlib.util.find_spec(package)
    inside = spec is not None and any(os.path.realpath(os.path.dirname(stem)) == os.path.realpath(d)
                                      for d in spec.submodule_search_locations or ())
    if overlay and overlay not in sys.path:
        sys.path.insert(0, overlay)
    if not inside:
        _on_path(os.path.dirname(stem))
    modname = f"{package}.{os.path.basename(stem)}" if inside else os.path.basename(stem)
    module = _import(modname, stem)
    for workload in _found_in(module, source):
        if name is None or workload.name == name:
            return workload
    raise LoadError(f"{source}: defines no workload named {name!r}")
