"""pyperformance as a reference lens: the standard suite on ftbench's own builds, variant by variant.

ftbench's workloads are the lecture's; pyperformance's default set (88 benchmarks in 1.14.0) is what
the rest of the world quotes. This runs it on the very interpreters of the campaign, with each
variant's environment (the control gets ``PYTHON_GIL=1``), so the single-thread price can be read
on both. It runs on the host Python (stdlib only) and drives the ``pyperformance`` command, which
makes its own venv per interpreter (under ``~/.cache/ftbench/pyperformance/venv``) and installs
each benchmark's pinned requirements from the package index on first use::

    python -m harness.provision.pyperformance run --variants 3.13,3.13t,3.13t-gil --speed fast
    python -m harness.provision.pyperformance run --benchmarks nbody,richards --speed debug
    python -m harness.provision.pyperformance list                # the benchmarks of a selection

Interleaved: pyperformance runs a whole selection on one interpreter, so this calls it once per
benchmark and variant (``--benchmarks NAME``), benchmark by benchmark, each on every variant in
turn (the variant order rotates), as the campaign interleaves: slow drift of the machine then hits
every variant alike. Each call is isolated: a benchmark that fails to install or run on one
variant is recorded failed for that variant only, with its error line, and the rest go on.

Results, beside the campaign's but in their own directory (the campaign's analysis reads every
``<host>/<variant>.json`` as a campaign variant, and these are not)::

    results/raw/<host>/pyperformance/<variant>.json         pyperf BenchmarkSuite (pyperf compare_to works)
    results/raw/<host>/pyperformance/<variant>.status.json  every planned benchmark: status, error, seconds
    results/raw/<host>/pyperformance/logs/<variant>/<benchmark>.log   output of a failed call

Every benchmark carries ftbench's keys (variant, role, host, machine and interpreter fingerprints,
and the GIL state a pyperf worker of that venv saw: a probe script is run by the venv's own pyperf
with the variant's environment, exactly as pyperformance starts its benchmark scripts). A rerun
skips what is already ok with the same settings, and retries what failed.

Memory is pyperf's own record, kept as pyperf wrote it: every run (worker process) carries its peak
RSS, ``mem_max_rss`` (``resource.getrusage(RUSAGE_SELF)``: the worker from its start, imports and
warmups included) or, for a command benchmark, ``command_max_rss`` (the timed command's). Neither
needs psutil, which pyperf 2.10 turns off on free-threaded builds (``USE_PSUTIL = not
Py_GIL_DISABLED``: on Linux pyperf then falls back to ``os.cpu_count`` and ``sched_setaffinity``;
off Linux it loses ``--track-memory``). ``--track-memory`` is not passed: it would replace the
timings by memory values (private memory from ``/proc/self/smaps``), a second run of the suite.
harness.analysis.memory reads the peaks.

The campaign's guards hold here too, checked before anything runs (one line, exit 2): ``--host`` is
a plain label; a published set, or one of another machine, is never written (``--fresh`` included);
one run writes a host x variant at a time (a lock under ``results/.locks``); a damaged file is
named; ``--fresh`` keeps the old files as ``.bak-<time>``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import metadata, variants
from harness.files import Busy, results_lock, write_atomic, write_json_atomic
from harness.provision import fingerprint, interpreters

PYPERFORMANCE_VERSION = "1.14.0"  # pinned: its benchmarks and their requirement locks are part of the result
COMMAND_ENV = "FTBENCH_PYPERFORMANCE"  # how to start pyperformance, e.g. "/venv/bin/pyperformance"
SPEEDS = {"fast": ["--fast"], "default": [], "rigorous": ["--rigorous"], "debug": ["--debug-single-value"]}
# CPython's RuntimeWarning when an extension without Py_mod_gil turns the GIL back on (3.13t): pyperformance
# shows a worker's stderr only with --verbose, so every call is verbose and its output is searched for it.
GIL_REENABLED = "has been enabled to load module"
TIMEOUT = 3600.0  # seconds per benchmark x variant call; the first one creates the venv and installs
# Run by the venv's own pyperf, where harness is not importable: the keys are spelled by the registry.
GIL_PROBE = f'''import sys
import pyperf
runner = pyperf.Runner()
runner.metadata["{metadata.stored("gil_enabled")}"] = "yes" if getattr(sys, "_is_gil_enabled", lambda: True)() else "no"
runner.metadata["{metadata.stored("probe_process")}"] = "worker" if "--worker" in sys.argv else "main"
runner.bench_func("gil-probe", lambda: None)
'''


class PyperformanceError(Exception):
    """A problem the user must fix; printed as one line, exit status 2."""


def command(explicit: str | None = None) -> list[str]:
    """How to start pyperformance: ``explicit``, else $FTBENCH_PYPERFORMANCE, else this Python's module."""
    text = explicit or os.environ.get(COMMAND_ENV)
    return shlex.split(text) if text else [sys.executable, "-m", "pyperformance"]


def work_dir() -> Path:
    """pyperformance makes its venvs under the working directory: one cache beside the builds."""
    return interpreters.cache_root() / "pyperformance"


def list_benchmarks(cmd: list[str], selection: str = "default") -> list[str]:
    """The benchmark names of a selection, as pyperformance itself resolves it."""
    proc = subprocess.run([*cmd, "list", "--benchmarks", selection], capture_output=True, text=True)
    names = [line[2:].strip() for line in proc.stdout.splitlines() if line.startswith("- ")]
    if proc.returncode or not names:
        raise PyperformanceError(f"pyperformance list --benchmarks {selection} failed: "
                                 f"{_last_line(proc.stdout + proc.stderr) or 'no benchmarks'}")
    return names


def run_command(cmd: list[str], python: str, bench: str, output: Path, speed: str, offline: bool) -> list[str]:
    """The pyperformance call of one benchmark on one interpreter (verbose: its output is searched for GIL warnings)."""
    out = [*cmd, "run", "--python", python, "--benchmarks", bench, "--output", str(output), "--verbose",
           *SPEEDS[speed]]
    if offline:  # pyperformance passes pip a filtered environment: name the variable to keep
        out.append("--inherit-environ=PIP_NO_INDEX")
    return out


def plan(benchmarks: list[str], names: list[str]) -> list[tuple[str, str]]:
    """(benchmark, variant) in running order: benchmark-major, the variant order rotating."""
    return [(b, names[(i + j) % len(names)]) for i, b in enumerate(benchmarks) for j in range(len(names))]


GENERIC_ERRORS = ("ERROR: Benchmark ", "ERROR: No benchmark was run")  # pyperformance's summaries


PIP_OWN_ERROR = re.compile(r"error: [\w-]+$")  # pip's kind of failure: metadata-generation-failed, ...
SOURCE_ARCHIVE = re.compile(r"Downloading (\S+\.(?:tar\.gz|tar\.bz2|zip))\b")


def _source_build_error(lines: list[str]) -> str:
    """A failed build from source (no wheel for this interpreter, e.g. a Rust extension offline) in one
    line: the archive, pip's kind of failure, and the build's own first error. pip's ERROR: lines then
    only say that pyperformance skipped the benchmark."""
    kinds = [i for i, line in enumerate(lines) if PIP_OWN_ERROR.match(line)]
    if not kinds:
        return ""
    end, start, archive = kinds[-1], 0, "a requirement"
    for i in range(end):  # the last archive downloaded before pip gave up is the one it was building
        if found := SOURCE_ARCHIVE.search(lines[i]):
            start, archive = i, found.group(1)
    cause = next((line for line in lines[start:end]
                  if line.lower().startswith("error:") and not PIP_OWN_ERROR.match(line)), "")
    cause = re.sub(r" \(/tmp/[^)]*\)", "", cause)  # the build's temporary dir
    return f"building {archive} from source: {lines[end].removeprefix('error: ')}" + (f" ({cause})" if cause else "")


def _last_line(text: str) -> str:
    """The most telling line of a call's output: pip's first error, else a failed build from source,
    else the exception, else the last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    pip = [line for line in lines if line.startswith("ERROR:") and not line.startswith(GENERIC_ERRORS)]
    raised = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Exit)(:|$)", line)]
    generic = [line for line in lines if line.startswith("ERROR:")]
    built = _source_build_error(lines)
    return (pip[:1] or ([built] if built else []) or raised[-1:] or generic[-1:] or lines[-1:] or [""])[0][:500]


def classify(returncode: int | None, output: str, produced: bool, timeout: float = TIMEOUT) -> tuple[str, str]:
    """(status, error line) of one call: ok, install-failed, timeout (after ``timeout`` s) or failed."""
    if returncode is None:
        return "timeout", f"no result after {timeout:g} s: killed"
    if "could not install requirements" in output or "Install requirements error" in output:
        return "install-failed", _last_line(output)
    if returncode == 0 and produced:
        return "ok", ""
    return "failed", _last_line(output) or f"exit status {returncode}, no result file"


def merge(suite: dict | None, new: dict, extra: dict) -> dict:
    """``new``'s benchmarks added to ``suite`` (a same-named one is replaced), each with ``extra`` metadata.

    pyperf's JSON keeps metadata common to all benchmarks at the top; it is pushed down into each
    benchmark here so that suites written by different calls can be joined (stdlib only).
    """
    def own(data: dict) -> list[dict]:
        common = data.get("metadata", {})
        return [{**b, "metadata": {**common, **b.get("metadata", {})}} for b in data.get("benchmarks", [])]

    added = own(new)
    for b in added:
        b["metadata"].update(extra)
    names = {b["metadata"].get("name") for b in added}
    kept = [b for b in own(suite or {}) if b["metadata"].get("name") not in names]
    return {"version": new.get("version", "1.0"), "metadata": {}, "benchmarks": kept + added}


@functools.cache
def interpreter_id(variant: variants.Variant) -> str:
    """The fingerprint id of the variant's build (harness.provision.fingerprint, as the campaign's)."""
    b = variant.build
    try:
        return fingerprint.interpreter(str(interpreters.executable(b.version, b.free_threaded, b.optimized)))["id"]
    except OSError:  # the build is not there (or does not run): pyperformance will say so per benchmark
        return "unknown"


def venv_python_of(cmd: list[str], python: str) -> str:
    """The python of the venv pyperformance runs ``python``'s benchmarks in (``pyperformance venv show``).

    Asked when a result does not name it: a command benchmark (2to3, python_startup, ...) runs its
    timed command in a subprocess, and pyperf then records no ``python_executable``."""
    proc = subprocess.run([*cmd, "venv", "show", "--python", python], cwd=work_dir(), capture_output=True,
                          text=True, timeout=300)
    found = re.search(r"Virtual environment path: (\S+)", proc.stdout)
    if proc.returncode or not found:
        raise PyperformanceError(f"pyperformance venv show --python {python}: "
                                 f"{_last_line(proc.stdout + proc.stderr) or 'no venv path'}")
    return str(Path(found.group(1)) / "bin" / "python")


def gil_probe(venv_python: str, env: dict) -> str:
    """"yes"/"no": the GIL state a pyperf worker of ``venv_python`` sees in ``env``."""
    with tempfile.TemporaryDirectory(prefix="ftbench-gil-") as tmp:
        script, out = Path(tmp) / "probe.py", Path(tmp) / "probe.json"
        script.write_text(GIL_PROBE)
        proc = subprocess.run([venv_python, str(script), "--debug-single-value", "--quiet", "-o", str(out)],
                              env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode or not out.exists():
            raise PyperformanceError(f"GIL probe on {venv_python} failed: {_last_line(proc.stdout + proc.stderr)}")
        data = json.loads(out.read_text())
    meta = merge(None, data, {})["benchmarks"][0]["metadata"]
    if metadata.get(meta, "probe_process") != "worker":
        raise PyperformanceError(f"GIL probe on {venv_python}: no value from a pyperf worker")
    return metadata.get(meta, "gil_enabled")


class Store:
    """One variant's pyperformance results on disk, saved after every call.

    The campaign's guards, for these files: the set must not be published nor another machine's
    (:func:`harness.provision.fingerprint.set_refusal`, whatever ``fresh`` says), one run writes a
    host x variant at a time (a lock beside the results), a damaged file is one line. Constructing
    checks and writes nothing; :meth:`start` then moves the old files to ``.bak-<time>`` on ``fresh``.
    """

    def __init__(self, root: Path, host: str, variant: variants.Variant, settings: dict, fresh: bool = False,
                 machine: dict | None = None):
        self.dir = Path(root) / "raw" / host / "pyperformance"
        self.variant, self.settings, self.fresh = variant, settings, fresh
        self.machine = machine if machine is not None else fingerprint.machine()
        self.json_path = self.dir / f"{variant.name}.json"
        self.status_path = self.dir / f"{variant.name}.status.json"
        self.suite, self.status = None, {"settings": settings, "machine": self.machine, "benchmarks": {}}
        try:  # held open until the process ends
            self._lock = results_lock(root, f"{host}/pyperformance-{variant.name}")
        except Busy as e:
            raise PyperformanceError(f"{self.json_path} is being written by another run (pid {e.holder}); "
                                     "wait for it to end or use --results DIR") from None
        except OSError as e:
            raise PyperformanceError(f"cannot write in {root} ({e.strerror or e}); give a writable --results") \
                from None
        if why := fingerprint.set_refusal(self.dir.parent, self.machine):
            raise PyperformanceError(f"{why}; use --host NAME (or no --host) to measure into another results set")
        if not fresh:
            self._load()

    def _load(self) -> None:
        """What is already measured with these settings; a damaged file or other settings: one line."""
        fix = "pass --fresh to start over (the old files are kept as .bak)"
        if self.status_path.exists():
            try:
                status = json.loads(self.status_path.read_text())
                if not isinstance(status, dict) or not isinstance(status.get("benchmarks"), dict):
                    raise ValueError("no benchmarks table")
            except (OSError, ValueError) as e:
                raise PyperformanceError(f"{self.status_path}: unreadable ({e}); {fix}") from None
            if status.get("settings") != self.settings:
                raise PyperformanceError(f"{self.status_path} was measured with {status.get('settings')}, "
                                         f"not {self.settings}: {fix}")
            self.status = status
        if self.json_path.exists():
            try:
                suite = json.loads(self.json_path.read_text())
                if not isinstance(suite, dict) or not isinstance(suite.get("benchmarks"), list):
                    raise ValueError("no benchmarks list")
            except (OSError, ValueError) as e:
                raise PyperformanceError(f"{self.json_path}: not a pyperf suite ({e}); {fix}") from None
            self.suite = suite

    def start(self) -> None:
        """On ``fresh``: the old files (and failure logs) moved aside as ``<name>.bak-<time>``, never deleted."""
        existing = [p for p in (self.json_path, self.status_path, self.dir / "logs" / self.variant.name)
                    if p.exists()]
        if not (self.fresh and existing):
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        while any(_backup(p, stamp).exists() for p in existing):
            stamp += "x"  # two --fresh within one second must not overwrite the older backup
        for p in existing:
            os.replace(p, _backup(p, stamp))

    def done(self, bench: str) -> bool:
        """Is ``bench`` measured ok (a failed one is retried by a rerun)?"""
        return self.status["benchmarks"].get(bench, {}).get("status") == "ok"

    def record(self, bench: str, status: str, error: str, seconds: float, result: dict | None, extra: dict,
               log: str = "") -> None:
        """Record one call: its result merged into the suite, its status, and the log of a failure."""
        try:
            self._write(bench, status, error, seconds, result, extra, log)
        except OSError as e:
            raise PyperformanceError(f"cannot write in {self.dir} ({e.strerror or e}); its files are intact and "
                                     "hold every call recorded before this one: free the space (or fix the "
                                     "directory) and run the same command again to resume") from None

    def _write(self, bench: str, status: str, error: str, seconds: float, result: dict | None, extra: dict,
               log: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.status["machine"] = self.machine
        if result is not None:
            self.suite = merge(self.suite, result, extra)
            write_json_atomic(self.json_path, self.suite)
        entry = {"status": status, "error": error, "seconds": round(seconds, 1)}
        if status != "ok" and log:
            path = self.dir / "logs" / self.variant.name / f"{bench}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, log)
            entry["log"] = str(path.relative_to(self.dir))
        self.status["benchmarks"][bench] = entry
        write_json_atomic(self.status_path, self.status)


def _backup(path: Path, stamp: str) -> Path:
    """``3.13.status.json`` -> ``3.13.bak-<stamp>.status.json``; a directory gets ``.bak-<stamp>`` appended."""
    if path.is_dir():
        return path.with_name(f"{path.name}.bak-{stamp}")
    stem = path.name.removesuffix(".status.json").removesuffix(".json")
    return path.with_name(f"{stem}.bak-{stamp}{path.name[len(stem):]}")


def ftbench_metadata(variant: variants.Variant, host: str, gil: str | None) -> dict:
    """ftbench's keys for every benchmark of a variant: who ran it, where, and the GIL state its workers saw."""
    meta: dict = {}
    metadata.put(meta, "variant", variant.name)
    metadata.put(meta, "role", variant.role)
    metadata.put(meta, "free_threaded", "yes" if variant.build.free_threaded else "no")
    metadata.put(meta, "flavour", variant.build.flavour)
    metadata.put(meta, "host", host)
    metadata.put(meta, "machine", fingerprint.machine()["id"])
    metadata.put(meta, "interpreter", interpreter_id(variant))
    if gil is not None:
        metadata.put(meta, "gil_enabled", gil)
    return meta


def run_one(cmd: list[str], python: str, bench: str, speed: str, env: dict, offline: bool,
            timeout: float = TIMEOUT) -> tuple[str, str, float, dict | None, str]:
    """One pyperformance call: (status, error line, seconds, pyperf JSON or None, output)."""
    with tempfile.TemporaryDirectory(prefix="ftbench-pyperformance-") as tmp:
        output = Path(tmp) / "result.json"
        start = time.monotonic()
        proc = subprocess.Popen(run_command(cmd, python, bench, output, speed, offline), cwd=work_dir(), env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            text, returncode = proc.communicate(timeout=timeout)[0], proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its venv pip and pyperf workers too
            text, returncode = proc.communicate()[0], None
        seconds = time.monotonic() - start
        result = json.loads(output.read_text()) if output.exists() else None
    status, error = classify(returncode, text, result is not None and bool(result.get("benchmarks")), timeout)
    return status, error, seconds, (result if status == "ok" else None), text


def run(names: list[str], benchmarks: str, speed: str = "fast", results: Path = Path("results"),
        host: str | None = None, cmd: list[str] | None = None, offline: bool = False, fresh: bool = False,
        table: dict | None = None, timeout: float = TIMEOUT, allow_gil: bool = False, log=print) -> dict[str, dict]:
    """Run the selection on every variant, interleaved; returns each variant's status table."""
    table = variants.registry() if table is None else table
    chosen = [variants.get(n, table) for n in dict.fromkeys(names)]  # a variant named twice runs once
    cmd = cmd or command()
    if not (math.isfinite(timeout) and timeout > 0):
        raise PyperformanceError(f"--timeout {timeout!r}: expected a finite number of seconds > 0")
    # the campaign's default label: beside its results, in a set of this machine and flavour
    if host is None:
        host = fingerprint.beside_published(str(results), fingerprint.default_label(chosen[0].build.flavour))
    if not fingerprint.is_host_label(host):
        raise PyperformanceError(f"--host {host!r}: expected a label of letters, digits, '.', '_' and '-' that "
                                 f"starts with a letter or digit (at most {fingerprint.MAX_HOST_LABEL} "
                                 "characters), e.g. --host lab-pc1")
    settings = {"pyperformance": PYPERFORMANCE_VERSION, "speed": speed}
    machine = fingerprint.machine()
    stores = {v.name: Store(results, host, v, settings, fresh, machine) for v in chosen}  # every check first
    for store in stores.values():
        store.start()
    work_dir().mkdir(parents=True, exist_ok=True)
    gil: dict[str, str] = {}
    base_env = dict(os.environ, **({"PIP_NO_INDEX": "1"} if offline else {}))
    todo = [(b, n) for b, n in plan(list_benchmarks(cmd, benchmarks), [v.name for v in chosen])
            if not stores[n].done(b)]
    started = time.monotonic()
    for i, (bench, name) in enumerate(todo, 1):
        variant, store = table[name], stores[name]
        python = str(interpreters.executable(variant.build.version, variant.build.free_threaded,
                                             variant.build.optimized))
        env = variant.apply_env(base_env)
        status, error, seconds, result, text = run_one(cmd, python, bench, speed, env, offline, timeout)
        if status == "ok" and name not in gil:  # once per variant: what does a worker of its venv see?
            named = merge(None, result, {})["benchmarks"][0]["metadata"].get("python_executable")
            gil[name] = gil_probe(named or venv_python_of(cmd, python), env)
        if status == "ok" and (gil[name] == "yes") != variant.gil_expected:
            status, error, result = "failed", f"GIL enabled={gil[name]} in a worker, expected the opposite", None
        reenabled = [line.strip() for line in text.splitlines() if GIL_REENABLED in line]
        if status == "ok" and reenabled and not variant.gil_expected and not allow_gil:
            status, error, result = "gil-reenabled", reenabled[0][:500], None  # not a free-threaded measurement
        store.record(bench, status, error, seconds, result, ftbench_metadata(variant, host, gil.get(name)), text)
        log(f"[{i}/{len(todo)}] {bench} on {name}: {status} in {seconds:.0f} s{': ' + error if error else ''}")
    log(f"{len(todo)} calls in {time.monotonic() - started:.0f} s")
    return {name: store.status for name, store in stores.items()}


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is a :class:`PyperformanceError` like every other bad input: one line, exit 2."""

    def error(self, message):
        """Raise instead of printing the usage block: main() says it in one line."""
        raise PyperformanceError(message)


def _variant_names(text: str | None, table: dict) -> list[str]:
    """``--variants``: comma-separated names, each once (default: every variant of the registry)."""
    if text is None:
        return list(table)
    names = [n.strip() for n in text.split(",")]
    if "" in names:
        raise PyperformanceError(f"--variants {text!r}: empty item; valid: {', '.join(table)}")
    return list(dict.fromkeys(names))


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.provision.pyperformance run|list``: exit 0, 1 if a benchmark failed, 2 on bad input."""
    try:
        return _main(argv)
    except PyperformanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    parser = _Parser(prog="python -m harness.provision.pyperformance", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    parsers = {action: sub.add_parser(action) for action in ("run", "list")}
    for p in parsers.values():
        p.add_argument("--benchmarks", default="default", help="pyperformance selection (names, groups, -name)")
        p.add_argument("--pyperformance", default=None, help=f"command starting pyperformance (or ${COMMAND_ENV})")
    p = parsers["run"]
    p.add_argument("--variants", default=None, help="comma-separated variant names (default: every variant)")
    p.add_argument("--speed", choices=SPEEDS, default="fast", help="pyperf's --fast, --rigorous, ... (default fast)")
    p.add_argument("--results", default="results", help="results directory (raw/<host>/pyperformance/ inside)")
    p.add_argument("--host", default=None,
                   help="host label of the results directory (default: the campaign's, <hostname>-<machine>[-opt])")
    p.add_argument("--offline", action="store_true", help="PIP_NO_INDEX=1: reuse venvs made by an online run")
    p.add_argument("--fresh", action="store_true", help="forget earlier results of these variants")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per benchmark x variant call (finite, > 0)")
    p.add_argument("--allow-gil", action="store_true", help="keep free-threaded results where an import re-enabled "
                   "the GIL (default: recorded as gil-reenabled, values left out)")
    args = parser.parse_args(argv)
    cmd = command(args.pyperformance)
    try:
        if args.action == "list":
            print("\n".join(list_benchmarks(cmd, args.benchmarks)))
            return 0
        table = variants.registry()
        statuses = run(_variant_names(args.variants, table), args.benchmarks, args.speed, Path(args.results),
                       args.host, cmd, args.offline, args.fresh, table, args.timeout, args.allow_gil)
    except variants.VariantError as exc:
        raise PyperformanceError(str(exc)) from None
    failed = {n: sorted(b for b, e in s["benchmarks"].items() if e["status"] != "ok") for n, s in statuses.items()}
    for name, benches in failed.items():
        if benches:
            print(f"{name}: {len(benches)} failed: {', '.join(benches)}", file=sys.stderr)
    return 1 if any(failed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
