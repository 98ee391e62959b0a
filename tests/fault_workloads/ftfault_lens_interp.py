"""Faults inside a subinterpreter: a task that raises, and an initializer that raises.

The benchmark must be recorded failed with the task's error text, and every interpreter of the
pool closed (tests/test_strategies.py counts them).
"""

from harness import SIZES, Context, Workload

MESSAGE = "ftfault_lens: task 2 exploded in a subinterpreter"
INIT_MESSAGE = "ftfault_lens: initializer exploded in a subinterpreter"


def make_tasks(params: dict, ctx: Context) -> list[int]:
    return list(range(params["count"]))


def explode(x: int) -> int:
    if x == 2:
        raise ValueError(MESSAGE)
    return x


def identity(x: int) -> int:
    return x


def bad_init(shared) -> None:
    raise RuntimeError(INIT_MESSAGE)


def check(tasks: list[int], results: list[int], shared) -> None:
    return None  # never reached: the task (or the initializer) raises first


def _workload(name: str, task, initializer=None) -> Workload:
    return Workload(
        name=name,
        kind="cpu",
        description="a fault inside a subinterpreter",
        sizes={s: {"count": 6} for s in SIZES},
        make_tasks=make_tasks,
        task=task,
        check=check,
        initializer=initializer,
        strategies=("sequential", "interpreters"),
        pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
        in_default_suite=False,
    )


WORKLOADS = [_workload("ftfault_lens_raise", explode), _workload("ftfault_lens_init", identity, bad_init)]
