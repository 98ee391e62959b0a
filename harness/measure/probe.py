"""What only a benchmark worker process can know, recorded into each pyperf run's metadata.

pyperf calls :class:`Probe` (registered as the ``pyperf.hook`` entry point ``ftbench``) around
the timed function in every worker and asks it to ``teardown(metadata)`` after the values: that
is where the GIL state *after* the run, the peak RSS and any import that re-enabled the GIL are
written. pyperf itself records neither (and turns psutil off on free-threaded builds).
"""

from __future__ import annotations

import os
import re
import resource
import sys
import warnings

# Filled by harness.measure.run while it runs: figures returned by the workload's check.
FIGURES: dict[str, float] = {}
GIL_WARNINGS: list[str] = []  # modules whose import re-enabled the GIL
_GIL_MESSAGE = re.compile(r"GIL\) has been enabled to load module '([^']+)'")


def free_threaded() -> bool:
    """Is this a free-threaded build (whatever the GIL's state at run time)?"""
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def cpu_count() -> int:
    """The cores this process may run on (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def gil_enabled() -> bool:
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
        match = _GIL_MESSAGE.search(str(message))
        if match and match[1] not in GIL_WARNINGS:
            GIL_WARNINGS.append(match[1])
        shown(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning
    warnings.filterwarnings("always", message=".*GIL.*", category=RuntimeWarning)


def snapshot() -> dict:
    own, children = peak_rss()
    data = {
        "ftbench_gil_enabled": "yes" if gil_enabled() else "no",
        "ftbench_peak_rss": max(own, children),
        "ftbench_peak_rss_self": own,
        "ftbench_peak_rss_children": children,
        "ftbench_check": "ok",  # a failed check raises and ends the worker: no run is recorded
    }
    if GIL_WARNINGS:
        data["ftbench_gil_reenabled_by"] = ",".join(GIL_WARNINGS)
    data.update({f"ftbench_figure_{k}": v for k, v in FIGURES.items()})
    return data


class Probe:
    """The pyperf hook: nothing around each value, a snapshot at teardown."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def teardown(self, metadata: dict) -> None:
        metadata.update(snapshot())
