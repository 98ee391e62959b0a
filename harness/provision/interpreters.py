"""Provision the interpreters under test: each CPython version of the registry built twice from one source tarball.

The default build and the free-threaded build (``--disable-gil``) share the tarball, the compiler
and every configure argument but that one, so any difference the harness measures comes from the
GIL and the free-threaded build, not from a different release or flag set. Builds live in
``${XDG_CACHE_HOME:-~/.cache}/ftbench/cpython/<version>[t]/`` and are reused only while their stamp
(source sha256 + configure arguments) matches. Stdlib only: this runs on the host Python.

    python -m harness.provision.interpreters build NAME...   # variants or builds of harness.variants
    python -m harness.provision.interpreters path NAME...    # the verified executable
    python -m harness.provision.interpreters cache-key        # what a CI cache of the builds is keyed by

Which versions and variants exist is harness.variants' business (``FTBENCH_CPYTHON_VERSION``); this
module only knows how to fetch, configure, compile, install and verify a :class:`~harness.variants.Build`.
A build reports each stage and its elapsed time as it goes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

from harness import variants as registry
from harness.files import locked, write_json_atomic

DEFAULT_VERSION = registry.DEFAULT_VERSION
KNOWN_SHA256 = registry.KNOWN_SHA256  # the same dict: a test may add a version to it
PYTHON_ORG_URL = "https://www.python.org/ftp/python/{v}/Python-{v}.tar.xz"
PYTHON_ORG_TIMEOUT = 10.0  # seconds: fail fast when offline
DEBIAN_SUITES = ("trixie",)
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Headers the build needs for the modules verification imports, and the Debian package of each.
REQUIRED_HEADERS = {
    "openssl/ssl.h": "libssl-dev",
    "zlib.h": "zlib1g-dev",
    "ffi.h": "libffi-dev",
    "sqlite3.h": "libsqlite3-dev",
}
OPTIONAL_HEADERS = {
    "bzlib.h": "libbz2-dev",
    "lzma.h": "liblzma-dev",
    "readline/readline.h": "libreadline-dev",
    "ncurses.h": "libncurses-dev",
}
VERIFY_IMPORTS = ("ssl", "zlib", "ctypes", "sqlite3", "venv")
STAMP = ".ftbench-stamp.json"
PROVENANCE = "ftbench-provenance.json"


class ProvisionError(Exception):
    """A problem the user must fix; printed as one line, exit status 1."""


def minor_of(version: str) -> str:
    """The registry's minor_of, its error made a :class:`ProvisionError` (one line, exit 1)."""
    try:
        return registry.minor_of(version)
    except registry.VariantError as e:
        raise ProvisionError(str(e)) from None


def cache_root() -> Path:
    """Where builds and their sources are kept: ``$XDG_CACHE_HOME/ftbench`` (tests point it elsewhere)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "ftbench"


def prefix_for(version: str, free_threaded: bool, optimized: bool = False) -> Path:
    """One directory per version, GIL mode and flavour: a plain and an optimized build never share one."""
    return cache_root() / "cpython" / (version + ("t" if free_threaded else "") + ("-opt" if optimized else ""))


def executable(version: str, free_threaded: bool, optimized: bool = False) -> Path:
    """The python of a build (``python3.13`` or ``python3.13t`` in its prefix's bin)."""
    name = f"python{minor_of(version)}{'t' if free_threaded else ''}"
    return prefix_for(version, free_threaded, optimized) / "bin" / name


def bin_dirs(version: str | None = None) -> list[str]:
    """The bin directories of every build of the registry (or of ``version``), default first, for nox's PATH."""
    table = registry.registry(version) if version else registry.registry()
    return [str(prefix_for(b.version, b.free_threaded, b.optimized) / "bin") for b in registry.builds(table).values()]


def configure_args(prefix: Path, free_threaded: bool, optimized: bool) -> list[str]:
    """CPython's configure arguments of a build; the stamp records them, so changing them rebuilds."""
    args = [f"--prefix={prefix}", "--with-ensurepip=install"]
    if optimized:
        # CPython's own profile task (its test suite with --pgo): a timing-sensitive test of it can
        # fail on a loaded machine, which stops the build; build on a quiet one.
        args += ["--enable-optimizations", "--with-lto"]
    if free_threaded:
        args.append("--disable-gil")
    return args


# --- source -----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in blocks (a source tarball is tens of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_tarball(path: Path, version: str, expected_sha: str | None) -> str:
    """Refuse a tarball that is not this version's source, or whose checksum is wrong."""
    digest = sha256_of(path)
    if expected_sha and digest != expected_sha:
        raise ProvisionError(
            f"checksum mismatch for {path}: sha256 {digest}, expected {expected_sha} "
            f"for CPython {version}; refusing it (re-download or pass the right file)"
        )
    try:
        with tarfile.open(path, "r:*") as tar:
            names = tar.getnames()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ProvisionError(f"corrupt or truncated tarball {path}: {e}") from None
    if f"Python-{version}/configure" not in names:
        raise ProvisionError(f"{path} is not the CPython {version} source (no Python-{version}/configure)")
    return digest


def _download(url: str, dest: Path, timeout: float) -> None:
    # The socket timeout bounds the connect and every read, so an offline machine fails fast.
    with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
        shutil.copyfileobj(resp, out, 1 << 20)


def _from_python_org(version: str, work: Path) -> tuple[Path, str]:
    url = PYTHON_ORG_URL.format(v=version)
    dest = work / f"Python-{version}.tar.xz"
    _download(url, dest, PYTHON_ORG_TIMEOUT)
    return dest, url


def _from_debian(version: str, work: Path) -> tuple[Path, str]:
    """Fetch Debian's source package with a private apt configuration (the system's is untouched)."""
    if not shutil.which("apt-get") or not os.path.exists(DEBIAN_KEYRING):
        raise ProvisionError("apt-get or the Debian archive keyring is not available")
    minor = minor_of(version)
    errors = []
    for suite in DEBIAN_SUITES:
        apt = work / f"apt-{suite}"
        (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        (apt / "src").mkdir(exist_ok=True)
        sources = apt / "sources.list"
        sources.write_text(f"deb-src [signed-by={DEBIAN_KEYRING}] http://deb.debian.org/debian {suite} main\n")
        opts = [
            "-o", f"Dir::Etc::SourceList={sources}",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={apt / 'lists'}",
            "-o", f"Dir::Cache={apt / 'cache'}",
            "-o", "APT::Sandbox::User=root",
        ]
        for cmd in (["update"], ["source", "--download-only", f"python{minor}"]):
            r = subprocess.run(["apt-get", "-q", *opts, *cmd], cwd=apt / "src",
                               capture_output=True, text=True, timeout=300)
            if r.returncode:
                errors.append(f"{suite}: apt-get {cmd[0]} failed: {r.stderr.strip().splitlines()[-1:]}")
                break
        else:
            orig = apt / "src" / f"python{minor}_{version}.orig.tar.xz"
            if orig.exists():
                return orig, f"debian:{suite}:python{minor}"
            found = sorted(p.name for p in (apt / "src").glob("*.orig.tar.xz"))
            errors.append(f"{suite}: offers {found or 'nothing'}, not {version}")
    raise ProvisionError("; ".join(errors))


def expected_sha256(version: str) -> str | None:
    """The sha256 a version's tarball must have: the registry's, else FTBENCH_CPYTHON_SHA256."""
    return KNOWN_SHA256.get(version) or os.environ.get("FTBENCH_CPYTHON_SHA256")


def resolve_source(version: str, explicit: str | None = None) -> tuple[Path, str, str]:
    """Find a verified source tarball: (path, where it came from, sha256).

    Order: an explicit path or URL; the verified copy cached by an earlier run; python.org;
    Debian's source package. The cached copy means a warm run never touches the network.
    """
    expected = expected_sha256(version)
    explicit = explicit or os.environ.get("FTBENCH_CPYTHON_SOURCE")
    if explicit:
        if re.match(r"https?://", explicit):
            work = Path(tempfile.mkdtemp(prefix="ftbench-src-"))
            dest = work / f"Python-{version}.tar.xz"
            try:
                try:
                    _download(explicit, dest, PYTHON_ORG_TIMEOUT)
                except Exception as e:
                    raise ProvisionError(f"cannot download {explicit}: {e}") from None
                return _keep(dest, version, expected, explicit)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        path = Path(explicit).expanduser().resolve()
        if not path.is_file():
            raise ProvisionError(f"source tarball not found: {path}")
        return path, str(path), check_tarball(path, version, expected)

    cached = cache_root() / "sources" / f"Python-{version}.tar.xz"
    origin_file = cached.with_suffix(".origin")
    if cached.exists():
        origin = origin_file.read_text().strip() if origin_file.exists() else str(cached)
        # Listing a tarball decompresses it (seconds); a copy already listed is known by its sha256
        # (a fraction of that): the marker names the version and digest that passed, a changed file misses it.
        marker = cached.with_suffix(".verified")
        digest = sha256_of(cached)
        if (not expected or digest == expected) and marker.exists() and \
                marker.read_text().strip() == f"{version} {digest}":
            return cached, origin, digest
        try:
            digest = check_tarball(cached, version, expected)
            marker.write_text(f"{version} {digest}\n")
            return cached, origin, digest
        except ProvisionError as e:  # say how to get out: the cache is never rewritten behind one's back
            raise ProvisionError(f"{e}; this is the cached copy: delete {cached} to fetch it again") from None

    tried = []
    work = Path(tempfile.mkdtemp(prefix="ftbench-src-"))
    try:
        for fetch in (_from_python_org, _from_debian):
            try:
                path, origin = fetch(version, work)
            except Exception as e:  # noqa: BLE001 - every failure means "try the next way"
                tried.append(f"{fetch.__name__[6:]}: {str(e) or type(e).__name__}")
                continue
            if not expected:
                raise ProvisionError(
                    f"no known sha256 for CPython {version}; set FTBENCH_CPYTHON_SHA256 to check it"
                )
            return _keep(path, version, expected, origin)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    raise ProvisionError(
        f"no CPython {version} source found ({'; '.join(tried)}). Give one of: "
        f"--source PATH_OR_URL (or FTBENCH_CPYTHON_SOURCE) to a Python-{version}.tar.xz; "
        f"network access to python.org; or apt access to Debian's python{minor_of(version)} source package"
    )


def _keep(path: Path, version: str, expected: str | None, origin: str) -> tuple[Path, str, str]:
    """Verify a downloaded tarball, then move it atomically into the source cache."""
    digest = check_tarball(path, version, expected)
    dest = cache_root() / "sources" / f"Python-{version}.tar.xz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    shutil.copyfile(path, tmp)
    os.replace(tmp, dest)
    dest.with_suffix(".origin").write_text(origin + "\n")
    return dest, origin, digest


# --- build ------------------------------------------------------------------------------------


def missing_headers() -> tuple[list[str], list[str]]:
    """Headers the C compiler cannot find: (required as 'hdr (pkg)', optional likewise)."""
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc.split()[0]):
        raise ProvisionError(f"no C compiler ({cc}) found: install gcc (Debian: build-essential)")
    if not shutil.which("make"):
        raise ProvisionError("make not found: install make (Debian: build-essential)")

    def absent(table):
        out = []
        for header, pkg in table.items():
            r = subprocess.run([*cc.split(), "-E", "-x", "c", "-"], input=f"#include <{header}>\n",
                               capture_output=True, text=True)
            if r.returncode:
                out.append(f"{header} ({pkg})")
        return out

    return absent(REQUIRED_HEADERS), absent(OPTIONAL_HEADERS)


def read_stamp(prefix: Path) -> dict | None:
    """The stamp a finished build leaves in its prefix, or None (no build, or one killed half-way)."""
    try:
        return json.loads((prefix / STAMP).read_text())
    except (OSError, ValueError):
        return None


def stamp_matches(prefix: Path, source_sha: str, args: list[str]) -> bool:
    """Was the build in ``prefix`` finished from this source with these arguments? Only then is it reused."""
    stamp = read_stamp(prefix)
    return bool(stamp) and stamp.get("source_sha256") == source_sha and stamp.get("configure_args") == args


VERIFY_SCRIPT = """
import json, platform, sys, sysconfig
mods = {}
for name in VERIFY_IMPORTS:
    try:
        __import__(name); mods[name] = True
    except Exception as e:
        mods[name] = repr(e)
print(json.dumps({"gil_disabled": sysconfig.get_config_var("Py_GIL_DISABLED"),
                  "gil_enabled": sys._is_gil_enabled(), "version": platform.python_version(),
                  "compiler": platform.python_compiler(), "imports": mods,
                  "prefix": sys.prefix}))
""".replace("VERIFY_IMPORTS", repr(VERIFY_IMPORTS))


def verify(python: Path, version: str, free_threaded: bool) -> dict:
    """Check that a build is what it claims; raise ProvisionError naming what is wrong."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PYTHONHOME", "PYTHONPATH")}
    r = subprocess.run([str(python), "-I", "-c", VERIFY_SCRIPT], capture_output=True, text=True, env=env)
    if r.returncode:
        raise ProvisionError(f"{python} does not run: {r.stderr.strip()[-300:]}")
    info = json.loads(r.stdout)
    want = (1, False) if free_threaded else (0, True)
    got = (info["gil_disabled"] or 0, info["gil_enabled"])
    problems = []
    if info["version"] != version:
        problems.append(f"version {info['version']} != {version}")
    if got != want:
        problems.append(f"Py_GIL_DISABLED={got[0]}, _is_gil_enabled()={got[1]}; expected {want}")
    problems += [f"import {m} failed: {err}" for m, err in info["imports"].items() if err is not True]
    if problems:
        raise ProvisionError(f"build {python} rejected: {'; '.join(problems)}")
    return info


def _tail(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def ensure(version: str, free_threaded: bool, source: str | None = None, optimized: bool = False,
           jobs: int | None = None, log=print) -> Path:
    """Return the verified executable of this build, building it first when the cache can't serve."""
    minor_of(version)
    target = version + ("t" if free_threaded else "") + ("-opt" if optimized else "")
    prefix = prefix_for(version, free_threaded, optimized)
    args = configure_args(prefix, free_threaded, optimized)
    stages = Stages(target, log)
    cached_source = (cache_root() / "sources" / f"Python-{version}.tar.xz").exists()
    if not (source or os.environ.get("FTBENCH_CPYTHON_SOURCE") or cached_source):
        stages.begin("fetch")  # only when it may take time: a warm run says nothing
    src, origin, digest = resolve_source(version, source)
    stages.end()
    python = executable(version, free_threaded, optimized)
    if not (stamp_matches(prefix, digest, args) and python.exists()):
        # Checked before the lock: a missing build dependency leaves the cache as it was.
        required, optional = missing_headers()
        if required:
            raise ProvisionError(
                f"missing build dependencies: {', '.join(required)}; install them "
                f"(apt-get install {' '.join(h.split('(')[1].rstrip(')') for h in required)})"
            )
        if optional:
            log(f"{target}: warning: optional headers missing, some modules won't build: {', '.join(optional)}")
    with contextlib.ExitStack() as held:
        read_only = _lock_build(held, target, warm=stamp_matches(prefix, digest, args) and python.exists())
        if stamp_matches(prefix, digest, args) and python.exists():
            verify(python, version, free_threaded)
            log(f"{target}: reusing {prefix} (stamp matches source {digest[:12]} and configure args"
                f"{'; read-only cache, read without its lock' if read_only else ''})")
            return python
        started = time.monotonic()
        _build(src, version, prefix, args, jobs or os.cpu_count() or 1, target, log, stages)
        stages.begin("verify")
        info = verify(python, version, free_threaded)
        stages.end()
        write_json_atomic(prefix / PROVENANCE, {
            "version": version,
            "build": minor_of(version) + ("t" if free_threaded else ""),
            "free_threaded": free_threaded,
            "source_sha256": digest,
            "source_origin": origin,
            "configure_args": args,
            "optimized": optimized,
            "compiler": info["compiler"],
            "cc_version": _cc_version(),
            "build_date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - started, 1),
            "build_host": platform.node(),
        })
        # The stamp is written last: a build killed before this point is never reused.
        write_json_atomic(prefix / STAMP, {"source_sha256": digest, "configure_args": args,
                                           "version": version})
        log(f"{target}: built and verified in {time.monotonic() - started:.0f} s -> {python}")
        return python


def _lock_build(held: contextlib.ExitStack, target: str, warm: bool) -> bool:
    """Hold the build lock of ``target`` in ``held``; True when the cache is read-only and ``warm``.

    A read-only cache (a read-only mount, a CI cache restored without write access) cannot take the
    lock file: a finished build in it is still served, read and verified but never changed; a
    build it lacks cannot be made there, which is one line (:class:`ProvisionError`).
    """
    path = cache_root() / "locks" / f"{target}.lock"
    try:
        held.enter_context(locked(path))
    except OSError as e:
        if not warm:
            raise ProvisionError(f"cannot build {target}: the build cache {cache_root()} is not writable "
                                 f"({e.strerror or e} on {path}); make it writable or point XDG_CACHE_HOME "
                                 "elsewhere") from None
        return True
    return False


def cache_key(builds) -> str:
    """A key that changes exactly when a cached build would not be reused: for CI caches.

    The stamp of a build is its source sha256 plus its configure arguments (prefix, flavour and
    --disable-gil included); the key hashes both for every build, with the OS and architecture.
    """
    facts = []
    for b in builds:
        sha = expected_sha256(b.version) or f"unknown-{b.version}"
        facts.append([b.key, sha, configure_args(prefix_for(b.version, b.free_threaded, b.optimized),
                                                 b.free_threaded, b.optimized)])
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
    return f"ftbench-cpython-{platform.system().lower()}-{platform.machine().lower()}-{digest}"


def _cc_version() -> str:
    cc = os.environ.get("CC", "cc").split()
    r = subprocess.run([*cc, "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.returncode == 0 and r.stdout else "unknown"


class Stages:
    """Say each stage of a build and its elapsed time: fetch, configure, compile, install, verify."""

    HEARTBEAT = 30.0  # seconds between "still compiling" lines

    def __init__(self, target: str, log):
        self.target, self.log = target, log
        self.started = time.monotonic()
        self.stage, self.stage_started = "", self.started

    def begin(self, stage: str) -> None:
        """End the current stage and say that ``stage`` starts."""
        self.end()
        self.stage, self.stage_started = stage, time.monotonic()
        self.log(f"{self.target}: {stage}... (elapsed {self.elapsed():.0f} s)")

    def end(self) -> None:
        """Say how long the current stage took, if one is running."""
        if self.stage:
            self.log(f"{self.target}: {self.stage} done in {time.monotonic() - self.stage_started:.0f} s")
            self.stage = ""

    def elapsed(self) -> float:
        """Seconds since the build started."""
        return time.monotonic() - self.started

    def wait(self, proc: subprocess.Popen) -> int:
        """Wait for ``proc``, saying every HEARTBEAT seconds that the stage is still running."""
        while True:
            try:
                return proc.wait(timeout=self.HEARTBEAT)
            except subprocess.TimeoutExpired:
                self.log(f"{self.target}: {self.stage} still running "
                         f"({time.monotonic() - self.stage_started:.0f} s, elapsed {self.elapsed():.0f} s)")


def _build(src: Path, version: str, prefix: Path, args: list[str], jobs: int, target: str, log,
           stages: Stages | None = None) -> None:
    root = cache_root()
    workdir = root / "build" / target
    logfile = root / "logs" / f"{target}-build.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    for stale in (workdir, prefix):
        shutil.rmtree(stale, ignore_errors=True)
    workdir.mkdir(parents=True)
    stages = stages or Stages(target, log)
    log(f"{target}: building CPython {version} (log: {logfile})")
    with open(logfile, "w") as out:
        def step(stage, cmd, cwd):
            if stage:
                stages.begin(stage)
            out.write(f"\n$ {' '.join(map(str, cmd))}\n")
            out.flush()
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
            if stages.wait(proc):
                raise ProvisionError(
                    f"{target}: `{' '.join(map(str, cmd[:2]))}` failed; last lines of {logfile}:\n"
                    f"{_tail(logfile)}\nfull log: {logfile}"
                )

        step("", ["tar", "-xf", str(src), "-C", str(workdir)], workdir)
        source_dir = workdir / f"Python-{version}"
        objdir = workdir / "obj"  # out of tree: the extracted source stays pristine
        objdir.mkdir()
        step("configure", [str(source_dir / "configure"), *args], objdir)
        step("compile", ["make", f"-j{jobs}"], objdir)
        step("install", ["make", "install"], objdir)
    stages.end()
    shutil.rmtree(workdir, ignore_errors=True)


def provenance(version: str, free_threaded: bool, optimized: bool = False) -> dict:
    """What a build was made from and how (written beside the install; every benchmark run records it)."""
    try:
        return json.loads((prefix_for(version, free_threaded, optimized) / PROVENANCE).read_text())
    except (OSError, ValueError):
        return {}


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.provision.interpreters build|path|...``: exit 0, or 1 with one line."""
    parser = argparse.ArgumentParser(prog="python -m harness.provision.interpreters",
                                     description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("build", "build (or reuse) and verify"), ("path", "print the executable"),
                           ("cache-key", "print a key of the builds' sources and configure arguments")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("variants", nargs="*" if name == "cache-key" else "+",
                       help="variant or build names of harness.variants" + (" (default: all)" if name == "cache-key"
                                                                           else ""))
        p.add_argument("--cpython-version", default=None,
                       help=f"X.Y.Z[,X.Y.Z...] (default: ${registry.VERSION_ENV}, else {DEFAULT_VERSION})")
        p.add_argument("--source", help="path or URL of Python-X.Y.Z.tar.xz (or FTBENCH_CPYTHON_SOURCE)")
        p.add_argument("--optimized", action="store_true",
                       help=f"PGO + LTO for both builds (default: ${registry.FLAVOUR_ENV}, else plain)")
    args = parser.parse_args(argv)
    try:
        try:
            table = registry.registry(args.cpython_version, "optimized" if args.optimized else None)
            chosen = [registry.get(v, table) for v in args.variants or table]
        except registry.VariantError as e:
            raise ProvisionError(str(e)) from None
        builds = list(dict.fromkeys(v.build for v in chosen))  # X.Yt and X.Yt-gil are one build
        if args.command == "cache-key":
            print(cache_key(builds))
            return 0
        if args.command == "path":
            for b in builds:
                python = executable(b.version, b.free_threaded, b.optimized)
                if not python.exists():
                    raise ProvisionError(f"{b.name} is not built yet: run `nox -s build-{b.name}`")
                print(python)
            return 0
        started = time.monotonic()
        for b in builds:
            t0 = time.monotonic()
            ensure(b.version, b.free_threaded, args.source, b.optimized)
            print(f"figure: {b.key} ready in {time.monotonic() - t0:.2f} s", flush=True)
        print(f"figure: harness time for {', '.join(args.variants)}: {time.monotonic() - started:.2f} s")
        return 0
    except ProvisionError as e:
        print(f"ftbench: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
