"""The campaign's command line: discover -> check the input -> plan -> harness.measure.campaign.run.

Runs inside the benchmark venv of the interpreter under test (``nox -s bench-3.13t`` sets that up)::

    python -m harness.measure.bench --variant 3.13t [--quick | --rigorous] [--workloads a,b]
        [--strategies threads,processes] [--workers 1,2,4] [--timeout 600] [--fresh]

Bad input is named in one line (exit 2) before anything is measured or written; the checked input
becomes one frozen :class:`~harness.measure.config.Campaign`.
"""

from __future__ import annotations

import argparse
import platform
import re
import signal
import sys
from pathlib import Path

from harness import variants
from harness.measure import probe
from harness.measure.campaign import (  # noqa: F401 - re-exported: the CLI half names them in its tests
    SIGNALLED,
    Planned,
    _error_line,
    _interrupt,
    gil_verdict,
    progress_line,
    run,
    speedup_table,
)
from harness.measure.config import PRECISION, PROFILES, Campaign
from harness.measure.workload import ALL_STRATEGIES, SIZES, discover

DEFAULT_TIMEOUT = 600.0  # seconds per benchmark (all pyperf processes); the slowest default one takes ~40 s


class UsageError(Exception):
    """Bad command-line input: one line, exit status 2, no file touched."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too)
        raise UsageError(message)


def parse_args(argv):
    p = Parser(prog="python -m harness.measure.bench", description=__doc__.split("\n")[0])
    p.add_argument("--variant", required=True, help=f"one of {', '.join(variants.registry())}")
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
    try:
        args.variant_spec = variants.get(args.variant)
    except variants.VariantError as e:
        raise UsageError(str(e)) from None
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


def check_interpreter(variant: variants.Variant) -> None:
    """The running Python must be the variant's build (same X.Y, same GIL mode)."""
    free_threaded = probe.free_threaded()
    if free_threaded != variant.build.free_threaded or f"{sys.version_info[0]}.{sys.version_info[1]}" != variant.minor:
        build = "free-threaded" if free_threaded else "default"
        raise UsageError(f"variant {variant.name} cannot run on this {build} Python "
                         f"{platform.python_version()} ({sys.executable}); use nox -s bench-{variant.name}")


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started with it ignored
        signal.signal(signal.SIGINT, _interrupt)
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        workloads = discover()
        cores = probe.cpu_count()
        planned = plan(args, workloads, cores)
        check_interpreter(args.variant_spec)  # after the input checks: bad input is named on any Python
    except UsageError as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    return run(make_config(args), planned)


def make_config(args) -> Campaign:
    """The frozen campaign configuration of checked arguments."""
    host = args.host or re.sub(r"[^\w.-]", "_", platform.node()) or "host"
    return Campaign(
        variants=(args.variant,), pythons=((args.variant, sys.executable),), profile=args.profile,
        size=args.size, results=Path(args.results), host=host, timeout=args.timeout, latency=args.latency,
        fresh=args.fresh, allow_gil=args.allow_gil, accelerators="native" if args.native_accelerators else "pure",
        options=tuple(tuple(o.split("=", 1)) for o in args.option), precision=PRECISION[args.profile])


if __name__ == "__main__":
    sys.exit(main())
