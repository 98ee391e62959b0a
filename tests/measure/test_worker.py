"""harness.measure.worker: one pyperf process group per measured process, its error line, the GIL verdict."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pyperf
import pytest

from harness.measure import worker
from harness.measure.config import Campaign
from harness.measure.planned import Planned
from workloads.cpu_sum_squares import WORKLOAD as CPU


def _bench(name, values, **run_meta):
    run = pyperf.Run(values, metadata={"name": name, "loops": 1, **run_meta}, collect_metadata=False)
    return pyperf.Benchmark([run])


def test_error_line_prefers_the_workers_exception_over_pyperfs_wrapper():
    log = ("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
           "ValueError: ftfault: task 2 exploded\n"
           "Traceback (most recent call last):\n  File \"_manager.py\", line 118\n"
           "RuntimeError: /venv/bin/python failed with exit code 1\n")
    assert worker.error_line(log, 1) == "ValueError: ftfault: task 2 exploded"
    assert worker.error_line("harness.measure.workload.CheckFailed: sum_squares(3) = 4, expected 5\n"
                             "RuntimeError: /p failed with exit code 1\n", 1) == \
        "harness.measure.workload.CheckFailed: sum_squares(3) = 4, expected 5"
    assert worker.error_line("RuntimeError: /p failed with exit code 1\n", 1) == \
        "RuntimeError: /p failed with exit code 1"
    assert worker.error_line("some output\nlast words\n", 3) == "last words"
    assert worker.error_line("", -9) == "exit status -9"


def test_gil_verdict():
    gil_on = _bench("w/s/1", [1.0], ftbench_gil_enabled="yes", ftbench_gil_reenabled_by="ftgilext")
    gil_off = _bench("w/s/1", [1.0], ftbench_gil_enabled="no")
    assert "re-enabled by module ftgilext (--allow-gil to accept)" in worker.gil_verdict(gil_on, "3.13t", False)
    assert worker.gil_verdict(gil_on, "3.13t", True) == ""
    assert worker.gil_verdict(gil_off, "3.13t", False) == ""
    assert "PYTHON_GIL=1 not honoured" in worker.gil_verdict(gil_off, "3.13t-gil", False)
    assert worker.gil_verdict(gil_on, "3.13t-gil", False) == ""
    assert worker.gil_verdict(gil_on, "3.13", False) == ""


def test_a_ctrl_c_swallowed_during_the_fork_still_interrupts(monkeypatch, tmp_path):
    # CPython reports a KeyboardInterrupt raised in an at-fork hook as "Exception ignored" and goes on;
    # the handler's record of the signal must still end the benchmark it was starting, or the
    # campaign goes on measuring after a Ctrl-C.
    monkeypatch.setattr(worker, "SIGNALLED", [signal.SIGINT])
    host = f"ftbtest{uuid.uuid4().hex[:12]}"
    config = Campaign(variants=("3.13",), pythons=(("3.13", sys.executable),), size="tiny", profile="quick",
                      host=host, latency=(0.0, 0.0), timeout=30.0)
    with pytest.raises(KeyboardInterrupt):
        worker.run_one(Planned(CPU, "sequential", 1), config, "3.13", [], "", dict(os.environ), tmp_path)
    left = subprocess.run(["pgrep", "-f", host], capture_output=True, text=True).stdout.split()
    assert left == []  # the measure process it had just started was killed with its group



def test_a_process_left_in_the_group_after_the_run_is_killed_and_counted():
    """The leader exits at once; its background sleep is still in its group: end_group kills and counts it."""
    with subprocess.Popen(["sh", "-c", "sleep 300 & echo $!"], stdout=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        orphan = int(proc.stdout.readline())
    proc.wait()
    assert worker.group_members(proc.pid) == [orphan]
    assert worker.end_group(proc.pid, grace=0.2) == 1
    deadline = time.monotonic() + 5
    while worker.group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert worker.group_members(proc.pid) == []


def test_an_empty_group_is_not_waited_for():
    proc = subprocess.Popen(["true"], start_new_session=True)
    proc.wait()
    started = time.monotonic()
    assert worker.end_group(proc.pid) == 0
    assert time.monotonic() - started < worker.LEFTOVER_GRACE / 2
