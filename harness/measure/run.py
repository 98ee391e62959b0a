"""The pyperf script of ONE benchmark: ``workload/strategy/workers`` on the running interpreter.

The orchestrator (``harness.measure.bench``) runs it once per benchmark in its own process group, so a
benchmark that hangs or crashes is killed and recorded without taking the campaign down. pyperf
then spawns its worker processes as usual; every value is one full run of the strategy over all
the tasks (``--loops 1``), executor creation included, and every run is checked after timing.

    python -m harness.measure.run --workload cpu_sum_squares --strategy threads --workers 2 \
        --variant 3.13t --size quick -o out.json --processes 2 --values 2 --warmups 1 --loops 1
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import time

THRESHOLD_ENV = "FTBENCH_FOREIGN_THRESHOLD"  # as in harness.measure.accounting (not imported: keep startup light)
SERVER_PID_ENV = "FTBENCH_SERVER_PID"
# Forwarded to pyperf's workers with their values (pyperf re-parses them there).
OUR_ARGS = ("workload", "strategy", "workers", "size", "scaling", "bench_profile", "variant", "host",
            "server_url", "server_latency", "accelerators", "option", "foreign_threshold", "server_pid",
            "memory_interval", "workload_file", "requirements_path")


def add_arguments(parser) -> None:
    """ftbench's own arguments on pyperf's parser (pyperf's, such as --processes, stay as they are)."""
    parser.add_argument("--workload", required=True)
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--size", default="default")
    parser.add_argument("--scaling", default="strong", choices=("strong", "weak"))
    parser.add_argument("--bench-profile", default="default")
    parser.add_argument("--variant", required=True)
    parser.add_argument("--host", default=platform.node() or "host")
    parser.add_argument("--server-url", default="")
    parser.add_argument("--server-latency", default="", help="LO:HI seconds, recorded for the analysis")
    parser.add_argument("--accelerators", default="pure")
    parser.add_argument("--option", action="append", default=[], help="KEY=VALUE for the workload")
    parser.add_argument("--workload-file", default="",
                        help="the file defining the workload: imported alone (default: discover every workload)")
    parser.add_argument("--requirements-path", default="",
                        help="the directory of the workload's installed requirements, put first on sys.path")
    # Measurement hygiene (harness.measure.accounting). The defaults come from the environment of this
    # process and reach pyperf's workers as arguments: no --inherit-environ needed for them.
    parser.add_argument("--foreign-threshold", type=_cores, default=os.environ.get(THRESHOLD_ENV, "0.10"),
                        help=f"cores of foreign load that flag a run (default: ${THRESHOLD_ENV} or 0.10)")
    parser.add_argument("--server-pid", type=int, default=_env_pid(),
                        help=f"pid of the embedded HTTP server, whose CPU is not foreign (default: ${SERVER_PID_ENV})")
    parser.add_argument("--memory-interval", type=_seconds, default=0.025,
                        help="seconds between samples of the process tree's memory (0: no sampling)")


def _cores(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number of cores >= 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= 10:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 10, got {text!r}")
    return value


def _env_pid() -> int:
    raw = os.environ.get(SERVER_PID_ENV, "").strip()
    return int(raw) if raw.isdigit() else 0


def forward(cmd: list, args) -> None:
    """pyperf's ``add_cmdline_args`` hook: give each worker process our arguments as parsed here."""
    for name in OUR_ARGS:
        value = getattr(args, name)
        flag = "--" + name.replace("_", "-")
        for v in value if isinstance(value, list) else [value]:
            cmd.extend((flag, str(v)))


def interpreter_provenance() -> dict:
    """The build's provenance, as metadata: written beside the install by harness.provision.interpreters."""
    from harness import metadata

    meta: dict = {}
    try:
        with open(f"{sys.base_prefix}/ftbench-provenance.json") as f:
            prov = json.load(f)
    except (OSError, ValueError):
        metadata.put(meta, "source_sha256", "unknown")
        return meta
    metadata.put(meta, "source_sha256", prov.get("source_sha256", "unknown"))
    metadata.put(meta, "source_origin", prov.get("source_origin", "unknown"))
    metadata.put(meta, "configure_args", " ".join(prov.get("configure_args", [])) or "none")
    metadata.put(meta, "flavour", "optimized" if prov.get("optimized") else "plain")
    metadata.put(meta, "build_date", prov.get("build_date", "unknown"))
    metadata.put(meta, "compiler", prov.get("compiler", "unknown"))
    return meta


def make_time_func(workload, strategy_name: str, workers: int, tasks: list, ctx, acct=None, canary=None):
    """``time_func(loops) -> seconds`` for pyperf; checks every run outside the timed region.

    ``acct`` (default: the probe's) accounts CPU and memory around each timed run: its reads come
    just before the timer starts and just after it stops. ``canary`` (default: the probe's) times
    the speed canary just outside them, before and after each timed run. A task that calls
    ``sys.exit`` (in the main thread, a thread or a pool process) fails the benchmark with a
    RuntimeError that says so.
    """
    import dataclasses
    import functools

    from harness.measure import probe, strategies

    run = strategies.STRATEGIES[strategy_name]
    acct = acct if acct is not None else probe.ACCOUNTING
    canary = canary if canary is not None else probe.CANARY
    if strategy_name == "processes":  # a SystemExit would end a Pool worker and lose its task: guard it
        workload = dataclasses.replace(workload, task=functools.partial(probe.guarded_task, workload.name,
                                                                        workload.task))
    warmed = []

    def run_checked(these: list, timed: bool = True) -> float:
        shared = workload.setup(strategy_name, ctx) if workload.setup else None
        if timed:
            canary.measure()
            acct.begin()
        t0 = time.perf_counter()
        try:
            results = run(workload, these, workers, shared, ctx)
        except SystemExit as e:  # sys.exit in the main thread or an event loop
            raise RuntimeError(probe.exit_message(workload.name, e)) from None
        elapsed = time.perf_counter() - t0
        if timed:
            acct.end()
            canary.measure()
        figures = workload.check(these, results, shared)  # raises CheckFailed: no value recorded
        probe.FIGURES.update(probe.checked_figures(workload.name, figures))  # raises FigureError: idem
        return elapsed

    def time_func(loops: int) -> float:
        if not warmed:  # import the workload's dependencies before the first timed value
            run_checked(workload.make_tasks(workload.sizes["tiny"], ctx), timed=False)
            warmed.append(True)
        return sum(run_checked(tasks) for _ in range(loops))

    return time_func


def main() -> None:
    """The pyperf script of one benchmark (the manager and, re-run by pyperf, each worker)."""
    import pyperf

    from harness.measure import probe
    from harness.measure.workload import Context, discover, load

    probe.watch_gil_warnings()
    runner = pyperf.Runner(add_cmdline_args=forward, program_args=("-m", "harness.measure.run"))
    add_arguments(runner.argparser)
    args = runner.parse_args()
    if not args.worker and os.getpgrp() == os.getpid():  # leads the benchmark's group (harness.measure.bench)
        signal.signal(signal.SIGTERM, _kill_own_group)
    if args.workload_file:  # this workload's file alone: no other workload's imports reach this process
        workload = load(args.workload_file, args.workload, overlay=args.requirements_path or None)
    else:
        workload = discover()[args.workload]
    options = dict(o.split("=", 1) for o in args.option)
    ctx = Context(server_url=args.server_url or None, workers=args.workers, options=options)
    tasks = workload.make_tasks(workload.sizes[args.size], ctx)  # once: ipc_payload's are 72 MB
    if args.scaling == "weak":  # every worker gets the sequential run's amount of work
        tasks = tasks * args.workers
    runner.metadata.update(benchmark_metadata(workload, args, len(tasks)))
    if args.worker:
        from harness.measure import accounting

        probe.ACCOUNTING.threshold = args.foreign_threshold
        probe.ACCOUNTING.server_pid = args.server_pid
        probe.ACCOUNTING.sampler = accounting.MemorySampler(args.memory_interval)
        probe.ACCOUNTING.reset()
        probe.CANARY.enabled = True
    time_func = make_time_func(workload, args.strategy, args.workers, tasks, ctx)
    runner.bench_time_func(f"{workload.name}/{args.strategy}/{args.workers}", time_func)


def _kill_own_group(signum, frame) -> None:
    """SIGTERM (the orchestrator died): take pyperf's workers and their pools down too."""
    os.killpg(os.getpgrp(), signal.SIGKILL)


def benchmark_metadata(workload, args, tasks: int) -> dict:
    """What every run of this benchmark records about what was measured, where and with what."""
    from harness import metadata
    from harness.measure import canary, probe
    from harness.measure.strategies import start_method

    meta: dict = {}
    for name, value in (("workload", workload.name), ("kind", workload.kind), ("strategy", args.strategy),
                        ("workers", args.workers), ("variant", args.variant),
                        ("free_threaded", "yes" if probe.free_threaded() else "no"),
                        ("start_method", start_method()), ("profile", args.bench_profile), ("size", args.size),
                        ("host", args.host), ("accelerators", args.accelerators),
                        # measured once by the orchestrator (importing aiohttp in every worker would cost seconds)
                        ("c_extensions", os.environ.get("FTBENCH_C_EXTENSIONS", "unknown")),
                        ("cpu_count", probe.cpu_count()), ("canary", canary.DEFINITION)):
        metadata.put(meta, name, value)
    meta.update(_versions())
    meta.update(interpreter_provenance())
    for name, value in (workload.extra_metadata() if workload.extra_metadata else {}).items():
        metadata.put_extra(meta, name, value)
    if args.option:
        metadata.put(meta, "options", ",".join(args.option))
    if args.server_url:
        metadata.put(meta, "server_latency", args.server_latency or "unknown")
    metadata.put(meta, "scaling", args.scaling)
    metadata.put(meta, "tasks", tasks)
    return meta


def _versions() -> dict:
    from importlib import metadata as dists

    from harness import metadata

    meta: dict = {}
    for dist in ("numpy", "aiohttp", "requests", "pyperf"):
        try:
            metadata.put(meta, dist, dists.version(dist))
        except dists.PackageNotFoundError:
            metadata.put(meta, dist, "absent")
    return meta


if __name__ == "__main__":
    main()
