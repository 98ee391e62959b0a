"""CPU and memory accounting of one pyperf worker's timed runs: busy cores, foreign load, tree memory.

Over each timed interval (one full strategy run, see :mod:`harness.measure.run`) the worker reads

* its own CPU: ``getrusage`` of itself (every thread) and of its waited-for children (a pool's
  processes are reaped when the pool closes, inside the interval), plus the CPU of descendants
  still alive at either end (``/proc/<pid>/stat``, children included: a forkserver's pool);
* the machine's busy CPU: the aggregate ``cpu`` line of ``/proc/stat`` minus idle and iowait, in
  USER_HZ ticks (``os.sysconf("SC_CLK_TCK")``, 10 ms);
* the embedded HTTP server's CPU (``/proc/<FTBENCH_SERVER_PID>/stat``): it serves this run, so it is
  not foreign.

* the CPU the hypervisor stole from this VM: the ``steal`` field of the same line. A vCPU whose
  time is stolen runs slower however quiet the VM looks inside, so steal is recorded beside the
  foreign load (``steal_cores``) and counts toward the flag.

foreign = machine busy - steal - own - server, each per second of wall at most the machine's cores
(a reading above them is tick rounding, not load). A run is flagged when its foreign CPU plus steal
exceeds ``threshold`` cores for its wall time by more than the tick noise: each interval's machine
reading is truncated to whole ticks at both ends (and attributed by the tick), so the excess must
pass ``2 * sqrt(n)`` ticks over n intervals (about 3.5 standard deviations of that rounding on 2
cores). That noise over the wall time is the run's *resolution* (``foreign_resolution``, cores):
a run whose resolution is above SHORT_RESOLUTION (half a core: a few timed milliseconds) is too
short for the tick counts and is not flagged, whatever they say; it is marked ``"short"``. Without
``/proc`` (macOS) busy cores still come from ``getrusage`` and foreign load is ``"unknown"``.

A :class:`MemorySampler` thread sums the memory of the process tree (the worker and every
descendant, found through ``/proc/<pid>/task/<tid>/children``) during the intervals: PSS from
``/proc/<pid>/smaps_rollup`` when readable (a forked pool's shared pages counted once), else RSS
from ``/proc/<pid>/statm``. PSS costs the kernel a walk of the page tables (its cost grows with the
memory mapped), RSS almost nothing: so every sample reads the tree's RSS, and PSS only when the
tree changed, its RSS grew by 1 MB since the last PSS reading, or 0.5 s passed (copy-on-write in a
forked pool grows PSS, not RSS). The sampler sleeps max(interval,
200 x its last sample's cost), at most 0.1 s: at most 0.5% of one core in the common case, and at
least 10 samples a second. Its CPU is recorded (``sampler_cores``). Stdlib only: runs in every
benchmark venv.
"""

from __future__ import annotations

import math
import os
import threading
import time

try:
    import resource
except ImportError:  # Windows
    resource = None

PROC = "/proc"
DEFAULT_THRESHOLD = 0.10  # cores of foreign load that flag a run
THRESHOLD_ENV = "FTBENCH_FOREIGN_THRESHOLD"
SERVER_PID_ENV = "FTBENCH_SERVER_PID"
DEFAULT_INTERVAL = 0.025  # seconds between memory samples
MAX_DUTY = 0.005  # the sampler's CPU share of one core, at most (unless MAX_SLEEP binds)
MAX_SLEEP = 0.1  # seconds: at least 10 samples a second, however large the tree
PSS_GROWTH = 1 << 20  # bytes of RSS growth of the tree that call for a new PSS reading
PSS_EVERY = 0.5  # seconds: a PSS reading at least this often (copy-on-write grows PSS, not RSS)
TICK_NOISE = 2.0  # ticks of rounding per interval (see the module docstring)
SHORT_RESOLUTION = 0.5  # cores: a run whose tick noise is above this over its wall time is not flagged


def clock_ticks() -> int:
    """USER_HZ, the unit of /proc's CPU times (100 where the system cannot say)."""
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


HZ = clock_ticks()


# --- readers (each raises OSError when the information is not available) ------------------------


def machine_cpu() -> tuple[float, float]:
    """(busy, steal): seconds of CPU since boot the whole machine spent busy (/proc/stat's cpu line
    minus idle, iowait and steal) and that the hypervisor stole from it (its steal field)."""
    with open(f"{PROC}/stat", "rb") as f:
        line = f.readline()
    fields = line.split()
    if not fields or fields[0] != b"cpu" or len(fields) < 5:
        raise OSError(f"unexpected first line in {PROC}/stat: {line[:80]!r}")
    # user nice system idle iowait irq softirq steal [guest guest_nice: already inside user and nice]
    ticks = [int(x) for x in fields[1:9]] + [0] * (9 - len(fields))  # kernels before 2.6.11: no steal
    steal = ticks[7]
    return (sum(ticks) - ticks[3] - ticks[4] - steal) / HZ, steal / HZ


def machine_busy() -> float:
    """Seconds of CPU the whole machine spent busy since boot, stolen time included."""
    busy, steal = machine_cpu()
    return busy + steal


def machine_cores() -> int:
    """Cores of the machine (every core, whatever this process's affinity): what foreign load can use."""
    return os.cpu_count() or 1


def process_cpu(pid: int) -> float:
    """Seconds of CPU of ``pid`` (all its threads) and of its waited-for children, from /proc/<pid>/stat."""
    with open(f"{PROC}/{pid}/stat", "rb") as f:
        data = f.read()
    rest = data[data.rindex(b")") + 2:].split()  # the command name may hold spaces and parentheses
    # after the name: state(0) ppid ... utime(11) stime(12) cutime(13) cstime(14)
    return sum(int(x) for x in rest[11:15]) / HZ


def own_cpu() -> float:
    """Seconds of CPU of this process (every thread) and of every child it has waited for."""
    if resource is not None:
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def children(pid: int) -> list[int]:
    """Direct children of ``pid``: forked by any of its threads."""
    out = []
    for tid in os.listdir(f"{PROC}/{pid}/task"):
        try:
            with open(f"{PROC}/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:  # the thread just ended
            continue
    return out


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (not ``pid`` itself)."""
    out, todo = [], [pid]
    while todo:
        try:
            kids = children(todo.pop())
        except OSError:  # the process just ended
            continue
        out.extend(kids)
        todo.extend(kids)
    return out


def descendants_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each live descendant (its waited-for children included)."""
    out = {}
    for d in descendants(pid):
        try:
            out[d] = process_cpu(d)
        except (OSError, ValueError):
            continue
    return out


PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def memory_pss(pid: int) -> int:
    """Proportional set size of ``pid`` in bytes: pages shared with other processes counted by share."""
    with open(f"{PROC}/{pid}/smaps_rollup", "rb") as f:
        for line in f:
            if line.startswith(b"Pss:"):
                return int(line.split()[1]) * 1024
    return 0  # a zombie: nothing mapped


def memory_rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes: cheap to read, but counts shared pages in every process."""
    with open(f"{PROC}/{pid}/statm", "rb") as f:
        return int(f.read().split()[1]) * PAGE


def memory_method(pid: int | None = None) -> str:
    """'pss' when smaps_rollup is readable, else 'rss' when statm is, else '' (no /proc)."""
    pid = pid or os.getpid()
    for name, reader in (("pss", memory_pss), ("rss", memory_rss)):
        try:
            reader(pid)
            return name
        except (OSError, ValueError, IndexError):
            continue
    return ""


def tree_memory(pid: int, method: str, pids: list[int] | None = None) -> int:
    """Summed memory (bytes) of ``pid`` and every descendant; a process that ends meanwhile counts 0."""
    reader = memory_pss if method == "pss" else memory_rss
    total = 0
    for p in pids if pids is not None else [pid, *descendants(pid)]:
        try:
            total += reader(p)
        except (OSError, ValueError, IndexError):
            continue
    return total


# --- the memory sampler --------------------------------------------------------------------------


class MemorySampler:
    """A daemon thread that samples the tree's summed memory while :meth:`active` is on."""

    def __init__(self, interval: float = DEFAULT_INTERVAL, pid: int | None = None):
        self.interval = interval
        self.pid = pid or os.getpid()
        self.method = memory_method(self.pid) if interval > 0 else ""
        self._on = threading.Event()
        self._lock = threading.Lock()
        self.clear()  # peak, samples, pss_samples, cpu (seconds the samples cost)
        self._stop = False
        self._thread = None

    @property
    def enabled(self) -> bool:
        """False without /proc or with interval 0: nothing is sampled, nothing recorded."""
        return bool(self.method)

    def sample(self, timed: bool = True) -> None:
        """One sample: RSS of the tree always (cheap); PSS when the tree or its RSS grew, or every PSS_EVERY s.

        ``timed``: the sample's CPU counts in :attr:`cpu` (the sampler thread's, during the timed runs).
        """
        t0 = time.thread_time()
        pids = [self.pid, *descendants(self.pid)]
        total = tree_memory(self.pid, "rss", pids)
        with self._lock:
            if self.method == "pss":
                now = time.monotonic()
                if (total > self._rss_at_pss + PSS_GROWTH or now - self._pss_time >= PSS_EVERY
                        or not self._pids.issuperset(pids)):
                    self._pss = tree_memory(self.pid, "pss", pids)
                    self._rss_at_pss, self._pss_time, self._pids = total, now, set(pids)
                    self.peak = max(self.peak, self._pss)
                    self.pss_samples += 1
            else:
                self.peak = max(self.peak, total)
            self.samples += 1
            if timed:
                self.cpu += time.thread_time() - t0

    def clear(self) -> None:
        """Forget the peak and the counts: a new pyperf phase accounts its own timed runs only."""
        with self._lock:
            self.peak, self.samples, self.pss_samples, self.cpu = 0, 0, 0, 0.0
            self._rss_at_pss, self._pss_time, self._pids, self._pss = -1, -math.inf, set(), 0

    def _loop(self) -> None:
        while not self._stop:
            self._on.wait()
            if self._stop:
                return
            t0 = time.thread_time()
            try:
                self.sample()
            except Exception:  # never let a /proc surprise end the benchmark: skip that sample
                pass
            cost = time.thread_time() - t0
            time.sleep(min(max(self.interval, cost / MAX_DUTY), MAX_SLEEP))

    def start(self) -> None:
        """Begin sampling (the thread is made on first use, then only woken)."""
        if not self.enabled:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ftbench-memory", daemon=True)
            self._thread.start()
        self._on.set()

    def pause(self) -> None:
        """Stop sampling between timed runs (the thread sleeps until :meth:`start`)."""
        self._on.clear()

    def close(self) -> None:
        """End the sampling thread."""
        self._stop = True
        self._on.set()


# --- one phase of timed intervals ------------------------------------------------------------------


class Accounting:
    """Sums wall, own, machine and server CPU over the timed intervals of one pyperf phase."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, server_pid: int = 0,
                 sampler: MemorySampler | None = None):
        self.threshold = threshold
        self.server_pid = server_pid
        self.sampler = sampler
        self.reset()

    def reset(self) -> None:
        """Start a new phase: pyperf makes a hook per phase (warmups, values), only the values count."""
        self.intervals = 0
        self.wall = 0.0
        self.own = 0.0
        self.machine = 0.0  # busy without steal; stays meaningful only while machine_ok
        self.steal = 0.0
        self.server = 0.0
        self.machine_ok = True
        self.server_ok = bool(self.server_pid)
        self._start = None
        if self.sampler is not None:
            self.sampler.clear()

    # reads, each tolerant of a missing /proc
    def _machine(self):
        try:
            return machine_cpu()
        except (OSError, ValueError, IndexError):
            return None

    def _server(self):
        if not self.server_pid:
            return None
        try:
            return process_cpu(self.server_pid)
        except (OSError, ValueError, IndexError):
            return None

    def _live(self) -> dict[int, float]:
        try:
            return descendants_cpu(os.getpid())
        except (OSError, ValueError):
            return {}

    def begin(self) -> None:
        """Call just before the timer starts."""
        if self.sampler is not None and self.sampler.enabled:
            self.sampler.sample(timed=False)  # the tree as the run starts (before the timer)
            self.sampler.start()
        self._start = (time.perf_counter(), self._machine(), self._server(), self._live(), own_cpu())

    def end(self) -> None:
        """Call just after the timer stops."""
        own1 = own_cpu()
        live1 = self._live()
        server1 = self._server()
        machine1 = self._machine()
        wall1 = time.perf_counter()
        if self.sampler is not None:
            self.sampler.pause()
        if self._start is None:
            return
        wall0, machine0, server0, live0, own0 = self._start
        self._start = None
        self.intervals += 1
        self.wall += wall1 - wall0
        # a descendant alive at both ends: its delta; born inside: all of it; reaped by us: getrusage has it
        self.own += (own1 - own0) + sum(live1.values()) - sum(live0.values())
        if machine0 is None or machine1 is None:
            self.machine_ok = False
        else:
            self.machine += machine1[0] - machine0[0]
            self.steal += machine1[1] - machine0[1]
        if server0 is None or server1 is None:
            self.server_ok = False
        else:
            self.server += server1 - server0

    def foreign_figures(self) -> dict:
        """Foreign load and steal in cores (each at most the machine's cores), the resolution, the flag."""
        cores = machine_cores()
        server = self.server if self.server_ok else 0.0
        foreign = min(max(0.0, self.machine - self.own - server), cores * self.wall)
        steal = min(max(0.0, self.steal), cores * self.wall)
        noise = TICK_NOISE * math.sqrt(self.intervals) / HZ
        resolution = noise / self.wall
        if resolution > SHORT_RESOLUTION:
            flag = "short"
        else:
            flag = "yes" if foreign + steal - self.threshold * self.wall > noise else "no"
        return {"foreign_cores": foreign / self.wall, "steal_cores": steal / self.wall,
                "foreign_resolution": resolution, "foreign_flagged": flag}

    def __enter__(self):
        self.begin()
        return self

    def __exit__(self, *exc):
        self.end()
        return None

    def figures(self) -> dict:
        """The run's figures by metadata key name (only finite numbers; nothing when nothing was timed)."""
        if not self.intervals or self.wall <= 0:
            return {}
        out = {"wall_seconds": self.wall, "cpu_seconds": self.own, "busy_cores": self.own / self.wall}
        if self.machine_ok:
            out.update(self.foreign_figures())
        else:
            out["foreign_flagged"] = "unknown"
        if self.server_ok:
            out["server_cores"] = self.server / self.wall
        s = self.sampler
        if s is not None and s.enabled and s.samples:
            out["peak_tree_memory"] = int(s.peak)
            out["memory_method"] = s.method
            out["memory_samples"] = s.samples
            out["sampler_cores"] = s.cpu / self.wall
        return out
