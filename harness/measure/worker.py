"""One pyperf process group per measured process, and the signals that end a campaign.

Every process of a campaign is ``python -m harness.measure.run ... --processes 1`` on the variant's
own python and environment, started by :func:`run_one` in a process group of its own with a
timeout: a benchmark that hangs or crashes is killed with everything it started (pyperf's worker,
its pools) and recorded, and the campaign goes on. The group is emptied after every run, not only
on a timeout: a process a task started and did not wait for would otherwise run on, reparented,
through the next benchmarks; it is killed and counted (:func:`end_group`, metadata
``leftover_processes``). If the orchestrator itself dies, even by SIGKILL, the kernel tells the
group's leader (:func:`die_with_parent`), which takes its group down.

A failed process is said in one line (:func:`error_line`): the worker's own exception rather than
pyperf's wrapper. A measured benchmark whose GIL state contradicts its variant's role is rejected
(:func:`gil_verdict`). SIGINT and SIGTERM end a campaign cleanly (:func:`install_signal_handlers`),
even when they arrive while a process is being forked (:data:`SIGNALLED`).
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from harness import metadata, variants
from harness.measure.config import Campaign
from harness.measure.environment import FORWARDED_ENV
from harness.measure.planned import Planned
from harness.measure.results import run_metadata

# pyperf's manager's own line when a worker failed: never the cause
PYPERF_WRAPPER = re.compile(r"^RuntimeError: \S+ failed with exit code -?\d+$")
LEFTOVER_GRACE = 1.0  # seconds a process of an ended benchmark's group may take to end by itself

# Signals received. A KeyboardInterrupt raised while Popen forks runs in an at-fork hook (e.g.
# logging's), where CPython swallows it ("Exception ignored in ... _afterFork"): run_one and the
# campaign check this list (raise_if_signalled) so such a Ctrl-C is not lost.
SIGNALLED: list[int] = []


def interrupt(signum, frame) -> None:
    """The handler of SIGINT and SIGTERM: record the signal, then end the campaign as Ctrl-C does."""
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


def install_signal_handlers() -> None:
    """SIGTERM and SIGINT end the campaign with exit 130, keeping what it measured.

    SIGINT only when it has Python's default handler: a campaign started with it ignored (e.g. in
    the background of a shell) keeps ignoring it.
    """
    signal.signal(signal.SIGTERM, interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)


def raise_if_signalled() -> None:
    """Raise KeyboardInterrupt if a signal arrived that the fork may have swallowed (see SIGNALLED)."""
    if SIGNALLED:
        raise KeyboardInterrupt


def command(p: Planned, config: Campaign, variant: str, pyperf_args: list, server_url: str, out: Path,
            overlay: str = "") -> list:
    """The command line of one measured process of ``p`` on ``variant``, writing pyperf JSON to ``out``.

    ``overlay``: the directory of the workload's installed requirements on this variant.
    """
    source = config.file_of(p.workload.name)
    own = [*(["--workload-file", source] if source else []), *(["--requirements-path", overlay] if overlay else [])]
    return [config.python_of(variant), "-m", "harness.measure.run", "--workload", p.workload.name,
            "--strategy", p.strategy, "--workers", str(p.workers), "--size", config.size,
            "--scaling", config.scaling,
            "--bench-profile", config.profile, "--variant", variant, "--host", config.host,
            "--server-url", server_url, "--server-latency", "{:g}:{:g}".format(*config.latency),
            "--accelerators", config.accelerators, "--hook", "ftbench",
            "--inherit-environ", ",".join(FORWARDED_ENV), "--loops", "1", "-o", str(out),
            *pyperf_args, *[f"--option={k}={v}" for k, v in config.options], *own]


def run_one(p: Planned, config: Campaign, variant: str, pyperf_args: list, server_url: str, env: dict,
            tmp: Path, tag: str = "", overlay: str = ""):
    """Run one pyperf command in its own process group; return (status, error, Benchmark|None)."""
    import pyperf

    out = tmp / f"{p.workload.name}-{p.strategy}-{p.workers}{'-' + tag if tag else ''}.json"
    out.unlink(missing_ok=True)
    log = tmp / "measure.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen(command(p, config, variant, pyperf_args, server_url, out, overlay), stdout=logf,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=functools.partial(die_with_parent, os.getpid()))
        try:
            raise_if_signalled()
            proc.wait(timeout=config.timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            return "timeout", f"killed after {config.timeout:g} s", None
        except BaseException:
            kill_group(proc)
            raise
        left = end_group(proc.pid)
    text = log.read_text(errors="replace")
    behind = f" ({left} process(es) left running by the benchmark, killed)" if left else ""
    if proc.returncode != 0 or not out.exists():
        return "failed", error_line(text, proc.returncode) + behind, None
    try:
        bench = pyperf.Benchmark.load(str(out))
    except Exception as e:  # noqa: BLE001
        return "failed", f"unreadable pyperf output: {e}{behind}", None
    bench.update_metadata(metadata.of(leftover_processes=left))
    return "ok", "", bench


def group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (zombies are not: they only wait to be reaped).

    Linux's /proc; elsewhere one signal 0 to the group tells whether anything is left ([pgid] or []).
    """
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:  # ended meanwhile
            continue
        state, _ppid, group = stat[stat.rindex(")") + 2:].split()[:3]  # the name may hold spaces and ')'
        if int(group) == pgid and state not in "ZX":
            found.append(int(entry.name))
    return found


def end_group(pgid: int, grace: float = LEFTOVER_GRACE) -> int:
    """After the group's leader ended: kill what the benchmark left in its group; return how many.

    A process that is ending by itself (a pool's helper reading the end of its pipe) gets ``grace``
    seconds; whatever still runs then was left behind by the benchmark.
    """
    deadline = time.monotonic() + grace
    while (left := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    if left:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(left)


def die_with_parent(parent: int) -> None:
    """In the child: get SIGTERM when the orchestrator dies, even by SIGKILL (Linux only).

    harness.measure.run answers SIGTERM by killing its whole process group: pyperf's workers and
    their pools are its grandchildren and would otherwise outlive a killed campaign.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the orchestrator died before prctl: no signal will come
        os._exit(1)


def kill_group(proc) -> None:
    """Kill ``proc``'s whole process group (pyperf's worker and its pools with it) and reap ``proc``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def error_line(text: str, code: int) -> str:
    """The most telling line of a failed worker's output: the exception, else the last line.

    pyperf's manager ends every failure with its own "RuntimeError: ... failed with exit code 1";
    the worker's exception, printed before it, is the one that says what went wrong.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Failed|Interrupt)\b", ln)
              or "CheckFailed" in ln]
    own = [ln for ln in errors if not PYPERF_WRAPPER.search(ln)]
    if own or errors:
        return (own or errors)[-1][:500]
    return (lines[-1][:500] if lines else f"exit status {code}")


def gil_verdict(bench, variant: str, allow_gil: bool) -> str:
    """'' if the GIL state matches the variant's role, else the reason the benchmark is rejected."""
    spec = variants.get(variant)
    meta = run_metadata(bench)
    enabled = metadata.get(meta, "gil_enabled") == "yes"
    if spec.role == "free-threaded" and enabled and not allow_gil:
        culprit = metadata.get(meta, "gil_reenabled_by") or "unknown (no import warning seen)"
        return f"the GIL was enabled during the run; re-enabled by module {culprit} (--allow-gil to accept)"
    if spec.role == "control" and not enabled:
        return "the control variant ran without the GIL (PYTHON_GIL=1 not honoured)"
    return ""
