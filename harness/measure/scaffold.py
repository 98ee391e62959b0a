"""Your own workload, from nothing to measured: a ready-to-run file, sized on this machine.

``nox -s new-workload -- NAME [--dir DIR]`` runs ``python -m harness.measure.scaffold NAME --dir DIR``
in the baseline's benchmark venv: it writes ``DIR/NAME.py`` from :data:`TEMPLATE` (a placeholder
task, ``make_tasks``, a ``check`` built on ``paired``, the sizes, and comments saying what to fill
in), sizes it (:func:`calibrate`) and prints the one command that measures it. After the
placeholder is replaced by real code, ``nox -s new-workload -- --calibrate DIR/NAME.py`` sizes it
again.

Sizing: the file's sizes all follow from one integer, ``SCALE`` (``sizes(SCALE)``); calibrating
times the sequential run of the default size on the running interpreter (the baseline build: the
free-threaded ones are slower on one thread) and rewrites the ``SCALE = ...`` line so that it takes
about :data:`TARGET` seconds, the size the default profile's rounds are planned for. Each timed
run is checked, as in a campaign: a placeholder left half-edited fails here, not an hour later.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import string
import sys
import time

from harness.measure.workload import NAME_RE, Context, LoadError, declared_requirements, discover, load

TARGET = 0.5  # seconds of one sequential run of the default size
TOLERANCE = 0.15  # accepted relative distance from TARGET
MAX_STEPS = 8  # timings before calibrating gives up
SCALE_LINE = re.compile(r"^SCALE = ([0-9_]+)[^\n]*$", re.M)

TEMPLATE = string.Template('''\
"""$name: ONE LINE SAYING WHAT THIS MEASURES, AND WHY YOU CARE.

Written by `nox -s new-workload`. Fill in, top to bottom:

1. `task`: one unit of YOUR work (replace the placeholder loop with a call into your code);
2. `make_tasks`: the argument of every task of one run (picklable: processes and subinterpreters
   receive them pickled);
3. `check`: what every result must satisfy (it runs after the timer stops; a wrong result fails
   the benchmark instead of giving a time);
4. `requires`: the packages your code imports, pinned (`["requests==2.32.3"]`); they are installed
   for each interpreter under test, binary wheels only unless `--allow-source-builds`;
5. then size it again: nox -s new-workload -- --calibrate <this file>
"""

from harness import CheckFailed, Context, Workload, paired

# The default size, in your own unit (here: loop iterations per task). Set by
# `nox -s new-workload -- --calibrate <this file>` so that the sequential run of the default
# size takes about 0.5 s on the machine that ran it; the other sizes follow from it.
SCALE = $scale
TASKS = 20  # tasks per run: a multiple of the worker counts (2, 4, ...) so that every worker gets a share


def sizes(scale: int) -> dict:
    """Every size ftbench runs: tiny is a smoke test, quick a fifth of the default, rigorous twice it."""
    return {"tiny": {"scale": max(1, scale // 100), "tasks": 4},
            "quick": {"scale": max(1, scale // 5), "tasks": TASKS},
            "default": {"scale": scale, "tasks": TASKS},
            "rigorous": {"scale": 2 * scale, "tasks": TASKS}}


def make_tasks(params: dict, ctx: Context) -> list:
    """The arguments of one run's tasks, from a size of `sizes` (REPLACE with your own inputs)."""
    return [(seed, params["scale"]) for seed in range(params["tasks"])]


def task(arg):
    """ONE task (REPLACE the placeholder with your code). Module level: processes pickle it by name."""
    seed, n = arg
    total = 0
    for i in range(n):
        total += (i + seed) % 10
    return total


def expected(arg) -> int:
    """The placeholder's result, computed another way and cheaply: the check runs after every timed run."""
    seed, n = arg
    full, rest = divmod(n, 10)  # every ten consecutive i add 0 + 1 + ... + 9, whatever the seed
    return 45 * full + sum((i + seed) % 10 for i in range(rest))


def check(tasks: list, results: list, shared) -> None:
    """Raise CheckFailed when a result is wrong (REPLACE the test; under --scaling weak tasks repeat)."""
    for arg, result in paired(tasks, results):
        if result != expected(arg):
            raise CheckFailed(f"task {arg!r} returned {result!r}, expected {expected(arg)!r}")


WORKLOAD = Workload(
    name="$name",
    kind="cpu",  # cpu, io or mixed: how the analysis groups it
    description="ONE LINE: WHAT ONE RUN DOES",
    sizes=sizes(SCALE),
    make_tasks=make_tasks,
    task=task,
    check=check,
    requires=[],  # e.g. ["requests==2.32.3"]: what your code imports beyond ftbench's own packages
)
''')
PLACEHOLDER_SCALE = "500_000"


class ScaffoldError(Exception):
    """Bad input or a file that cannot be sized: one line, exit 2 (exit 1 for a failed check)."""


def write(name: str, directory: str) -> str:
    """Write ``directory/name.py`` from the template; its path. Refuses a bad or built-in name, an existing file."""
    if not NAME_RE.fullmatch(name):
        raise ScaffoldError(f"workload name {name!r} must match {NAME_RE.pattern} "
                            "(it names the file and the benchmarks)")
    builtin = discover()
    if name in builtin:
        raise ScaffoldError(f"workload name {name!r} is a built-in workload's ({builtin.origins[name]}); "
                            "choose another name")
    if not os.path.isdir(directory):
        raise ScaffoldError(f"--dir {directory}: no such directory")
    path = os.path.join(os.path.abspath(directory), f"{name}.py")
    if os.path.exists(path):
        raise ScaffoldError(f"{path} already exists; choose another name, or size it: --calibrate {path}")
    with open(path, "x") as f:
        f.write(TEMPLATE.substitute(name=name, path=path, scale=PLACEHOLDER_SCALE))
    return path


def sequential_seconds(workload, module, scale: int) -> float:
    """One sequential run of the default size at ``scale``, timed as a campaign times it, then checked."""
    from harness.measure import strategies

    ctx = Context(workers=1)
    tasks = workload.make_tasks(module.sizes(scale)["default"], ctx)
    shared = workload.setup("sequential", ctx) if workload.setup else None
    t0 = time.perf_counter()
    results = strategies.sequential(workload, tasks, 1, shared, ctx)
    elapsed = time.perf_counter() - t0
    workload.check(tasks, results, shared)
    return elapsed


def next_scale(scale: int, seconds: float) -> int:
    """The scale expected to take TARGET seconds, time being proportional to it; at most x100 per step,
    rounded to two significant digits (a size a person reads)."""
    wanted = scale * min(100.0, TARGET / max(seconds, 1e-6))
    digits = max(0, len(str(int(wanted))) - 2)
    return max(1, int(round(wanted, -digits)))


def calibrate(path: str, log=print) -> tuple[int, float]:
    """Set the file's ``SCALE`` so that its sequential default run takes about TARGET seconds here.

    Returns (scale, seconds); rewrites only the ``SCALE = ...`` line. The file's requirements are
    installed for this interpreter first (as a campaign will).
    """
    from harness.provision import requirements

    with open(path) as f:
        text = f.read()
    line = SCALE_LINE.search(text)
    if line is None:
        raise ScaffoldError(f"{path}: no 'SCALE = <integer>' line to set (the template's sizes(SCALE) sizing)")
    overlay = None
    if requires := declared_requirements(path):
        overlay = requirements.ensure(sys.executable, requires, log=log).path
    workload = load(path, None, overlay=overlay)
    module = sys.modules[workload.make_tasks.__module__]
    if not callable(getattr(module, "sizes", None)):
        raise ScaffoldError(f"{path}: no sizes(scale) function (the template's: every size from SCALE)")
    scale = int(line[1].replace("_", ""))
    sequential_seconds(workload, module, max(1, scale // 100))  # imports and first calls, untimed
    for _ in range(MAX_STEPS):
        runs = [sequential_seconds(workload, module, scale)]
        if runs[0] < 2 * TARGET:  # cheap enough to take the median of three
            runs += [sequential_seconds(workload, module, scale) for _ in range(2)]
        seconds = statistics.median(runs)
        if abs(seconds / TARGET - 1) <= TOLERANCE:
            break
        new = next_scale(scale, seconds)
        if new == scale:
            break
        scale = new
    else:
        raise ScaffoldError(f"{path}: the sequential run takes {seconds:.3f} s at SCALE = {scale:_} and does not "
                            f"approach {TARGET:g} s; do make_tasks and task depend on params['scale']?")
    if abs(seconds / TARGET - 1) > TOLERANCE:
        raise ScaffoldError(f"{path}: the sequential run takes {seconds:.3f} s at SCALE = {scale:_}, not about "
                            f"{TARGET:g} s, and the scale cannot get finer; make one task do less")
    where = f"CPython {platform.python_version()}{'t' if _free_threaded() else ''}"
    comment = f"  # sequential default run: {seconds:.2f} s with {where} on {platform.node() or 'this machine'}"
    with open(path, "w") as f:
        f.write(text[:line.start()] + f"SCALE = {scale:_}{comment}" + text[line.end():])
    return scale, seconds


def _free_threaded() -> bool:
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def main(argv: list[str] | None = None) -> int:
    """``NAME [--dir DIR]`` writes and sizes a new workload; ``--calibrate FILE`` sizes an edited one."""
    p = argparse.ArgumentParser(prog="nox -s new-workload --", description=__doc__.split("\n")[0])
    p.add_argument("name", nargs="?", help="the new workload's name (and file name): [a-z][a-z0-9_]*")
    p.add_argument("--dir", default=".", help="where to write NAME.py (default: the current directory)")
    p.add_argument("--calibrate", metavar="FILE", help="size an existing workload file again")
    args = p.parse_args(argv)
    path = args.calibrate
    try:
        if (args.name is None) == (args.calibrate is None):
            raise ScaffoldError("give a NAME for a new workload, or --calibrate FILE for an existing one")
        path = os.path.abspath(args.calibrate) if args.calibrate else write(args.name, args.dir)
        if args.name:
            print(f"ftbench: wrote {path}")
        scale, seconds = calibrate(path)
    except (ScaffoldError, LoadError) as e:
        print(f"ftbench new-workload: error: {e}", file=sys.stderr)
        return 2
    except AssertionError as e:  # CheckFailed: the task and its check disagree
        print(f"ftbench new-workload: error: {path}: the check failed: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the user's code raised: one line, as a campaign would say it
        print(f"ftbench new-workload: error: {path}: the sequential run failed: {type(e).__name__}: "
              f"{' '.join(str(e).split())}", file=sys.stderr)
        return 1
    print(f"ftbench: SCALE = {scale:_}: the sequential run of the default size takes {seconds:.2f} s on this "
          f"machine (CPython {platform.python_version()}; target about {TARGET:g} s)")
    print(f"measure it on every variant: nox -s bench -- --workload-path {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
