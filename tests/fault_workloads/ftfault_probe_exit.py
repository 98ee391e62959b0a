"""A task calls sys.exit(0): the benchmark fails with "task called sys.exit(0)" under every strategy.

The option ``code`` picks the exit code (default 0). Loaded only by the tests.
"""

import sys

from harness import SIZES, Context, Workload


def make_tasks(params: dict, ctx: Context) -> list[int]:
    return [int(ctx.options.get("code", 0))] * 2


def leave(code: int) -> int:
    sys.exit(code)


def check(tasks, results, shared) -> None:
    return None


WORKLOAD = Workload(
    name="ftfault_probe_exit",
    kind="cpu",
    description="a task calls sys.exit",
    sizes={s: {} for s in SIZES},
    make_tasks=make_tasks,
    task=leave,
    check=check,
    strategies=("sequential", "threads", "processes", "asyncio"),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
