"""The lecture's deadlock: two threads take two locks in opposite orders.

A barrier makes it certain rather than likely: each thread holds its first lock before either
asks for its second, so neither ever gets it. Only the runner's timeout can end the benchmark.
"""

import threading

from harness import SIZES, Context, Workload

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()
BOTH_HOLD_ONE = threading.Barrier(2)


def make_tasks(params: dict, ctx: Context) -> list[int]:
    return [0, 1]


def transfer(direction: int) -> int:
    first, second = (LOCK_A, LOCK_B) if direction == 0 else (LOCK_B, LOCK_A)
    with first:
        BOTH_HOLD_ONE.wait()
        with second:  # never acquired: the other thread holds it and waits for ours
            return direction


def check(tasks: list[int], results: list[int], shared) -> None:
    return None


WORKLOAD = Workload(
    name="ftfault_deadlock",
    kind="cpu",
    description="two threads, two locks, opposite orders: a certain deadlock",
    sizes={s: {} for s in SIZES},
    make_tasks=make_tasks,
    task=transfer,
    check=check,
    strategies=("threads",),
    sweep=lambda cores: (2,),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
