"""check() returns a bad figure, chosen with the option ``bad``: str, nan, inf, bool, list or ok.

A bad figure must fail the benchmark with a message naming the workload and the figure, and never
reach pyperf's JSON (a bare NaN there is not JSON). Loaded only by the tests.
"""

from harness import SIZES, Context, Workload

BAD = {"str": {"lost": "many"}, "nan": {"lost": float("nan")}, "inf": {"lost": float("inf")},
       "bool": {"lost": True}, "list": [("lost", 1)], "ok": {"lost": 0, "ratio": 0.5}, "none": None}


def make_tasks(params: dict, ctx: Context) -> list[str]:
    return [ctx.options.get("bad", "str")] * 2


def echo(bad: str) -> str:
    return bad


def check(tasks, results, shared):
    return BAD[tasks[0]]


WORKLOAD = Workload(
    name="ftfault_probe_figure",
    kind="cpu",
    description="check() returns a figure that is not a finite number",
    sizes={s: {} for s in SIZES},
    make_tasks=make_tasks,
    task=echo,
    check=check,
    strategies=("sequential",),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
