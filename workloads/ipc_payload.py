"""Tasks with MBs of input and output: what processes pay to move data that threads just share.

The lecture lists the price of processes: separate memory, so every argument and result is
pickled and pushed through a pipe. Each task here takes a 4 MB ``bytes`` and returns 4 MB.
The compute (a few ms per task) is deliberately made of C calls that do NOT release the GIL:
``rounds`` passes of ``bytes.translate`` with a permutation table and a reversing slice. Under the
GIL threads cannot overlap it, so threads show the GIL (3.13) or its absence (3.13t) while
processes show the copying. Pure Python over 4 MB would be ~100x slower and drown the IPC cost;
zlib or hashlib release the GIL and would blur the contrast.
"""

import functools
import random
import zlib

from harness import CheckFailed, Context, Workload, paired

COUNT = 18  # tasks per run
TABLE = bytes((b * 167 + 13) % 256 for b in range(256))  # a permutation: 167 is odd


def _payload(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, int, bytes]]:
    size = params["kb"] << 10
    return [(seed, params["rounds"], _payload(seed, size)) for seed in range(params["count"])]


def transform(task: tuple[int, int, bytes]) -> bytes:
    """``rounds`` times: permute every byte, then reverse the buffer (GIL-holding C passes)."""
    _, rounds, data = task
    for _ in range(rounds):
        data = data.translate(TABLE)[::-1]
    return data


@functools.lru_cache(maxsize=256)
def expected(seed: int, rounds: int, size: int) -> int:
    """crc32 of the right output, from the input regenerated (cached: checked every run)."""
    return zlib.crc32(transform((seed, rounds, _payload(seed, size))))


def check(tasks: list, results: list, shared) -> None:
    for (seed, rounds, data), got in paired(tasks, results):
        if len(got) != len(data) or zlib.crc32(got) != expected(seed, rounds, len(data)):
            raise CheckFailed(f"task {seed}: output of {len(got)} bytes has the wrong crc32")


WORKLOAD = Workload(
    name="ipc_payload",
    kind="mixed",
    description="4 MB in, 4 MB out per task, GIL-holding byte permutation (IPC cost)",
    sizes={
        "tiny": {"kb": 256, "rounds": 1, "count": 4},
        "quick": {"kb": 4096, "rounds": 4, "count": 4},
        # sequential on a 2-core VM: 0.31 s on 3.13, 0.41 s on 3.13t (72 MB in, 72 MB out)
        "default": {"kb": 4096, "rounds": 4, "count": COUNT},
        "rigorous": {"kb": 4096, "rounds": 4, "count": 40},
    },
    make_tasks=make_tasks,
    task=transform,
    check=check,
    pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
            "default": {"processes": 2, "values": 2, "warmups": 1},
            "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
)
