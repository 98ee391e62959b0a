"""The memory price of free-threading: a variant's peak memory over its baseline's, per process.

Every pyperf worker process of a campaign records the peak of its whole process tree's memory
over its timed values (``peak_tree_memory``, sampled by harness.measure.accounting): the summed PSS
of the worker and its descendants where ``/proc/<pid>/smaps_rollup`` is readable, else their summed
RSS (``memory_method`` says which; RSS counts a page shared by a pool's processes once in each).
The process is the unit of replication, as for times: one process, one peak. Two ratios per
variant, in ratios.csv's long form (> 1: the variant needs more memory):

- ``memory_ratio``: the variant's sequential peak / its baseline's, on the processes of the
  headline slowdown: the sequential references measured side by side in the confirmation rounds
  where both were, else the sweep's;
- ``memory_ratio_best``: the peak of the variant's best option / the peak of the baseline's best
  option, on the processes that estimate ``gain_best`` (harness.analysis.selection).

Both are estimated by :func:`harness.analysis.pairing.estimate` on series of peaks keyed like the
time series, by (invocation, stage, round): paired where the two benchmarks ran in the same rounds,
Welch over processes otherwise, the reason in the note. A set measured before the key existed has
no memory ratio (no row, rather than a guess). Two sides measured by different methods (PSS on one,
RSS on the other) get a row without a value, saying so.

Also here, for the report, the plots and the findings: the memory per unit of speedup of each
strategy (:func:`memory_per_speedup`) and the sentence of one workload x variant
(:func:`memory_sentence`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness import metadata as md
from harness.analysis.cells import WorkloadCell, label
from harness.analysis.pairing import Estimate, Series, estimate, series
from harness.analysis.selection import choose, option_text, split_positions
from harness.analysis.stats import Contrast
from harness.analysis.values import fmt_ratio, text_or_none

MEMORY_METRICS = ("memory_ratio", "memory_ratio_best")
PER_SPEEDUP_COLUMNS = ("host", "workload", "kind", "variant", "role", "strategy", "workers", "peak_tree_memory_mb",
                       "speedup", "mb_per_speedup")


@dataclass(frozen=True)
class Peaks:
    """The peak tree memory of one benchmark's kept processes, as a series, and how it was measured."""

    series: Series
    method: str | None  # "pss" or "rss" (differing values joined with "; "), None if not recorded


@dataclass(frozen=True)
class MemoryRatio:
    """One memory ratio of a cell, ready for :func:`harness.analysis.ratios.ratio_row`."""

    option: tuple  # (strategy, workers) of the variant's side
    metric: str
    against: str  # the baseline's side, as the ratios table's ``baseline`` column names it
    estimate: Estimate
    n_processes: int
    n_against: int
    selection: str = ""
    note: str = ""


def peak_series(raw: pd.DataFrame) -> dict:
    """{(host, variant, workload, stage, option): Peaks} of every benchmark whose every kept process
    recorded its peak tree memory (``stage``: "sweep" or the confirmation's)."""
    out: dict = {}
    ok = raw[(raw["status"] == "ok") & (raw["values"].map(len) > 0)]
    for rec in ok.to_dict("records"):
        peaks = rec.get("run_memory") or ()
        runs = rec.get("runs") or ()
        if not peaks or len(peaks) != len(runs) or any(p is None or not p > 0 for p in peaks):
            continue
        option = (rec["strategy"], int(rec["workers"]))
        stage = md.CONFIRM if rec.get("stage") == md.CONFIRM else "sweep"
        s = series(label(rec["variant"], option), [(float(p),) for p in peaks], rec.get("run_rounds"),
                   rec.get("run_invocations"), rec.get("run_dates"), stage, rec.get("flagged_rounds") or ())
        key = (rec["host"], rec["variant"], rec["workload"], stage, option)
        out[key] = Peaks(s, text_or_none(rec.get("memory_method")))
    return out


def memory_ratio(mine: Peaks, theirs: Peaks) -> tuple[Estimate, str]:
    """(estimate, note) of mean peak of ``mine`` / mean peak of ``theirs``: paired by (invocation,
    stage, round) where both ran in the same rounds, else Welch over processes (pairing's note)."""
    methods = {mine.method, theirs.method}
    if len(methods) > 1:
        nan = Contrast(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
        return Estimate(nan, False, 0), (f"peak memory measured as {mine.method or 'unknown'} for {mine.series.label} "
                                         f"and {theirs.method or 'unknown'} for {theirs.series.label}: no ratio")
    note = ("peak RSS of the process tree (PSS was not readable): a page shared by several processes counts "
            "in each") if methods == {"rss"} else ""
    return estimate([(mine.series, 1), (theirs.series, -1)]), note


def _sequential(cell: WorkloadCell, base: WorkloadCell, peaks: dict):
    """(mine, theirs, selection): the sequential peaks of the headline slowdown's processes."""
    def of(c: WorkloadCell, stage: str, option):
        return peaks.get((c.host, c.variant, c.workload, stage, option)) if option else None

    confirmed = [next((o for o in c.confirm if o[0] == "sequential"), None) for c in (cell, base)]
    if all(confirmed):
        mine, theirs = of(cell, md.CONFIRM, confirmed[0]), of(base, md.CONFIRM, confirmed[1])
        if mine and theirs:
            return mine, theirs, "sequential references measured side by side in the confirmation rounds"
    return of(cell, "sweep", cell.sequential_option), of(base, "sweep", base.sequential_option), ""


def _estimating(c: WorkloadCell, option, chosen: Series, peaks: dict) -> Peaks | None:
    """The peaks of the processes that estimate ``option``'s time (``chosen``): the confirmation's,
    all the sweep's, or the half of the sweep's that estimates it (harness.analysis.selection)."""
    if chosen is c.confirm.get(option):
        return peaks.get((c.host, c.variant, c.workload, md.CONFIRM, option))
    whole = peaks.get((c.host, c.variant, c.workload, "sweep", option))
    if whole is None or chosen is c.options.get(option):
        return whole
    half = split_positions(len(whole.series))[1]
    return Peaks(whole.series.subset(half), whole.method) if len(whole.series) == len(c.options[option]) else None


def memory_ratios(cell: WorkloadCell, base: WorkloadCell | None, peaks: dict) -> list[MemoryRatio]:
    """memory_ratio (sequential) and memory_ratio_best of ``cell`` against its baseline ``base``,
    each where both sides recorded their peaks; [] for the baseline itself or without one."""
    if base is None or base.variant == cell.variant:
        return []
    out = []
    mine, theirs, selection = _sequential(cell, base, peaks)
    if mine and theirs:
        est, note = memory_ratio(mine, theirs)
        out.append(MemoryRatio(cell.sequential_option, "memory_ratio", theirs.series.label, est, len(mine.series),
                               len(theirs.series), selection, note))
    best = choose(cell, base)
    if best is None or best.baseline_estimating is None:
        return out
    mine = _estimating(cell, best.option, best.estimating, peaks)
    theirs = _estimating(base, best.baseline_option, best.baseline_estimating, peaks)
    if mine and theirs:
        est, note = memory_ratio(mine, theirs)
        out.append(MemoryRatio(best.option, "memory_ratio_best", theirs.series.label, est, len(mine.series),
                               len(theirs.series), best.selection, note))
    return out


# ---------------------------------------------------------------------------------------------
# The standard suite: pyperf's own memory of each pyperformance process.

# What pyperf writes into every run on its own, psutil or not: the timed command's peak RSS for a command
# benchmark (python_startup, ...), else the worker's (resource.getrusage(RUSAGE_SELF).ru_maxrss).
PYPERF_MEMORY_KEYS = ("command_max_rss", "mem_max_rss")
PYPERF_MEMORY_TEXT = (
    "pyperformance, the standard suite: pyperf's own record of each worker process's peak RSS "
    "(`mem_max_rss`: `getrusage(RUSAGE_SELF)`, from the interpreter's start, imports and warmups included; "
    "`command_max_rss`, the timed command's, for a command benchmark), which pyperf writes on every run "
    "without psutil (pyperf turns psutil off on free-threaded builds). RSS, not PSS, and of the worker alone: "
    "comparable between the two builds, not with the tree PSS above. Per benchmark the ratio of the mean peaks "
    "(Welch over processes), then the geometric mean over the benchmarks both builds ran, with its CI (the "
    "benchmark set is fixed: the CI covers measurement noise only) and the spread between benchmarks.")


def _pyperf_peaks(path: str) -> dict:
    """{benchmark: [peak RSS of each run with values]} of one pyperformance suite file ({} if unreadable)."""
    try:
        import pyperf

        suite = pyperf.BenchmarkSuite.load(path)
    except Exception:  # noqa: BLE001 - pyperf raises ValueError, KeyError, TypeError...: no memory, said below
        return {}
    out = {}
    for bench in suite:
        runs = [r for r in bench.get_runs() if r.values]
        peaks = [next((r.get_metadata().get(k) for k in PYPERF_MEMORY_KEYS if r.get_metadata().get(k)), None)
                 for r in runs]
        out[bench.get_name()] = peaks
    return out


def pyperformance_peaks(loaded: pd.DataFrame) -> pd.DataFrame:
    """harness.analysis.standard.load's frame with each benchmark's ``means`` replaced by its processes'
    peak RSS as pyperf recorded it; a benchmark none of whose processes has one becomes "no-memory"."""
    if loaded is None or loaded.empty:
        return loaded
    files: dict = {}
    rows = []
    for rec in loaded.to_dict("records"):
        if rec["status"] == "ok":
            peaks = files.setdefault(rec["source"], _pyperf_peaks(rec["source"])).get(rec["benchmark"], [])
            kept = np.asarray([float(x) for x in peaks if x], dtype=float)
            if len(kept) < len(peaks) or not len(kept):
                rec = rec | {"status": "no-memory", "error": "pyperf recorded no peak RSS for "
                             f"{len(peaks) - len(kept)} of its {len(peaks)} processes", "means": np.asarray([])}
            else:
                rec = rec | {"means": kept, "mean": float(kept.mean()), "n_processes": len(kept)}
        rows.append(rec)
    return pd.DataFrame(rows, columns=loaded.columns)


def pyperformance_lines(geo: pd.DataFrame) -> list[str]:
    """REPORT.md bullets: per host x variant, the geometric mean of pyperf's peak-RSS ratios and their spread."""
    out = []
    for g in (geo.to_dict("records") if geo is not None else ()):
        head = f"- **{g['variant']} vs {g['baseline'] or 'no baseline'}** on *{g['host']}*: "
        if not g["k"]:
            out.append(head + f"no benchmark compared ({g['note']}).")
            continue
        note = f"; {g['note']}" if g["note"] else ""
        out.append(head + f"{g['k']} benchmarks, geometric mean {fmt_ratio(g['geomean'], g['ci_low'], g['ci_high'])} "
                   f"({VERDICT_WORDS.get(g['verdict'], g['verdict'])}{note}); min {g['min']:.2f}x, median "
                   f"{g['median']:.2f}x, max {g['max']:.2f}x; {g['n_not_compared']} not compared.")
    return out


# ---------------------------------------------------------------------------------------------
# Reading: memory per unit of speedup, and the findings' sentence.


def memory_per_speedup(summary: pd.DataFrame, scaling: pd.DataFrame) -> pd.DataFrame:
    """Per host x workload x variant x strategy, at the strategy's reference worker count (the one
    summary.csv reads it at, fixed in advance): the peak tree memory (MiB, the largest of its
    processes), the speedup over the variant's own sequential time, and MiB per unit of speedup
    (scaling.csv's ``mb_per_speedup``). The sequential row is the yardstick (speedup 1)."""
    points = {(r["host"], r["workload"], r["variant"], r["strategy"], int(r["workers"])): r
              for r in scaling.to_dict("records")}
    strategies = [c[len("workers_"):] for c in summary.columns if c.startswith("workers_")]
    rows = []
    for r in summary.to_dict("records"):
        cell = (r["host"], r["workload"], r["variant"])
        sequential = sorted(k[4] for k in points if k[:3] == cell and k[3] == "sequential")[:1]
        chosen = [("sequential", w) for w in sequential]
        chosen += [(s, int(r[f"workers_{s}"])) for s in strategies if not pd.isna(r[f"workers_{s}"])]
        for strategy, workers in chosen:
            p = points.get((*cell, strategy, workers))
            if p is not None:
                rows.append({"host": r["host"], "workload": r["workload"], "kind": r["kind"],
                             "variant": r["variant"], "role": r.get("role"), "strategy": strategy, "workers": workers,
                             "peak_tree_memory_mb": p["peak_tree_memory_mb"], "speedup": p["speedup"],
                             "mb_per_speedup": p["mb_per_speedup"]})
    return pd.DataFrame(rows, columns=list(PER_SPEEDUP_COLUMNS))


def ratio_table(ratios: pd.DataFrame) -> pd.DataFrame:
    """For reading: per host x workload x variant, its memory ratios (sequential, best option), formatted."""
    rows = []
    for (host, workload, variant), g in ratios[ratios["metric"].isin(MEMORY_METRICS)].groupby(
            ["host", "workload", "variant"], sort=False):
        by = {r["metric"]: r for r in g.to_dict("records")}
        seq, best = by.get("memory_ratio"), by.get("memory_ratio_best")
        rows.append({"host": host, "workload": workload, "variant": variant,
                     "sequential vs baseline": _cell(seq),
                     "best option": option_text((best["strategy"], best["workers"])) if best else "-",
                     "vs the baseline's best": f"{_cell(best)} ({best['baseline']})" if best else "-",
                     "note": "; ".join(dict.fromkeys(n for r in by.values() if (n := text_or_none(r["note"]))))})
    return pd.DataFrame(rows, columns=["host", "workload", "variant", "sequential vs baseline", "best option",
                                       "vs the baseline's best", "note"])


def per_speedup_table(summary: pd.DataFrame, scaling: pd.DataFrame) -> pd.DataFrame:
    """For reading: :func:`memory_per_speedup` with one column per strategy, "MiB (xN)" (sequential: MiB)."""
    table = memory_per_speedup(summary, scaling).dropna(subset=["mb_per_speedup"])
    rows = []
    for (host, workload, variant), g in table.groupby(["host", "workload", "variant"], sort=False):
        row = {"host": host, "workload": workload, "variant": variant}
        row |= {r["strategy"]: f"{r['mb_per_speedup']:.0f}" + ("" if r["strategy"] == "sequential"
                                                                 else f" (x{r['workers']})")
                for r in g.to_dict("records")}
        rows.append(row)
    return pd.DataFrame(rows).fillna("-")


def _cell(r: dict | None) -> str:
    """'1.21x [1.18-1.24]', then the verdict unless it is a clear one."""
    if r is None:
        return "-"
    text = fmt_ratio(r["value"], r["ci_low"], r["ci_high"])
    if text == "-" or r["verdict"] in ("greater", "less", "n/a"):
        return text
    return f"{text} ({'n.s.' if r['verdict'] != 'equivalent' else 'equiv.'})"


METHOD_TEXT = (
    "Peak memory of the whole process tree of each pyperf process (the worker and every process it starts), sampled "
    "during its timed values: PSS (a page shared by several processes counts in proportion), or RSS where PSS was "
    "unreadable (noted). One process, one peak: the ratio of the mean peaks, with its 95% CI over processes, paired "
    "by round where both sides ran in the same rounds. > 1: the variant needs more memory than the default build of "
    "its own version. Sequential: on the processes of the headline slowdown; best option: the variant's best over the "
    "baseline's best, on the processes that estimate the gain.")
PER_SPEEDUP_TEXT = (
    "MiB of peak process-tree memory (the largest of the option's processes) per unit of speedup over the variant's "
    "own sequential time, each strategy at the worker count fixed in advance (the core count for CPU work, the "
    "largest count for I/O work; in brackets); sequential: the MiB of the sequential run. What a unit of parallel "
    "speed costs in memory: a pool of processes pays for every interpreter it starts, threads share one.")


VERDICT_WORDS = {"greater": "more, beyond the margin", "less": "less, beyond the margin",
                 "equivalent": "the same within the margin", "inconclusive": "inconclusive", "n/a": "CI n/a"}


def memory_sentence(ratios: pd.DataFrame, workload: str, variant: str, host: str | None = None) -> str:
    """The findings' sentence on the memory price of ``variant`` for ``workload`` (of ``host``, else of
    every host that measured it), from the ratios table's memory rows, e.g. "On h1, 3.13t needs 1.21x
    [1.18-1.24] the memory of 3.13 running cpu_sum_squares sequentially (more, beyond the margin);
    at its best option, threads x4, 1.35x [1.30-1.41] that of 3.13's best, processes x4 (...)."
    '' when no memory ratio was measured."""
    sel = ratios[(ratios["workload"] == workload) & (ratios["variant"] == variant)
                 & ratios["metric"].isin(MEMORY_METRICS)]
    if host is not None:
        sel = sel[sel["host"] == host]
    sentences = []
    for h, g in sel.groupby("host", sort=False):
        rows = {r["metric"]: r for r in g.to_dict("records")}
        parts = []
        seq = rows.get("memory_ratio")
        if seq is not None:
            base = seq["baseline"].split(" ")[0]
            parts.append(f"{variant} needs {_ratio_words(seq)} the memory of {base} running {workload} sequentially")
        best = rows.get("memory_ratio_best")
        if best is not None:
            base_name, _, base_option = best["baseline"].partition(" ")
            mine = option_text((best["strategy"], best["workers"]))
            text = f"{_ratio_words(best)} that of {base_name}'s best, {base_option}"
            parts.append(f"at its best option, {mine}, {text}" if parts
                         else f"at its best option, {mine}, {variant} needs {text}")
        if parts:
            prefix = f"On {h}, " if host is None else ""
            sentences.append(prefix + "; ".join(parts) + ".")
    return " ".join(sentences)


def _ratio_words(r: dict) -> str:
    """'1.21x [1.18-1.24] (more, beyond the margin)', with the note when the ratio has no value."""
    text = fmt_ratio(r["value"], r["ci_low"], r["ci_high"])
    if text == "-":
        return f"an unknown multiple of ({text_or_none(r.get('note')) or 'no value'})"
    return f"{text} ({VERDICT_WORDS.get(r['verdict'], r['verdict'])})"


__all__ = ["MEMORY_METRICS", "MemoryRatio", "Peaks", "memory_per_speedup", "memory_ratio", "memory_ratios",
           "memory_sentence", "peak_series", "per_speedup_table", "pyperformance_lines", "pyperformance_peaks",
           "ratio_table"]
