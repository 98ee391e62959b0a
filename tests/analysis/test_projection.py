"""harness.analysis.projection: the projected break-even core count, against a known truth.

The truth is chosen (S, f_t, f_b), the measured ratios at p0 cores follow from Amdahl, and the
projection must give back p* = ((1 - f_b) - S (1 - f_t)) / (S f_t - f_b).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.analysis import projection
from harness.analysis.stats import contrast

S, F_T, F_B = 1.5, 0.02, 0.1
P_STAR = ((1 - F_B) - S * (1 - F_T)) / (S * F_T - F_B)  # 0.57 / 0.07 = 8.142857...


def amdahl_speedup(f, p):
    return 1 / (f + (1 - f) / p)


def _row(host, cpu, workload, kind, variant, role, strategy, workers, metric, value, se, df):
    return {"host": host, "cpu_count": cpu, "workload": workload, "kind": kind, "variant": variant,
            "role": role, "strategy": strategy, "workers": workers, "metric": metric, "value": value,
            "ci_low": value * math.exp(-2 * se), "ci_high": value * math.exp(2 * se), "df": df,
            "se_log": se}


def table(s=S, f_t=F_T, f_b=F_B, se=0.001, df=20.0, host="h", workload="w", kind="cpu", cpu=2,
          workers=(1, 2, 4)) -> pd.DataFrame:
    """A tidy ratios table as harness.analysis.tables writes it, from the true parameters."""
    rows = [_row(host, cpu, workload, kind, "3.13t", "free-threaded", "sequential", 1, "slowdown", s, se, df),
            # the control and the baseline's threads are not inputs: absurd values must not matter
            _row(host, cpu, workload, kind, "3.13t-gil", "control", "sequential", 1, "slowdown", 9.0, se, df)]
    for w in workers:
        p = min(w, cpu)
        rows += [_row(host, cpu, workload, kind, "3.13t", "free-threaded", "threads", w, "speedup",
                      amdahl_speedup(f_t, p) if w <= cpu else 0.3, se, df),
                 _row(host, cpu, workload, kind, "3.13", "baseline", "processes", w, "speedup",
                      amdahl_speedup(f_b, p) if w <= cpu else 0.3, se, df),
                 _row(host, cpu, workload, kind, "3.13", "baseline", "threads", w, "speedup", 0.1, se, df),
                 _row(host, cpu, workload, kind, "3.13t-gil", "control", "threads", w, "speedup", 0.1, se, df),
                 _row(host, cpu, workload, kind, "3.13t", "free-threaded", "threads", w, "gain", 5.0, se, df)]
    return pd.DataFrame(rows)


def test_closed_form_known_truth():
    p = projection.projected_break_even_cores(S, F_T, F_B)
    assert p == pytest.approx(0.57 / 0.07)
    assert projection.threads_time(p, S, F_T) == pytest.approx(projection.processes_time(p, F_B))
    assert projection.threads_time(p - 0.5, S, F_T) > projection.processes_time(p - 0.5, F_B)
    assert projection.threads_time(p + 0.5, S, F_T) < projection.processes_time(p + 0.5, F_B)


def test_never_already_and_nan():
    assert math.isinf(projection.projected_break_even_cores(2.4, 0.17, 0.08))  # S f_t > f_b: the lines never cross
    # S f_t == f_b: parallel lines, threads above
    assert math.isinf(projection.projected_break_even_cores(2.0, 0.05, 0.1))
    assert projection.projected_break_even_cores(2.0, 0.0, 0.6) == pytest.approx(1.6 / 0.6)  # 2/p against 0.6 + 0.4/p
    assert projection.projected_break_even_cores(0.9, 0.1, 0.1) == 1.0  # threads win from one core on
    assert projection.projected_break_even_cores(1.0, 0.01, 0.3, p_min=2) == 2.0  # already at the measured cores
    assert math.isnan(projection.projected_break_even_cores(math.nan, 0.1, 0.1))
    # S f_t > f_b with threads ahead on few cores only: past p_min they never win again
    assert projection.projected_break_even_cores(0.9, 0.3, 0.1, p_min=1) == 1.0
    assert math.isinf(projection.projected_break_even_cores(0.9, 0.3, 0.1, p_min=4))


def test_project_recovers_the_truth_with_a_narrow_interval():
    out = projection.project(table())
    assert len(out) == 1  # one row per free-threaded variant: the control is not projected
    r = out.iloc[0]
    assert r["variant"] == "3.13t" and r["baseline"] == "3.13" and r["cores_measured"] == 2
    assert r["f_threads"] == pytest.approx(F_T) and r["f_processes_baseline"] == pytest.approx(F_B)
    assert r["slowdown"] == pytest.approx(S)
    assert r["status"] == "projected" and r["break_even_cores"] == pytest.approx(P_STAR)
    assert r["break_even_ceil"] == 9
    assert r["low"] < P_STAR < r["high"] and r["high"] / r["low"] < 1.3
    assert r["median"] == pytest.approx(P_STAR, rel=0.02)
    assert r["never_share"] == 0 and r["already_share"] == 0
    assert r["label"] == "projection (Amdahl from the serial fraction at 2 cores)"


def test_wider_inputs_give_a_wider_interval_and_the_seed_is_fixed():
    narrow = projection.project(table(se=0.001)).iloc[0]
    wide = projection.project(table(se=0.01)).iloc[0]
    assert wide["high"] - wide["low"] > 3 * (narrow["high"] - narrow["low"])
    again = projection.project(table(se=0.01)).iloc[0]
    assert (again["low"], again["high"]) == (wide["low"], wide["high"])
    # a workload's draws do not depend on the other rows of the table
    both = projection.project(pd.concat([table(se=0.01, workload="a"), table(se=0.01)])).set_index("workload")
    assert (both.loc["w", "low"], both.loc["w", "high"]) == (wide["low"], wide["high"])


def test_never_and_already_cases_in_project():
    never = projection.project(table(s=2.4, f_t=0.17, f_b=0.08)).iloc[0]
    assert never["status"] == "never" and math.isinf(never["break_even_cores"]) and never["never_share"] > 0.99
    already = projection.project(table(s=1.0, f_t=0.04, f_b=0.3)).iloc[0]
    assert already["status"] == "already" and already["break_even_cores"] == 2
    assert "measured" in already["note"] and already["already_share"] > 0.99
    md = projection.section_markdown(pd.concat([never.to_frame().T, already.to_frame().T]))
    assert "already at 2 (measured)" in md and "| never |" in md


def test_io_workloads_get_no_number():
    r = projection.project(table(kind="io")).iloc[0]
    assert r["status"] == "n/a" and math.isnan(r["break_even_cores"]) and math.isnan(r["low"])
    assert "I/O" in r["note"]


def test_workers_are_the_cores_when_measured_else_the_largest_below():
    r4 = projection.project(table(cpu=4, workers=(1, 2, 4, 8))).iloc[0]
    assert r4["cores_measured"] == 4 and r4["break_even_cores"] == pytest.approx(P_STAR)
    r3 = projection.project(table(cpu=3, workers=(1, 2, 4))).iloc[0]
    assert r3["cores_measured"] == 2 and r3["break_even_cores"] == pytest.approx(P_STAR)
    r1 = projection.project(table(workers=(1, 4))).iloc[0]
    assert r1["status"] == "n/a" and "one usable core" in r1["note"]


def test_missing_inputs_and_one_process_inputs():
    t = table()
    r = projection.project(t[~((t["variant"] == "3.13") & (t["strategy"] == "processes"))]).iloc[0]
    assert r["status"] == "n/a" and "3.13 processes speedup" in r["note"]
    t.loc[t["metric"] == "slowdown", "se_log"] = math.nan  # one process on a side: CI n/a
    r = projection.project(t).iloc[0]
    assert r["break_even_cores"] == pytest.approx(P_STAR) and math.isnan(r["low"]) and math.isnan(r["high"])
    assert "no interval" in r["note"]


def test_superlinear_speedup_is_clipped_and_noted():
    t = table()
    sel = (t["variant"] == "3.13t") & (t["strategy"] == "threads") & (t["workers"] == 2)
    t.loc[sel, "value"] = 2.05  # Karp-Flatt < 0: not a serial fraction
    r = projection.project(t).iloc[0]
    assert r["f_threads"] == 0 and "outside [0, 1]" in r["note"]
    assert r["break_even_cores"] == pytest.approx(projection.projected_break_even_cores(S, 0.0, F_B))


def _simulated(rng, i, n=10, sigma=0.01):
    """Process means of the four benchmarks behind the three inputs, truth (S, F_T, F_B) at 2 cores."""
    def procs(mu):
        return mu * (1 + sigma * rng.standard_normal(n))
    seq_b, seq_ft = procs(1.0), procs(S)
    thr_ft = procs(S / amdahl_speedup(F_T, 2))
    proc_b = procs(1 / amdahl_speedup(F_B, 2))
    rows = []
    for variant, role, strategy, workers, metric, c in (
            ("3.13t", "free-threaded", "sequential", 1, "slowdown", contrast([(seq_ft, 1), (seq_b, -1)])),
            ("3.13t", "free-threaded", "threads", 2, "speedup", contrast([(seq_ft, 1), (thr_ft, -1)])),
            ("3.13", "baseline", "processes", 2, "speedup", contrast([(seq_b, 1), (proc_b, -1)]))):
        rows.append(_row(f"h{i}", 2, "w", "cpu", variant, role, strategy, workers, metric, c.value, c.se, c.df))
    return rows


@pytest.mark.known_truth
def test_monte_carlo_interval_covers_the_truth_on_simulated_processes():
    """200 simulated campaigns (one host each) measured with pyperf-like process noise."""
    rng = np.random.default_rng(11)
    rows = [row for i in range(200) for row in _simulated(rng, i)]
    out = projection.project(pd.DataFrame(rows), draws=2000)
    cover = ((out["low"] <= P_STAR) & (P_STAR <= out["high"])).mean()
    assert 0.9 <= cover < 1.0, cover
    assert (out["status"] == "projected").mean() > 0.9


def test_section_markdown_is_labelled_a_projection():
    md = projection.section_markdown(projection.project(pd.concat([table(), table(workload="io", kind="io")])))
    assert md.startswith(projection.TITLE) and "Projection, not a measurement" in md
    assert "8.1 (ceil 9)" in md and "I/O-bound" in md
    assert "No projection" in projection.section_markdown(projection.project(pd.DataFrame()))
