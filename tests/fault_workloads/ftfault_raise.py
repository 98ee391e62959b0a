"""A task that raises: the benchmark must be recorded failed with this error text, never timed."""

from harness import SIZES, Context, Workload

MESSAGE = "ftfault: task 2 exploded on purpose"


def make_tasks(params: dict, ctx: Context) -> list[int]:
    return list(range(params["count"]))


def explode(x: int) -> int:
    if x == 2:
        raise ValueError(MESSAGE)
    return x


def check(tasks: list[int], results: list[int], shared) -> None:
    return None  # never reached: the task raises first


WORKLOAD = Workload(
    name="ftfault_raise",
    kind="cpu",
    description="the third task raises ValueError",
    sizes={s: {"count": 4} for s in SIZES},
    make_tasks=make_tasks,
    task=explode,
    check=check,
    strategies=("sequential", "threads", "processes"),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
