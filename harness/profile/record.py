"""``perf record`` around one run of :mod:`harness.profile.target`, and its samples back as Python objects.

Runs where perf runs (the host Python, stdlib only), like the bench command: the variant's venv
python is started in a subprocess under ``perf record -e cpu-clock`` (the software event: these
VMs have no hardware counters). Call stacks come from DWARF unwinding (``--call-graph dwarf``):
the builds keep no frame pointers, so perf's default unwinding stops after a frame or two, and
DWARF also names the inlined functions (``Py_DECREF`` inside ``_PyEval_EvalFrameDefault``), which
the categories need. Python functions enter the stacks through CPython's perf support: with DWARF
unwinding that is the jitdump variant (``PYTHON_PERF_JIT_SUPPORT=1``, CPython >= 3.13), which
``perf inject --jit`` turns into unwindable code. ``--call-graph flat`` records the leaf only
(cheaper; a kernel leaf then stays "kernel").

Only the marked run is recorded: perf starts with its events disabled (``-D -1``) and the target
switches them on and off around the run through perf's control FIFOs (``--control``, perf >= 5.9),
so start-up and the warm-up cost neither samples nor unwinding.

CPython writes its jitdump to ``/tmp/jit-PID.dump`` and ``perf inject`` writes one
``/tmp/jitted-PID-N.so`` per Python function beside it, a thousand or more per process: they
are removed after each run, for the processes of that run only. perf's build-id cache goes to
the run's temporary directory, not to ``~/.debug``.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.profile import stacks

PERF = "perf"
EVENT = "cpu-clock"
CALL_GRAPHS = ("dwarf", "flat")
DEFAULT_FREQUENCY = 999  # Hz per thread: ~1 ms of CPU per sample, off the 1000 Hz timer tick
DEFAULT_STACK_BYTES = 16384  # user stack copied per sample for DWARF unwinding (perf's default 8192
# cuts the deeper Python stacks: each eval frame plus trampoline takes a few hundred bytes)
SCRIPT_FIELDS = "pid,tid,time,period,ip,sym,dso"
TIMEOUT = 600.0  # seconds for one recorded run (the workload's own timeout is the bench's)
PID_AT_START = re.compile(r"^\s*(\d+)/\d+\s")
CONTROL_ENV = "FTBENCH_PERF_CONTROL"  # read by harness.profile.target (not imported: it runs in the venv)


class PerfUnavailable(RuntimeError):
    """perf cannot record here: the message says what is missing and how to enable it (one line)."""


class RunFailed(RuntimeError):
    """The profiled run itself failed (the workload raised, its check failed, or it timed out)."""


@dataclass(frozen=True)
class Settings:
    """How runs are recorded: sampling frequency, unwinding, stack bytes per sample."""

    frequency: int = DEFAULT_FREQUENCY
    call_graph: str = "dwarf"
    stack_bytes: int = DEFAULT_STACK_BYTES

    def record_args(self) -> list[str]:
        """The ``perf record`` options for these settings."""
        args = ["-e", EVENT, "-F", str(self.frequency), "-k", "CLOCK_MONOTONIC"]
        if self.call_graph == "dwarf":
            args += ["--call-graph", f"dwarf,{self.stack_bytes}"]
        return args

    def python_env(self) -> dict[str, str]:
        """What the recorded python needs so that its functions appear in the stacks."""
        return {"PYTHON_PERF_JIT_SUPPORT": "1"} if self.call_graph == "dwarf" else {"PYTHONPERFSUPPORT": "1"}


@dataclass(frozen=True)
class Recording:
    """The samples of one run's window, the run's marks, and what perf said about the recording."""

    samples: list[stacks.Sample]
    marks: dict
    all_samples: int  # the whole process, start-up included
    lost: int  # samples perf reported lost

    @property
    def wall_s(self) -> float:
        """Seconds between the marks (kept in memory for busy cores and overhead; never written)."""
        return (self.marks["end_ns"] - self.marks["start_ns"]) / 1e9


def check_perf(perf: str = PERF) -> None:
    """Raise :class:`PerfUnavailable` unless ``perf record -e cpu-clock`` works for this user here."""
    path = shutil.which(perf)
    if path is None:
        raise PerfUnavailable(f"{perf} is not installed: install it (Debian: apt-get install linux-perf; "
                              "Ubuntu: linux-tools-generic), then run this again")
    paranoid = _read_int("/proc/sys/kernel/perf_event_paranoid")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([path, "record", "-q", "-e", EVENT, "-o", os.path.join(tmp, "probe.data"), "--", "true"],
                           capture_output=True, text=True, timeout=60, env=_perf_env(tmp))
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["no output"])[0][:200]
        hint = ("lower kernel.perf_event_paranoid (sysctl -w kernel.perf_event_paranoid=1) or run as root"
                if paranoid is not None and paranoid > 1 and os.geteuid() != 0 else
                "in a container, perf_event_open is often blocked by the seccomp profile: run on the host "
                "or allow perf_event_open")
        raise PerfUnavailable(f"perf record -e {EVENT} fails here ({why}; perf_event_paranoid="
                              f"{paranoid if paranoid is not None else 'unknown'}): {hint}")


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _perf_env(tmp: str) -> dict[str, str]:
    return {**os.environ, "PERF_BUILDID_DIR": os.path.join(tmp, "buildid")}


def record(command: list[str], env: dict[str, str], settings: Settings, perf: str = PERF,
           timeout: float = TIMEOUT) -> Recording:
    """Run ``command`` (a target run that takes ``--marks FILE`` last) under perf; its window's samples.

    ``env`` is the run's whole environment (the variant's variables applied); perf's own
    variables are added here.
    """
    with tempfile.TemporaryDirectory(prefix="ftbench-why-") as tmp:
        data, marks_path = os.path.join(tmp, "perf.data"), os.path.join(tmp, "marks.json")
        ctl, ack = os.path.join(tmp, "ctl"), os.path.join(tmp, "ack")
        os.mkfifo(ctl)
        os.mkfifo(ack)
        perf_env = _perf_env(tmp)
        run_env = {**env, **settings.python_env(), "PERF_BUILDID_DIR": perf_env["PERF_BUILDID_DIR"],
                   CONTROL_ENV: f"{ctl}:{ack}"}
        cmd = [perf, "record", "-q", "-D", "-1", f"--control=fifo:{ctl},{ack}", *settings.record_args(), "-o", data,
               "--", *command, marks_path]
        pids: set[int] = set()
        try:
            returncode, stderr = run_group(cmd, run_env, timeout)
            if returncode != 0 or not os.path.exists(marks_path):
                pids |= _task_pids(perf, data, perf_env)
                raise RunFailed(_last_error(stderr) or f"exit status {returncode}")
            with open(marks_path) as f:
                marks = json.load(f)
            pids.add(int(marks["pid"]))
            if settings.call_graph == "dwarf":
                injected = data + ".jit"
                _run([perf, "inject", "--jit", "-i", data, "-o", injected], perf_env)
                data = injected
            samples, everything = _script(perf, data, perf_env, marks, pids)
            lost = _lost(perf, data, perf_env)
        finally:
            _remove_jit_files(pids)
    return Recording(samples, marks, everything, lost)


def run_group(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """(exit status, stderr) of ``cmd`` run in a process group of its own, all of which a timeout kills.

    The group holds perf, the target and whatever the target started (a process pool): nothing of
    a run that hangs outlives it.
    """
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                          start_new_session=True) as p:
        try:
            _, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise RunFailed(f"timed out after {timeout:g} s") from None
    return p.returncode, stderr


def _task_pids(perf: str, data: str, env: dict[str, str]) -> set[int]:
    """The processes a (failed) recording saw, from its task events; empty when there is nothing to read."""
    if not os.path.exists(data):
        return set()
    r = subprocess.run([perf, "script", "-i", data, "-F", "pid", "--show-task-events"], capture_output=True,
                       text=True, env=env, timeout=TIMEOUT)
    return {int(m[1]) for m in map(PID_AT_START.match, r.stdout.splitlines()) if m}


def _run(cmd: list[str], env: dict[str, str]) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed: {_last_error(r.stderr)}")
    return r.stdout


def _script(perf: str, data: str, env: dict[str, str], marks: dict, pids: set[int]) -> tuple[list, int]:
    """The samples inside the marks (streamed: a run's text can be hundreds of MB); pids seen go to ``pids``."""
    cmd = [perf, "script", "-i", data, "-F", SCRIPT_FIELDS, "--ns", "--show-task-events"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env) as p:
        def lines():
            for line in p.stdout:
                m = PID_AT_START.match(line)
                if m:
                    pids.add(int(m[1]))
                yield line

        everything = list(stacks.parse(lines()))
    if p.returncode != 0:
        raise RuntimeError(f"perf script failed with exit status {p.returncode}")
    return stacks.within(everything, marks["start_ns"], marks["end_ns"]), len(everything)


def _lost(perf: str, data: str, env: dict[str, str]) -> int:
    """Samples perf reports lost (a ring buffer that overflowed), 0 when it reports none."""
    text = _run([perf, "report", "-i", data, "--stats"], env)
    return sum(int(m[1]) for m in re.finditer(r"LOST(?:_SAMPLES)? events:\s+(\d+)", text))


def _last_error(stderr: str) -> str:
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _remove_jit_files(pids: set[int]) -> None:
    """The jitdump, injected code objects and perf map of each of these processes (CPython writes them to /tmp)."""
    for pid in pids:
        for pattern in (f"/tmp/jit-{pid}.dump", f"/tmp/jitted-{pid}-*.so", f"/tmp/perf-{pid}.map"):
            for path in glob.glob(pattern):
                Path(path).unlink(missing_ok=True)
