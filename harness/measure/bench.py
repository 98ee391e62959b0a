"""The campaign's command line: discover -> check the input -> plan -> harness.measure.campaign.run.

Runs inside a benchmark venv (``nox -s bench`` for every variant in one interleaved campaign,
``nox -s bench-<variant>`` for one variant alone; the variant names come from harness.variants)::

    python -m harness.measure.bench (--variant NAME | --variants NAME,NAME,...)
        [--python VARIANT=PATH ...] [--quick | --rigorous] [--workloads a,b]
        [--strategies threads,processes] [--workers 1,2,4] [--scaling strong|weak]
        [--timeout 600] [--results DIR] [--host LABEL] [--fresh]
        [--workload-path FILE_OR_DIR ...] [--allow-source-builds]

Every variant runs on the python of its own benchmark venv: ``--python VARIANT=PATH``, or, for a
variant whose build is the running interpreter's, this interpreter. Bad input is named in one line
(exit 2) before anything is measured or written; the checked input becomes one frozen
:class:`~harness.measure.config.Campaign`.

``--workload-path`` adds the user's own workload files (a file, or every file of a directory)
to the built-in ones, found and checked the same way; a file that cannot be used is named in one
line (exit 2). Without ``--workloads`` the campaign then measures those files' workloads alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import variants
from harness.measure import probe, strategies, worker
from harness.measure.campaign import run
from harness.measure.config import PRECISION, PROFILES, SCALINGS, Campaign
from harness.measure.planned import Planned
from harness.measure.server import MAX_LATENCY, parse_latency
from harness.measure.workload import ALL_STRATEGIES, SIZES, discover
from harness.provision import fingerprint, requirements

DEFAULT_TIMEOUT = 600.0  # seconds per pyperf process group: far above any default benchmark's, it only ends hangs
# Worker counts a benchmark may ask for: max(MIN_WORKER_CAP, WORKERS_PER_CORE x cores). The default
# sweeps stay below it (cpu: up to 2 x cores, io: up to 64); above it a typo (--workers 300 for 30)
# would start hundreds of processes, so it is refused rather than warned about.
MIN_WORKER_CAP = 256
WORKERS_PER_CORE = 4
# An explicit --workers above WORKERS_PER_CORE x cores for the `processes` strategy is allowed but
# named in one warning line: the timings then measure the scheduler as much as the workload.
HOST_LABEL = fingerprint.HOST_LABEL
MAX_HOST_LABEL = fingerprint.MAX_HOST_LABEL
PYTHON_CHECK_TIMEOUT = 60.0  # seconds for a --python to say what it is
# What a --python is asked once: its version, its GIL mode, and whether a benchmark can run on it.
PYTHON_CHECK = """
import importlib.util, json, os, platform, sys, sysconfig
try:
    with open(os.path.join(sys.base_prefix, "ftbench-provenance.json")) as f:
        optimized = bool(json.load(f).get("optimized"))
except (OSError, ValueError):
    optimized = None
print(json.dumps({"version": platform.python_version(), "minor": "%d.%d" % sys.version_info[:2],
                  "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")), "optimized": optimized,
                  "missing": [m for m in ("pyperf", "harness") if importlib.util.find_spec(m) is None]}))
"""


class UsageError(Exception):
    """Bad command-line input: one line, exit status 2, no file touched."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is a :class:`UsageError` like every other bad input: one line, exit 2."""

    def error(self, message):
        """Raise instead of printing the usage block and exiting: main() says it in one line."""
        raise UsageError(message)


def parse_args(argv):
    """The checked command line: every bad value named in one line (:class:`UsageError`) before anything runs."""
    p = Parser(prog="python -m harness.measure.bench", description=__doc__.split("\n")[0])
    try:
        known = ", ".join(variants.registry())
    except variants.VariantError as e:  # FTBENCH_CPYTHON_VERSION names no known version
        raise UsageError(str(e)) from None
    p.add_argument("--variant", help=f"one variant, one of {known}")
    p.add_argument("--variants", help=f"comma-separated variants measured in one campaign, from {known}")
    p.add_argument("--python", action="append", default=[], metavar="VARIANT=PATH",
                   help="the python of VARIANT's benchmark venv (repeatable; default for a variant of the "
                        "running interpreter's build: this interpreter; one for a variant not in the campaign "
                        "is not used)")
    p.add_argument("--profile", default=None, help=f"one of {', '.join(PROFILES)} (default: default)")
    p.add_argument("--quick", action="store_const", dest="profile_flag", const="quick")
    p.add_argument("--rigorous", action="store_const", dest="profile_flag", const="rigorous")
    p.add_argument("--size", help=f"task size, one of {', '.join(SIZES)} (default: the profile's)")
    p.add_argument("--scaling", default="strong", help=f"one of {', '.join(SCALINGS)} (default: strong)")
    p.add_argument("--workloads", help="comma-separated workload names (default: the default suite)")
    p.add_argument("--strategies", help=f"comma-separated, from {', '.join(ALL_STRATEGIES)}")
    p.add_argument("--workers", help=f"comma-separated worker counts >= 1 (default: each workload's sweep); at most "
                                     f"max({MIN_WORKER_CAP}, {WORKERS_PER_CORE} x cores); processes above "
                                     f"{WORKERS_PER_CORE} x cores are run with a warning")
    p.add_argument("--results", default="results", help="results directory (default: results)")
    p.add_argument("--host", default=None,
                   help=f"host label of the results directory: letters, digits, '.', '_', '-', not starting with "
                        f"'.', '_' or '-', at most {MAX_HOST_LABEL} characters (default: the hostname, sanitised)")
    p.add_argument("--timeout", default=str(DEFAULT_TIMEOUT), help="seconds per benchmark (finite, > 0)")
    p.add_argument("--latency", default="0.02:0.05",
                   help=f"server latency range in seconds, LO:HI with 0 <= LO <= HI <= {MAX_LATENCY:g}")
    p.add_argument("--fresh", action="store_true", help="start over (old raw files kept as .bak)")
    p.add_argument("--allow-gil", action="store_true",
                   help="accept runs where a free-threaded variant re-enabled the GIL")
    p.add_argument("--native-accelerators", action="store_true",
                   help="let aiohttp/yarl/multidict use their C extensions where installed")
    p.add_argument("--option", action="append", default=[], help="KEY=VALUE passed to workloads")
    p.add_argument("--workload-path", action="append", default=[], metavar="FILE_OR_DIR",
                   help="your own workload file, or a directory of them (repeatable); without --workloads, "
                        "only their workloads are measured")
    p.add_argument("--allow-source-builds", action="store_true",
                   help="let pip build a workload's requirements from source (default: binary wheels only)")
    p.add_argument("--source", help="(for the build session: the CPython source tarball)")
    p.add_argument("--optimized", action="store_true",
                   help="(for the build session: PGO + LTO; a campaign's flavour is FTBENCH_FLAVOUR)")
    args = p.parse_args(argv)
    if args.profile and args.profile_flag and args.profile != args.profile_flag:
        raise UsageError(f"--profile {args.profile} contradicts --{args.profile_flag}")
    args.profile = args.profile or args.profile_flag or "default"
    args.variant_names = _variants(args)
    args.variant_specs = [variants.get(n) for n in args.variant_names]
    if args.optimized and not args.variant_specs[0].build.optimized:
        raise UsageError("--optimized only selects the build; to measure the optimized builds set "
                         "FTBENCH_FLAVOUR=optimized")
    args.python_paths = _pythons(args.python)
    _choice("profile", args.profile, PROFILES)
    args.size = args.size or args.profile
    _choice("size", args.size, SIZES)
    _choice("scaling", args.scaling, SCALINGS)
    args.timeout = _float("timeout", args.timeout, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
    try:
        args.latency = parse_latency(args.latency)
    except ValueError as e:
        raise UsageError(f"--{e}") from None
    if not args.results.strip():
        raise UsageError(f"--results {args.results!r}: empty; give a directory, e.g. --results results")
    if args.host is None:  # a published run of this machine is read by the analysis, never resumed
        args.host = fingerprint.beside_published(args.results, host_label(None, args.profile,
                                                                          args.variant_specs[0].build.flavour))
    args.host = host_label(args.host)
    options = {}
    for option in args.option:
        key, eq, value = option.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--option {option!r}: expected KEY=VALUE")
        if options.get(key, value) != value:
            raise UsageError(f"--option {key}: given twice ({options[key]!r} and {value!r}); give it once")
        options[key] = value
    args.options = tuple(options.items())
    args.workload_path = list(dict.fromkeys(os.path.abspath(path) for path in args.workload_path))
    return args


def _variants(args) -> list[str]:
    """The campaign's variant names: --variant or --variants, checked, duplicates dropped."""
    known = list(variants.registry())
    if args.variant is not None and args.variants is not None:
        raise UsageError(f"give --variant or --variants, not both; valid: {', '.join(known)}")
    if args.variant is None and args.variants is None:
        raise UsageError(f"the following arguments are required: --variant or --variants; valid: {', '.join(known)}")
    if args.variant is not None:
        _choice("variant", args.variant, known)
        return [args.variant]
    return _list(args.variants, "variants", known, "variant")


def _pythons(items: list[str]) -> dict[str, str]:
    """--python VARIANT=PATH, repeatable: variant -> path (the paths are checked by resolve_pythons)."""
    known = list(variants.registry())
    out: dict[str, str] = {}
    for item in items:
        name, eq, path = item.partition("=")
        if not eq or not path:
            raise UsageError(f"--python {item!r}: expected VARIANT=PATH, e.g. {known[-1]}=/path/to/venv/bin/python")
        _choice("variant", name, known)
        if out.get(name, path) != path:
            raise UsageError(f"--python {name}: given twice ({out[name]} and {path}); give it once")
        out[name] = path
    return out


def host_label(text: str | None, profile: str = "default", flavour: str = "plain") -> str:
    """The checked host label (a directory under results/raw/), or the default one.

    The default is the sanitised hostname plus a short machine fingerprint (plus the profile unless
    it is the default): a fresh clone measures into its own results set on any machine, even one
    whose hostname is the published run's label, and a --quick smoke run never meets a default run.
    The optimized flavour adds ``-opt``: its results never join a plain build's.
    """
    if text is None:  # the hostname, made a label: other characters become '_', a bad start is dropped
        return fingerprint.default_label(flavour, "" if profile == "default" else f"-{profile}")
    if not fingerprint.is_host_label(text):
        raise UsageError(f"--host {text!r}: expected a label of letters, digits, '.', '_' and '-' that starts "
                         f"with a letter or digit (at most {MAX_HOST_LABEL} characters), e.g. --host lab-pc1")
    return text


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


def _list(text, what, valid=None, singular=None):
    """Comma-separated items, stripped, checked against ``valid``; duplicates dropped, order kept."""
    items = [x.strip() for x in text.split(",")]
    if not text.strip() or "" in items:
        raise UsageError(f"--{what} {text!r}: empty item; valid: {', '.join(valid or ['integers >= 1'])}")
    if valid is not None:
        for x in items:
            _choice(singular or what, x, valid)
    return list(dict.fromkeys(items))


def worker_cap(cores: int) -> int:
    """The most workers a benchmark may ask for on ``cores`` cores (above it, a typo starts hundreds of processes)."""
    return max(MIN_WORKER_CAP, WORKERS_PER_CORE * cores)


def plan(args, workloads: dict, cores: int) -> list[Planned]:
    """The benchmarks to measure, in order: chosen workloads x applicable strategies x worker counts.

    Each strategy a workload cannot run here is left out (:func:`not_applicable` says why); an
    explicit ``--workers`` replaces every sweep but sequential's single worker.
    """
    # `is not None`: an empty --workers "" is bad input, not "no filter"
    names = chosen_workloads(args, workloads)
    chosen = None
    if args.strategies is not None:
        chosen = _list(args.strategies, "strategies", ALL_STRATEGIES, "strategy")
    workers = None
    if args.workers is not None:
        items = _list(args.workers, "workers")
        if not all(re.fullmatch(r"[0-9]+", x) and int(x) >= 1 for x in items):
            raise UsageError(f"--workers {args.workers!r}: expected integers >= 1, e.g. 1,2,4")
        workers = sorted({int(x) for x in items})
        if workers[-1] > worker_cap(cores):
            raise UsageError(f"--workers {args.workers!r}: at most {worker_cap(cores)} workers per benchmark on "
                             f"this {cores}-core machine (max({MIN_WORKER_CAP}, {WORKERS_PER_CORE} x cores))")
    out = []
    for name in names:
        w = workloads[name]
        for s in ALL_STRATEGIES:
            if s not in w.strategies or (chosen and s not in chosen):
                continue
            if strategies.not_applicable_reason(w, s):  # listed by not_applicable(), never planned
                continue
            sweep = w.workers_for(s, cores)
            if workers:
                sweep = (1,) if sweep == (1,) else tuple(workers)
            out.extend(Planned(w, s, n) for n in sweep)
    if not out:
        raise UsageError("the filters leave no benchmark to run")
    return out


def chosen_workloads(args, workloads: dict) -> list[str]:
    """The workloads a campaign measures: --workloads, else those of --workload-path, else the default suite."""
    if args.workloads is not None:
        return workload_names(args.workloads, workloads)
    if getattr(args, "workload_path", None):
        return list(getattr(workloads, "given", ()))
    return [n for n, w in workloads.items() if w.in_default_suite]


def workload_names(text: str, workloads: dict) -> list[str]:
    """``--workloads``: names, or tags naming a group (e.g. ``pitfalls``), in order, each once."""
    tags = {}
    for name, w in workloads.items():
        for tag in getattr(w, "tags", ()):
            tags.setdefault(tag, []).append(name)
    broken = {str(pr.source).rsplit("/", 1)[-1].removesuffix(".py"): pr for pr in getattr(workloads, "problems", ())}
    out = []
    for item in _list(text, "workloads"):
        if item in workloads:
            out.append(item)
        elif item in tags:
            out.extend(tags[item])
        elif item in broken:
            raise UsageError(f"workload {item!r} cannot be loaded: {broken[item]}")
        else:
            valid = [*workloads, *(f"{t} (group)" for t in tags)]
            raise UsageError(f"unknown workload {item!r}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(out))


def not_applicable(args, workloads: dict) -> list[str]:
    """``workload/strategy: not applicable: reason`` for every strategy a chosen workload cannot run."""
    names = chosen_workloads(args, workloads)
    chosen = _list(args.strategies, "strategies") if args.strategies is not None else None
    out = []
    for name in names:
        w = workloads[name]
        for s in ALL_STRATEGIES:
            if s not in w.strategies or (chosen and s not in chosen):
                continue
            if reason := strategies.not_applicable_reason(w, s):
                out.append(f"{name}/{s}: not applicable: {reason}")
    return out


def warnings_for(args, planned: list[Planned], cores: int) -> list[str]:
    """Lines worth a look but no refusal: an explicit --workers that oversubscribes with processes."""
    if args.workers is None:
        return []
    big = sorted({p.workers for p in planned if p.strategy == "processes" and p.workers > WORKERS_PER_CORE * cores})
    if not big:
        return []
    return [f"--workers {big[-1]} starts {big[-1]} worker processes per 'processes' benchmark on {cores} cores "
            f"(over {WORKERS_PER_CORE} x cores: the times include the scheduler's work)"]


def check_results(results: str, host: str) -> None:
    """The results directory can take this campaign's files: found now, not after a benchmark was measured.

    The deepest existing directory on the way to ``results/raw/<host>`` must be a directory and
    writable (a temporary file is created and removed there: that also catches read-only mounts,
    ``chattr +i`` and root-owned directories, which permission bits alone do not tell).
    """
    target = Path(results) / "raw" / host
    here = target
    while not here.exists() and not here.is_symlink() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        raise UsageError(f"--results {results!r}: {here} is {'a file' if here.is_file() else 'not a directory'}; "
                         "give a directory (it is created if missing)")
    try:
        fd, probe_path = tempfile.mkstemp(prefix=".ftbench-write-test-", dir=here)
        os.close(fd)
        os.unlink(probe_path)
    except OSError as e:
        raise UsageError(f"--results {results!r}: cannot write in {here} ({e.strerror or e}); "
                         "give a writable directory") from None


def build_of_running_python() -> tuple[str, bool]:
    """(minor version, free-threaded) of this interpreter: the variants it can run without --python."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}", probe.free_threaded()


def resolve_pythons(args) -> dict[str, str]:
    """Each variant's python: the one given with --python (asked once what it is), else this one if it fits."""
    minor, free_threaded = build_of_running_python()
    out = {}
    for spec in args.variant_specs:
        given = args.python_paths.get(spec.name)
        if given is not None:
            out[spec.name] = check_python(spec, given)
        elif (minor, free_threaded) == (spec.minor, spec.build.free_threaded):
            out[spec.name] = sys.executable
        else:
            build = "free-threaded" if free_threaded else "default"
            raise UsageError(
                f"variant {spec.name} cannot run on this {build} Python {platform.python_version()} "
                f"({sys.executable}); give --python {spec.name}=PATH, or use nox -s bench-{spec.name} "
                f"(or nox -s bench for every variant)")
    return out


def check_python(spec: variants.Variant, path: str) -> str:
    """``path``, made absolute, if it runs the build ``spec`` needs with pyperf and harness importable."""
    where = f"--python {spec.name}={path}"
    fix = f"use nox -s bench-{spec.name}"
    # absolute: a bare name would be looked up in PATH by exec; not resolved: a venv's python is a
    # symlink to its base interpreter, and only the venv's path has the venv's packages
    absolute = os.path.abspath(path)
    if not os.path.isfile(absolute) or not os.access(absolute, os.X_OK):
        raise UsageError(f"{where}: no executable file there; {fix}")
    try:
        r = subprocess.run([absolute, "-c", PYTHON_CHECK], capture_output=True, text=True,
                           timeout=PYTHON_CHECK_TIMEOUT, env=spec.apply_env(os.environ))
    except subprocess.TimeoutExpired:
        raise UsageError(f"{where}: no answer within {PYTHON_CHECK_TIMEOUT:g} s; {fix}") from None
    except OSError as e:
        raise UsageError(f"{where}: cannot run it ({e.strerror or e}); {fix}") from None
    try:
        info = json.loads(r.stdout.strip().splitlines()[-1])
        found = (info["minor"], bool(info["free_threaded"]), info["version"], list(info["missing"]))
    except (ValueError, IndexError, KeyError, TypeError):
        last = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1][:200]
        raise UsageError(f"{where}: not a Python ftbench can ask ({last}); {fix}") from None
    minor, free_threaded, version, missing = found
    if (minor, free_threaded) != (spec.minor, spec.build.free_threaded):
        need = f"{'free-threaded' if spec.build.free_threaded else 'default'} {spec.minor}"
        got = f"{'free-threaded' if free_threaded else 'default'} Python {version}"
        raise UsageError(f"{where}: a {got}, but variant {spec.name} runs on the {need} build; {fix}")
    if missing:
        raise UsageError(f"{where}: cannot import {', '.join(missing)} (not a benchmark venv); {fix}")
    if info.get("optimized") is not None and bool(info["optimized"]) != spec.build.optimized:
        got = "optimized" if info["optimized"] else "plain"
        raise UsageError(f"{where}: a {got} build, but this campaign's flavour is {spec.build.flavour} "
                         f"(FTBENCH_FLAVOUR); {fix}")
    return absolute


def main(argv=None) -> int:
    """The CLI: check everything, then run the campaign; the exit status of :func:`harness.measure.campaign.run`."""
    worker.install_signal_handlers()
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        workloads = discover_workloads(args)
        cores = probe.cpu_count()
        planned = plan(args, workloads, cores)
        for line in not_applicable(args, workloads):
            print(f"ftbench: {line}", flush=True)
        check_results(args.results, args.host)
        pythons = resolve_pythons(args)  # after the input checks: bad input is named on any Python
    except UsageError as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    for line in warnings_for(args, planned, cores):
        print(f"ftbench bench: warning: {line}", file=sys.stderr)
    return run(make_config(args, pythons, workloads), planned)


def discover_workloads(args):
    """The built-in workloads and those of --workload-path, each file's requirements installed for
    this interpreter before it is imported (it cannot be imported without them).

    A built-in file that fails is skipped with a warning line; one the user named is a
    :class:`UsageError` naming the file: they asked for it, and nothing is measured without it.
    """
    def provide(requires: tuple[str, ...]) -> str:
        try:
            return requirements.ensure(sys.executable, requires, args.allow_source_builds,
                                       log=lambda line: print(line, flush=True)).path
        except requirements.RequirementError as e:
            raise requirements.RequirementError(f"{e}; pip's output: {e.log}" if e.log else str(e)) from None

    workloads = discover(paths=args.workload_path, provide=provide)
    given = [problem for problem in workloads.problems if problem.given]
    if given:
        raise UsageError(f"--workload-path: {given[0]}")
    for problem in workloads.problems:  # one line per broken file; the others still run
        print(f"ftbench bench: warning: workload file skipped: {problem}", file=sys.stderr)
    if args.workload_path and not workloads.given:
        raise UsageError(f"--workload-path {' '.join(args.workload_path)}: no workload file there")
    return workloads


def make_config(args, pythons: dict[str, str] | None = None, workloads=None) -> Campaign:
    """The frozen campaign configuration of checked arguments (``pythons``: from resolve_pythons;
    ``workloads``: from :func:`discover_workloads`, where each workload's file and requirements come from)."""
    if pythons is None:
        pythons = {name: sys.executable for name in args.variant_names}
    origins = getattr(workloads, "origins", {})
    needs = getattr(workloads, "requirements", {})
    return Campaign(
        variants=tuple(args.variant_names), pythons=tuple((n, pythons[n]) for n in args.variant_names),
        profile=args.profile, size=args.size, scaling=args.scaling, results=Path(args.results), host=args.host,
        timeout=args.timeout, latency=args.latency, fresh=args.fresh, allow_gil=args.allow_gil,
        accelerators="native" if args.native_accelerators else "pure", options=args.options,
        precision=PRECISION[args.profile], workload_files=tuple(origins.items()),
        requirements=tuple((n, r) for n, r in needs.items() if r),
        allow_source_builds=args.allow_source_builds)


if __name__ == "__main__":
    sys.exit(main())
