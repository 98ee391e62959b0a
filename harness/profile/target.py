"""The process ``perf record`` watches: one workload's task list, once, under one strategy.

Runs in the variant's benchmark venv (it imports the workload and the strategies, as
``harness.measure.run`` does, but no pyperf)::

    python -m harness.profile.target --workload pitfall_lock_shared --strategy threads --workers 2 \
        --size default marks.json

It makes the tasks and the shared state, runs the strategy once unrecorded (a warm-up: imports,
first calls), then once between two marks on CLOCK_MONOTONIC, the clock ``perf record -k
CLOCK_MONOTONIC`` stamps its samples with: only the samples between the marks are the run's.
Under perf, recording is also switched on and off around the marked run through perf's control
FIFOs (``perf record -D -1 --control fifo:CTL,ACK``, named by ``FTBENCH_PERF_CONTROL=CTL:ACK``),
so start-up and the warm-up cost neither samples nor unwinding. The results are checked after
the second mark, as every benchmark run is. The marks file holds the window, the pid and the GIL
state; the driver keeps wall seconds out of every file it writes.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
import time

CONTROL_ENV = "FTBENCH_PERF_CONTROL"  # "CTL_FIFO:ACK_FIFO" of perf record --control
ACK_TIMEOUT = 30.0  # seconds perf may take to confirm a command


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The run to make: which workload, strategy, worker count and size, and where the marks go."""
    p = argparse.ArgumentParser(prog="python -m harness.profile.target", description=__doc__.split("\n")[0])
    p.add_argument("--workload")
    p.add_argument("--strategy")
    p.add_argument("--workers", type=int)
    p.add_argument("--size", default="default")
    p.add_argument("--warmups", type=int, default=1, help="unrecorded runs before the marked one")
    p.add_argument("--option", action="append", default=[], help="KEY=VALUE for the workload")
    p.add_argument("--list", action="store_true", help="print the workloads this python finds, as JSON, and exit")
    p.add_argument("marks", nargs="?", help="JSON file written with the run's window")
    args = p.parse_args(argv)
    if not args.list and not args.marks:
        p.error("give the marks file (or --list)")
    return args


def catalogue() -> dict:
    """What the driver may ask for: each workload's kind, tags, strategies (runnable here) and sizes."""
    from harness.measure.strategies import unavailable_reason
    from harness.measure.workload import discover

    out = {}
    for name, w in discover().items():
        # the workload's own declaration, then whether this interpreter offers the strategy at all
        runnable = [s for s in w.strategies if not (w.not_applicable_reason(s) or unavailable_reason(s))]
        out[name] = {"kind": w.kind, "tags": list(w.tags), "strategies": runnable, "sizes": list(w.sizes),
                     "default_suite": w.in_default_suite, "needs_server": w.needs_server}
    return out


def run(args: argparse.Namespace) -> dict:
    """Warm up, run once between the marks, check; the marks as a dict (clock: CLOCK_MONOTONIC, ns)."""
    from harness.measure import strategies
    from harness.measure.workload import Context, discover

    workload = discover()[args.workload]
    options = dict(o.split("=", 1) for o in args.option)
    ctx = Context(workers=args.workers, options=options)
    tasks = workload.make_tasks(workload.sizes[args.size], ctx)
    strategy = strategies.STRATEGIES[args.strategy]
    for _ in range(args.warmups):
        shared = workload.setup(args.strategy, ctx) if workload.setup else None
        strategy(workload, tasks, args.workers, shared, ctx)
    shared = workload.setup(args.strategy, ctx) if workload.setup else None
    control = os.environ.get(CONTROL_ENV)
    perf_command(control, "enable")
    start = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    results = strategy(workload, tasks, args.workers, shared, ctx)
    end = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    perf_command(control, "disable")
    workload.check(tasks, results, shared)  # raises CheckFailed: a wrong run is never profiled
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return {"pid": os.getpid(), "start_ns": start, "end_ns": end, "tasks": len(tasks), "gil_enabled": gil,
            "workload_file": _source_file(workload.task)}


def _source_file(fn) -> str:
    """The file of the workload's task function, as CPython's perf support names it (its code's co_filename)."""
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "func", None), "__code__", None)
    return code.co_filename if code is not None else ""


def perf_command(control: str | None, command: str) -> None:
    """Send ``enable`` or ``disable`` to perf record's control FIFO and wait for its ack (no-op without perf)."""
    if not control:
        return
    ctl, _, ack = control.partition(":")
    fd = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO at once if perf is not listening
    try:
        os.write(fd, f"{command}\n".encode())
    finally:
        os.close(fd)
    fd = os.open(ack, os.O_RDONLY | os.O_NONBLOCK)
    try:
        ready, _, _ = select.select([fd], [], [], ACK_TIMEOUT)
        if not ready or not os.read(fd, 16):
            raise RuntimeError(f"perf did not acknowledge {command!r} within {ACK_TIMEOUT:g} s")
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    """Run and write the marks file (the driver reads it after perf has finished)."""
    args = parse_args(argv)
    if args.list:
        print(json.dumps(catalogue()))
        return
    marks = run(args)
    with open(args.marks, "w") as f:
        json.dump(marks, f)


if __name__ == "__main__":
    main()
