"""Shared fixtures: a venv of ftbench's real 3.13t build, the runner on it, fake CPython tarballs.

The venv (``.nox/test-3.13t``, ignored by git) is made once from ``harness.provision.interpreters.ensure``,
which builds CPython when the cache has no valid build, and reused while it still works. Only the
slow tests use it; the fast ones run on the host Python.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FAULT_WORKLOADS = Path(__file__).parent / "fault_workloads"

# The venv is good when it runs on ftbench's build, imports this checkout's harness, has the
# pyperf hook registered and the versions pinned in pyproject's bench extra.
VENV_CHECK = """
import json, sys
from importlib import metadata
import harness, numpy, aiohttp, requests, pyperf
pins = json.loads(sys.argv[1])
print(json.dumps({
    "base_prefix": sys.base_prefix,
    "harness": harness.__file__,
    "hook": any(e.name == "ftbench" for e in metadata.entry_points(group="pyperf.hook")),
    "stale": sorted(d for d, v in pins.items() if metadata.version(d) != v),
}))
"""


def _bench_pins() -> dict[str, str]:
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["bench"]
    return dict(re.fullmatch(r"([\w.-]+)==([\w.]+)", req).groups() for req in extra if "==" in req)


def _venv_problem(python: Path, prefix: Path) -> str:
    """'' when the venv at ``python`` is usable, else what is wrong with it."""
    if not python.exists():
        return "absent"
    r = subprocess.run([str(python), "-c", VENV_CHECK, json.dumps(_bench_pins())],
                       capture_output=True, text=True, cwd="/")
    if r.returncode:
        return r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
    info = json.loads(r.stdout)
    if Path(info["base_prefix"]).resolve() != prefix.resolve():
        return f"runs on {info['base_prefix']}, not {prefix}"
    if not Path(info["harness"]).resolve().is_relative_to(REPO):
        return f"imports harness from {info['harness']}"
    if not info["hook"]:
        return "pyperf hook 'ftbench' not registered"
    return f"stale pins: {info['stale']}" if info["stale"] else ""


def bench_venv(build: str) -> Path:
    """The python of a venv of ftbench's own ``build`` ("3.13" or "3.13t") with ftbench[bench]."""
    from harness.provision import interpreters

    version = os.environ.get("FTBENCH_CPYTHON_VERSION", interpreters.DEFAULT_VERSION)
    free_threaded = build.endswith("t")
    venv = REPO / ".nox" / f"test-{build}"
    python = venv / "bin" / "python"
    with interpreters.locked(REPO / ".nox" / f"test-{build}.lock"):  # two pytest runs at once
        try:
            base = interpreters.ensure(version, free_threaded, log=lambda m: print(m, file=sys.stderr))
        except interpreters.ProvisionError as e:
            pytest.fail(f"cannot provide CPython {build}: {e}", pytrace=False)
        prefix = interpreters.prefix_for(version, free_threaded)
        if not _venv_problem(python, prefix):
            return python
        shutil.rmtree(venv, ignore_errors=True)
        for cmd in ([str(base), "-m", "venv", str(venv)],
                    [str(python), "-m", "pip", "install", "-q", "pip>=24.1"],
                    [str(python), "-m", "pip", "install", "-q", "--only-binary", "numpy", "-e",
                     f"{REPO}[bench]"]):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if r.returncode:
                pytest.fail(f"{' '.join(cmd)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}", pytrace=False)
        problem = _venv_problem(python, prefix)
        if problem:
            pytest.fail(f"fresh venv {venv} is not usable: {problem}", pytrace=False)
        return python


@pytest.fixture(scope="session")
def ft_python() -> Path:
    """python of .nox/test-3.13t: ftbench's 3.13t build with the pinned benchmark dependencies."""
    return bench_venv("3.13t")


class Bench:
    """``python -m harness.measure.bench`` on a real interpreter, into a private results dir.

    The fault workloads of tests/fault_workloads are visible (FTBENCH_WORKLOAD_PATH). The host
    label is unique: it names the results dir and appears on the command line of every process
    of the run (orchestrator, harness.measure.run, pyperf's workers, their pools), so ``processes()``
    finds exactly this test's processes.
    """

    def __init__(self, python: Path, root: Path, variant: str = "3.13t", host: str | None = None):
        self.python, self.variant = python, variant
        self.results = root / "results"
        self.host = host or f"ftbtest{uuid.uuid4().hex[:12]}"
        # TMPDIR: the runner's scratch dir stays in the test's tmp_path (a SIGKILLed runner cannot
        # remove it); the results lock is under the results directory, in tmp_path too
        (root / "tmp").mkdir(exist_ok=True)
        self.env = {**os.environ, "FTBENCH_WORKLOAD_PATH": str(FAULT_WORKLOADS), "TMPDIR": str(root / "tmp"),
                    "PYTHONFAULTHANDLER": "1"}
        self.env.pop("PYTHON_GIL", None)
        self.started: list[subprocess.Popen] = []

    @property
    def raw(self) -> Path:
        return self.results / "raw" / self.host

    def argv(self, *args: str) -> list[str]:
        return [str(self.python), "-m", "harness.measure.bench", "--variant", self.variant,
                "--results", str(self.results), "--host", self.host, *args]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env,
                              cwd=REPO, timeout=timeout)

    def start(self, *args: str) -> Running:
        proc = subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env, cwd=REPO)
        self.started.append(proc)
        return Running(proc)

    def processes(self) -> list[str]:
        """'pid command' of every live process of this run."""
        r = subprocess.run(["pgrep", "-af", self.host], capture_output=True, text=True)
        return [ln for ln in r.stdout.splitlines() if ln.strip()]

    def wait_no_processes(self, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while (left := self.processes()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.raw.iterdir())} if self.raw.exists() else {}

    def state(self) -> dict:
        return json.loads((self.raw / f"{self.variant}.state.json").read_text())

    def csv_rows(self) -> dict[str, dict]:
        import csv

        with open(self.raw / f"{self.variant}.csv", newline="") as f:
            return {row["name"]: row for row in csv.DictReader(f)}

    def suite(self):
        import pyperf

        return pyperf.BenchmarkSuite.load(str(self.raw / f"{self.variant}.json"))

    def cleanup(self) -> None:
        """Kill whatever a failed test left running: only this run's processes, one pid at a time."""
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for line in self.processes():
            try:
                os.kill(int(line.split()[0]), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


class Running:
    """A started orchestrator whose output lines are collected as they come."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(s, dest), daemon=True)
                         for s, dest in ((proc.stdout, self.out), (proc.stderr, self.err))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream, dest: list[str]) -> None:
        for line in stream:
            dest.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                raise AssertionError(f"runner exited ({self.proc.returncode}) before {what}:\n"
                                     + "\n".join(self.out + self.err))
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n" + "\n".join(self.out + self.err))
            time.sleep(0.02)

    def wait_line(self, pattern: str, timeout: float = 60.0) -> None:
        self.wait_for(lambda: any(re.search(pattern, ln) for ln in self.out), timeout, repr(pattern))

    def finish(self, timeout: float = 60.0) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # show where it hangs (PYTHONFAULTHANDLER is set)
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait(timeout=10)
            for t in self._readers:
                t.join(timeout=5)
            raise AssertionError(f"runner still running {timeout} s later:\n"
                                 + "\n".join(self.out + self.err)) from None
        for t in self._readers:
            t.join(timeout=5)
        return code


# What harness.measure.bench.PYTHON_CHECK prints, as fake pythons answer it (a shell script each).
FAKE_FT = '{"version": "3.13.5", "minor": "3.13", "free_threaded": true, "missing": []}'
FAKE_DEFAULT = '{"version": "3.13.5", "minor": "3.13", "free_threaded": false, "missing": []}'
FAKE_BARE = '{"version": "3.13.5", "minor": "3.13", "free_threaded": true, "missing": ["pyperf"]}'


def fake_python(directory: Path, name: str, reply: str, mode: int = 0o755) -> str:
    """A shell script in ``directory`` that answers every call with ``reply``: a --python to be checked."""
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{reply}'\n")
    path.chmod(mode)
    return str(path)


@pytest.fixture
def runner(ft_python, tmp_path):
    """The runner on the real 3.13t, into tmp_path/results, with the fault workloads."""
    b = Bench(ft_python, tmp_path)
    yield b
    b.cleanup()


# --- fake CPython source tarballs ---------------------------------------------------------------

# A stand-in for CPython's configure: it writes a Makefile whose `install` puts a fake python in the
# prefix; that python answers harness.provision.interpreters.verify's script with a canned JSON line. It lets
# the tests drive the real ensure() / _build() (tar, configure, make, make install, verify, stamp)
# in milliseconds. Switches (environment): FTFAKE_FAIL (configure fails), FTFAKE_HANG=FILE
# (configure leaves a half-built prefix, creates FILE and sleeps), FTFAKE_SLEEP=SECONDS, FTFAKE_LIE
# (the free-threaded build claims to have the GIL).
FAKE_CONFIGURE = r"""#!/bin/sh
src=$(cd "$(dirname "$0")" && pwd)
prefix=; ft=0; gil=true
for a in "$@"; do
  case "$a" in
    --prefix=*) prefix=${a#--prefix=} ;;
    --disable-gil) ft=1; gil=false ;;
  esac
done
name=python@MINOR@; [ $ft = 1 ] && name=${name}t
echo "fake configure $*"
if [ -n "$FTFAKE_FAIL" ]; then echo "configure: error: no acceptable C compiler (fake)"; exit 1; fi
if [ -n "$FTFAKE_HANG" ]; then
  mkdir -p "$prefix/bin"; echo half > "$prefix/bin/$name"; chmod +x "$prefix/bin/$name"
  : > "$FTFAKE_HANG"; sleep 60
fi
[ -n "$FTFAKE_SLEEP" ] && sleep "$FTFAKE_SLEEP"
[ -n "$FTFAKE_LIE" ] && { ft=0; gil=true; }
fmt='all:\n\t@echo fake build\ninstall:\n\tmkdir -p %s/bin\n'
fmt="$fmt"'\tsed -e s/@FT@/%s/ -e s/@GIL@/%s/ %s/fakepython > %s/bin/%s\n\tchmod +x %s/bin/%s\n'
printf "$fmt" "$prefix" "$ft" "$gil" "$src" "$prefix" "$name" "$prefix" "$name" > Makefile
"""
FAKE_PYTHON = """#!/bin/sh
echo '{"gil_disabled": @FT@, "gil_enabled": @GIL@, "version": "@VERSION@", "compiler": "fake cc 1.0", \
"imports": {"ssl": true, "zlib": true}, "prefix": "fake"}'
"""


def make_tarball(path: Path, members: dict[str, str | bytes], mode: str = "w:xz") -> Path:
    """A tarball at ``path`` holding ``members`` (name -> content), every file executable."""
    with tarfile.open(path, mode) as tar:
        for name, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def fake_cpython_members(version: str) -> dict[str, str]:
    minor = ".".join(version.split(".")[:2])
    return {f"Python-{version}/configure": FAKE_CONFIGURE.replace("@MINOR@", minor),
            f"Python-{version}/fakepython": FAKE_PYTHON.replace("@VERSION@", version),
            f"Python-{version}/README.rst": "This is a fake Python version 3 for ftbench's tests\n"}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """XDG_CACHE_HOME in tmp_path (the real ~/.cache/ftbench is never touched); ftbench's root in it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for var in ("FTBENCH_CPYTHON_SOURCE", "FTBENCH_CPYTHON_SHA256", "FTBENCH_CPYTHON_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "xdg" / "ftbench"


@pytest.fixture
def fake_source(tmp_path) -> Path:
    """A tarball of a fake CPython 3.13.99 (a version without a known sha256) that really builds."""
    return make_tarball(tmp_path / "Python-3.13.99.tar.xz", fake_cpython_members("3.13.99"))


@pytest.fixture
def no_header_checks(monkeypatch):
    """Skip the C compiler's header probes (the fake build needs none)."""
    from harness.provision import interpreters

    monkeypatch.setattr(interpreters, "REQUIRED_HEADERS", {})
    monkeypatch.setattr(interpreters, "OPTIONAL_HEADERS", {})
