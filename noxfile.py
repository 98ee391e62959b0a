"""ftbench sessions: build the interpreters, benchmark the variants, analyse, test.

Sessions only wire; the machinery is in harness/. Every interpreter name comes from the variant
registry (harness.variants, driven by FTBENCH_CPYTHON_VERSION and FTBENCH_FLAVOUR; the optimized
flavour's build and venv sessions end in -opt): a build's name resolves to
ftbench's own build of one CPython source (harness.provision.interpreters), never to another
Python on PATH. ``bench`` is ONE interleaved campaign over every variant; ``bench-<variant>``
measures one variant alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import nox
import nox.command  # CommandFailed: the exit status of a session's command

sys.path.insert(0, str(Path(__file__).parent))
from harness import variants  # noqa: E402 - stdlib only, safe on the host Python
from harness.provision import interpreters  # noqa: E402
from harness.provision import pyperformance as pyperformance_lens  # noqa: E402 - stdlib only

nox.needs_version = ">=2025.10.14"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint"]

PYPROJECT = nox.project.load_toml(Path(__file__).parent / "pyproject.toml")
REGISTRY = variants.registry()  # name -> Variant, from FTBENCH_CPYTHON_VERSION and FTBENCH_FLAVOUR
BUILDS = {b.session: b for b in variants.builds(REGISTRY).values()}  # "3.13" or "3.13-opt" -> Build
# Our builds first on PATH, so nox's lookup of a build's name finds them and not pyenv's or the system's.
os.environ["PATH"] = os.pathsep.join([*interpreters.bin_dirs(), os.environ.get("PATH", "")])
# The benchmark venvs: the pinned bench extra, whose versions all have wheels for the free-threaded build,
# so every build runs the same code. numpy only as a wheel: a missing wheel should fail the venv, not
# start a long source build against whatever BLAS the machine has.
BENCH_INSTALL = ["--only-binary", "numpy", "-e", ".[bench]"]
# Where each build's benchmark venv is (nox has no venv_location parameter): written by venv-<build>.
VENVS = Path(__file__).parent / ".nox" / "ftbench-venvs.json"


def _build_args(posargs: list[str]) -> list[str]:
    """The build options among the posargs (bench sessions pass theirs to their build too)."""
    out, it = [], iter(posargs)
    for arg in it:
        if arg == "--optimized" or arg.startswith("--source="):
            out.append(arg)
        elif arg == "--source":
            out += [arg, next(it, "")]
    return out


def _build(session: nox.Session, *names: str) -> None:
    versions = ",".join(dict.fromkeys(BUILDS[n].version for n in names))
    session.run(sys.executable, "-m", "harness.provision.interpreters", "build", *(BUILDS[n].name for n in names),
                f"--cpython-version={versions}", *_build_args(session.posargs), external=True)


@nox.session(name="build", python=False)
def build(session: nox.Session) -> None:
    """Build (or reuse) and verify every interpreter of the registry from one CPython source each."""
    _build(session, *BUILDS)


def _venv(session: nox.Session, build_name: str) -> None:
    """Refuse any interpreter but ftbench's own build, install the pinned benchmark deps, record the venv."""
    spec = BUILDS[build_name]
    if "--optimized" in session.posargs and not spec.optimized:
        session.error("--optimized builds the optimized flavour only; to measure it, set FTBENCH_FLAVOUR=optimized")
    base = Path(session.run("python", "-c", "import sys; print(sys.base_prefix)", silent=True).strip())
    expected = interpreters.prefix_for(spec.version, spec.free_threaded, spec.optimized)
    if base.resolve() != expected.resolve():
        session.error(f"{build_name} resolved to {base}, not ftbench's build {expected}")
    session.install("pip>=24.1")
    session.install(*BENCH_INSTALL)
    VENVS.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(VENVS.read_text()) if VENVS.exists() else {}
    known[build_name] = str(Path(session.virtualenv.location) / "bin" / "python")
    from harness.files import write_json_atomic

    write_json_atomic(VENVS, known)


for _name in BUILDS:
    @nox.session(name=f"build-{_name}", python=False)
    def _build_one(session: nox.Session, _name=_name) -> None:
        _build(session, _name)

    _build_one.__doc__ = f"Build (or reuse) and verify the CPython {_name} interpreter ({BUILDS[_name].flavour})."

    @nox.session(name=f"venv-{_name}", python=BUILDS[_name].name, requires=[f"build-{_name}"])
    def _venv_one(session: nox.Session, _name=_name) -> None:
        _venv(session, _name)

    _venv_one.__doc__ = f"Make (or reuse) the benchmark venv of the {_name} build."


def _python_of(session: nox.Session, variant: str) -> str:
    build = REGISTRY[variant].build.session
    python = json.loads(VENVS.read_text()).get(build) if VENVS.exists() else None
    if not python or not Path(python).exists():
        session.error(f"no benchmark venv for {variant}: run nox -s venv-{build}")
    return python


def _absolute(session: nox.Session, args: list[str], options: tuple[str, ...]) -> list[str]:
    """``args`` with the paths of ``options`` made absolute from where nox was run (it runs sessions
    in the noxfile's directory): ``--workload-path my.py`` means the file the user sees."""
    out, it = [], iter(args)
    for arg in it:
        name, eq, value = arg.partition("=")
        if name in options and eq:
            arg = f"{name}={os.path.join(session.invoked_from, value)}"
        elif arg in options:
            out.append(arg)
            arg = os.path.join(session.invoked_from, next(it, ""))
        out.append(arg)
    return out


def _option(args: list[str], name: str, default: str) -> str:
    """The value of ``name`` among ``args`` (``--name VALUE`` or ``--name=VALUE``; the last one wins)."""
    value, it = default, iter(args)
    for arg in it:
        if arg == name:
            value = next(it, value)
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def _bench(session: nox.Session, names: list[str]) -> None:
    """One campaign over ``names``: the orchestrator runs in the first variant's venv. It ends with the
    findings of what it measured (the ``findings`` session, after this one), also when some benchmarks
    failed (exit status 1); bad input (2) and an interrupt end it without them."""
    pythons = {v: _python_of(session, v) for v in names}
    if len(names) == 1:
        args = ["--variant", names[0]]  # the orchestrator's own python is the variant's
    else:
        args = ["--variants", ",".join(names), *[f"--python={v}={p}" for v, p in pythons.items()]]
    started = int(time.time())
    findings = ["--raw", os.path.join(_option(session.posargs, "--results", "results"), "raw"), "--since", str(started)]
    try:
        session.run(pythons[names[0]], "-m", "harness.measure.bench", *args,
                    *_absolute(session, session.posargs, ("--workload-path",)), external=True)
    except nox.command.CommandFailed as failed:
        if failed.return_code != 1:
            raise
        session.notify("findings", findings)
        session.error("some benchmarks produced no time (listed above); the findings of the others follow")
    session.notify("findings", findings)


for _variant, _spec in REGISTRY.items():
    @nox.session(name=f"bench-{_variant}", python=False, requires=[f"venv-{_spec.build.session}"])
    def _bench_one(session: nox.Session, _variant=_variant) -> None:
        _bench(session, [_variant])

    _bench_one.__doc__ = f"Benchmark every workload on {_variant} alone (args after -- go to harness.measure.bench)."


@nox.session(name="bench", python=False, requires=[f"venv-{b}" for b in BUILDS])
def bench_all(session: nox.Session) -> None:
    """One interleaved campaign over every variant of the registry (args after -- go to harness.measure.bench)."""
    _bench(session, list(REGISTRY))
    session.log("next: nox -s analysis")


@nox.session(name="why", python=False, requires=[f"venv-{b}" for b in BUILDS], default=False)
def why(session: nox.Session) -> None:
    """Where the extra CPU of N workers goes, by perf profiles (args after -- go to harness.profile)."""
    import subprocess

    pythons = [f"--python={v}={_python_of(session, v)}" for v in REGISTRY]
    # On the host Python, where perf runs; exit status 2 (bad input, perf missing) is passed on as is.
    status = subprocess.call([sys.executable, "-m", "harness.profile", *session.posargs, *pythons])
    if status == 2:
        sys.exit(2)
    if status:
        session.error(f"harness.profile exited with status {status}")


BASELINE = next(v for v, spec in REGISTRY.items() if spec.role == "baseline")


@nox.session(name="new-workload", python=False, requires=[f"venv-{REGISTRY[BASELINE].build.session}"])
def new_workload(session: nox.Session) -> None:
    """Your own workload file, sized on this machine: -- NAME [--dir DIR]; after editing it: -- --calibrate FILE."""
    args = _absolute(session, session.posargs, ("--dir", "--calibrate"))
    if not any(a == "--dir" or a.startswith("--dir=") or a.startswith("--calibrate") for a in args):
        args += ["--dir", session.invoked_from]  # beside the user, not in the noxfile's directory
    session.run(_python_of(session, BASELINE), "-m", "harness.measure.scaffold", *args, external=True)


PYPERFORMANCE = f"pyperformance=={pyperformance_lens.PYPERFORMANCE_VERSION}"


def _pyperformance(session: nox.Session, *names: str) -> None:
    # A tool venv on the host Python: pyperformance then makes its own venv per build under
    # ~/.cache/ftbench/pyperformance (benchmark requirements from the package index on first use).
    session.install(PYPERFORMANCE)
    session.run("python", "-m", "harness.provision.pyperformance", "run", "--variants", ",".join(names),
                *session.posargs)


for _variant, _spec in REGISTRY.items():
    @nox.session(name=f"pyperformance-{_variant}", requires=[f"build-{_spec.build.session}"], default=False)
    def _pyperformance_one(session: nox.Session, _name=_variant) -> None:
        _pyperformance(session, _name)

    _pyperformance_one.__doc__ = (f"pyperformance's default set on {_variant} "
                                  "(args after -- go to harness.provision.pyperformance run).")


@nox.session(name="pyperformance", requires=[f"build-{b}" for b in BUILDS], default=False)
def pyperformance_all(session: nox.Session) -> None:
    """pyperformance's default set on every variant, interleaved benchmark by benchmark."""
    _pyperformance(session, *REGISTRY)


@nox.session
def analysis(session: nox.Session) -> None:
    """Regenerate results/*.csv, figures and REPORT.md, and execute analysis.ipynb in place."""
    session.install("-e", ".[analysis]")
    session.run("python", "-m", "harness.analysis", "--readme", "README.md", *session.posargs)
    session.run("jupytext", "--sync", "analysis.py")
    session.run("jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace", "analysis.ipynb")


def _install_analysis(session: nox.Session) -> None:
    """The analysis extra, installed once per pyproject.toml: a bench run's findings should not wait for pip."""
    location = getattr(session.virtualenv, "location", None)
    if not location:  # --no-venv: nothing to remember the install in
        session.install("-e", ".[analysis]")
        return
    stamp = Path(location) / "ftbench-installed"
    wanted = hashlib.sha256((Path(__file__).parent / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    session.install("-e", ".[analysis]")
    stamp.write_text(wanted)


@nox.session(default=False)
def findings(session: nox.Session) -> None:
    """The verdict sentences of a results set, writing nothing; bench sessions end with it (-- --raw DIR)."""
    _install_analysis(session)
    session.run("python", "-m", "harness.analysis", "findings", *session.posargs)


@nox.session
def reproduce(session: nox.Session) -> None:
    """Compare the verdicts of two result sets of one machine: nox -s reproduce -- SET_A SET_B."""
    session.install("-e", ".[analysis]")
    session.run("python", "-m", "harness.analysis", "reproduce", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (fast tests; add -m slow or -m '' for the end-to-end ones)."""
    session.install("-e", ".[bench,analysis]", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style with ruff; check the workflows against GitHub's schema and audit them (offline)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    if workflows:
        session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
        session.run("zizmor", "--offline", ".github/workflows/")
