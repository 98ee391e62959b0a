"""ftbench: the same pyperf workloads on CPython's default and free-threaded builds.

The code is grouped by where it runs:

- ``harness.provision``: the host Python, stdlib only (builds the interpreters, makes their venvs);
- ``harness.measure``: the benchmark venv of each interpreter under test (pyperf, no pandas);
- ``harness.analysis``: the analysis venv (pandas, matplotlib).

``harness.variants``, ``harness.metadata``, ``harness.intervals`` and ``harness.files`` are stdlib-only and
shared by all three.
The public workload API, what a file in ``workloads/`` imports, is re-exported here.
"""

from harness.measure.workload import SIZES, CheckFailed, Context, Workload, cpu_sweep, io_sweep, paired

__all__ = ["SIZES", "CheckFailed", "Context", "Workload", "cpu_sweep", "io_sweep", "paired"]
