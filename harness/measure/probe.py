"""What only a benchmark worker process can know, recorded into each pyperf run's metadata.

pyperf calls :class:`Probe` (registered as the ``pyperf.hook`` entry point ``ftbench``) around
the timed function in every worker and asks it to ``teardown(metadata)`` after the values: that
is where the GIL state *after* the run, the peak RSS, any import that re-enabled the GIL, the
check's figures, the accounting of the timed intervals (wall, CPU of the process tree, busy
and foreign cores, steal, peak memory of the tree: :mod:`harness.measure.accounting`) and the
speed canary's times around the values (:mod:`harness.measure.canary`) are written.
pyperf itself records none of these (and turns psutil off on free-threaded builds).

pyperf makes a new hook for each phase of a worker (warmups, then values) and calls its
``teardown`` at the phase's end, so each new :class:`Probe` starts the accounting and the canary
afresh: the figures finally written are those of the timed values alone. Every value goes through
:func:`harness.metadata.put`, which refuses NaN and infinities: pyperf's JSON stays strict.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import resource
import sys
import warnings

from harness import metadata
from harness.measure import accounting, canary

# Filled by harness.measure.run while it runs: figures returned by the workload's check.
FIGURES: dict[str, float] = {}
# Configured by harness.measure.run (threshold, server pid, sampler); fed around every timed run.
ACCOUNTING = accounting.Accounting()
# Timed around every value by harness.measure.run (in pyperf's workers only); reset per phase like ACCOUNTING.
CANARY = canary.Recorder(enabled=False)


class FigureError(ValueError):
    """check() returned something that is not a dict of finite numbers."""


def checked_figures(workload: str, figures) -> dict:
    """``figures`` as returned by a workload's check(), each a finite int or float; else FigureError."""
    if figures is None:
        return {}
    if not isinstance(figures, dict):
        raise FigureError(f"{workload}: check() returned {type(figures).__name__} {_short(figures)}; "
                          "expected None or a dict of figures")
    out = {}
    for name, value in figures.items():
        if not isinstance(name, str) or not name:
            raise FigureError(f"{workload}: check() returned a figure named {_short(name)}; names are strings")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise FigureError(f"{workload}: check() figure {name!r} = {_short(value)} is not a number "
                              "(figures must be finite int or float)")
        number = int(value) if isinstance(value, numbers.Integral) else float(value)
        if not math.isfinite(number):
            raise FigureError(f"{workload}: check() figure {name!r} = {number!r} is not finite "
                              "(figures must be finite int or float)")
        out[name] = number
    return out


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def exit_message(workload: str, exc: SystemExit) -> str:
    """The error of a task that called ``sys.exit``: said as such, never a silent end of the worker."""
    code = "" if exc.code is None else repr(exc.code)
    return f"{workload}: task called sys.exit({code})"


def guarded_task(workload: str, task, arg):
    """Call ``task(arg)``; a SystemExit becomes a RuntimeError that says so (module level: picklable).

    In a ``multiprocessing.Pool`` worker a SystemExit ends the worker process and the pool waits
    for the lost result forever; as an exception it travels back to the benchmark like any other.
    """
    try:
        return task(arg)
    except SystemExit as e:
        raise RuntimeError(exit_message(workload, e)) from None
GIL_WARNINGS: list[str] = []  # modules whose import re-enabled the GIL
# the free-threaded interpreter's RuntimeWarning when an import turns the GIL back on; group 1: the module
GIL_MESSAGE = re.compile(r"GIL\) has been enabled to load module '([^']+)'")


def free_threaded() -> bool:
    """Is this a free-threaded build (whatever the GIL's state at run time)?"""
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def cpu_count() -> int:
    """The cores this process may run on (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def gil_enabled() -> bool:
    """Is the GIL enabled right now? (always, on an interpreter that cannot say)."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def peak_rss() -> tuple[int, int]:
    """Peak resident set size in bytes of this process and of its largest waited-for child."""
    scale = 1024 if sys.platform != "darwin" else 1  # Linux reports KiB, macOS bytes
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale)


def watch_gil_warnings() -> None:
    """Record every 'GIL has been enabled to load module X' RuntimeWarning, and still show it."""
    shown = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        match = GIL_MESSAGE.search(str(message))
        if match and match[1] not in GIL_WARNINGS:
            GIL_WARNINGS.append(match[1])
        shown(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning
    warnings.filterwarnings("always", message=".*GIL.*", category=RuntimeWarning)


def snapshot() -> dict:
    """Everything the worker records after its values, as stored metadata (through :func:`harness.metadata.put`)."""
    own, children = peak_rss()
    data: dict = {}
    metadata.put(data, "gil_enabled", "yes" if gil_enabled() else "no")
    metadata.put(data, "peak_rss", max(own, children))
    metadata.put(data, "peak_rss_self", own)
    metadata.put(data, "peak_rss_children", children)
    metadata.put(data, "check", "ok")  # a failed check raises and ends the worker: no run is recorded
    if GIL_WARNINGS:
        metadata.put(data, "gil_reenabled_by", ",".join(GIL_WARNINGS))
    for name, value in FIGURES.items():
        metadata.put(data, metadata.FIGURE_PREFIX + name, value)
    data.update(accounting_snapshot())
    for name, value in CANARY.figures().items():
        metadata.put(data, name, value)
    return data


def accounting_snapshot(acct: accounting.Accounting | None = None) -> dict:
    """The accounting figures of the phase, as stored metadata (strict: put refuses non-finite values)."""
    acct = acct or ACCOUNTING
    data = {}
    for name, value in acct.figures().items():
        metadata.put(data, name, value)
    if data:
        metadata.put(data, "foreign_threshold", acct.threshold)
    return data


class Probe:
    """The pyperf hook: nothing around each value, a snapshot at teardown."""

    def __init__(self):
        ACCOUNTING.reset()  # a new phase (warmups, values): account its timed runs only
        CANARY.reset()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def teardown(self, metadata: dict) -> None:
        """pyperf's call at the end of a phase: add the snapshot to the run's metadata."""
        metadata.update(snapshot())
