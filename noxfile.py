"""ftbench sessions: build the interpreters, benchmark each variant, analyse, test.

Sessions only wire; the machinery is in harness/. ``3.13`` and ``3.13t`` resolve to ftbench's own
builds of one CPython source (harness.provision.interpreters), never to another Python on PATH.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from harness.provision import interpreters  # noqa: E402 - stdlib only, safe on the host Python

nox.needs_version = ">=2025.10.14"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint"]

VERSION = os.environ.get("FTBENCH_CPYTHON_VERSION", interpreters.DEFAULT_VERSION)
MINOR = interpreters.minor_of(VERSION)
BUILDS = {MINOR: False, f"{MINOR}t": True}  # nox's python name -> free-threaded?
# Our builds first on PATH, so nox's "3.13"/"3.13t" lookup finds them and not pyenv's or the system's.
os.environ["PATH"] = os.pathsep.join([*interpreters.bin_dirs(VERSION), os.environ.get("PATH", "")])
# The benchmark venvs: pinned wheels that exist for cp313t, the same versions on every variant.
BENCH_INSTALL = ["--only-binary", "numpy", "-e", ".[bench]"]


def _build_args(posargs: list[str]) -> list[str]:
    """The build options among the posargs (bench sessions pass theirs to their build too)."""
    out, it = [], iter(posargs)
    for arg in it:
        if arg == "--optimized" or arg.startswith("--source="):
            out.append(arg)
        elif arg == "--source":
            out += [arg, next(it, "")]
    return out


def _build(session: nox.Session, *variants: str) -> None:
    session.run(sys.executable, "-m", "harness.provision.interpreters", "build", *variants,
                f"--cpython-version={VERSION}", *_build_args(session.posargs), external=True)


@nox.session(name="build", python=False)
def build(session: nox.Session) -> None:
    """Build (or reuse) and verify both interpreters from one CPython source."""
    _build(session, *BUILDS)


for _name in BUILDS:
    @nox.session(name=f"build-{_name}", python=False)
    def _build_one(session: nox.Session, _name=_name) -> None:
        _build(session, _name)

    _build_one.__doc__ = f"Build (or reuse) and verify the CPython {_name} interpreter."


def _bench_venv(session: nox.Session, build_name: str) -> None:
    """Refuse any interpreter but ftbench's own build, then install the pinned benchmark deps."""
    base = Path(session.run("python", "-c", "import sys; print(sys.base_prefix)", silent=True).strip())
    expected = interpreters.prefix_for(VERSION, BUILDS[build_name])
    if base.resolve() != expected.resolve():
        session.error(f"{build_name} resolved to {base}, not ftbench's build {expected}")
    session.install("pip>=24.1")
    session.install(*BENCH_INSTALL)


def _bench(session: nox.Session, variant: str, build_name: str) -> None:
    _bench_venv(session, build_name)
    session.run("python", "-m", "harness.measure.bench", "--variant", variant, *session.posargs)


for _variant, _build_name in ((MINOR, MINOR), (f"{MINOR}t", f"{MINOR}t"), (f"{MINOR}t-gil", f"{MINOR}t")):
    @nox.session(name=f"bench-{_variant}", python=_build_name, requires=[f"build-{_build_name}"])
    def _bench_one(session: nox.Session, _variant=_variant, _build_name=_build_name) -> None:
        _bench(session, _variant, _build_name)

    _bench_one.__doc__ = f"Benchmark every workload on {_variant} (args after -- go to harness.measure.bench)."


@nox.session(name="bench", python=False, requires=[f"bench-{v}" for v in (MINOR, f"{MINOR}t", f"{MINOR}t-gil")])
def bench_all(session: nox.Session) -> None:
    """Benchmark all three variants (3.13, 3.13t, 3.13t with PYTHON_GIL=1)."""
    session.log("all three variants benchmarked; next: nox -s analysis")


@nox.session(python=list(BUILDS), requires=["build-{python}"])
def figures(session: nox.Session) -> None:
    """Print the issues' figures: harness overhead live on this interpreter, then those in results/raw."""
    _bench_venv(session, session.python)
    session.run("python", "-m", "harness.figures", "overhead")
    session.run("python", "-m", "harness.figures", "report", *session.posargs)


@nox.session
def analysis(session: nox.Session) -> None:
    """Regenerate results/*.csv, figures and REPORT.md, and execute analysis.ipynb in place."""
    session.install("-e", ".[analysis]")
    session.run("python", "-m", "harness.analysis", "--readme", "README.md", *session.posargs)
    session.run("jupytext", "--sync", "analysis.py")
    session.run("jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace", "analysis.ipynb")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (fast tests; add -m slow or -m '' for the end-to-end ones)."""
    session.install("-e", ".[bench,analysis,test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
