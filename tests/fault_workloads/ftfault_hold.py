"""A task that waits while a file exists: lets a test interrupt the runner mid-benchmark.

Options: ``started=PATH`` is created when a task begins; ``hold=PATH``: tasks wait while it
exists (at most HOLD_LIMIT seconds). Without options it returns at once.
"""

import os
import time

from harness import SIZES, CheckFailed, Context, Workload

HOLD_LIMIT = 120.0  # seconds: a leaked worker still ends by itself


def make_tasks(params: dict, ctx: Context) -> list[tuple]:
    return [(ctx.options.get("started", ""), ctx.options.get("hold", ""), i) for i in range(2)]


def wait_while_held(arg: tuple) -> int:
    started, hold, i = arg
    if started:
        with open(started, "a") as f:
            f.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + HOLD_LIMIT
    while hold and os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
    return i


def check(tasks: list[tuple], results: list[int], shared) -> None:
    if results != [t[2] for t in tasks]:
        raise CheckFailed(f"results {results}")


WORKLOAD = Workload(
    name="ftfault_hold",
    kind="io",
    description="waits while a file exists",
    sizes={s: {} for s in SIZES},
    make_tasks=make_tasks,
    task=wait_while_held,
    check=check,
    strategies=("sequential", "processes"),
    sweep=lambda cores: (2,),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
