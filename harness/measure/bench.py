"""Run the benchmark campaign of one variant: discover -> filter -> plan -> run each -> write -> report.

Runs inside the venv of the interpreter under test (``nox -s bench-3.13t`` sets that up)::

    python -m harness.measure.bench --variant 3.13t [--quick | --rigorous] [--workloads a,b]
        [--strategies threads,processes] [--workers 1,2,4] [--timeout 600] [--fresh]

Each benchmark is one ``python -m harness.measure.run`` process group with a timeout; its result is
written to ``results/raw/<host>/<variant>.*`` as soon as it finishes, so an interrupted campaign
keeps everything measured and the same command resumes it.
"""

from __future__ import annotations

import argparse
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

from harness.measure import probe
from harness.measure.results import ResultsError, VariantStore
from harness.measure.workload import ALL_STRATEGIES, SIZES, discover

PROFILES = ("quick", "default", "rigorous")
VARIANTS = ("3.13", "3.13t", "3.13t-gil")
DEFAULT_TIMEOUT = 600.0  # seconds per benchmark (all pyperf processes); the slowest default one takes ~40 s
# Pure-Python aiohttp stack on every variant: 3.13t has no accelerated wheels, so 3.13 must not use them.
PURE_PYTHON_ENV = ("AIOHTTP_NO_EXTENSIONS", "YARL_NO_EXTENSIONS", "MULTIDICT_NO_EXTENSIONS",
                   "PROPCACHE_NO_EXTENSIONS", "FROZENLIST_NO_EXTENSIONS")
FORWARDED_ENV = PURE_PYTHON_ENV + ("FTBENCH_C_EXTENSIONS", "FTBENCH_WORKLOAD_PATH",
                                   "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
PYPERF_FALLBACK = {"quick": {"processes": 1, "values": 2, "warmups": 1},
                   "default": {"processes": 4, "values": 3, "warmups": 1},
                   "rigorous": {"processes": 10, "values": 5, "warmups": 1}}


# pyperf's manager's own line when a worker failed: never the cause
PYPERF_WRAPPER = re.compile(r"^RuntimeError: \S+ failed with exit code -?\d+$")


class UsageError(Exception):
    """Bad command-line input: one line, exit status 2, no file touched."""


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


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too)
        raise UsageError(message)


def parse_args(argv):
    p = Parser(prog="python -m harness.measure.bench", description=__doc__.split("\n")[0])
    p.add_argument("--variant", required=True, help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--profile", default=None, help=f"one of {', '.join(PROFILES)} (default: default)")
    p.add_argument("--quick", action="store_const", dest="profile_flag", const="quick")
    p.add_argument("--rigorous", action="store_const", dest="profile_flag", const="rigorous")
    p.add_argument("--size", help=f"task size, one of {', '.join(SIZES)} (default: the profile's)")
    p.add_argument("--workloads", help="comma-separated workload names (default: the default suite)")
    p.add_argument("--strategies", help=f"comma-separated, from {', '.join(ALL_STRATEGIES)}")
    p.add_argument("--workers", help="comma-separated worker counts >= 1 (default: each workload's sweep)")
    p.add_argument("--results", default="results", help="results directory (default: results)")
    p.add_argument("--host", default=None, help="host label of the results directory (default: hostname)")
    p.add_argument("--timeout", default=str(DEFAULT_TIMEOUT), help="seconds per benchmark")
    p.add_argument("--latency", default="0.02:0.05", help="server latency range in seconds, LO:HI")
    p.add_argument("--fresh", action="store_true", help="start over (old raw files kept as .bak)")
    p.add_argument("--allow-gil", action="store_true", help="accept runs where 3.13t re-enabled the GIL")
    p.add_argument("--native-accelerators", action="store_true",
                   help="let aiohttp/yarl/multidict use their C extensions where installed")
    p.add_argument("--option", action="append", default=[], help="KEY=VALUE passed to workloads")
    p.add_argument("--source", help="(for the build session: the CPython source tarball)")
    p.add_argument("--optimized", action="store_true", help="(for the build session: PGO + LTO)")
    args = p.parse_args(argv)
    if args.profile and args.profile_flag and args.profile != args.profile_flag:
        raise UsageError(f"--profile {args.profile} contradicts --{args.profile_flag}")
    args.profile = args.profile or args.profile_flag or "default"
    _choice("variant", args.variant, VARIANTS)
    _choice("profile", args.profile, PROFILES)
    args.size = args.size or args.profile
    _choice("size", args.size, SIZES)
    args.timeout = _positive_float("timeout", args.timeout)
    lo, _, hi = args.latency.partition(":")
    args.latency = (_nonneg_float("latency", lo), _nonneg_float("latency", hi or lo))
    for option in args.option:
        if "=" not in option:
            raise UsageError(f"--option {option!r}: expected KEY=VALUE")
    return args


def _choice(what, value, choices):
    if value not in choices:
        raise UsageError(f"unknown {what} {value!r}; valid: {', '.join(choices)}")


def _float(what, text, ok, expected):
    """``float(text)`` if ``ok`` accepts it, else one line naming what was expected."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not ok(value):
        raise UsageError(f"--{what} {text!r}: expected {expected}")
    return value


def _positive_float(what, text):
    return _float(what, text, lambda v: v > 0, "a number > 0")


def _nonneg_float(what, text):
    return _float(what, text, lambda v: v >= 0, "seconds >= 0, as LO:HI")


def _list(text, what, valid=None, singular=None):
    items = [x.strip() for x in text.split(",")]
    if not text.strip() or "" in items:
        raise UsageError(f"--{what} {text!r}: empty item; valid: {', '.join(valid or ['integers >= 1'])}")
    if valid is not None:
        for x in items:
            _choice(singular or what, x, valid)
    return items


def plan(args, workloads: dict, cores: int) -> list[Planned]:
    # `is not None`: an empty --workers "" is bad input, not "no filter"
    if args.workloads is not None:
        names = _list(args.workloads, "workloads", list(workloads), "workload")
    else:
        names = [n for n, w in workloads.items() if w.in_default_suite]
    strategies = None
    if args.strategies is not None:
        strategies = _list(args.strategies, "strategies", ALL_STRATEGIES, "strategy")
    workers = None
    if args.workers is not None:
        items = _list(args.workers, "workers")
        if not all(re.fullmatch(r"[0-9]+", x) and int(x) >= 1 for x in items):
            raise UsageError(f"--workers {args.workers!r}: expected integers >= 1, e.g. 1,2,4")
        workers = sorted({int(x) for x in items})
    out = []
    for name in names:
        w = workloads[name]
        for s in ALL_STRATEGIES:
            if s not in w.strategies or (strategies and s not in strategies):
                continue
            sweep = w.workers_for(s, cores)
            if workers:
                sweep = (1,) if sweep == (1,) else tuple(workers)
            out.extend(Planned(w, s, n) for n in sweep)
    if not out:
        raise UsageError("the filters leave no benchmark to run")
    return out


def check_interpreter(variant: str) -> None:
    free_threaded = probe.free_threaded()
    if free_threaded != variant.startswith("3.13t") or sys.version_info[:2] != (3, 13):
        build = "free-threaded" if free_threaded else "default"
        raise UsageError(f"variant {variant} cannot run on this {build} Python "
                         f"{platform.python_version()} ({sys.executable}); use nox -s bench-{variant}")


def c_extensions() -> str:
    """Whether the aiohttp stack runs its C extensions here (measured once, recorded on every run)."""
    found = []
    try:
        import multidict
        from aiohttp import http_parser
        from yarl import _quoting

        found.append(f"aiohttp={'yes' if http_parser.HttpResponseParser.__module__.endswith('_http_parser') else 'no'}")
        found.append(f"yarl={'yes' if _quoting._Quoter.__module__.endswith('_c') else 'no'}")
        found.append(f"multidict={'yes' if multidict.MultiDict.__module__ == 'multidict._multidict' else 'no'}")
    except ImportError as e:
        found.append(f"unavailable({e.name})")
    return ",".join(found)


def run_one(p: Planned, args, pyperf_args: list, server_url: str, env: dict, tmp: Path):
    """Run one benchmark in its own process group; return (status, error, Benchmark|None)."""
    import pyperf

    out = tmp / f"{p.workload.name}-{p.strategy}-{p.workers}.json"
    cmd = [sys.executable, "-m", "harness.measure.run", "--workload", p.workload.name,
           "--strategy", p.strategy, "--workers", str(p.workers), "--size", args.size,
           "--bench-profile", args.profile, "--variant", args.variant, "--host", args.host,
           "--server-url", server_url, "--server-latency", "{:g}:{:g}".format(*args.latency),
           "--accelerators", args.accelerators, "--hook", "ftbench",
           "--inherit-environ", ",".join(FORWARDED_ENV), "--loops", "1", "-o", str(out),
           *pyperf_args, *[f"--option={o}" for o in args.option]]
    log = tmp / "measure.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=functools.partial(die_with_parent, os.getpid()))
        try:
            if SIGNALLED:  # swallowed during the fork (see SIGNALLED)
                raise KeyboardInterrupt
            proc.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return "timeout", f"killed after {args.timeout:g} s", None
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
    """'' if the GIL state matches the variant, else the reason the benchmark is rejected."""
    from harness.measure.results import run_metadata

    meta = run_metadata(bench)
    enabled = meta.get("ftbench_gil_enabled") == "yes"
    if variant == "3.13t" and enabled and not allow_gil:
        culprit = meta.get("ftbench_gil_reenabled_by") or "unknown (no import warning seen)"
        return f"the GIL was enabled during the run; re-enabled by module {culprit} (--allow-gil to accept)"
    if variant == "3.13t-gil" and not enabled:
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


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started with it ignored
        signal.signal(signal.SIGINT, _interrupt)
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        workloads = discover()
        cores = probe.cpu_count()
        planned = plan(args, workloads, cores)
        check_interpreter(args.variant)  # after the input checks: bad input is named on any Python
    except UsageError as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    return campaign(args, planned)


def campaign(args, planned: list[Planned]) -> int:
    args.host = args.host or re.sub(r"[^\w.-]", "_", platform.node()) or "host"
    args.accelerators = "native" if args.native_accelerators else "pure"
    env = dict(os.environ)
    for key in PURE_PYTHON_ENV:
        env.pop(key, None)
        if not args.native_accelerators:
            env[key] = "1"
            os.environ[key] = "1"  # so that c_extensions() below sees what the workers will see
    env.pop("PYTHON_GIL", None)
    if args.variant == "3.13t-gil":
        env["PYTHON_GIL"] = "1"
    env["FTBENCH_C_EXTENSIONS"] = c_extensions()
    settings = {"profile": args.profile, "size": args.size, "accelerators": args.accelerators,
                "latency": list(args.latency), "python": platform.python_version(),
                "source_sha256": _source_sha(), "options": sorted(args.option)}
    store = VariantStore(Path(args.results), args.host, args.variant)
    try:
        store.load(settings, args.fresh)
    except ResultsError as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    todo = [p for p in planned if not store.done(p.name)]
    print(f"ftbench: {args.variant} on {args.host} ({platform.python_version()}, {sys.executable}): "
          f"{len(planned)} benchmarks, {len(planned) - len(todo)} already measured, profile {args.profile}, "
          f"aiohttp stack {env['FTBENCH_C_EXTENSIONS']}", flush=True)
    server = None
    failures = []
    tmp = Path(tempfile.mkdtemp(prefix="ftbench-"))
    started = time.monotonic()
    try:
        if any(p.workload.needs_server for p in todo):
            from harness.measure.server import Server

            server = Server(latency=args.latency, seed=0)
            server.start()
        for k, p in enumerate(planned, 1):
            if SIGNALLED:  # see SIGNALLED
                raise KeyboardInterrupt
            if store.done(p.name):
                continue
            pyperf_args = []
            for key, value in (p.workload.pyperf.get(args.profile) or PYPERF_FALLBACK[args.profile]).items():
                pyperf_args += [f"--{key}", str(value)]
            t0 = time.monotonic()
            url = server.url if server and p.workload.needs_server else ""
            status, error, bench = run_one(p, args, pyperf_args, url, env, tmp)
            if bench is not None and (reason := gil_verdict(bench, args.variant, args.allow_gil)):
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
    print(f"\nspeedup vs sequential on {args.variant} (workers:speedup), {time.monotonic() - started:.0f} s:")
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


if __name__ == "__main__":
    sys.exit(main())
