"""harness.measure.console: what a campaign prints, compared exactly."""

import re
from types import SimpleNamespace

import pyperf

from harness.measure import console
from harness.measure.planned import Planned
from workloads.cpu_sum_squares import WORKLOAD as CPU


def _bench(name, values, **run_meta):
    run = pyperf.Run(values, metadata={"name": name, "loops": 1, **run_meta}, collect_metadata=False)
    return pyperf.Benchmark([run])


def test_progress_line_format():
    ok = console.progress_line(3, 12, "cpu_sum_squares/threads/2", "ok", "", _bench("x", [0.5, 0.5]))
    assert ok == f"[3/12] {'cpu_sum_squares/threads/2':<36}    500.0 ms +-      0.0 ms  ok"
    assert re.fullmatch(r"\[1/1\] w/s/1 +\s+12\.00 s  \+- +0\.0 ms  ok",
                        console.progress_line(1, 1, "w/s/1", "ok", "", _bench("x", [12.0])))
    assert console.progress_line(2, 9, "w/threads/2", "timeout", "killed after 5 s", None) == \
        f"[2/9] {'w/threads/2':<36} TIMEOUT: killed after 5 s"
    assert console.progress_line(4, 9, "w/s/1", "failed", "ValueError: boom", None).endswith(
        " FAILED: ValueError: boom")


def test_speedup_table():
    planned = [Planned(CPU, s, n) for s, n in
               (("sequential", 1), ("threads", 1), ("threads", 2), ("threads", 4))]
    store = SimpleNamespace(suite=pyperf.BenchmarkSuite([
        _bench("cpu_sum_squares/sequential/1", [1.0, 1.0]),
        _bench("cpu_sum_squares/threads/1", [1.25, 1.25]),
        _bench("cpu_sum_squares/threads/2", [0.5, 0.5]),
        _bench("other/threads/2", [0.1, 0.1]),
    ]))
    assert console.speedup_table(store, planned).splitlines() == [
        f"  {'cpu_sum_squares':<22} {'sequential':<16} 1: 1.00x",
        f"  {'cpu_sum_squares':<22} {'threads':<16} 1: 0.80x  2: 2.00x  4:   --",
    ]
    assert "--" in console.speedup_table(SimpleNamespace(suite=None), planned)  # nothing measured yet

