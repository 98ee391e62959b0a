"""Run a campaign: each planned benchmark in its own process group, results written as they finish.

``run(config, planned)`` is the execution half of ``python -m harness.measure.bench`` (the CLI half
parses and checks the input and makes the frozen :class:`~harness.measure.config.Campaign`).
Each benchmark is one ``python -m harness.measure.run`` process group with a timeout; its result is
written to ``results/raw/<host>/<variant>.*`` as soon as it finishes, so an interrupted campaign
keeps everything measured and the same command resumes it.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import variants
from harness.measure.config import Campaign
from harness.measure.results import ResultsError, VariantStore

# Pure-Python aiohttp stack on every variant: 3.13t has no accelerated wheels, so 3.13 must not use them.
PURE_PYTHON_ENV = ("AIOHTTP_NO_EXTENSIONS", "YARL_NO_EXTENSIONS", "MULTIDICT_NO_EXTENSIONS",
                   "PROPCACHE_NO_EXTENSIONS", "FROZENLIST_NO_EXTENSIONS")
FORWARDED_ENV = PURE_PYTHON_ENV + ("FTBENCH_C_EXTENSIONS", "FTBENCH_WORKLOAD_PATH",
                                   "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# pyperf's manager's own line when a worker failed: never the cause
PYPERF_WRAPPER = re.compile(r"^RuntimeError: \S+ failed with exit code -?\d+$")


@dataclass(frozen=True)
class Planned:
    workload: object
    strategy: str
    workers: int

    @property
    def name(self) -> str:
        return f"{self.workload.name}/{self.strategy}/{self.workers}"

    def identity(self) -> dict:
        return {"workload": self.workload.name, "kind": self.workload.kind,
                "strategy": self.strategy, "workers": self.workers}


def run_one(p: Planned, config: Campaign, variant: str, pyperf_args: list, server_url: str, env: dict,
            tmp: Path):
    """Run one benchmark in its own process group; return (status, error, Benchmark|None)."""
    import pyperf

    out = tmp / f"{p.workload.name}-{p.strategy}-{p.workers}.json"
    cmd = [config.python_of(variant), "-m", "harness.measure.run", "--workload", p.workload.name,
           "--strategy", p.strategy, "--workers", str(p.workers), "--size", config.size,
           "--scaling", config.scaling,
           "--bench-profile", config.profile, "--variant", variant, "--host", config.host,
           "--server-url", server_url, "--server-latency", "{:g}:{:g}".format(*config.latency),
           "--accelerators", config.accelerators, "--hook", "ftbench",
           "--inherit-environ", ",".join(FORWARDED_ENV), "--loops", "1", "-o", str(out),
           *pyperf_args, *[f"--option={k}={v}" for k, v in config.options]]
    log = tmp / "measure.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=functools.partial(die_with_parent, os.getpid()))
        try:
            if SIGNALLED:  # swallowed during the fork (see SIGNALLED)
                raise KeyboardInterrupt
            proc.wait(timeout=config.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return "timeout", f"killed after {config.timeout:g} s", None
        except BaseException:
            _kill_group(proc)
            raise
    text = log.read_text(errors="replace")
    if proc.returncode != 0 or not out.exists():
        return "failed", _error_line(text, proc.returncode), None
    try:
        bench = pyperf.Benchmark.load(str(out))
    except Exception as e:  # noqa: BLE001
        return "failed", f"unreadable pyperf output: {e}", None
    return "ok", "", bench


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


# Signals received. A KeyboardInterrupt raised while Popen forks runs in an at-fork hook (e.g.
# logging's), where CPython swallows it ("Exception ignored in ... _afterFork"): run_one and the
# campaign loop check this list so such a Ctrl-C is not lost.
SIGNALLED: list[int] = []


def _interrupt(signum, frame):
    SIGNALLED.append(signum)
    raise KeyboardInterrupt  # SIGTERM ends a campaign as cleanly as Ctrl-C


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _error_line(text: str, code: int) -> str:
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
    from harness.measure.results import run_metadata

    spec = variants.get(variant)
    meta = run_metadata(bench)
    enabled = meta.get("ftbench_gil_enabled") == "yes"
    if spec.role == "free-threaded" and enabled and not allow_gil:
        culprit = meta.get("ftbench_gil_reenabled_by") or "unknown (no import warning seen)"
        return f"the GIL was enabled during the run; re-enabled by module {culprit} (--allow-gil to accept)"
    if spec.role == "control" and not enabled:
        return "the control variant ran without the GIL (PYTHON_GIL=1 not honoured)"
    return ""


def speedup_table(store: VariantStore, planned: list[Planned]) -> str:
    names = {p.name for p in planned}
    means = {b.get_name(): b.mean() for b in store.suite or () if b.get_name() in names}
    lines, by_key = [], {}
    for p in planned:
        by_key.setdefault((p.workload.name, p.strategy), []).append(p.workers)
    for (wl, strategy), workers in by_key.items():
        base = means.get(f"{wl}/sequential/1")
        cells = []
        for n in workers:
            mean = means.get(f"{wl}/{strategy}/{n}")
            cells.append(f"{n}:{base / mean:5.2f}x" if base and mean else f"{n}:   --")
        lines.append(f"  {wl:<22} {strategy:<16} " + "  ".join(cells))
    return "\n".join(lines)


def c_extensions(env: dict) -> str:
    """Whether the aiohttp stack runs its C extensions under ``env`` (measured once, recorded on every run)."""
    code = """
found = []
try:
    import multidict
    from aiohttp import http_parser
    from yarl import _quoting
    found.append("aiohttp=" + ("yes" if http_parser.HttpResponseParser.__module__.endswith("_http_parser") else "no"))
    found.append("yarl=" + ("yes" if _quoting._Quoter.__module__.endswith("_c") else "no"))
    found.append("multidict=" + ("yes" if multidict.MultiDict.__module__ == "multidict._multidict" else "no"))
except ImportError as e:
    found.append(f"unavailable({e.name})")
print(",".join(found))
"""
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def run(config: Campaign, planned: list[Planned]) -> int:
    """Measure every planned benchmark not yet measured; print the summary. Exit status."""
    variant = config.variants[0]
    spec = variants.get(variant)
    env = dict(os.environ)
    for key in PURE_PYTHON_ENV:
        env.pop(key, None)
        if config.accelerators == "pure":
            env[key] = "1"
    env = spec.apply_env(env)
    env["FTBENCH_C_EXTENSIONS"] = c_extensions(env)
    settings = {"profile": config.profile, "size": config.size, "accelerators": config.accelerators,
                "latency": list(config.latency), "python": platform.python_version(),
                "source_sha256": _source_sha(), "options": sorted(f"{k}={v}" for k, v in config.options)}
    store = VariantStore(config.results, config.host, variant)
    try:
        store.load(settings, config.fresh)
    except ResultsError as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    todo = [p for p in planned if not store.done(p.name)]
    print(f"ftbench: {variant} on {config.host} ({platform.python_version()}, {config.python_of(variant)}): "
          f"{len(planned)} benchmarks, {len(planned) - len(todo)} already measured, profile {config.profile}, "
          f"aiohttp stack {env['FTBENCH_C_EXTENSIONS']}", flush=True)
    server = None
    failures = []
    tmp = Path(tempfile.mkdtemp(prefix="ftbench-"))
    started = time.monotonic()
    try:
        if any(p.workload.needs_server for p in todo):
            from harness.measure.server import Server

            server = Server(latency=config.latency, seed=0)
            server.start()
        for k, p in enumerate(planned, 1):
            if SIGNALLED:  # see SIGNALLED
                raise KeyboardInterrupt
            if store.done(p.name):
                continue
            prec = config.precision
            settings = {"processes": prec.min_processes, "values": prec.values, "warmups": prec.warmups,
                        **(p.workload.pyperf.get(config.profile) or {})}
            pyperf_args = [f"--{key}={value}" for key, value in settings.items()]
            t0 = time.monotonic()
            url = server.url if server and p.workload.needs_server else ""
            status, error, bench = run_one(p, config, variant, pyperf_args, url, env, tmp)
            if bench is not None and (reason := gil_verdict(bench, variant, config.allow_gil)):
                status, error, bench = "failed", reason, None
            store.record(p.name, p.identity(), status, error, bench, time.monotonic() - t0)
            if status != "ok":
                failures.append((p.name, status, error))
            print(progress_line(k, len(planned), p.name, status, error, bench), flush=True)
    except KeyboardInterrupt:
        print(f"\nftbench: interrupted; everything measured so far is in {store.dir}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nspeedup vs sequential on {variant} (workers:speedup), {time.monotonic() - started:.0f} s:")
    print(speedup_table(store, planned))
    print(f"raw results: {store.json_path} and {store.csv_path.name}")
    if failures:
        print(f"\n{len(failures)} benchmark(s) did not produce a time:", file=sys.stderr)
        for name, status, error in failures:
            print(f"  {name}: {status}: {error}", file=sys.stderr)
        return 1
    return 0


def progress_line(k: int, total: int, name: str, status: str, error: str, bench) -> str:
    """``[k/N] workload/strategy/workers  mean +- stdev  ok``, or the status and error."""
    head = f"[{k}/{total}] {name:<36}"
    if status != "ok":
        return f"{head} {status.upper()}: {error}"
    stdev = bench.stdev() if len(bench.get_values()) > 1 else 0.0
    return f"{head} {_fmt(bench.mean())} +- {_fmt(stdev)}  ok"


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms" if seconds < 10 else f"{seconds:8.2f} s "


def _source_sha() -> str:
    from harness.measure.run import interpreter_provenance

    return interpreter_provenance()["ftbench_source_sha256"]


