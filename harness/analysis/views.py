"""Wide views pivoted from the ratios: summary.csv, scaling.csv and the run metadata per variant.

Nothing new is estimated here: every ratio, interval and verdict is a row of the ratios table
(harness.analysis.ratios), read at a worker count fixed in advance (:func:`reference_workers`), so
a per-strategy figure is never the best of several noisy ones.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.analysis.cells import workload_cells
from harness.analysis.claims import _first, _str
from harness.analysis.load import PROVENANCE, benchmarks_table, joined, sweep_rows
from harness.analysis.order import baseline_variant, role, sort_rows, strategies
from harness.analysis.ratios import ratios_table
from harness.analysis.selection import best_option
from harness.analysis.stats import (
    MARGIN,
    break_even,
    contrast,
    describe_runs_values,
    efficiency,
    karp_flatt,
    significant,
    usable_cores,
)


def _pick(ratios: pd.DataFrame, **where) -> dict | None:
    sel = ratios
    for k, v in where.items():
        sel = sel[sel[k] == v]
    return sel.iloc[0].to_dict() if len(sel) else None


def _wide(prefix: str, r: dict | None) -> dict:
    if r is None:
        return {prefix: math.nan, f"{prefix}_ci_low": math.nan, f"{prefix}_ci_high": math.nan,
                f"{prefix}_significant": None, f"{prefix}_verdict": None}
    return {prefix: r["value"], f"{prefix}_ci_low": r["ci_low"], f"{prefix}_ci_high": r["ci_high"],
            f"{prefix}_significant": r["significant"], f"{prefix}_verdict": r["verdict"]}


def reference_workers(kind, workers, cores) -> int | None:
    """The worker count a per-strategy figure is read at, fixed in advance (not the best one, so
    no winner's curse): the core count for CPU work, the largest count for I/O work."""
    ws = sorted(int(w) for w in workers)
    if not ws:
        return None
    if kind == "io" or not cores:
        return ws[-1]
    under = [w for w in ws if w <= cores]
    return cores if cores in ws else (under[-1] if under else ws[0])


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
        cell = cells.get((host, variant, workload))
        bname = baseline_variant(variant, names)
        base = cells.get((host, bname, workload)) if bname else None
        rat = ratios[(ratios["host"] == host) & (ratios["workload"] == workload)
                     & (ratios["variant"] == variant)]
        rows.append(_summary_row(group, cell, base, bname, rat, present, margin))
    df = pd.DataFrame(rows)
    for col in [c for c in df.columns if c.endswith("_significant")]:
        df[col] = df[col].astype("boolean")
    for col in [c for c in df.columns if "workers" in c] + ["cpu_count", "n_ok", "n_failed"]:
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    return sort_rows(df, ("host", "workload", "variant"))


def _summary_row(group, cell, base, bname, rat, present, margin) -> dict:
    first = group.iloc[0]
    host, workload, variant = first["host"], first["workload"], first["variant"]
    is_base = bname == variant
    row = {
        "host": host, "cpu_model": _first(group["cpu_model"]),
        "cpu_count": _first(group["cpu_count"]), "workload": workload,
        "kind": _first(group["kind"]), "variant": variant, "role": role(variant),
        "baseline": bname, "free_threaded": _first(group["free_threaded"]),
        "python_version": _first(group["python_version"]),
        "n_ok": int((group["status"] == "ok").sum()),
        "n_failed": int((group["status"] != "ok").sum()),
    }
    notes = []
    if row["n_failed"]:
        bad = group[group["status"] != "ok"]
        notes.append(f"{len(bad)} benchmark(s) not measured: "
                     + ", ".join(f"{s}/{w} {st}" for s, w, st in
                                 zip(bad["strategy"], bad["workers"], bad["status"], strict=True)))
    seq = cell.seq if cell else None
    if seq is None:
        notes.append(f"no successful sequential run of {variant}: speedups empty")
    if not is_base:
        if bname is None:
            notes.append(f"no baseline variant on host {host}: comparisons with the baseline "
                         "empty")
        elif base is None:
            notes.append(f"no successful {bname} run of {workload}: comparisons with {bname} "
                         "empty")
        elif base.seq is None:
            notes.append(f"no successful {bname} sequential run: slowdown empty")
    seq_runs = [r for r in group.to_dict("records") if r["strategy"] == "sequential"
                and r["status"] == "ok"]
    st = describe_runs_values(seq_runs[0]["runs"]) if seq_runs and seq_runs[0]["runs"] else {}
    row |= {"seq_time": st.get("mean", math.nan), "seq_ci_low": st.get("ci95_low", math.nan),
            "seq_ci_high": st.get("ci95_high", math.nan),
            "seq_processes": st.get("n_processes")}
    if st and st["n_processes"] < 2:
        notes.append("one sequential process: its CI is n/a")
    if is_base:
        row |= {"slowdown": 1.0, "slowdown_ci_low": math.nan, "slowdown_ci_high": math.nan,
                "slowdown_significant": False, "slowdown_verdict": "baseline"}
    else:
        row |= _wide("slowdown", _pick(rat, metric="slowdown"))
    best = best_option(cell, base, margin) if cell else None
    bs, bw = best.option if best else (None, None)
    row |= {"best_strategy": bs, "best_workers": bw,
            "best_time": best.time if best else math.nan,
            "tied_with_fastest": best.tied if best else None,
            "best_selection": best.selection if best else None}
    row |= _wide("best_speedup", _pick(rat, metric="best_speedup"))
    if bs and bs != "sequential" and math.isnan(row["best_speedup_ci_low"]):
        notes.append("best option: CI n/a (< 3 processes per option: 1 to choose, 2 to "
                     "estimate)")
    bb = best.baseline_option if best else None
    row["baseline_best"] = f"{bb[0]} x{bb[1]}" if bb else None
    row["baseline_best_time"] = best.baseline_time if best else math.nan
    if is_base:
        row |= {"gain_best": 1.0, "gain_best_ci_low": math.nan, "gain_best_ci_high": math.nan,
                "gain_best_significant": False, "gain_best_verdict": "baseline"}
    else:
        row |= _wide("gain_best", _pick(rat, metric="gain_best"))
    row["break_even_workers"], row["break_even_verdict"] = None, None
    if not is_base and bb and cell:
        threads = {w: v for (s, w), v in cell.options.items() if s == "threads"}
        w = break_even({w: v.mean() for w, v in threads.items()}, base.options[bb].mean())
        if w is not None:
            c = contrast([(base.options[bb], 1), (threads[w], -1)])
            row["break_even_workers"] = w
            row["break_even_verdict"] = ("significant" if significant(c.low, c.high)
                                         else "n.s.")
    cores = row["cpu_count"]
    for s in present:
        ws = [w for (ss, w) in (cell.options if cell else {}) if ss == s]
        w = reference_workers(row["kind"], ws, cores)
        row[f"workers_{s}"] = w
        row[f"time_{s}"] = cell.options[(s, w)].mean() if w is not None else math.nan
        sp = _pick(rat, metric="speedup", strategy=s, workers=w) if w is not None else None
        row |= _wide(f"speedup_{s}", sp)
        row |= _wide(f"gain_{s}", None if is_base or w is None else
                     _pick(rat, metric="gain", strategy=s, workers=w))
        spv = row[f"speedup_{s}"]
        row[f"efficiency_{s}"] = efficiency(spv, w, cores, row["kind"]) if w else math.nan
        kf = karp_flatt(spv, w, cores, row["kind"]) if w else math.nan
        row[f"karp_flatt_{s}"] = kf
        row[f"karp_flatt_{s}_flag"] = ("outside [0, 1]" if not math.isnan(kf)
                                       and not 0 <= kf <= 1 else "")
    row["note"] = "; ".join(notes)
    return row


def _why(busy, speedup, workers, cores, kind) -> str | None:
    """serialised / contended / waiting / scaling, from busy cores and speedup (issue 12)."""
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


def scaling_table(raw: pd.DataFrame, ratios: pd.DataFrame | None = None,
                  margin: float = MARGIN) -> pd.DataFrame:
    """Every (host, workload, variant, strategy, workers) point, with what explains it.

    speedup (or weak-scaling efficiency t(1)/t(N) when the benchmark ran with --scaling weak)
    against the variant's own sequential time; speedup_vs_baseline against the same host's
    baseline sequential time; efficiency and Karp-Flatt with p = min(workers, cores) (empty for
    p = 1 and I/O work; flagged outside [0, 1]); from newer run metadata: busy cores, CPU per unit
    of work relative to sequential (busy cores / speedup), the "why" verdict and MB of peak
    process-tree memory per unit of speedup.
    """
    if ratios is None:
        ratios = ratios_table(raw, margin)
    bench = benchmarks_table(raw)
    bench = bench[bench["status"] == "ok"]
    rows = []
    for rec in bench.to_dict("records"):
        key = dict(host=rec["host"], workload=rec["workload"], variant=rec["variant"],
                   strategy=rec["strategy"], workers=rec["workers"])
        sel = ratios
        for k, v in key.items():
            sel = sel[sel[k] == v]
        sp = _pick(sel, metric="speedup") or _pick(sel, metric="weak_efficiency")
        weak = sp is not None and sp["metric"] == "weak_efficiency"
        row = {**key, "cpu_count": rec["cpu_count"], "kind": rec["kind"],
               "scaling": rec["scaling"] or None, "time": rec["mean"],
               "n_processes": rec["n_processes"]}
        if rec["strategy"] == "sequential":
            sp = {"value": 1.0, "ci_low": math.nan, "ci_high": math.nan, "significant": False,
                  "verdict": "reference"}
        row |= _wide("speedup", None if weak else sp)
        row["weak_efficiency"] = sp["value"] if weak else math.nan
        row |= _wide("speedup_vs_baseline", _pick(sel, metric="speedup_vs_baseline")
                     or (_pick(sel, metric="slowdown") and _inverse(_pick(sel, metric="slowdown")))
                     )
        s = row["speedup"]
        row["efficiency"] = efficiency(s, rec["workers"], rec["cpu_count"], rec["kind"])
        kf = karp_flatt(s, rec["workers"], rec["cpu_count"], rec["kind"])
        row["karp_flatt"] = kf
        row["karp_flatt_flag"] = "outside [0, 1]" if kf == kf and not 0 <= kf <= 1 else ""
        busy = rec["busy_cores"]
        busy = float(busy) if busy is not None and busy == busy else math.nan
        row["busy_cores"] = busy
        row["cpu_per_work"] = busy / s if s and s == s and busy == busy else math.nan
        row["why"] = _why(busy, s, rec["workers"], rec["cpu_count"], rec["kind"])
        mem = rec["peak_tree_memory"]
        mem = float(mem) / 2**20 if mem is not None and mem is not pd.NA else math.nan
        row["peak_tree_memory_mb"] = mem
        row["mb_per_speedup"] = mem / s if s and s == s and mem == mem else math.nan
        rows.append(row)
    columns = ["host", "cpu_count", "workload", "kind", "variant", "strategy", "workers",
               "scaling", "time", "n_processes",
               *(f"{p}{x}" for p in ("speedup", "speedup_vs_baseline")
                 for x in ("", "_ci_low", "_ci_high", "_significant", "_verdict")),
               "weak_efficiency", "efficiency", "karp_flatt", "karp_flatt_flag", "busy_cores",
               "cpu_per_work", "why", "peak_tree_memory_mb", "mb_per_speedup"]
    df = pd.DataFrame(rows, columns=columns)
    for col in [c for c in df.columns if c.endswith("_significant")]:
        df[col] = df[col].astype("boolean")
    return sort_rows(df)


def _inverse(r: dict) -> dict:
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
            "cpu_model": _first(g["cpu_model"]),
            "cpu_count": _first(g["cpu_count"]), "python_version": joined(g["python_version"]),
            "free_threaded": _first(g["free_threaded"]),
            "benchmarks": len(g), "ok": int((g["status"] == "ok").sum()),
            "failed": int((g["status"] != "ok").sum()),
            "runs_flagged": int(pd.to_numeric(g["n_runs_flagged"]).fillna(0).sum()),
            "date_first": min((d for d in g["date_first"] if _str(d)), default=None),
            "date_last": max((d for d in g["date_last"] if _str(d)), default=None),
            **{col: joined(v for x in g[col] if _str(x) for v in x.split("; "))
               for col in PROVENANCE},
        })
    return sort_rows(pd.DataFrame(rows), ("host", "variant"))

