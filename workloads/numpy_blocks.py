"""Chains of float64 matrix products in numpy: CPU work that runs with the GIL released.

The lecture's rule "CPU-bound needs processes" assumes the work holds the GIL. numpy's matmul
releases it inside BLAS, so threads scale even on the default 3.13 build. The BLAS library's own
thread pool is pinned to one thread (before numpy is first imported) so that all parallelism
comes from the strategy under test, never from OpenBLAS/OpenMP behind its back.
"""

import os

from harness import CheckFailed, Context, Workload, paired

BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS")
for _var in BLAS_ENV:  # must happen before numpy's first import: BLAS reads them once, at load
    os.environ.setdefault(_var, "1")

COUNT = 20  # tasks per run


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, int, int]]:
    return [(seed, params["n"], params["k"]) for seed in range(params["count"])]


def setup(strategy: str, ctx: Context) -> None:
    """Import numpy before the run: forked Pool workers inherit it instead of importing it."""
    import numpy  # noqa: F401


def _matrices(seed: int, n: int):
    """A with N(0, 1) entries and B scaled by 1/sqrt(n), so powers of B stay of order one."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)), rng.standard_normal((n, n)) / np.sqrt(n)


def matmul_chain(task: tuple[int, int, int]) -> float:
    """sum(A @ B @ ... @ B) with k products of n x n blocks; only the sum travels back."""
    seed, n, k = task
    a, b = _matrices(seed, n)
    p = a
    for _ in range(k):
        p = p @ b
    return float(p.sum())


def expected(task: tuple[int, int, int]) -> tuple[float, float]:
    """sum(A B^k) = (1'A)(B^k 1), in O(k n^2) matrix-vector products; and a tolerance."""
    import numpy as np

    seed, n, k = task
    a, b = _matrices(seed, n)
    v = np.ones(n)
    for _ in range(k):
        v = b @ v
    return float(a.sum(axis=0) @ v), 1e-11 * n * n * (k + 1)


def check(tasks: list, results: list, shared) -> None:
    for task, got in paired(tasks, results):
        want, tol = expected(task)
        if not abs(got - want) <= tol:
            raise CheckFailed(f"matmul_chain{task} = {got!r}, expected {want!r} +- {tol:.1e}")


def _blas_threads(np) -> str:
    """The thread count the bundled OpenBLAS really uses (numpy wheels ship scipy-openblas)."""
    import ctypes
    import glob

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
    try:
        return str(ctypes.CDLL(libs[0]).scipy_openblas_get_num_threads64_())
    except (IndexError, OSError, AttributeError):
        return "?"


def blas_metadata() -> dict[str, str]:
    """The BLAS pinning as the worker sees it, recorded with every run."""
    import numpy as np

    meta = {var.split("_")[0].lower() + "_threads": os.environ.get(var, "") for var in BLAS_ENV}
    try:
        meta["blas"] = str(np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"])
    except (TypeError, KeyError):
        meta["blas"] = "?"
    meta["blas_threads"] = _blas_threads(np)
    return meta


WORKLOAD = Workload(
    name="numpy_blocks",
    kind="cpu",
    description="k chained float64 matmuls of n x n blocks per task, BLAS pinned to 1 thread",
    sizes={
        "tiny": {"n": 32, "k": 2, "count": 4},
        "quick": {"n": 128, "k": 4, "count": COUNT},
        # sequential on a 2-core VM: 0.31 s on 3.13 and on 3.13t; threads x2 about 2.1x faster
        "default": {"n": 320, "k": 9, "count": COUNT},
        "rigorous": {"n": 384, "k": 12, "count": COUNT},
    },
    make_tasks=make_tasks,
    task=matmul_chain,
    check=check,
    pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
            "default": {"processes": 2, "values": 2, "warmups": 1},
            "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
    setup=setup,
    extra_metadata=blas_metadata,
    not_applicable={"interpreters": "numpy's C extension cannot be loaded in a subinterpreter "
                                    "(no per-interpreter GIL support: ImportError)"},
)
