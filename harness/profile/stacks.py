"""Samples out of ``perf script``: one call stack per sample, leaf first, and their folded form.

``perf script -F pid,tid,time,period,ip,sym,dso --ns`` prints, per sample, a header line
``PID/TID SECONDS.NANOS: PERIOD`` and then one line per frame, ``ADDR SYMBOL (DSO)``, leaf first;
with DWARF unwinding an inlined function is a frame of its own whose DSO reads ``(inlined)``. A
recording without call stacks prints the leaf on the header line itself. ``period`` is the
sample's weight: nanoseconds of CPU for the ``cpu-clock`` event.

Folded stacks (one line per distinct stack, root first, frames joined by ``;``, then a space and
the weight) are the format every flame graph tool reads (Brendan Gregg's ``stackcollapse``).
Stdlib only: it runs wherever the text is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

KERNEL_DSO = "[kernel.kallsyms]"
INLINED = "inlined"
PYTHON_PREFIX = "py::"  # CPython's perf trampolines: py::QUALNAME:FILENAME
HEADER = re.compile(r"^\s*(\d+)/(\d+)\s+(\d+)\.(\d+):\s+(\d+)\s*(.*)$")
FRAME = re.compile(r"^\s*([0-9a-f]+)\s+(.*?)\s+\(([^()]*)\)\s*$")


@dataclass(frozen=True)
class Frame:
    """One frame: a C symbol (``[unknown]`` if unresolved), a Python function, or a kernel function."""

    symbol: str
    dso: str

    @property
    def kernel(self) -> bool:
        """Is this frame in the kernel (the dso perf names for kernel symbols)?"""
        return self.dso == KERNEL_DSO or self.dso.startswith("[kernel")

    @property
    def python(self) -> bool:
        """Is this a Python function's perf trampoline (``-X perf`` or ``-X perf_jit``)?"""
        return self.symbol.startswith(PYTHON_PREFIX)

    @property
    def inlined(self) -> bool:
        """Was this function inlined into the frame above it (DWARF unwinding with inline info)?"""
        return self.dso == INLINED


@dataclass(frozen=True)
class Sample:
    """One ``cpu-clock`` sample: which task, when (ns on the recording's clock), its weight and stack."""

    pid: int
    tid: int
    time_ns: int
    period: int  # ns of CPU for cpu-clock
    frames: tuple[Frame, ...]  # leaf first


def _frame(text: str) -> Frame | None:
    m = FRAME.match(text)
    if not m:
        return None
    symbol = m[2].strip() or "[unknown]"
    return Frame(symbol, m[3])


def parse(lines: Iterable[str]) -> Iterator[Sample]:
    """The samples of ``perf script`` output, in order (lines that are neither header nor frame are skipped)."""
    head, frames = None, []
    for line in lines:
        m = HEADER.match(line)
        if m:
            if head is not None:
                yield Sample(*head, tuple(frames))
            nanos = m[4].ljust(9, "0")[:9]
            head = (int(m[1]), int(m[2]), int(m[3]) * 1_000_000_000 + int(nanos), int(m[5]))
            leaf = _frame(m[6]) if m[6].strip() else None
            frames = [leaf] if leaf else []
        elif head is not None and line.strip():
            frame = _frame(line)
            if frame:
                frames.append(frame)
    if head is not None:
        yield Sample(*head, tuple(frames))


def within(samples: Iterable[Sample], start_ns: int, end_ns: int) -> list[Sample]:
    """The samples taken between two marks of the same clock (the marked run's, not start-up's)."""
    return [s for s in samples if start_ns <= s.time_ns <= end_ns]


def frame_label(frame: Frame) -> str:
    """How a frame reads in a folded stack: its symbol, ``_[k]`` after a kernel one (flamegraph.pl's tag)."""
    label = frame.symbol.replace(";", ":")
    return label + "_[k]" if frame.kernel else label


def fold(samples: Iterable[Sample]) -> Counter:
    """Folded stacks: ``root;...;leaf`` -> summed period (ns)."""
    out: Counter = Counter()
    for s in samples:
        out[";".join(frame_label(f) for f in reversed(s.frames)) or "[no stack]"] += s.period
    return out


OUTSIDE = "[outside the workload's code]"


def rooted_at(folded: Counter, filename: str) -> Counter:
    """Folded stacks cut to start at their outermost Python frame of ``filename`` (the workload's file).

    A sequential run and an N-worker run reach the same task functions through different roots (the
    main thread; a pool's threads or processes): cut there, their stacks compare frame by frame.
    Stacks that never enter the file (pool plumbing, waits) go whole under :data:`OUTSIDE`.
    """
    out: Counter = Counter()
    suffix = ":" + filename
    for stack, weight in folded.items():
        frames = stack.split(";")
        first = next((i for i, f in enumerate(frames) if f.startswith(PYTHON_PREFIX) and f.endswith(suffix)), None)
        out[";".join(frames[first:]) if first is not None and filename else f"{OUTSIDE};{stack}"] += weight
    return out


def folded_text(folded: Counter) -> str:
    """One ``stack weight`` line per stack, heaviest first (the weight in ns of CPU)."""
    return "".join(f"{stack} {weight}\n" for stack, weight in sorted(folded.items(), key=lambda kv: (-kv[1], kv[0])))


def read_folded(path) -> Counter:
    """The folded stacks of a file written from :func:`folded_text`."""
    out: Counter = Counter()
    with open(path) as f:
        for line in f:
            stack, _, weight = line.rstrip("\n").rpartition(" ")
            if stack:
                out[stack] += int(weight)
    return out
