"""From raw pyperf results to the answer: does the free-threaded build pay off, and for which work?

Pipeline (``python -m harness.analysis [--raw results/raw] [--out results] [--margin 0.05]``)::

    load_raw          results/raw/<host>/<variant>.{json,csv} -> one row per planned benchmark
    benchmarks_table  -> results/benchmarks.csv   (per-benchmark statistics over processes)
    ratios_table      -> results/ratios.csv       (every ratio: one row, CI, verdict)
    summary_table     -> results/summary.csv      (ratios pivoted per host x workload x variant)
    scaling_table     -> results/scaling.csv      (every strategy x workers point, "why" lens)
    lecture_claims    -> results/claims.csv       (confirmed / refuted / inconclusive)
    flavours.compare  -> results/flavours.csv     (plain vs optimized builds of one machine)
    rerun_agreement   -> results/reproducibility.csv (a rerun in results/reruns/raw/<host>-rerun)
    standard          -> results/pyperformance_{slowdowns,geomean}.csv (the standard suite's price)
    projection        -> results/projection.csv   (projected break-even cores: a projection)
    write_report      -> results/REPORT.md        (plus PNGs from harness.analysis.plots)

The raw pyperf values are the source of truth; the pyperf process (run) is the unit of every
interval (see harness.analysis.stats). Variants are read through harness.variants: a variant's
role (baseline, free-threaded, control) decides what it is compared with, never its name.
Runs flagged for foreign load (metadata ``foreign_flagged == "yes"``) are left out unless
``keep_flagged``; they are counted in benchmarks.csv and the report.

``python -m harness.analysis reproduce RAW_A RAW_B`` compares the verdicts of two result sets.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness import metadata as md
from harness import variants as reg
from harness.analysis import flavours, projection, standard
from harness.analysis.claims import (
    CLAIMS,
    LECTURE_CPU_WORKLOADS,
    WIDE_MARGIN,
    _first,
    _str,
    claims_matrix,
    fmt_pct,
    lecture_claims,
)
from harness.analysis.order import baseline_variant, role, strategies, variant_order
from harness.analysis.report import (
    describe_runs,
    failures_table,
    headline_table,
    hygiene_table,
    markdown_table,
    strategy_table,
    verdict,
    write_report,
)
from harness.analysis.stats import (
    CONFIDENCE,
    MARGIN,
    N_BOOT,
    SEED,
    Contrast,
    break_even,
    combine,
    contrast,
    describe_runs_values,
    describe_values,
    efficiency,
    karp_flatt,
    paired_contrast,
    process_means,
    ratio_verdict,
    significant,
    t_quantile,
    usable_cores,
)

__all__ = [
    # loading, tables and the pipeline (this module)
    "AnalysisError", "BENCHMARK_COLUMNS", "NoResults", "RATIO_COLUMNS", "Results",
    "baseline_variant", "benchmarks_table", "load_raw", "main", "open_results", "ratios_table",
    "analyse", "analyse_set", "reference_workers", "regenerate", "rerun_agreement", "reproduce", "role",
    "run_metadata",
    "scaling_table", "strategies",
    "summary_table", "variant_order",
    # harness.analysis.stats
    "CONFIDENCE", "MARGIN", "N_BOOT", "SEED", "Contrast", "break_even", "contrast",
    "describe_runs_values", "describe_values", "efficiency", "karp_flatt", "process_means",
    "ratio_verdict", "significant", "t_quantile", "usable_cores",
    # harness.analysis.claims
    "CLAIMS", "LECTURE_CPU_WORKLOADS", "WIDE_MARGIN", "claims_matrix", "lecture_claims",
    # harness.analysis.report
    "describe_runs", "failures_table", "headline_table", "hygiene_table", "markdown_table",
    "strategy_table",
    "verdict", "write_report",
]

STATUSES = ("ok", "failed", "timeout")
CSV_REQUIRED = ("host", "variant", "name", "workload", "kind", "strategy", "workers", "status")
# Run metadata kept per benchmark (a value that differs between runs is joined with "; ").
PROVENANCE = {
    "python_executable": "python_executable",
    "source_sha256": "ftbench_source_sha256",
    "source_origin": "ftbench_source_origin",
    "configure_args": "ftbench_configure_args",
    "build_date": "ftbench_build_date",
    "compiler": "ftbench_compiler",
    "profile": "ftbench_profile",
    "size": "ftbench_size",
    "start_method": "ftbench_start_method",
    "accelerators": "ftbench_accelerators",
    "c_extensions": "ftbench_c_extensions",
    "numpy": "ftbench_numpy",
    "aiohttp": "ftbench_aiohttp",
    "requests": "ftbench_requests",
    "pyperf": "ftbench_pyperf",
    "platform": "platform",
}
RAW_COLUMNS = (
    "host", "cpu_model", "cpu_count", "python_version", "variant", "free_threaded", "gil_enabled",
    "name", "workload", "kind", "strategy", "workers", "status", "error", "values", "peak_rss",
    "check", "gil_reenabled_by", "date_first", "date_last", "figures", "source", *PROVENANCE,
    "runs", "run_rounds", "n_runs_flagged", "busy_cores", "foreign_cores", "peak_tree_memory",
    "precision_target", "stop_reason", "scaling", "rounds", "stage",
)
# Per-run metadata of newer runs (issue 11/12); absent in older results: empty columns, no error.
RUN_KEYS = ("busy_cores", "foreign_cores", "peak_tree_memory")
IDENTITY = ("host", "cpu_model", "cpu_count", "python_version", "variant", "free_threaded",
            "gil_enabled", "workload", "kind", "strategy", "workers")
BENCHMARK_COLUMNS = (*IDENTITY, "status", "n", "n_processes", "mean", "median", "stdev", "min",
                     "max", "ci95_low", "ci95_high", "precision", "peak_rss", "check_ok", "error",
                     "gil_reenabled_by", "n_runs_flagged", "busy_cores", "foreign_cores",
                     "peak_tree_memory", "precision_target", "stop_reason", "scaling", "rounds")


class AnalysisError(Exception):
    """Raw results the analysis cannot use; the CLI prints it as one line and exits 1."""


class NoResults(AnalysisError):
    """The raw directory holds no result files yet (nothing has been measured)."""


# ---------------------------------------------------------------------------------------------
# Loading raw results.


def _variant_files(host_dir: Path) -> list[str]:
    """Variant names of a host directory; state files, backups and temporaries are not results."""
    names = set()
    for p in host_dir.iterdir():
        if (not p.is_file() or p.name.startswith(".") or ".bak-" in p.name
                or p.name.endswith(".state.json") or p.suffix not in (".json", ".csv")):
            continue
        names.add(p.name[: -len(p.suffix)])
    return sorted(names)


def load_raw(root: str | Path = "results/raw", keep_flagged: bool = False,
             host: str | None = None) -> pd.DataFrame:
    """One row per host x variant x planned benchmark, with the pyperf values as a tuple (``host``: that one only).

    Raises NoResults when there is nothing to read and AnalysisError, naming the file, when a
    file is corrupt, truncated or inconsistent. Nothing is dropped: a benchmark the CSV lists as
    ok but whose values are missing from the JSON stays, with status "missing".
    """
    root = Path(root)
    if not root.is_dir():
        raise NoResults(f"{root}: no such directory; run the benchmarks first")
    rows = []
    for host_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                           and host in (None, p.name)):
        for variant in _variant_files(host_dir):
            rows += _load_variant(host_dir.name, variant, host_dir, keep_flagged)
    if not rows:
        raise NoResults(f"{root}: no raw results (<host>/<variant>.json) yet; "
                        "run the benchmarks first")
    return pd.DataFrame(rows, columns=list(RAW_COLUMNS))


def _load_suite(path: Path):
    import pyperf

    try:
        return pyperf.BenchmarkSuite.load(str(path))
    except Exception as exc:  # noqa: BLE001 - pyperf raises ValueError, KeyError, TypeError...
        raise AnalysisError(f"{path}: not valid pyperf JSON: {exc}") from None


def _load_variant(host: str, variant: str, host_dir: Path,
                  keep_flagged: bool = False) -> list[dict]:
    json_path, csv_path = host_dir / f"{variant}.json", host_dir / f"{variant}.csv"
    rows: dict[str, dict] = {}
    if json_path.exists():
        for bench in _load_suite(json_path):
            row = _bench_row(bench, host, variant, json_path, keep_flagged)
            rows[row["name"]] = row
    context = {k: _first(r[k] for r in rows.values())
               for k in ("cpu_model", "cpu_count", "python_version", "free_threaded")}
    for rec in _read_csv(csv_path) if csv_path.exists() else ():
        if rec["variant"] != variant:
            raise AnalysisError(f"{csv_path}: row {rec['name']!r} is variant {rec['variant']!r}")
        if rec["name"] in rows:
            if rec["status"] != "ok":  # keep the values, but say that the CSV disagreed
                rows[rec["name"]]["error"] = f"CSV status {rec['status']}: {rec.get('error', '')}"
            continue
        rows[rec["name"]] = _csv_row(rec, host, variant, csv_path, json_path, context)
    return list(rows.values())


def _joined(values) -> str | None:
    seen = list(dict.fromkeys(str(v) for v in values if v is not None))
    return "; ".join(seen) if seen else None


def _bench_row(bench, host: str, variant: str, path: Path, keep_flagged: bool = False) -> dict:
    name = bench.get_name() or ""
    measured = [r for r in bench.get_runs() if r.values]
    flagged = [r for r in measured if md.get(r.get_metadata(), "foreign_flagged") == "yes"]
    kept = measured if keep_flagged else [r for r in measured if r not in flagged]
    runs = [r.get_metadata() for r in measured]
    meta = runs or [bench.get_metadata()]
    parts = name.split("/")

    def pick(key, index):
        got = _first(m.get(key) for m in meta)
        if got is None and len(parts) == 3:
            got = parts[index]
        if got is None:
            raise AnalysisError(f"{path}: benchmark {name!r} has no {key} metadata")
        return got

    said = _first(m.get("ftbench_variant") for m in meta)
    if said is not None and said != variant:
        raise AnalysisError(f"{path}: benchmark {name!r} was measured as variant {said!r}")
    try:
        workers = int(pick("ftbench_workers", 2))
    except ValueError:
        raise AnalysisError(f"{path}: benchmark {name!r}: workers is not an integer") from None
    values = tuple(float(v) for r in kept for v in r.values)
    merged = md.merge([r.get_metadata() for r in kept] or runs)
    bmeta = md.merge(runs + [bench.get_metadata()], ("precision", "stop_reason", "scaling"))
    gil = [m.get("ftbench_gil_enabled") for m in meta if m.get("ftbench_gil_enabled")]
    rss = [int(m["ftbench_peak_rss"]) for m in meta if m.get("ftbench_peak_rss") is not None]
    checks = {m.get("ftbench_check") for m in meta if m.get("ftbench_check")}
    dates = sorted(str(m["date"]) for m in meta if m.get("date"))
    figures: dict[str, list] = {}
    for m in meta:
        for key, value in m.items():
            if key.startswith("ftbench_figure_"):
                figures.setdefault(key[len("ftbench_figure_"):], []).append(float(value))
    cpu_count = _first(m.get("ftbench_cpu_count") for m in meta) or \
        _first(m.get("cpu_count") for m in meta)
    return {
        "host": host,
        "cpu_model": _first(m.get("cpu_model_name") for m in meta),
        "cpu_count": int(cpu_count) if cpu_count is not None else None,
        "python_version": _first(m.get("python_version") for m in meta),
        "variant": variant,
        "free_threaded": _first(m.get("ftbench_free_threaded") for m in meta),
        "gil_enabled": ("yes" if "yes" in gil else "no") if gil else None,
        "name": name,
        "workload": pick("ftbench_workload", 0),
        "kind": _first(m.get("ftbench_kind") for m in meta),
        "strategy": pick("ftbench_strategy", 1),
        "workers": workers,
        "status": "ok" if values else "missing",
        "error": "" if values else (f"all {len(flagged)} runs flagged for foreign load"
                                    if flagged else f"no values in {path.name}"),
        "values": values,
        "peak_rss": max(rss) if rss else None,
        "check": ("ok" if checks == {"ok"} else _joined(sorted(checks))) if checks else None,
        "gil_reenabled_by": _joined(m.get("ftbench_gil_reenabled_by") for m in meta),
        "date_first": dates[0] if dates else None,
        "date_last": dates[-1] if dates else None,
        "figures": {k: float(np.mean(v)) for k, v in figures.items()},
        "source": str(path),
        **{col: _joined(m.get(key) for m in meta) for col, key in PROVENANCE.items()},
        "runs": tuple(tuple(float(v) for v in r.values) for r in kept),
        "run_rounds": tuple(md.get(r.get_metadata(), "round") for r in kept),
        "n_runs_flagged": len(flagged),
        **{k: merged.get(k) for k in RUN_KEYS},
        "precision_target": bmeta.get("precision"), "stop_reason": bmeta.get("stop_reason"),
        "scaling": bmeta.get("scaling"), "rounds": merged.get("round"),
        "stage": _stage(name, meta),
    }


def _stage(name: str, meta=()) -> str:
    """confirm: a best option measured again after its workload's sweep (the campaign's confirmation
    stage, named ``.../confirm``); sweep: everything else."""
    return md.CONFIRM if name.endswith("/" + md.CONFIRM) or any(
        md.get(m, "stage", "") == md.CONFIRM for m in meta) else "sweep"


def sweep_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The planned benchmarks of ``raw``, without the confirmation stage's re-measurements."""
    return raw[raw["stage"] != md.CONFIRM] if "stage" in raw.columns else raw


def _read_csv(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in CSV_REQUIRED if c not in (reader.fieldnames or ())]
            if missing:
                raise AnalysisError(f"{path}: not an ftbench results CSV (missing columns "
                                    f"{', '.join(missing)})")
            records = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AnalysisError(f"{path}: unreadable CSV: {exc}") from None
    for line, rec in enumerate(records, start=2):
        if None in rec or any(rec.get(c) is None for c in CSV_REQUIRED):
            raise AnalysisError(f"{path}: line {line} is truncated or has extra fields")
        if rec["status"] not in STATUSES:
            raise AnalysisError(f"{path}: line {line}: unknown status {rec['status']!r}")
        try:
            rec["workers"] = int(rec["workers"])
        except ValueError:
            raise AnalysisError(f"{path}: line {line}: workers {rec['workers']!r} is not an "
                                "integer") from None
    return records


def _csv_row(rec: dict, host: str, variant: str, csv_path: Path, json_path: Path,
             context: dict) -> dict:
    status, error = rec["status"], rec.get("error") or ""
    if status == "ok":  # the CSV says it was measured, but the values are not there
        status, error = "missing", f"listed ok in {csv_path.name} but absent from {json_path.name}"
    free = context["free_threaded"] or (
        "yes" if reg.role_of(variant) in ("free-threaded", "control") else "no")
    rss = rec.get("peak_rss") or None
    return {
        **dict.fromkeys(RAW_COLUMNS),
        **context,
        "host": host, "variant": variant, "free_threaded": free,
        "gil_enabled": rec.get("gil_enabled") or None,
        "name": rec["name"], "workload": rec["workload"], "kind": rec["kind"] or None,
        "strategy": rec["strategy"], "workers": rec["workers"],
        "status": status, "error": error, "values": (),
        "peak_rss": int(float(rss)) if rss else None,
        "check": rec.get("check") or None,
        "figures": {}, "source": str(csv_path), "runs": (), "run_rounds": (), "n_runs_flagged": 0,
        "stage": _stage(rec["name"]),
    }


# ---------------------------------------------------------------------------------------------
# Variants and strategies: roles from harness.variants, order from the data.



def _order(df: pd.DataFrame, by=("host", "workload", "variant", "strategy", "workers")):
    present = list(df["strategy"].dropna()) if "strategy" in df.columns else []
    sorder = {s: i for i, s in enumerate(strategies(present))}
    keys = {
        "variant": lambda s: s.map(reg.order_key),
        "strategy": lambda s: s.map(lambda v: sorder.get(v, len(sorder))),
    }
    by = [b for b in by if b in df.columns]
    return df.sort_values(by, key=lambda s: keys[s.name](s) if s.name in keys else s,
                          kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Per-benchmark table.


def benchmarks_table(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per host x variant x planned benchmark: statistics over processes, failures kept."""
    rows = []
    for rec in sweep_rows(raw).to_dict("records"):
        runs = rec.get("runs") or ()
        if not runs and rec["values"]:  # a raw frame built without runs: one value, one process
            runs = tuple((v,) for v in rec["values"])
        stats = describe_runs_values(runs)
        if rec["status"] != "ok":
            stats = dict.fromkeys(stats)
        check = _str(rec["check"])
        row = {c: rec.get(c) for c in IDENTITY} | stats | {
            "status": rec["status"], "peak_rss": rec["peak_rss"],
            "check_ok": None if check is None else check == "ok",
            "error": _str(rec["error"]) or "",
            "gil_reenabled_by": _str(rec["gil_reenabled_by"]) or "",
            **{k: rec.get(k) for k in ("n_runs_flagged", *RUN_KEYS, "precision_target",
                                       "stop_reason", "scaling", "rounds")},
        }
        row |= {f"figure_{k}": v for k, v in (rec["figures"] or {}).items()}
        rows.append(row)
    df = pd.DataFrame(rows)
    extra = sorted(c for c in df.columns if c not in BENCHMARK_COLUMNS)
    df = df.reindex(columns=[*BENCHMARK_COLUMNS, *extra])
    for col in ("cpu_count", "workers", "n", "n_processes", "peak_rss", "n_runs_flagged",
                "peak_tree_memory"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["check_ok"] = df["check_ok"].astype("boolean")
    return _order(df)


# ---------------------------------------------------------------------------------------------
# Ratios: one row each, in long form.

RATIO_COLUMNS = ("host", "cpu_count", "workload", "kind", "variant", "role", "strategy", "workers",
                 "metric", "baseline", "value", "ci_low", "ci_high", "df", "se_log",
                 "significant", "verdict", "precision", "n_processes", "n_processes_baseline",
                 "selection", "note")
# metric: what the ratio is (> 1 always means "the row's option is faster", except slowdown):
#   speedup              own sequential time / time of this option
#   weak_efficiency      the same ratio when the benchmark ran with --scaling weak: t(1) / t(N)
#   speedup_vs_baseline  the baseline variant's sequential time / time of this option
#   gain                 the baseline variant's time for the same strategy x workers / this time
#   speedup_ratio        speedup of this option / the baseline variant's speedup of the same one
#                        (what free-threading adds beyond what the GIL build already scales)
#   slowdown             own sequential time / the baseline variant's sequential time (> 1: slower)
#   best_speedup, gain_best: the best option, chosen and estimated selection-aware (see _best)


@dataclass
class _Cell:
    """One host x variant x workload: the options' process means and context."""

    host: str
    variant: str
    workload: str
    kind: str | None
    cores: int | None
    options: dict  # (strategy, workers) -> process means (np.ndarray)
    scaling: dict  # (strategy, workers) -> "strong" / "weak" / None
    confirm: dict = field(default_factory=dict)  # the best option measured again: (strategy, workers) -> means
    rounds: dict = field(default_factory=dict)  # (strategy, workers) -> {round: process mean}; {} if unknown
    confirm_rounds: dict = field(default_factory=dict)

    @property
    def seq(self):
        seq = sorted(w for s, w in self.options if s == "sequential")
        return self.options[("sequential", seq[0])] if seq else None


def _cells(raw: pd.DataFrame) -> dict:
    out: dict = {}
    ok = raw[(raw["status"] == "ok") & (raw["values"].map(len) > 0)]
    stage = ok["stage"] if "stage" in ok.columns else pd.Series("sweep", index=ok.index)
    for rec in ok[stage != md.CONFIRM].to_dict("records"):
        key = (rec["host"], rec["variant"], rec["workload"])
        if key not in out:
            sub = raw[(raw["host"] == rec["host"]) & (raw["variant"] == rec["variant"])
                      & (raw["workload"] == rec["workload"])]
            cores = _first(sub["cpu_count"])
            out[key] = _Cell(rec["host"], rec["variant"], rec["workload"], _first(sub["kind"]),
                             int(cores) if cores is not None else None, {}, {})
        runs = rec.get("runs") or tuple((v,) for v in rec["values"])
        opt = (rec["strategy"], int(rec["workers"]))
        out[key].options[opt] = process_means(runs)
        out[key].rounds[opt] = by_round(runs, rec.get("run_rounds"))
        out[key].scaling[opt] = _str(rec.get("scaling"))
    for rec in ok[stage == md.CONFIRM].to_dict("records"):
        cell = out.get((rec["host"], rec["variant"], rec["workload"]))
        if cell is not None:
            opt = (rec["strategy"], int(rec["workers"]))
            cell.confirm[opt] = process_means(rec["runs"])
            cell.confirm_rounds[opt] = by_round(rec["runs"], rec.get("run_rounds"))
    return out


def _seq_rounds(cell: _Cell) -> dict:
    seq = sorted(w for s, w in cell.options if s == "sequential")
    return cell.rounds.get(("sequential", seq[0]), {}) if seq else {}


def by_round(runs, rounds) -> dict:
    """{round: mean of that round's process means}; {} when a run has no round (older results)."""
    if not runs or rounds is None or len(rounds) != len(runs) or any(r is None for r in rounds):
        return {}
    means: dict = {}
    for r, m in zip(rounds, process_means(runs), strict=True):
        means.setdefault(int(r), []).append(float(m))
    return {r: float(np.mean(m)) for r, m in means.items()}


def cross_variant(num: np.ndarray, num_rounds: dict, den: np.ndarray, den_rounds: dict) -> Contrast:
    """mean(num) / mean(den) for one benchmark on two variants: paired by round when both sides know
    their rounds (the campaign ran them side by side), else Welch over the process means."""
    if num_rounds and den_rounds and len(set(num_rounds) & set(den_rounds)) >= 2:
        return paired_contrast(num_rounds, den_rounds)
    return contrast([(num, 1), (den, -1)])


def _ratio_row(cell: _Cell, strategy, workers, metric, baseline, c: Contrast, n_base,
               margin: float, selection: str = "", note: str = "") -> dict:
    lo, hi = c.low, c.high
    if c.n_min < 2 and not math.isnan(c.value):
        note = "; ".join(x for x in (note, "one process on a side: CI n/a") if x)
    prec = (hi - lo) / 2 / c.value if c.value and not math.isnan(lo) else math.nan
    return {"host": cell.host, "cpu_count": cell.cores, "workload": cell.workload,
            "kind": cell.kind, "variant": cell.variant, "role": role(cell.variant),
            "strategy": strategy, "workers": workers, "metric": metric, "baseline": baseline,
            "value": c.value, "ci_low": lo, "ci_high": hi, "df": c.df, "se_log": c.se,
            "significant": significant(lo, hi) if not math.isnan(lo) else None,
            "verdict": ratio_verdict(lo, hi, margin), "precision": prec,
            "n_processes": None, "n_processes_baseline": n_base, "selection": selection,
            "note": note}


def _split(pm: np.ndarray):
    """(choose, estimate): processes 2, 4, ... choose, 1, 3, 5, ... estimate (1-based; interleaved
    halves, so drift in time affects both alike; the larger half estimates, so three processes
    already give an interval)."""
    return pm[1::2], pm[0::2]


def _best(cell: _Cell, base: _Cell | None, margin: float) -> tuple[list[dict], dict]:
    """The best option, selection-aware: chosen on one sample, its speedup and its gain over the
    baseline's best (chosen the same way) estimated on another.

    The maximum of ~10 noisy means is biased upward (winner's curse); estimating on processes
    that played no part in the choice removes that bias. A campaign with a confirmation stage
    chose each variant's best on all its sweep processes and measured it again in fresh
    interleaved processes (``.../confirm``): the estimate uses those. Older sets split each
    option's processes instead (chosen on one half, estimated on the other); with fewer than two
    processes per half the interval is n/a (noted), never a number. Also returns the options
    statistically tied with the fastest on all sweep processes (not shown slower than it by more
    than the margin).
    """
    info: dict = {}
    opts = cell.options
    if not opts:
        return [], info

    def choose(options, half):
        cands = [(v.mean() if half is None else _split(v)[half].mean(), w, s)
                 for (s, w), v in options.items()]
        _, w, s = min(cands, key=lambda c: (c[0], c[1]))
        return s, w

    confirmed = bool(cell.confirm) and (base is None or not base.options or bool(base.confirm))
    splittable = all(len(v) >= 2 for v in opts.values())
    if confirmed:
        s, w = next(iter(cell.confirm))
        info["selection"] = (f"chosen on all sweep processes, estimated on "
                             f"{len(cell.confirm[(s, w)])} fresh confirmation processes")
        held = {(s, w): cell.confirm[(s, w)]}.get
    else:
        s, w = choose(opts, 0 if splittable else None)
        info["selection"] = ("chosen on processes 2, 4, ..., estimated on 1, 3, ..." if splittable
                             else "chosen and estimated on the same processes (too few to split)")
        held = (lambda k: _split(opts[k])[1]) if splittable else opts.get
    info["best"] = (s, w)
    info["best_time"] = (cell.confirm if confirmed else opts)[(s, w)].mean()
    rows = []
    seq = cell.seq
    fastest = min(opts, key=lambda k: (opts[k].mean(), k[1]))
    tied = []
    for k, v in opts.items():
        c = contrast([(v, 1), (opts[fastest], -1)])
        if k == fastest or not (c.low > 1 + margin):  # NaN low: cannot be told apart
            tied.append(f"{k[0]} x{k[1]}")
    info["tied"] = ", ".join(tied)
    info["fastest"] = fastest
    sel = info["selection"]
    if seq is not None:
        if s == "sequential":
            c = Contrast(1.0, math.nan, math.nan, math.nan, math.nan, 0)
            n_seq = len(held((s, w)))
        else:  # a confirmed option against all the sweep's sequential processes
            ref = _split(seq)[1] if splittable and not confirmed else seq
            c = contrast([(ref, 1), (held((s, w)), -1)])
            n_seq = len(ref)
        rows.append(_ratio_row(cell, s, w, "best_speedup", f"{cell.variant} sequential x1", c,
                               n_seq, margin, sel))
    if base is not None and base.options:
        bheld_rounds: dict = {}
        if confirmed and base.confirm:
            bs, bw = next(iter(base.confirm))
            bheld = base.confirm[(bs, bw)]
            bheld_rounds = base.confirm_rounds.get((bs, bw), {})
        else:
            bsplit = all(len(v) >= 2 for v in base.options.values())
            bs, bw = choose(base.options, 0 if bsplit and splittable else None)
            bheld = _split(base.options[(bs, bw)])[1] if bsplit and splittable else base.options[(bs, bw)]
            if splittable and not bsplit:
                sel += "; baseline chosen on all processes"
        info["baseline_best"] = (bs, bw)
        info["baseline_best_time"] = (base.confirm if confirmed and base.confirm else base.options)[(bs, bw)].mean()
        if base.variant != cell.variant:  # the baseline against itself is no ratio
            mine = held((s, w))
            c = (cross_variant(bheld, bheld_rounds, mine, cell.confirm_rounds.get((s, w), {}))
                 if confirmed and bheld_rounds else contrast([(bheld, 1), (mine, -1)]))
            rows.append(_ratio_row(cell, s, w, "gain_best", f"{base.variant} {bs} x{bw}", c,
                                   len(bheld), margin, sel))
    n = len(cell.confirm[(s, w)] if confirmed else opts[(s, w)])
    return [r | {"n_processes": n} for r in rows], info


def ratios_table(raw: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """Every ratio the analysis derives, one row each, with its process-level CI and verdict."""
    rows = []
    cells = _cells(raw)
    names = list(dict.fromkeys(raw["variant"]))
    for (host, variant, workload), cell in cells.items():
        bname = baseline_variant(variant, names)
        base = cells.get((host, bname, workload)) if bname else None
        is_base = bname == variant
        seq = cell.seq
        for (s, w), pm in cell.options.items():
            n = len(pm)
            if seq is not None and s != "sequential":
                metric = "weak_efficiency" if cell.scaling.get((s, w)) == "weak" else "speedup"
                r = _ratio_row(cell, s, w, metric, f"{variant} sequential x1",
                               contrast([(seq, 1), (pm, -1)]), len(seq), margin)
                rows.append(r | {"n_processes": n})
            if base is None or is_base:
                continue
            bseq = base.seq
            if bseq is not None:
                metric = "slowdown" if s == "sequential" else "speedup_vs_baseline"
                c = (cross_variant(pm, cell.rounds.get((s, w)), bseq, base.rounds.get((s, w)))
                     if s == "sequential" else contrast([(bseq, 1), (pm, -1)]))
                rows.append(_ratio_row(cell, s, w, metric, f"{bname} sequential x1", c,
                                       len(bseq), margin) | {"n_processes": n})
            bpm = base.options.get((s, w))
            if bpm is not None and s != "sequential":
                gain = cross_variant(bpm, base.rounds.get((s, w)), pm, cell.rounds.get((s, w)))
                rows.append(_ratio_row(cell, s, w, "gain", f"{bname} {s} x{w}", gain, len(bpm), margin)
                            | {"n_processes": n})
                if seq is not None and bseq is not None:
                    # (seq / pm) / (bseq / bpm) = (seq / bseq) * gain: two cross-variant ratios
                    c = combine(cross_variant(seq, _seq_rounds(cell), bseq, _seq_rounds(base)), gain)
                    rows.append(_ratio_row(cell, s, w, "speedup_ratio", f"{bname} {s} x{w}", c,
                                           min(len(bpm), len(bseq)), margin)
                                | {"n_processes": min(n, len(seq))})
        best_rows, _ = _best(cell, base if base is not None else None, margin)
        rows += best_rows
    df = pd.DataFrame(rows, columns=list(RATIO_COLUMNS))
    for col in ("cpu_count", "workers", "n_processes", "n_processes_baseline"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["significant"] = df["significant"].astype("boolean")
    return _order(df, ("host", "workload", "variant", "metric", "strategy", "workers"))


# ---------------------------------------------------------------------------------------------
# Wide views pivoted from the ratios.

_WIDE = ("value", "ci_low", "ci_high", "significant", "verdict")


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
    cells = _cells(raw)
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
    return _order(df, ("host", "workload", "variant"))


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
    _, info = _best(cell, base, margin) if cell else ([], {})
    bs, bw = info.get("best", (None, None))
    row |= {"best_strategy": bs, "best_workers": bw,
            "best_time": info.get("best_time", math.nan),
            "tied_with_fastest": info.get("tied"), "best_selection": info.get("selection")}
    row |= _wide("best_speedup", _pick(rat, metric="best_speedup"))
    if bs and bs != "sequential" and math.isnan(row["best_speedup_ci_low"]):
        notes.append("best option: CI n/a (< 3 processes per option: 1 to choose, 2 to "
                     "estimate)")
    bb = info.get("baseline_best")
    row["baseline_best"] = f"{bb[0]} x{bb[1]}" if bb else None
    row["baseline_best_time"] = info.get("baseline_best_time", math.nan)
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
    return _order(df)


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
            "cpu_count": _first(g["cpu_count"]), "python_version": _joined(g["python_version"]),
            "free_threaded": _first(g["free_threaded"]),
            "benchmarks": len(g), "ok": int((g["status"] == "ok").sum()),
            "failed": int((g["status"] != "ok").sum()),
            "runs_flagged": int(pd.to_numeric(g["n_runs_flagged"]).fillna(0).sum()),
            "date_first": min((d for d in g["date_first"] if _str(d)), default=None),
            "date_last": max((d for d in g["date_last"] if _str(d)), default=None),
            **{col: _joined(v for x in g[col] if _str(x) for v in x.split("; "))
               for col in PROVENANCE},
        })
    return _order(pd.DataFrame(rows), ("host", "variant"))


# ---------------------------------------------------------------------------------------------
# The pipeline, for the CLI and the notebook.


@dataclass
class Results:
    """Everything the analysis produced; ``message`` says why it is empty when it is."""

    raw: pd.DataFrame | None = None
    benchmarks: pd.DataFrame | None = None
    ratios: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    scaling: pd.DataFrame | None = None
    claims: pd.DataFrame | None = None
    metadata: pd.DataFrame | None = None
    flavours: pd.DataFrame | None = None  # plain vs optimized builds of one machine (harness.analysis.flavours)
    standard: pd.DataFrame | None = None  # pyperformance slowdowns per benchmark (harness.analysis.standard)
    standard_geomean: pd.DataFrame | None = None
    standard_placement: pd.DataFrame | None = None  # where each ftbench workload sits among them
    projection: pd.DataFrame | None = None  # projected break-even cores (harness.analysis.projection)
    reruns: list = field(default_factory=list)  # (host, rerun host, reproduce() of the two)
    figures: list = field(default_factory=list)
    report: Path | None = None
    margin: float = MARGIN
    message: str = ""

    @property
    def empty(self) -> bool:
        return self.summary is None

    @property
    def workloads(self) -> list[str]:
        return [] if self.empty else list(dict.fromkeys(self.summary["workload"]))

    def figure_paths(self, kind: str, workload: str | None = None) -> list[Path]:
        return [f.path for f in self.figures
                if f.kind == kind and (workload is None or f.workload == workload)]


def analyse(raw_dir: str | Path = "results/raw", margin: float = MARGIN,
            keep_flagged: bool = False, host: str | None = None) -> Results:
    """Every table from one raw directory (``host``: of that host alone), nothing written."""
    raw = load_raw(raw_dir, keep_flagged, host)
    ratios = ratios_table(raw, margin)
    res = Results(raw=raw, benchmarks=benchmarks_table(raw), ratios=ratios,
                  summary=summary_table(raw, ratios, margin),
                  scaling=scaling_table(raw, ratios, margin), metadata=run_metadata(raw),
                  margin=margin)
    names = list(dict.fromkeys(raw["variant"]))
    res.claims = lecture_claims(_cells(raw), margin, roles={v: role(v) for v in names},
                                baselines={v: baseline_variant(v, names) for v in names})
    res.flavours = flavours.compare(ratios, res.metadata, flavours.machine_ids(raw_dir), margin)
    suite = standard.load(raw_dir)
    res.standard = standard.slowdowns(suite if host is None else suite[suite["host"] == host], margin)
    res.standard_geomean = standard.geomean(res.standard, margin)
    res.standard_placement = standard.placement(res.standard, ratios)
    res.projection = projection.project(ratios)
    return res


def rerun_agreement(res: Results, raw_dir: str | Path, margin: float = MARGIN) -> list:
    """For each host with a rerun (``reruns/raw/<host>-rerun`` beside raw/): reproduce() of the two."""
    out = []
    hosts = set(res.ratios["host"])
    for host, rerun in flavours.reruns(raw_dir).items():
        if host in hosts:
            out.append((host, rerun.name, reproduce(_only_host(res, host), analyse_set(rerun, margin))))
    return out


def regenerate(raw_dir: str | Path = "results/raw", out_dir: str | Path = "results",
               figures: bool = True, margin: float = MARGIN,
               keep_flagged: bool = False) -> Results:
    """Read the raw results; write the CSVs, figures/ and REPORT.md."""
    res = analyse(raw_dir, margin, keep_flagged)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res.benchmarks.to_csv(out / "benchmarks.csv", index=False, float_format="%.6g")
    res.ratios.to_csv(out / "ratios.csv", index=False, float_format="%.6g")
    res.summary.to_csv(out / "summary.csv", index=False, float_format="%.6g")
    res.scaling.to_csv(out / "scaling.csv", index=False, float_format="%.6g")
    res.claims.to_csv(out / "claims.csv", index=False)
    res.flavours.to_csv(out / "flavours.csv", index=False, float_format="%.6g")
    res.standard.to_csv(out / "pyperformance_slowdowns.csv", index=False, float_format="%.6g")
    res.standard_geomean.to_csv(out / "pyperformance_geomean.csv", index=False, float_format="%.6g")
    res.projection.to_csv(out / "projection.csv", index=False, float_format="%.6g")
    res.reruns = rerun_agreement(res, raw_dir, margin)
    if res.reruns:
        pd.concat([got["table"].assign(host=host, rerun=rerun) for host, rerun, got in res.reruns]) \
            .to_csv(out / "reproducibility.csv", index=False)
    if figures:
        from harness.analysis import plots

        res.figures = plots.make_all(res.benchmarks, res.summary, res.scaling, out / "figures")
    res.report = write_report(res, out / "REPORT.md")
    return res


def open_results(results_dir: str | Path = "results") -> Results:
    """For the notebook: regenerate from <results_dir>/raw, or say clearly that nothing is there."""
    results_dir = Path(results_dir)
    try:
        return regenerate(results_dir / "raw", results_dir)
    except NoResults as exc:
        return Results(message=f"No results to analyse: {exc}. Measure first (`nox -s bench` or "
                               "`python -m harness.measure.bench`), or point FTBENCH_RESULTS at a "
                               "results directory.")


# ---------------------------------------------------------------------------------------------
# Reproducibility: do two result sets of the same machine give the same verdicts?

HEADLINE_METRICS = ("slowdown", "gain_best")
DECIDED = {"greater", "less", "equivalent"}


def _call(r: dict) -> str:
    """Direction and significance of one ratio: 'up', 'down' or 'n.s.'."""
    if r["significant"] is None or r["significant"] is pd.NA or not bool(r["significant"]):
        return "n.s."
    return "up" if r["value"] > 1 else "down"


def _tied_with(x: pd.Series, y: pd.Series) -> bool:
    """Each run's best option is among the other run's options tied with its fastest."""
    def tied(r) -> set[str]:
        return {t.strip() for t in str(r.get("tied_with_fastest") or "").split(",") if t.strip()}

    def best(r) -> str:
        return f"{r['best_strategy']} x{r['best_workers']}" if pd.notna(r.get("best_workers")) else ""

    return best(x) in tied(y) and best(y) in tied(x)


def reproduce(a: Results, b: Results) -> dict:
    """Agreement of two result sets: headline verdicts, best-option family, CI coverage.

    Rows are matched on workload x variant (x strategy x workers x metric); host labels are
    ignored, so a rerun measured under another label still matches. Returns shares in [0, 1]
    (NaN when nothing matched) and the table of headline comparisons.
    """
    key = ["workload", "variant", "metric", "strategy", "workers"]
    ra, rb = a.ratios, b.ratios
    m = ra.merge(rb, on=key, suffixes=("_a", "_b"))
    rows = []
    # one headline row per workload x variant x metric: the best option is chosen per set, so
    # gain_best rows may name different options and are matched without strategy x workers
    for metric in HEADLINE_METRICS:
        ga = ra[ra["metric"] == metric].drop_duplicates(["workload", "variant"]).set_index(["workload", "variant"])
        gb = rb[rb["metric"] == metric].drop_duplicates(["workload", "variant"]).set_index(["workload", "variant"])
        for idx in ga.index.intersection(gb.index):
            x, y = ga.loc[idx].to_dict(), gb.loc[idx].to_dict()
            ca, cb = _call(x), _call(y)
            rows.append({"workload": idx[0], "variant": idx[1], "metric": metric,
                         "verdict_a": x["verdict"], "verdict_b": y["verdict"],
                         "agree": x["verdict"] == y["verdict"],
                         "a": ca, "b": cb, "agree_significance": ca == cb})
    sa = a.summary.set_index(["workload", "variant"])
    sb = b.summary.set_index(["workload", "variant"])
    common = sa.index.intersection(sb.index)
    fam = [sa.loc[i, "best_strategy"] == sb.loc[i, "best_strategy"] for i in common]
    tied = [f or _tied_with(sa.loc[i], sb.loc[i]) for f, i in zip(fam, common, strict=True)]
    ci = m[m["ci_low_b"].notna() & m["ci_low_a"].notna()]
    a_in_b = ((ci["value_a"] >= ci["ci_low_b"]) & (ci["value_a"] <= ci["ci_high_b"]))
    b_in_a = ((ci["value_b"] >= ci["ci_low_a"]) & (ci["value_b"] <= ci["ci_high_a"]))
    agree_all = m.apply(lambda r: _call({"significant": r["significant_a"], "value": r["value_a"]})
                        == _call({"significant": r["significant_b"], "value": r["value_b"]}),
                        axis=1) if len(m) else pd.Series(dtype=bool)
    nan = math.nan
    return {
        "headline_agree": float(np.mean([r["agree"] for r in rows])) if rows else nan,
        "headline_n": len(rows),
        "significance_agree": float(np.mean([r["agree_significance"] for r in rows])) if rows else nan,
        # per headline metric: (agreeing, compared), e.g. slowdowns reproduce while gains do not
        "by_metric": {mt: (sum(1 for r in rows if r["metric"] == mt and r["agree"]),
                           sum(1 for r in rows if r["metric"] == mt)) for mt in HEADLINE_METRICS},
        # two decided verdicts that differ (greater vs less or equivalent): the rerun contradicts,
        # where "decided vs inconclusive" only means one run had too little precision to decide
        "contradictions": sum(1 for r in rows if r["verdict_a"] != r["verdict_b"]
                              and {r["verdict_a"], r["verdict_b"]} <= DECIDED),
        "best_family_agree": float(np.mean(fam)) if fam else nan, "best_family_n": len(fam),
        # the same strategy, or each run's best option among the other run's options tied with its
        # fastest: two options that neither run tells apart are one answer, not a disagreement
        "best_tied_agree": float(np.mean(tied)) if tied else nan,
        "ratio_verdicts_agree": float(agree_all.mean()) if len(m) else nan, "ratios_n": len(m),
        "a_inside_b": float(a_in_b.mean()) if len(ci) else nan,
        "b_inside_a": float(b_in_a.mean()) if len(ci) else nan, "ci_n": len(ci),
        # the same per ratio family: ratios of two variants measured in one interleaved round can hold
        # while a variant's own speedups (options measured minutes apart) drift between runs
        "inside_by_metric": {mt: (float(a_in_b[g.index].mean()), float(b_in_a[g.index].mean()), len(g))
                             for mt, g in ci.groupby("metric", sort=True)},
        "table": pd.DataFrame(rows, columns=["workload", "variant", "metric", "verdict_a", "verdict_b", "agree",
                                             "a", "b", "agree_significance"]),
    }


def analyse_set(path: str | Path, margin: float = MARGIN) -> Results:
    """One results set: a host directory (``results/raw/<host>``) or a raw directory of one host."""
    path = Path(path)
    if path.is_dir() and any(path.glob("*.json")):  # a host directory: analyse it alone
        return analyse(path.parent, margin, host=path.name)
    res = analyse(path, margin)
    hosts = list(dict.fromkeys(res.ratios["host"]))
    if len(hosts) > 1:
        raise AnalysisError(f"{path}: holds {len(hosts)} hosts ({', '.join(hosts)}); give one host's "
                            f"directory, e.g. {Path(path) / hosts[0]}")
    return res


def _only_host(res: Results, host: str) -> Results:
    keep = lambda df: df[df["host"] == host].reset_index(drop=True)  # noqa: E731
    return Results(raw=keep(res.raw), benchmarks=keep(res.benchmarks), ratios=keep(res.ratios),
                   summary=keep(res.summary), scaling=keep(res.scaling), metadata=keep(res.metadata),
                   claims=res.claims, margin=res.margin)


def reproduce_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.analysis reproduce",
        description="Compare the verdicts of two result sets of the same machine (a rerun).")
    parser.add_argument("raw_a", help="the first run: a host's results set (results/raw/<host>) or a raw "
                                      "directory holding one host")
    parser.add_argument("raw_b", help="the rerun, likewise")
    parser.add_argument("--margin", type=float, default=MARGIN, help="equivalence margin")
    args = parser.parse_args(argv)
    try:
        a, b = analyse_set(args.raw_a, args.margin), analyse_set(args.raw_b, args.margin)
    except AnalysisError as exc:
        print(f"ftbench: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    got = reproduce(a, b)
    print(f"headline verdicts agree (slowdown and best gain, three-valued against the +-{100 * args.margin:g}% "
          f"margin): {fmt_pct(got['headline_agree'])} of {got['headline_n']}")
    print("  by metric: " + "; ".join(f"{m} {k} of {n}" for m, (k, n) in got["by_metric"].items()))
    print(f"direction and significance (CI excludes 1) of the same ratios agree: "
          f"{fmt_pct(got['significance_agree'])} of {got['headline_n']}")
    print(f"headline verdicts that contradict (both decided, different): {got['contradictions']} of "
          f"{got['headline_n']}")
    print(f"best-option family agrees: {fmt_pct(got['best_family_agree'])} of "
          f"{got['best_family_n']}; the same, or each run's best tied with the other's fastest: "
          f"{fmt_pct(got['best_tied_agree'])}")
    print(f"all ratio verdicts agree: {fmt_pct(got['ratio_verdicts_agree'])} of {got['ratios_n']}")
    print(f"estimates of A inside B's 95% CIs: {fmt_pct(got['a_inside_b'])}; of B inside A's: "
          f"{fmt_pct(got['b_inside_a'])} (of {got['ci_n']} ratios with CIs on both sides)")
    print("  by metric (A in B, B in A, ratios): " + "; ".join(
        f"{mt} {fmt_pct(x)}, {fmt_pct(y)} ({n})" for mt, (x, y, n) in got["inside_by_metric"].items()))
    diff = got["table"][~got["table"]["agree"]]
    if len(diff):
        print("disagreements:")
        for r in diff.to_dict("records"):
            print(f"  {r['workload']} {r['variant']} {r['metric']}: {r['verdict_a']} vs {r['verdict_b']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["reproduce"]:
        return reproduce_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m harness.analysis", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("--raw", default="results/raw", help="raw results directory")
    parser.add_argument("--out", default="results", help="where CSVs, figures and REPORT.md go")
    parser.add_argument("--readme", help="also refresh the headline block of this README.md")
    parser.add_argument("--margin", type=float, default=MARGIN,
                        help="practical equivalence margin of the verdicts (default 0.05: +-5%%)")
    parser.add_argument("--keep-flagged", action="store_true",
                        help="keep runs flagged for foreign load (left out by default)")
    args = parser.parse_args(argv)
    if not 0 <= args.margin < 1:
        parser.error("--margin must be in [0, 1), e.g. 0.05")
    try:
        res = regenerate(args.raw, args.out, margin=args.margin, keep_flagged=args.keep_flagged)
    except AnalysisError as exc:
        print(f"ftbench: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    out = Path(args.out)
    print(f"wrote {out / 'benchmarks.csv'}, {out / 'ratios.csv'}, {out / 'summary.csv'}, "
          f"{out / 'scaling.csv'}, {out / 'claims.csv'}, {len(res.figures)} figures in "
          f"{out / 'figures'}, {res.report}")
    if args.readme:
        from harness.analysis.report import update_readme

        if not update_readme(args.readme, res):
            print(f"ftbench: error: {args.readme} has no headline markers", file=sys.stderr)
            return 1
        print(f"refreshed the headline of {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
