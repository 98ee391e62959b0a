"""A task that imports a C extension which does not declare ``Py_mod_gil``.

On 3.13t that import re-enables the GIL (with a RuntimeWarning naming the module): the runner must
reject the benchmark, naming the module, unless ``--allow-gil``. The test compiles the extension
and passes its directory as ``--option gil_ext_dir=DIR``.
"""

import importlib
import sys

from harness import SIZES, CheckFailed, Context, Workload

MODULE = "ftgilext"  # answer() -> 42


def make_tasks(params: dict, ctx: Context) -> list[str]:
    return [ctx.options.get("gil_ext_dir", "")] * 2


def import_and_call(ext_dir: str) -> int:
    if ext_dir not in sys.path:
        sys.path.insert(0, ext_dir)
    return importlib.import_module(MODULE).answer()


def check(tasks: list[str], results: list[int], shared) -> None:
    if results != [42] * len(tasks):
        raise CheckFailed(f"results {results}")


WORKLOAD = Workload(
    name="ftfault_gil",
    kind="cpu",
    description="imports an extension without Py_mod_gil",
    sizes={s: {} for s in SIZES},
    make_tasks=make_tasks,
    task=import_and_call,
    check=check,
    strategies=("sequential",),
    pyperf={p: {"processes": 1, "values": 1, "warmups": 0} for p in ("quick", "default", "rigorous")},
    in_default_suite=False,
)
