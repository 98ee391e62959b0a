"""A task that returns a wrong result: its check fails, so the benchmark is failed, never timed."""

from harness import SIZES, CheckFailed, Context, Workload


def make_tasks(params: dict, ctx: Context) -> list[int]:
    return list(range(3))


def off_by_one(x: int) -> int:
    return x * x + (x == 1)  # the lost update of a race, in miniature


def check(tasks: list[int], results: list[int], shared) -> None:
    for x, got in zip(tasks, results, strict=True):
        if got != x * x:
            raise CheckFailed(f"ftfault_wrong: square({x}) = {got}, expected {x * x}")


WORKLOAD = Workload(
    name="ftfault_wrong",
    kind="cpu",
    description="one result is off by one",
    sizes={s: {} for s in SIZES},
    make_tasks=make_tasks,
    task=off_by_one,
    check=check,
    strategies=("sequential",),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
