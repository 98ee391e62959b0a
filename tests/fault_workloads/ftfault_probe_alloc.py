"""Each task holds a known amount of touched memory for a while: the tree-memory probe must see the sum.

Options: ``mb`` (megabytes per task, default 64; 0 gives the interpreter's baseline) and ``hold``
(seconds, default 0.5). One task per worker, so threads x4 and processes x4 both hold 4 x ``mb``
at once. Loaded only by the tests (FTBENCH_WORKLOAD_PATH).
"""

import mmap
import time

from harness import SIZES, CheckFailed, Context, Workload

PAGE = 4096


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, float]]:
    mb = int(ctx.options.get("mb", 64))
    hold = float(ctx.options.get("hold", 0.5))
    return [(mb, hold)] * ctx.workers


def hold_memory(task: tuple[int, float]) -> int:
    """Map ``mb`` MB, touch every page, hold them, unmap: no allocator keeps them after the task."""
    mb, hold = task
    if not mb:
        time.sleep(hold)
        return 0
    size = mb << 20
    block = mmap.mmap(-1, size)  # anonymous and private; a bytearray's pages may outlive it in the allocator
    try:
        block[::PAGE] = b"\x01" * len(range(0, size, PAGE))  # touch every page: resident
        time.sleep(hold)
        return sum(block[::PAGE])
    finally:
        block.close()


def check(tasks, results, shared) -> None:
    want = [len(range(0, mb << 20, PAGE)) if mb else 0 for mb, _ in tasks]
    if results != want:
        raise CheckFailed(f"ftfault_probe_alloc: touched {results}, expected {want}")


WORKLOAD = Workload(
    name="ftfault_probe_alloc",
    kind="cpu",
    description="each task holds a known amount of touched memory",
    sizes={s: {} for s in SIZES},
    make_tasks=make_tasks,
    task=hold_memory,
    check=check,
    strategies=("sequential", "threads", "processes"),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
