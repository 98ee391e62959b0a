"""Hand-made raw results shared by the analysis tests: the numbers behind them are small enough to
compute every expected ratio by hand.

Importable because tests/conftest.py puts tests/ (and pytest this directory) on sys.path.
"""

from pathlib import Path

import pytest
from synth import Spec, write_variant


def approx(x, rel=1e-9):
    """pytest.approx with a tight default: hand-computed numbers should match to rounding."""
    return pytest.approx(x, rel=rel)


def S(strategy, workers, *values, workload="cpu_sum_squares", kind="cpu"):
    """One value per pyperf process (so each value is its own unit)."""
    return Spec(workload, kind, strategy, workers, runs=[[v] for v in values])


def write_hand(tmp_path: Path) -> Path:
    """3.13: seq 1.0, threads x2 1.1, processes x2 0.5; 3.13t: seq 1.2, threads x2 0.6, x4 0.4."""
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [S("sequential", 1, 0.9, 1.1), S("threads", 2, 1.1, 1.1),
                                     S("processes", 2, 0.5, 0.5)])
    write_variant(raw, "h", "3.13t", [
        S("sequential", 1, 1.2, 1.2), S("threads", 1, 1.3, 1.3), S("threads", 2, 0.6, 0.6),
        S("threads", 4, 0.4, 0.4), S("processes", 2, 0.7, 0.7),
        Spec("cpu_sum_squares", "cpu", "processes", 4, status="timeout", error="killed after 9 s")])
    write_variant(raw, "h", "3.13t-gil", [S("sequential", 1, 0.8, 1.2), S("threads", 2, 1.0, 1.0)])
    return raw


def row_of(summary, variant, host="h", workload="cpu_sum_squares"):
    """The one summary row of ``variant`` (fails when there is not exactly one)."""
    sel = summary[(summary["host"] == host) & (summary["variant"] == variant)
                  & (summary["workload"] == workload)]
    assert len(sel) == 1
    return sel.iloc[0]


def runs_with_metadata(strategy, workers, means, busy, flagged=(), mem=100 * 2**20, weak=False):
    """A benchmark whose runs carry the per-run metadata: busy cores, foreign load, tree memory, round."""
    meta = {"ftbench_precision": 0.015, "ftbench_stop_reason": "target"}
    if weak:
        meta["ftbench_scaling"] = "weak"
    run_meta = [{"ftbench_busy_cores": busy, "ftbench_foreign_cores": 0.5 if i in flagged else 0.0,
                 "ftbench_foreign_flagged": "yes" if i in flagged else "no",
                 "ftbench_peak_tree_memory": mem, "ftbench_round": i} for i in range(len(means))]
    return Spec("cpu_sum_squares", "cpu", strategy, workers, runs=[[m, m * 1.001] for m in means],
                run_meta=run_meta, meta=meta)


def png_ok(path: Path) -> bool:
    """A real, non-trivial PNG file."""
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
