"""The lecture's CPU-bound task: ``sum(i * i for i in range(n))`` for 20 numbers.

The lecture computes it for ``n = 5_000_000 + x``, ``x`` in ``range(20)``: under the GIL threads and
asyncio are no faster than a loop, while processes are. On a free-threaded build threads should
scale with the cores too. Sizes are scaled down so the sequential run takes about 0.5-1 s.
"""

from harness import CheckFailed, Context, Workload, paired

COUNT = 20  # numbers per run, as in the lecture


def make_tasks(params: dict, ctx: Context) -> list[int]:
    return [params["n"] + x for x in range(params["count"])]


def sum_squares(n: int) -> int:
    return sum(i * i for i in range(n))


def expected(n: int) -> int:
    """Closed form of sum(i*i for i in range(n)): (n-1) n (2n-1) / 6."""
    return (n - 1) * n * (2 * n - 1) // 6


def check(tasks: list[int], results: list[int], shared) -> None:
    for n, got in paired(tasks, results):
        if got != expected(n):
            raise CheckFailed(f"sum_squares({n}) = {got}, expected {expected(n)}")


WORKLOAD = Workload(
    name="cpu_sum_squares",
    kind="cpu",
    description="sum of squares of range(n) for 20 numbers (the lecture's CPU-bound task)",
    sizes={
        "tiny": {"n": 2_000, "count": 4},
        "quick": {"n": 100_000, "count": COUNT},
        "default": {"n": 600_000, "count": COUNT},
        "rigorous": {"n": 1_500_000, "count": COUNT},
    },
    make_tasks=make_tasks,
    task=sum_squares,
    check=check,
    pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
            "default": {"processes": 4, "values": 3, "warmups": 1},
            "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
)
