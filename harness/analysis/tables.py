"""From raw pyperf results to the answer: does free-threaded 3.13t pay off, and for which work?

Pipeline (``python -m harness.analysis [--raw results/raw] [--out results]``)::

    load_raw          results/raw/<host>/<variant>.{json,csv} -> one row per planned benchmark
    benchmarks_table  -> results/benchmarks.csv   (per-benchmark statistics, failures kept)
    summary_table     -> results/summary.csv      (per host x workload x variant: ratios with CIs)
    lecture_claims    -> the lecture's figures, confirmed / refuted / not significant per variant
    write_report      -> results/REPORT.md        (plus PNGs from harness.analysis.plots)

This module loads and tabulates; the statistics live in harness.analysis.stats, the claims in
harness.analysis.claims and the words in harness.analysis.report. Their public names are re-exported here, so
the notebook and the CLI need only ``harness.analysis``.

The raw pyperf values are the source of truth (the CSVs written beside them are only read for the
benchmarks that failed or timed out). Every ratio carries a percentile-bootstrap 95% CI resampled
from those values; a ratio whose CI contains 1.0 is flagged not significant, and so is a ratio with
fewer than two values on a side (no CI can be had from one value).
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.analysis.claims import (
    BASELINE,
    CLAIMS,
    FREE_THREADED,
    LECTURE_CPU_WORKLOADS,
    PARALLEL,
    VARIANTS,
    WIDE_MARGIN,
    _first,
    _str,
    claims_matrix,
    lecture_claims,
)
from harness.analysis.report import (
    describe_runs,
    failures_table,
    headline_table,
    markdown_table,
    strategy_table,
    verdict,
    write_report,
)
from harness.analysis.stats import (
    CONFIDENCE,
    N_BOOT,
    SEED,
    bootstrap_ratio,
    break_even,
    describe_values,
    efficiency,
    karp_flatt,
    significant,
    t_quantile,
)

__all__ = [
    # loading, tables and the pipeline (this module)
    "AnalysisError", "BENCHMARK_COLUMNS", "NoResults", "Results", "benchmarks_table", "load_raw",
    "main", "open_results", "regenerate", "run_metadata", "scaling_table", "summary_table",
    # harness.analysis.stats
    "CONFIDENCE", "N_BOOT", "SEED", "bootstrap_ratio", "break_even", "describe_values",
    "efficiency", "karp_flatt", "significant", "t_quantile",
    # harness.analysis.claims
    "BASELINE", "CLAIMS", "FREE_THREADED", "LECTURE_CPU_WORKLOADS", "PARALLEL", "VARIANTS",
    "WIDE_MARGIN", "claims_matrix", "lecture_claims",
    # harness.analysis.report
    "describe_runs", "failures_table", "headline_table", "markdown_table", "strategy_table",
    "verdict", "write_report",
]

STRATEGY_ORDER = ("sequential", *PARALLEL)
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
)
IDENTITY = ("host", "cpu_model", "cpu_count", "python_version", "variant", "free_threaded",
            "gil_enabled", "workload", "kind", "strategy", "workers")
BENCHMARK_COLUMNS = (*IDENTITY, "status", "n", "mean", "median", "stdev", "min", "max",
                     "ci95_low", "ci95_high", "peak_rss", "check_ok", "error", "gil_reenabled_by")


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


def load_raw(root: str | Path = "results/raw") -> pd.DataFrame:
    """One row per host x variant x planned benchmark, with the pyperf values as a tuple.

    Raises NoResults when there is nothing to read and AnalysisError, naming the file, when a
    file is corrupt, truncated or inconsistent. Nothing is dropped: a benchmark the CSV lists as
    ok but whose values are missing from the JSON stays, with status "missing".
    """
    root = Path(root)
    if not root.is_dir():
        raise NoResults(f"{root}: no such directory; run the benchmarks first")
    rows = []
    for host_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for variant in _variant_files(host_dir):
            rows += _load_variant(host_dir.name, variant, host_dir)
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


def _load_variant(host: str, variant: str, host_dir: Path) -> list[dict]:
    json_path, csv_path = host_dir / f"{variant}.json", host_dir / f"{variant}.csv"
    rows: dict[str, dict] = {}
    if json_path.exists():
        for bench in _load_suite(json_path):
            row = _bench_row(bench, host, variant, json_path)
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


def _bench_row(bench, host: str, variant: str, path: Path) -> dict:
    name = bench.get_name() or ""
    runs = [r.get_metadata() for r in bench.get_runs() if r.values]
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
    values = tuple(float(v) for v in bench.get_values())
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
        "error": "" if values else f"no values in {path.name}",
        "values": values,
        "peak_rss": max(rss) if rss else None,
        "check": ("ok" if checks == {"ok"} else _joined(sorted(checks))) if checks else None,
        "gil_reenabled_by": _joined(m.get("ftbench_gil_reenabled_by") for m in meta),
        "date_first": dates[0] if dates else None,
        "date_last": dates[-1] if dates else None,
        "figures": {k: float(np.mean(v)) for k, v in figures.items()},
        "source": str(path),
        **{col: _joined(m.get(key) for m in meta) for col, key in PROVENANCE.items()},
    }


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
    free = context["free_threaded"] or ("yes" if re.match(r"\d+\.\d+t", variant) else "no")
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
        "figures": {}, "source": str(csv_path),
    }


# ---------------------------------------------------------------------------------------------
# Tables.


def _order(df: pd.DataFrame, by=("host", "workload", "variant", "strategy", "workers")):
    keys = {
        "variant": lambda s: s.map(lambda v: (VARIANTS.index(v) if v in VARIANTS else 99, v)),
        "strategy": lambda s: s.map(lambda v: (STRATEGY_ORDER.index(v)
                                               if v in STRATEGY_ORDER else 99, v)),
    }
    by = [b for b in by if b in df.columns]
    return df.sort_values(by, key=lambda s: keys[s.name](s) if s.name in keys else s,
                          kind="stable").reset_index(drop=True)


def benchmarks_table(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per host x variant x benchmark: statistics of the values, failures kept."""
    rows = []
    for rec in raw.to_dict("records"):
        stats = describe_values(rec["values"])
        if rec["status"] != "ok":
            stats = dict.fromkeys(stats)
        check = _str(rec["check"])
        row = {c: rec.get(c) for c in IDENTITY} | stats | {
            "status": rec["status"], "peak_rss": rec["peak_rss"],
            "check_ok": None if check is None else check == "ok",
            "error": _str(rec["error"]) or "",
            "gil_reenabled_by": _str(rec["gil_reenabled_by"]) or "",
        }
        row |= {f"figure_{k}": v for k, v in (rec["figures"] or {}).items()}
        rows.append(row)
    df = pd.DataFrame(rows)
    extra = sorted(c for c in df.columns if c not in BENCHMARK_COLUMNS)
    df = df.reindex(columns=[*BENCHMARK_COLUMNS, *extra])
    for col in ("cpu_count", "workers", "n", "peak_rss"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["check_ok"] = df["check_ok"].astype("boolean")
    return _order(df)


def _options(raw: pd.DataFrame) -> dict:
    """{(host, variant, workload): {(strategy, workers): values}} of the successful benchmarks."""
    out: dict = {}
    ok = raw[(raw["status"] == "ok") & (raw["values"].map(len) > 0)]
    for rec in ok.to_dict("records"):
        key = (rec["host"], rec["variant"], rec["workload"])
        out.setdefault(key, {})[(rec["strategy"], int(rec["workers"]))] = np.asarray(rec["values"])
    return out


def _sequential(options: dict):
    seq = sorted(w for s, w in options if s == "sequential")
    return options[("sequential", seq[0])] if seq else None


def _best(options: dict, strategy: str | None = None):
    """(strategy, workers, values) with the lowest mean time, of one strategy or of all."""
    cands = [(v.mean(), s, w) for (s, w), v in options.items() if strategy in (None, s)]
    if not cands:
        return None
    _, s, w = min(cands, key=lambda c: (c[0], c[2]))
    return s, w, options[(s, w)]


def _ratio(prefix: str, num, den, same: bool = False, n_boot: int = N_BOOT) -> dict:
    """Columns <prefix>, _ci_low, _ci_high, _significant; empty when a side is missing."""
    if num is None or den is None:
        r = lo = hi = math.nan
        sig = None
    elif same:  # a benchmark against itself: exactly 1, nothing to test
        r, lo, hi, sig = 1.0, math.nan, math.nan, False
    else:
        r, lo, hi = bootstrap_ratio(num, den, n_boot)
        sig = significant(lo, hi)
    return {prefix: r, f"{prefix}_ci_low": lo, f"{prefix}_ci_high": hi,
            f"{prefix}_significant": sig}


def summary_table(raw: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """One row per host x workload x variant: times, ratios with bootstrap CIs, break-even."""
    options = _options(raw)
    rows = []
    for (host, workload, variant), group in raw.groupby(["host", "workload", "variant"],
                                                        sort=False):
        own = options.get((host, variant, workload), {})
        base = options.get((host, BASELINE, workload))
        has_base_file = bool((raw["host"].eq(host) & raw["variant"].eq(BASELINE)).any())
        rows.append(_summary_row(group, own, base, has_base_file, n_boot))
    df = pd.DataFrame(rows)
    for col in [c for c in df.columns if c.endswith("_significant")]:
        df[col] = df[col].astype("boolean")
    for col in [c for c in df.columns if "workers" in c] + ["cpu_count", "n_ok", "n_failed"]:
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    return _order(df, ("host", "workload", "variant"))


def _summary_row(group: pd.DataFrame, own: dict, base: dict | None, has_base_file: bool,
                 n_boot: int) -> dict:
    first = group.iloc[0]
    host, workload, variant = first["host"], first["workload"], first["variant"]
    is_base = variant == BASELINE
    row = {
        "host": host, "cpu_model": _first(group["cpu_model"]),
        "cpu_count": _first(group["cpu_count"]), "workload": workload,
        "kind": _first(group["kind"]), "variant": variant,
        "free_threaded": _first(group["free_threaded"]),
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
    seq = _sequential(own)
    base_seq = _sequential(base) if base else None
    if seq is None:
        notes.append(f"no successful sequential run of {variant}: speedups empty")
    if not is_base:
        if not has_base_file:
            notes.append(f"no {BASELINE} results on host {host}: comparisons with {BASELINE} empty")
        elif not base:
            notes.append(f"no successful {BASELINE} run of {workload}: comparisons with "
                         f"{BASELINE} empty")
        elif base_seq is None:
            notes.append(f"no successful {BASELINE} sequential run: slowdown empty")
    seq_stats = describe_values(seq if seq is not None else ())
    row |= {"seq_time": seq_stats["mean"], "seq_ci_low": seq_stats["ci95_low"],
            "seq_ci_high": seq_stats["ci95_high"]}
    row |= _ratio("slowdown", seq, base_seq, same=is_base, n_boot=n_boot)

    best, base_best = _best(own), (_best(base) if base else None)
    row |= {"best_strategy": best[0] if best else None, "best_workers": best[1] if best else None,
            "best_time": best[2].mean() if best else math.nan}
    row |= _ratio("best_speedup", seq, best[2] if best else None,
                  same=bool(best) and best[0] == "sequential", n_boot=n_boot)
    row["baseline_best"] = f"{base_best[0]} x{base_best[1]}" if base_best else None
    row["baseline_best_time"] = base_best[2].mean() if base_best else math.nan
    row |= _ratio("gain_vs313_best", base_best[2] if base_best else None,
                  best[2] if best else None, same=is_base, n_boot=n_boot)

    row["break_even_workers"], row["break_even_significant"] = None, None
    threads = {w: v for (s, w), v in own.items() if s == "threads"}
    if not is_base and base_best and threads:
        w = break_even({w: v.mean() for w, v in threads.items()}, base_best[2].mean())
        if w is not None:
            row["break_even_workers"] = w
            row["break_even_significant"] = _ratio("r", base_best[2], threads[w],
                                                   n_boot=n_boot)["r_significant"]

    for s in PARALLEL:
        got, got_base = _best(own, s), (_best(base, s) if base else None)
        vals = got[2] if got else None
        workers = got[1] if got else None
        row[f"best_workers_{s}"] = workers
        row[f"time_{s}"] = vals.mean() if got else math.nan
        row |= _ratio(f"speedup_{s}", seq, vals, n_boot=n_boot)
        row |= _ratio(f"speedup_vs313_{s}", base_seq, vals, n_boot=n_boot)
        row |= _ratio(f"gain_vs313_{s}", got_base[2] if got_base else None, vals,
                      same=is_base, n_boot=n_boot)
        row[f"efficiency_{s}"] = efficiency(row[f"speedup_{s}"], workers) if got else math.nan
        row[f"karp_flatt_{s}"] = karp_flatt(row[f"speedup_{s}"], workers) if got else math.nan
    row["note"] = "; ".join(notes)
    return row


def scaling_table(raw: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Every (host, workload, variant, strategy, workers) point of the scaling curves.

    speedup is against the variant's own sequential time; speedup_vs313 against the same host's
    3.13 sequential time (one common yardstick for all variants).
    """
    options = _options(raw)
    rows = []
    for (host, variant, workload), own in options.items():
        seq = _sequential(own)
        base = options.get((host, BASELINE, workload))
        base_seq = _sequential(base) if base else None
        sub = raw[(raw["host"] == host) & (raw["variant"] == variant)]
        for (strategy, workers), vals in own.items():
            rows.append({"host": host, "cpu_count": _first(sub["cpu_count"]),
                         "workload": workload, "kind": _first(sub["kind"]), "variant": variant,
                         "strategy": strategy, "workers": workers, "time": vals.mean(),
                         **_ratio("speedup", seq, vals, same=strategy == "sequential",
                                  n_boot=n_boot),
                         **_ratio("speedup_vs313", base_seq, vals,
                                  same=variant == BASELINE and strategy == "sequential",
                                  n_boot=n_boot)})
    columns = ["host", "cpu_count", "workload", "kind", "variant", "strategy", "workers", "time",
               *(f"{p}{s}" for p in ("speedup", "speedup_vs313")
                 for s in ("", "_ci_low", "_ci_high", "_significant"))]
    return _order(pd.DataFrame(rows, columns=columns))


def run_metadata(raw: pd.DataFrame) -> pd.DataFrame:
    """Per host x variant: machine, interpreter and its provenance, versions, date range."""
    rows = []
    for (host, variant), g in raw.groupby(["host", "variant"], sort=False):
        rows.append({
            "host": host, "variant": variant, "cpu_model": _first(g["cpu_model"]),
            "cpu_count": _first(g["cpu_count"]), "python_version": _joined(g["python_version"]),
            "free_threaded": _first(g["free_threaded"]),
            "benchmarks": len(g), "ok": int((g["status"] == "ok").sum()),
            "failed": int((g["status"] != "ok").sum()),
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
    summary: pd.DataFrame | None = None
    scaling: pd.DataFrame | None = None
    claims: pd.DataFrame | None = None
    metadata: pd.DataFrame | None = None
    figures: list = field(default_factory=list)
    report: Path | None = None
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


def regenerate(raw_dir: str | Path = "results/raw", out_dir: str | Path = "results",
               n_boot: int = N_BOOT, figures: bool = True) -> Results:
    """Read the raw results; write benchmarks.csv, summary.csv, figures/ and REPORT.md."""
    raw = load_raw(raw_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = Results(raw=raw, benchmarks=benchmarks_table(raw), summary=summary_table(raw, n_boot),
                  scaling=scaling_table(raw, n_boot), metadata=run_metadata(raw))
    res.claims = lecture_claims(res.summary)
    res.benchmarks.to_csv(out / "benchmarks.csv", index=False, float_format="%.6g")
    res.summary.to_csv(out / "summary.csv", index=False, float_format="%.6g")
    res.claims.to_csv(out / "claims.csv", index=False)
    if figures:
        from harness.analysis import plots

        res.figures = plots.make_all(res.benchmarks, res.summary, res.scaling, out / "figures")
    res.report = write_report(res.summary, res.claims, res.metadata, out / "REPORT.md",
                              res.figures, res.benchmarks)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.analysis", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("--raw", default="results/raw", help="raw results directory")
    parser.add_argument("--out", default="results", help="where CSVs, figures and REPORT.md go")
    parser.add_argument("--readme", help="also refresh the headline block of this README.md")
    args = parser.parse_args(argv)
    try:
        res = regenerate(args.raw, args.out)
    except AnalysisError as exc:
        print(f"ftbench: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    out = Path(args.out)
    print(f"wrote {out / 'benchmarks.csv'}, {out / 'summary.csv'}, {out / 'claims.csv'}, "
          f"{len(res.figures)} figures in {out / 'figures'}, {res.report}")
    if args.readme:
        from harness.analysis.report import update_readme

        if not update_readme(args.readme, res.summary, res.metadata):
            print(f"ftbench: error: {args.readme} has no headline markers", file=sys.stderr)
            return 1
        print(f"refreshed the headline of {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
