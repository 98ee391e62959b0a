"""The speed canary: a fixed piece of work timed next to every benchmark value, to see the machine's speed.

A shared VM changes speed from one process to the next, and within a process, while its load
readings stay quiet (the noise lands on caches, TLB and branch predictors shared with neighbours).
Timing the same fixed work beside each value gives the analysis a covariate: a process whose
canary ran slow ran on a slow machine (harness.analysis.canary adjusts for it where it tracks).

Two canaries, each a few milliseconds, timed just before and just after every timed value:

* ``python``: a pure-Python loop that allocates nothing (``for _ in repeat(None, n): b = a``). It
  runs through the interpreter's own dispatch, where the VM's noise falls, so it tracks the
  benchmarks best; its cost differs by build, which the analysis handles by centring it per variant.
* ``c``: sha256 of a fixed buffer (OpenSSL's C code, the same on every build). It shows the
  machine's clock and memory, little of the interpreter's noise.

Stdlib only: runs in every benchmark venv, and in the calibration (harness.measure.calibration).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import time

LOOP = 400_000  # iterations of the Python canary: ~3-5 ms on the 2-core VMs
BUFFER = bytes(range(256)) * (4 * 4096)  # 4 MiB for the C canary: ~3 ms
DEFINITION = f"python loop {LOOP:_}; sha256 of {len(BUFFER) >> 20} MiB"


def python_canary(n: int = LOOP) -> float:
    """Seconds of a pure-Python loop of ``n`` iterations that allocates nothing."""
    a = None
    t0 = time.perf_counter()
    for _ in itertools.repeat(None, n):
        b = a  # noqa: F841 - the work is the interpreter's dispatch
    return time.perf_counter() - t0


def c_canary(buffer: bytes = BUFFER) -> float:
    """Seconds of sha256 over ``buffer``: C code whose cost does not depend on the build."""
    t0 = time.perf_counter()
    hashlib.sha256(buffer).digest()
    return time.perf_counter() - t0


class Recorder:
    """The canary times of one pyperf phase, in order; :meth:`figures` gives what a run records."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.reset()

    def reset(self) -> None:
        """Forget the times: a new phase (warmups, values) records its own."""
        self.python: list[float] = []
        self.c: list[float] = []

    def measure(self) -> None:
        """Time both canaries once (outside any timed region)."""
        if self.enabled:
            self.python.append(python_canary())
            self.c.append(c_canary())

    def figures(self) -> dict:
        """Metadata figures by key name: each canary's mean time and every time; nothing if none ran."""
        out: dict = {}
        for name, times in (("canary", self.python), ("canary_c", self.c)):
            times = [t for t in times if t > 0 and math.isfinite(t)]
            if times:
                out[f"{name}_seconds"] = sum(times) / len(times)
                out[f"{name}_times"] = ",".join(f"{t:.6g}" for t in times)
        return out


def parse_times(text) -> list[float]:
    """The times of a ``canary_times`` value ("0.00312,0.00308"); [] when absent or unreadable."""
    try:
        return [float(x) for x in str(text or "").split(",") if x.strip()]
    except ValueError:
        return []
