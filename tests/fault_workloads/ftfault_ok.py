"""A benchmark that always passes in milliseconds: the healthy neighbour of every fault.

Loaded only by the tests (FTBENCH_WORKLOAD_PATH); never part of the default suite.
"""

from harness import SIZES, CheckFailed, Context, Workload

TINY_PYPERF = {"processes": 1, "values": 2, "warmups": 0}


def make_tasks(params: dict, ctx: Context) -> list[int]:
    return list(range(params["count"]))


def square(x: int) -> int:
    return x * x


def check(tasks: list[int], results: list[int], shared) -> None:
    if results != [x * x for x in tasks]:
        raise CheckFailed(f"wrong squares: {results}")


WORKLOAD = Workload(
    name="ftfault_ok",
    kind="cpu",
    description="squares of a few small numbers (always passes)",
    sizes={s: {"count": 4} for s in SIZES},
    make_tasks=make_tasks,
    task=square,
    check=check,
    strategies=("sequential", "threads"),
    pyperf={p: TINY_PYPERF for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
