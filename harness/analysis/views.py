"""Wide views pivoted from the ratios: summary.csv, scaling.csv and the run metadata per variant.

Nothing new is estimated here: every ratio, interval and verdict is a row of the ratios table
(harness.analysis.ratios), read at a worker count fixed in advance (:func:`reference_workers`), so
a per-strategy figure is never the best of several noisy ones.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.analysis.cells import reference_workers, workload_cells
from harness.analysis.load import PROVENANCE, benchmarks_table, joined, sweep_rows
from harness.analysis.order import baseline_variant, role, sort_rows, strategies
from harness.analysis.pairing import estimate
from harness.analysis.ratios import ratios_table
from harness.analysis.selection import choose, option_text, tie_summary
from harness.analysis.stats import (
    MARGIN,
    describe_runs_values,
    efficiency,
    karp_flatt,
    measured_break_even_workers,
    significant,
    usable_cores,
)
from harness.analysis.values import first_present, text_or_none


def _first_match(ratios: pd.DataFrame, **where) -> dict | None:
    """The first ratio row whose columns equal ``where``, as a dict; None if there is none."""
    sel = ratios
    for k, v in where.items():
        sel = sel[sel[k] == v]
    return sel.iloc[0].to_dict() if len(sel) else None


def _wide_columns(prefix: str, r: dict | None) -> dict:
    """A ratio row as the wide columns ``prefix``, ``prefix_ci_low``, ... (missing: NaN and None);
    ``prefix_flag`` is what must be printed next to the figure (e.g. "above 2 cores")."""
    if r is None:
        return {prefix: math.nan, f"{prefix}_ci_low": math.nan, f"{prefix}_ci_high": math.nan,
                f"{prefix}_significant": None, f"{prefix}_verdict": None, f"{prefix}_flag": ""}
    return {prefix: r["value"], f"{prefix}_ci_low": r["ci_low"], f"{prefix}_ci_high": r["ci_high"],
            f"{prefix}_significant": r["significant"], f"{prefix}_verdict": r["verdict"],
            f"{prefix}_flag": text_or_none(r.get("flag")) or ""}


def _against_itself(prefix: str) -> dict:
    """The wide columns of a baseline compared with itself: 1.0, no interval, verdict "baseline"."""
    return {prefix: 1.0, f"{prefix}_ci_low": math.nan, f"{prefix}_ci_high": math.nan,
            f"{prefix}_significant": False, f"{prefix}_verdict": "baseline", f"{prefix}_flag": ""}


def summary_table(raw: pd.DataFrame, ratios: pd.DataFrame | None = None,
                  margin: float = MARGIN) -> pd.DataFrame:
    """One row per host x workload x variant, pivoted from the ratios (plus times and notes)."""
    if ratios is None:
        ratios = ratios_table(raw, margin)
    cells = workload_cells(raw)
    raw = sweep_rows(raw)
    names = list(dict.fromkeys(raw["variant"]))
    present = strategies(s for s in raw["strategy"] if s != "sequential")
    rows = []
    for (host, workload, variant), group in raw.groupby(["host", "workload", "variant"],
                                                        sort=False):
        baseline_name = baseline_variant(variant, names)
        cell_ratios = ratios[(ratios["host"] == host) & (ratios["workload"] == workload)
                             & (ratios["variant"] == variant)]
        rows.append(_summary_row(group, cells.get((host, variant, workload)),
                                 cells.get((host, baseline_name, workload)) if baseline_name else None,
                                 baseline_name, cell_ratios, present, margin))
    df = pd.DataFrame(rows)
    for col in [c for c in df.columns if c.endswith("_significant")]:
        df[col] = df[col].astype("boolean")
    for col in [c for c in df.columns if "workers" in c] + ["cpu_count", "n_ok", "n_failed"]:
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    return sort_rows(df, ("host", "workload", "variant"))


def _summary_row(group, cell, base, baseline_name, cell_ratios, present, margin) -> dict:
    """One summary row; its keys, in order, are the columns of summary.csv."""
    first = group.iloc[0]
    variant = first["variant"]
    is_base = baseline_name == variant
    row = {
        "host": first["host"], "cpu_model": first_present(group["cpu_model"]),
        "cpu_count": first_present(group["cpu_count"]), "workload": first["workload"],
        "kind": first_present(group["kind"]), "variant": variant, "role": role(variant),
        "baseline": baseline_name, "free_threaded": first_present(group["free_threaded"]),
        "python_version": first_present(group["python_version"]),
        "n_ok": int((group["status"] == "ok").sum()),
        "n_failed": int((group["status"] != "ok").sum()),
    }
    notes = _missing_notes(group, cell, base, baseline_name, is_base)
    row |= _sequential_time(group, notes)
    row |= _against_itself("slowdown") if is_base else _wide_columns(
        "slowdown", _first_match(cell_ratios, metric="slowdown"))
    for metric in ("memory_ratio", "memory_ratio_best"):  # peak tree memory over the baseline's
        row |= _against_itself(metric) if is_base else _wide_columns(metric, _first_match(cell_ratios, metric=metric))
    best = choose(cell, base) if cell else None
    row |= _best_columns(best, cell_ratios, is_base, notes)
    row["break_even_workers"], row["break_even_verdict"] = None, None
    if not is_base and best and best.baseline_option:
        row |= _measured_break_even(cell, base.options[best.baseline_option])
    for strategy in present:
        row |= _strategy_columns(strategy, cell, cell_ratios, row["kind"], row["cpu_count"], is_base)
    row["note"] = "; ".join(notes)
    return row


def _missing_notes(group, cell, base, baseline_name, is_base) -> list[str]:
    """Why a summary row has empty columns: benchmarks not measured, no sequential run, no baseline."""
    first = group.iloc[0]
    host, workload, variant = first["host"], first["workload"], first["variant"]
    notes = []
    bad = group[group["status"] != "ok"]
    if len(bad):
        notes.append(f"{len(bad)} benchmark(s) not measured: "
                     + ", ".join(f"{s}/{w} {st}" for s, w, st in
                                 zip(bad["strategy"], bad["workers"], bad["status"], strict=True)))
    if (cell.sequential if cell else None) is None:
        notes.append(f"no successful sequential run of {variant}: speedups empty")
    if is_base:
        return notes
    if baseline_name is None:
        notes.append(f"no baseline variant on host {host}: comparisons with the baseline "
                     "empty")
    elif base is None:
        notes.append(f"no successful {baseline_name} run of {workload}: comparisons with {baseline_name} "
                     "empty")
    elif base.sequential is None:
        notes.append(f"no successful {baseline_name} sequential run: slowdown empty")
    return notes


def _sequential_time(group, notes: list[str]) -> dict:
    """seq_time and its t interval over the processes of the variant's sequential run."""
    seq_runs = [r for r in group.to_dict("records") if r["strategy"] == "sequential"
                and r["status"] == "ok"]
    st = describe_runs_values(seq_runs[0]["runs"]) if seq_runs and seq_runs[0]["runs"] else {}
    if st and st["n_processes"] < 2:
        notes.append("one sequential process: its CI is n/a")
    return {"seq_time": st.get("mean", math.nan), "seq_ci_low": st.get("ci95_low", math.nan),
            "seq_ci_high": st.get("ci95_high", math.nan), "seq_processes": st.get("n_processes")}


def _best_columns(best, cell_ratios, is_base: bool, notes: list[str]) -> dict:
    """The best option, its selection-aware speedup, the baseline's best and the gain over it, and
    the options tied with the fastest (read from the regret rows of the ratios table)."""
    strategy, workers = best.option if best else (None, None)
    row = {"best_strategy": strategy, "best_workers": workers,
           "best_time": best.time if best else math.nan,
           "best_selection": best.selection if best else None}
    row |= tie_summary(cell_ratios[cell_ratios["metric"] == "regret"])
    speedup = _first_match(cell_ratios, metric="best_speedup")
    row |= _wide_columns("best_speedup", speedup)
    if strategy and strategy != "sequential" and math.isnan(row["best_speedup_ci_low"]):
        notes.append("best option: CI n/a (< 3 processes per option: 1 to choose, 2 to "
                     "estimate)")
    gain = None if is_base else _first_match(cell_ratios, metric="gain_best")
    base_option = best.baseline_option if best else None
    row["baseline_best"] = option_text(base_option) if base_option else None
    row["baseline_best_time"] = best.baseline_time if best else math.nan
    row |= _against_itself("gain_best") if is_base else _wide_columns("gain_best", gain)
    return row


def _measured_break_even(cell, baseline_best) -> dict:
    """The fewest threads whose mean beats the baseline's best option, and whether that is significant
    (the same estimator as every ratio: paired by round where they shared rounds)."""
    threads = {w: v for (s, w), v in cell.options.items() if s == "threads"}
    w = measured_break_even_workers({w: v.mean() for w, v in threads.items()}, baseline_best.mean())
    if w is None:
        return {}
    c = estimate([(baseline_best, 1), (threads[w], -1)]).contrast
    return {"break_even_workers": w,
            "break_even_verdict": "significant" if significant(c.low, c.high) else "n.s."}


def _strategy_columns(strategy, cell, cell_ratios, kind, cores, is_base: bool) -> dict:
    """One strategy at its reference worker count: time, speedup, gain, efficiency, Karp-Flatt."""
    s = strategy
    w = reference_workers(kind, [ww for (ss, ww) in (cell.options if cell else {}) if ss == s], cores)
    row = {f"workers_{s}": w,
           f"time_{s}": cell.options[(s, w)].mean() if w is not None else math.nan}
    row |= _wide_columns(f"speedup_{s}", _first_match(cell_ratios, metric="speedup", strategy=s, workers=w)
                         if w is not None else None)
    row |= _wide_columns(f"gain_{s}", None if is_base or w is None else
                         _first_match(cell_ratios, metric="gain", strategy=s, workers=w))
    speedup = row[f"speedup_{s}"]
    row[f"efficiency_{s}"] = efficiency(speedup, w, cores, kind) if w else math.nan
    kf = karp_flatt(speedup, w, cores, kind) if w else math.nan
    row[f"karp_flatt_{s}"] = kf
    row[f"karp_flatt_{s}_flag"] = "outside [0, 1]" if not math.isnan(kf) and not 0 <= kf <= 1 else ""
    return row


def scaling_diagnosis(busy, speedup, workers, cores, kind) -> str | None:
    """Why a point scales or not, from the busy cores its run recorded and its speedup.

    waiting: under half a core busy (it waits, on I/O or a lock held elsewhere); scaling: at least
    80% of the usable cores' speedup; serialised: about one core busy and no speedup (one thread
    at a time, e.g. the GIL); contended: the cores busy but the work not done faster (spinning,
    contention); partly serialised: in between. None without busy cores or with one usable core.
    """
    if busy is None or busy != busy or speedup != speedup:
        return None
    p = usable_cores(workers, cores) or 1
    if busy < 0.5:
        return "waiting"
    if p <= 1:
        return None
    if speedup >= 0.8 * p:
        return "scaling"
    if busy < 1.3 and speedup < 1.3:
        return "serialised"
    if busy >= 0.7 * p:
        return "contended"
    return "partly serialised"


SCALING_COLUMNS = ["host", "cpu_count", "workload", "kind", "variant", "strategy", "workers",
                   "scaling", "time", "n_processes",
                   *(f"{p}{x}" for p in ("speedup", "speedup_vs_baseline")
                     for x in ("", "_ci_low", "_ci_high", "_significant", "_verdict", "_flag")),
                   "weak_efficiency", "efficiency", "karp_flatt", "karp_flatt_flag", "busy_cores",
                   "cpu_per_work", "why", "peak_tree_memory_mb", "mb_per_speedup"]
REFERENCE = {"value": 1.0, "ci_low": math.nan, "ci_high": math.nan, "significant": False,
             "verdict": "reference"}  # the sequential point: the yardstick of its own speedups


def scaling_table(raw: pd.DataFrame, ratios: pd.DataFrame | None = None,
                  margin: float = MARGIN, causes: dict | None = None) -> pd.DataFrame:
    """Every (host, workload, variant, strategy, workers) point, with what explains it.

    speedup (or weak-scaling efficiency t(1)/t(N) when the benchmark ran with --scaling weak)
    against the variant's own sequential time; speedup_vs_baseline against the same host's
    baseline sequential time; efficiency and Karp-Flatt with p = min(workers, cores) (empty for
    p = 1 and I/O work; flagged outside [0, 1]); from the run metadata where recorded: busy cores,
    CPU per unit of work relative to sequential (busy cores / speedup), the "why" verdict and MB
    of peak process-tree memory per unit of speedup. ``causes`` (from the profiles of ``nox -s why``,
    :func:`harness.profile.outputs.causes`) extends a "contended" verdict with where its extra CPU goes.
    """
    if ratios is None:
        ratios = ratios_table(raw, margin)
    bench = benchmarks_table(raw)
    bench = bench[bench["status"] == "ok"]
    rows = [_scaling_row(rec, ratios) for rec in bench.to_dict("records")]
    df = pd.DataFrame(rows, columns=SCALING_COLUMNS)
    if causes:
        df["why"] = [_with_cause(why, causes.get((r.host, r.workload, r.variant, r.strategy, int(r.workers))))
                     for why, r in zip(df["why"], df.itertuples(), strict=True)]
    for col in [c for c in df.columns if c.endswith("_significant")]:
        df[col] = df[col].astype("boolean")
    return sort_rows(df)


def _with_cause(why, cause: str | None):
    """'contended: 58% of the extra CPU in reference counting, top: ...' where a profile names the cause."""
    return f"{why}: {cause}" if why == "contended" and cause else why


def _scaling_row(rec: dict, ratios: pd.DataFrame) -> dict:
    """One benchmark's point of the scaling table, from its row of benchmarks.csv and its ratios."""
    key = dict(host=rec["host"], workload=rec["workload"], variant=rec["variant"],
               strategy=rec["strategy"], workers=rec["workers"])
    point = ratios
    for k, v in key.items():
        point = point[point[k] == v]
    speedup = _first_match(point, metric="speedup") or _first_match(point, metric="weak_efficiency")
    weak = speedup is not None and speedup["metric"] == "weak_efficiency"
    row = {**key, "cpu_count": rec["cpu_count"], "kind": rec["kind"],
           "scaling": rec["scaling"] or None, "time": rec["mean"],
           "n_processes": rec["n_processes"]}
    if rec["strategy"] == "sequential":
        speedup = REFERENCE
    row |= _wide_columns("speedup", None if weak else speedup)
    row["weak_efficiency"] = speedup["value"] if weak else math.nan
    slowdown = _first_match(point, metric="slowdown_sweep") or _first_match(point, metric="slowdown")
    row |= _wide_columns("speedup_vs_baseline", _first_match(point, metric="speedup_vs_baseline")
                         or (slowdown and _inverse_ratio(slowdown)))
    s = row["speedup"]
    row["efficiency"] = efficiency(s, rec["workers"], rec["cpu_count"], rec["kind"])
    kf = karp_flatt(s, rec["workers"], rec["cpu_count"], rec["kind"])
    row["karp_flatt"] = kf
    row["karp_flatt_flag"] = "outside [0, 1]" if kf == kf and not 0 <= kf <= 1 else ""
    busy = rec["busy_cores"]
    busy = float(busy) if busy is not None and busy == busy else math.nan
    row["busy_cores"] = busy
    row["cpu_per_work"] = busy / s if s and s == s and busy == busy else math.nan
    row["why"] = scaling_diagnosis(busy, s, rec["workers"], rec["cpu_count"], rec["kind"])
    mem = rec["peak_tree_memory"]
    mem = float(mem) / 2**20 if mem is not None and mem is not pd.NA else math.nan
    row["peak_tree_memory_mb"] = mem
    row["mb_per_speedup"] = mem / s if s and s == s and mem == mem else math.nan
    return row


def _inverse_ratio(r: dict) -> dict:
    """1 / ratio, bounds swapped (the baseline-sequential yardstick of a sequential row)."""
    inv = lambda x: 1 / x if x and x == x else math.nan  # noqa: E731
    return {"value": inv(r["value"]), "ci_low": inv(r["ci_high"]), "ci_high": inv(r["ci_low"]),
            "significant": r["significant"], "verdict": {"greater": "less", "less": "greater"}
            .get(r["verdict"], r["verdict"])}


def run_metadata(raw: pd.DataFrame) -> pd.DataFrame:
    """Per host x variant: machine, interpreter and its provenance, versions, date range."""
    rows = []
    for (host, variant), g in raw.groupby(["host", "variant"], sort=False):
        rows.append({
            "host": host, "variant": variant, "role": role(variant),
            "cpu_model": first_present(g["cpu_model"]),
            "cpu_count": first_present(g["cpu_count"]), "python_version": joined(g["python_version"]),
            "free_threaded": first_present(g["free_threaded"]),
            "benchmarks": len(g), "ok": int((g["status"] == "ok").sum()),
            "failed": int((g["status"] != "ok").sum()),
            "runs_flagged": int(pd.to_numeric(g["n_runs_flagged"]).fillna(0).sum()),
            "date_first": min((d for d in g["date_first"] if text_or_none(d)), default=None),
            "date_last": max((d for d in g["date_last"] if text_or_none(d)), default=None),
            **{col: joined(v for x in g[col] if text_or_none(x) for v in x.split("; "))
               for col in PROVENANCE},
        })
    return sort_rows(pd.DataFrame(rows), ("host", "variant"))

