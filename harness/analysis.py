"""From raw pyperf results to the answer: does free-threaded 3.13t pay off, and for which work?

Pipeline (``python -m harness.analysis [--raw results/raw] [--out results]``)::

    load_raw          results/raw/<host>/<variant>.{json,csv} -> one row per planned benchmark
    benchmarks_table  -> results/benchmarks.csv   (per-benchmark statistics, failures kept)
    summary_table     -> results/summary.csv      (per host x workload x variant: ratios with CIs)
    lecture_claims    -> the lecture's figures, confirmed / refuted / not significant per variant
    write_report      -> results/REPORT.md        (plus PNGs from harness.plots)

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

BASELINE = "3.13"  # the default (GIL) build every comparison is made against
VARIANTS = ("3.13", "3.13t", "3.13t-gil")
FREE_THREADED = "3.13t"
PARALLEL = ("threads", "processes", "asyncio", "asyncio_threads")
STRATEGY_ORDER = ("sequential", *PARALLEL)
STATUSES = ("ok", "failed", "timeout")
N_BOOT = 2000  # bootstrap resamples per ratio: CI bounds stable to ~1% at n = 3-10 values
SEED = 20250701  # every ratio uses the same seeded generator: reruns give identical CSVs
CONFIDENCE = 0.95
WIDE_MARGIN = 2.0  # "by a wide margin" in the lecture's I/O claims: at least 2x
LECTURE_CPU_WORKLOADS = ("cpu_sum_squares",)  # the lecture's own pure-Python CPU task

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
# Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (no scipy needed).
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


class AnalysisError(Exception):
    """Raw results the analysis cannot use; the CLI prints it as one line and exits 1."""


class NoResults(AnalysisError):
    """The raw directory holds no result files yet (nothing has been measured)."""


# ---------------------------------------------------------------------------------------------
# Statistics: small pure functions, each tested against hand-computed numbers.


def t_quantile(df: int) -> float:
    """Student's t 97.5% quantile: table up to 30 df, Cornish-Fisher expansion beyond."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def describe_values(values) -> dict:
    """n, mean, median, stdev (n-1), min, max and the t-based 95% CI of the mean."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    out = dict.fromkeys(("mean", "median", "stdev", "min", "max", "ci95_low", "ci95_high"),
                        math.nan)
    out["n"] = n
    if n == 0:
        return out
    out.update(mean=v.mean(), median=float(np.median(v)), min=v.min(), max=v.max())
    if n > 1:
        sd = v.std(ddof=1)
        half = t_quantile(n - 1) * sd / math.sqrt(n)
        out.update(stdev=sd, ci95_low=v.mean() - half, ci95_high=v.mean() + half)
    return {k: (float(x) if k != "n" else x) for k, x in out.items()}


def bootstrap_ratio(num, den, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[float, float, float]:
    """mean(num) / mean(den) and its percentile-bootstrap CI (each side resampled on its own).

    The bounds are NaN when a side has fewer than two values: one value gives no spread.
    """
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan
    ratio = float(a.mean() / b.mean())
    if len(a) < 2 or len(b) < 2:
        return ratio, math.nan, math.nan
    rng = np.random.default_rng(seed)
    ma = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
    mb = b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(ma / mb, [tail, 1 - tail])
    return ratio, float(low), float(high)


def significant(low: float, high: float) -> bool:
    """A ratio differs from 1.0 only if its CI exists and leaves 1.0 out."""
    if math.isnan(low) or math.isnan(high):
        return False
    return not low <= 1.0 <= high


def efficiency(speedup: float, workers: int) -> float:
    """Parallel efficiency: the share of ideal linear speedup reached (1.0 = perfect)."""
    return speedup / workers if workers and workers > 0 else math.nan


def karp_flatt(speedup: float, workers: int) -> float:
    """Experimentally determined serial fraction e = (1/S - 1/p) / (1 - 1/p), for p > 1."""
    if not workers or workers <= 1 or not speedup > 0:
        return math.nan
    return (1 / speedup - 1 / workers) / (1 - 1 / workers)


def break_even(thread_means: dict[int, float], baseline_best: float) -> int | None:
    """Fewest threads whose mean time beats ``baseline_best``; None if no count does."""
    for workers in sorted(thread_means):
        if thread_means[workers] < baseline_best:
            return workers
    return None


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


def _first(values):
    return next((v for v in values if v is not None and v == v), None)


def _str(v) -> str | None:
    """A text cell, or None for an empty one (pandas turns an all-None column into NaN)."""
    return v if isinstance(v, str) and v else None


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
# The lecture's claims, checked per host x workload x variant.


def _get(row, col):
    v = row.get(col) if hasattr(row, "get") else None
    return math.nan if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v


def _true(v) -> bool:
    return v is not None and v is not pd.NA and not _isnan(v) and bool(v)


def _false(v) -> bool:
    return v is not None and v is not pd.NA and not _isnan(v) and not bool(v)


def _at_least(row, col: str, threshold: float) -> str:
    """Confirmed: significantly > 1 and at least ``threshold``; refuted: significant otherwise."""
    r = _get(row, col)
    if isinstance(r, float) and math.isnan(r):
        return "not measured"
    if not _true(_get(row, f"{col}_significant")):
        return "not significant"
    return "confirmed" if r > 1 and r >= threshold else "refuted"


def _no_faster(row, col: str) -> str:
    """'X is no faster': refuted only by a significant speedup above 1."""
    r, lo = _get(row, col), _get(row, f"{col}_ci_low")
    if isinstance(r, float) and math.isnan(r):
        return "not measured"
    if isinstance(lo, float) and math.isnan(lo):
        return "not significant"  # no CI: cannot tell "no faster" from "not measured well"
    return "refuted" if _true(_get(row, f"{col}_significant")) and r > 1 else "confirmed"


def _less_than(row, col: str, others: tuple[str, ...]) -> str:
    """CI of ``col`` entirely below every other's CI: confirmed; above any: refuted."""
    lo, hi = _get(row, f"{col}_ci_low"), _get(row, f"{col}_ci_high")
    bounds = [(_get(row, f"{o}_ci_low"), _get(row, f"{o}_ci_high")) for o in others]
    if any(isinstance(x, float) and math.isnan(x) for x in (lo, hi, *sum(bounds, ()))):
        measured = [_get(row, c) for c in (col, *others)]
        if any(isinstance(x, float) and math.isnan(x) for x in measured):
            return "not measured"
        return "not significant"
    if all(hi < olo for olo, _ in bounds):
        return "confirmed"
    if any(lo > ohi for _, ohi in bounds):
        return "refuted"
    return "not significant"


def _slower(row, col: str) -> str:
    """A ratio old/new significantly below 1 means the new build is slower: confirmed."""
    r = _get(row, col)
    if isinstance(r, float) and math.isnan(r):
        return "not measured"
    if not _true(_get(row, f"{col}_significant")):
        return "not significant"
    return "confirmed" if r < 1 else "refuted"


def _fmt_ratio(row, col: str) -> str:
    r = _get(row, col)
    if isinstance(r, float) and math.isnan(r):
        return "-"
    lo, hi = _get(row, f"{col}_ci_low"), _get(row, f"{col}_ci_high")
    ci = "" if isinstance(lo, float) and math.isnan(lo) else f" [{lo:.2f}-{hi:.2f}]"
    return f"{r:.2f}x{ci}"


def _strategy_ratio(row, s: str) -> str:
    w = _get(row, f"best_workers_{s}")
    at = "" if isinstance(w, float) else f" at {w}"
    return f"{s}{at}: {_fmt_ratio(row, f'speedup_{s}')}"


# (id, scope: a workload kind "io"/"cpu", "lecture-cpu" (the lecture's own CPU task) or "any";
#  the variants it is checked on; the claim; the lecture's printed figures; verdict(row);
#  measured(row): the summary's ratio and CI as text)
CLAIMS = (
    ("io-threads", "io", VARIANTS, "I/O: threads beat sequential by >= 2x",
     "14.29 s -> 3.72 s (3.8x)",
     lambda r: _at_least(r, "speedup_threads", WIDE_MARGIN),
     lambda r: _strategy_ratio(r, "threads")),
    ("io-asyncio", "io", VARIANTS, "I/O: asyncio beats sequential by >= 2x",
     "14.29 s -> 2.57 s (5.6x)",
     lambda r: _at_least(r, "speedup_asyncio", WIDE_MARGIN),
     lambda r: _strategy_ratio(r, "asyncio")),
    ("io-asyncio-best", "io", VARIANTS, "I/O: asyncio is faster than threads",
     "2.57 s vs 3.72 s",
     lambda r: _less_than(r, "speedup_threads", ("speedup_asyncio",)),
     lambda r: f"{_strategy_ratio(r, 'asyncio')}; {_strategy_ratio(r, 'threads')}"),
    ("io-processes-less", "io", VARIANTS,
     "I/O: multiprocessing helps, but less than threads and asyncio",
     "5.72 s (2.5x) vs 3.72 s and 2.57 s",
     lambda r: _less_than(r, "speedup_processes", ("speedup_threads", "speedup_asyncio")),
     lambda r: "; ".join(_strategy_ratio(r, s) for s in ("processes", "threads", "asyncio"))),
    ("cpu-threads", "lecture-cpu", VARIANTS, "CPU: threads are no faster than sequential",
     "7.83 s -> 10.41 s (0.75x)",
     lambda r: _no_faster(r, "speedup_threads"),
     lambda r: _strategy_ratio(r, "threads")),
    ("cpu-asyncio", "lecture-cpu", VARIANTS, "CPU: asyncio is no faster than sequential",
     "7.83 s -> 10.41 s (0.75x)",
     lambda r: _no_faster(r, "speedup_asyncio"),
     lambda r: _strategy_ratio(r, "asyncio")),
    ("cpu-processes", "lecture-cpu", VARIANTS, "CPU: multiprocessing is faster than sequential",
     "7.83 s -> 2.52 s (3.1x)",
     lambda r: _at_least(r, "speedup_processes", 1.0),
     lambda r: _strategy_ratio(r, "processes")),
    ("ft-threads-parallel", "cpu", (FREE_THREADED,),
     "free-threaded build: threads run CPU work in parallel (faster than sequential)",
     "stated, not measured",
     lambda r: _at_least(r, "speedup_threads", 1.0),
     lambda r: _strategy_ratio(r, "threads")),
    ("ft-single-thread", "any", (FREE_THREADED, "3.13t-gil"),
     "free-threaded build: single-threaded code is slower than on 3.13",
     "stated, not measured",
     lambda r: _at_least(r, "slowdown", 1.0),
     lambda r: f"sequential time vs 3.13: {_fmt_ratio(r, 'slowdown')}"),
    ("ft-processes", "any", (FREE_THREADED, "3.13t-gil"),
     "free-threaded build: multi-process programs are slower than on 3.13",
     "stated, not measured",
     lambda r: _slower(r, "gain_vs313_processes"),
     lambda r: f"best processes run at {_fmt_ratio(r, 'gain_vs313_processes')} 3.13's speed"),
)


def _applies(scope: str, row) -> bool:
    if scope == "any":
        return True
    if scope == "lecture-cpu":
        return row["workload"] in LECTURE_CPU_WORKLOADS
    return row["kind"] == scope


def lecture_claims(summary: pd.DataFrame) -> pd.DataFrame:
    """Each quantitative claim of the lecture, per host x workload x variant it applies to.

    verdict: confirmed / refuted / not significant (the CI contains 1.0, or a comparison's CIs
    overlap) / not measured. "X is no faster" is confirmed unless X is significantly faster.
    """
    rows = []
    for rec in summary.to_dict("records"):
        for cid, scope, variants, claim, lecture, judge, measured in CLAIMS:
            if rec["variant"] in variants and _applies(scope, rec):
                rows.append({"host": rec["host"], "workload": rec["workload"],
                             "variant": rec["variant"], "claim_id": cid, "claim": claim,
                             "lecture": lecture, "measured": measured(rec),
                             "verdict": judge(rec)})
    columns = ["host", "workload", "variant", "claim_id", "claim", "lecture", "measured",
               "verdict"]
    return pd.DataFrame(rows, columns=columns)


def claims_matrix(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims for reading: one row per host x workload x claim, one column per variant.

    A cell reads e.g. "refuted: threads at 2: 1.91x [1.89-1.92]": a claim the GIL build confirms
    and 3.13t refutes shows up side by side.
    """
    if claims.empty:
        return pd.DataFrame(columns=["host", "workload", "claim", "lecture"])
    cells = claims.assign(cell=claims["verdict"] + ": " + claims["measured"])
    wide = cells.pivot_table(index=["host", "workload", "claim_id", "claim", "lecture"],
                             columns="variant", values="cell", aggfunc="first", sort=False)
    variants = sorted(wide.columns, key=lambda v: (VARIANTS.index(v) if v in VARIANTS else 99, v))
    order = {c[0]: i for i, c in enumerate(CLAIMS)}
    wide = wide[variants].reset_index()
    wide = wide.sort_values(["host", "workload", "claim_id"], kind="stable",
                            key=lambda c: c.map(order) if c.name == "claim_id" else c)
    wide = wide.drop(columns="claim_id").reset_index(drop=True)
    wide.columns.name = None
    return wide.fillna("n/a")


# ---------------------------------------------------------------------------------------------
# Words: verdicts for the notebook, and REPORT.md.


def _fmt_time(t) -> str:
    return "-" if t is None or (isinstance(t, float) and math.isnan(t)) else f"{t:#.3g} s"


def verdict(summary: pd.DataFrame, workload: str, variant: str = FREE_THREADED) -> str:
    """A reviewer's paragraph per host: does ``variant`` pay off for ``workload``, and how."""
    sub = summary[summary["workload"] == workload]
    if sub.empty:
        return f"**{workload}**: no results."
    parts = []
    for host, g in sub.groupby("host", sort=False):
        rows = {r["variant"]: r for r in g.to_dict("records")}
        row = rows.get(variant)
        head = f"**{workload}** on *{host}* ({_first(g['cpu_count'])} CPUs): "
        if row is None:
            parts.append(head + f"no {variant} results.")
            continue
        if BASELINE not in rows or _isnan(_get(row, "gain_vs313_best")):
            parts.append(head + f"cannot say whether {variant} pays off: "
                         f"{row['note'] or 'no ' + BASELINE + ' baseline'}.")
            continue
        gain, best = _get(row, "gain_vs313_best"), f"{row['best_strategy']} x{row['best_workers']}"
        sig = _true(_get(row, "gain_vs313_best_significant"))
        ours = f"{best} ({_fmt_time(row['best_time'])})"
        theirs = f"{row['baseline_best']} ({_fmt_time(row['baseline_best_time'])})"
        if sig and gain > 1:
            text = (f"**{variant} pays off**: its best option, {ours}, is "
                    f"{_fmt_ratio(row, 'gain_vs313_best')} faster than {BASELINE}'s best, "
                    f"{theirs}.")
        elif sig:
            text = (f"**{variant} does not pay off**: {BASELINE}'s best option, {theirs}, beats "
                    f"{variant}'s best, {ours} ({variant}/{BASELINE} speed "
                    f"{_fmt_ratio(row, 'gain_vs313_best')}).")
        else:
            text = (f"**no significant difference**: {variant}'s best, {ours}, vs {BASELINE}'s "
                    f"best, {theirs} ({_fmt_ratio(row, 'gain_vs313_best')}).")
        tw = _get(row, "best_workers_threads")
        if not _isnan(tw):
            text += (f" Its threads run {_fmt_ratio(row, 'speedup_threads')} its own sequential "
                     f"speed at best ({tw} threads{_ns(row, 'speedup_threads')}).")
        be = _get(row, "break_even_workers")
        if _isnan(be):
            text += f" No thread count on {variant} beats {BASELINE}'s best."
        else:
            qual = "" if _true(_get(row, "break_even_significant")) else " (not significant)"
            text += f" Threads on {variant} beat {BASELINE}'s best from {be} threads on{qual}."
        slow = _get(row, "slowdown")
        if not _isnan(slow):
            word = "slower" if slow > 1 else "faster"
            qual = "" if _true(_get(row, "slowdown_significant")) else ", not significant"
            text += (f" Single-threaded, {variant} is {_fmt_ratio(row, 'slowdown')} the "
                     f"{BASELINE} time ({word}{qual}).")
        gil = rows.get("3.13t-gil")
        if gil is not None and variant != "3.13t-gil" and not _isnan(_get(gil, "gain_vs313_best")):
            text += (f" With the GIL forced on (3.13t-gil) the best option is "
                     f"{gil['best_strategy']} x{gil['best_workers']}, "
                     f"{_fmt_ratio(gil, 'gain_vs313_best')} {BASELINE}'s best speed.")
        parts.append(head + text)
    return "\n\n".join(parts)


def _ns(row, col: str) -> str:
    return "" if _true(_get(row, f"{col}_significant")) else ", not significant"


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency); NaN and None print as '-'."""
    def cell(v):
        if v is None or v is pd.NA or _isnan(v):
            return "-"
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, df.columns)) + " |",
             "|" + "|".join("---" for _ in df.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in rec) + " |"
              for rec in df.itertuples(index=False)]
    return "\n".join(lines)


def headline_table(summary: pd.DataFrame, workload: str | None = None) -> pd.DataFrame:
    """The report's headline: per workload x variant, formatted for reading (strings)."""
    sub = summary if workload is None else summary[summary["workload"] == workload]
    rows = []
    for r in sub.to_dict("records"):
        be = _get(r, "break_even_workers")
        rows.append({
            "host": r["host"], "workload": r["workload"], "variant": r["variant"],
            "sequential": _fmt_time(r["seq_time"]),
            "slowdown vs 3.13": "baseline" if r["variant"] == BASELINE else _mark(r, "slowdown"),
            "best option": (f"{r['best_strategy']} x{r['best_workers']}"
                            if _str(r["best_strategy"]) else "-"),
            "speedup": _mark(r, "best_speedup"),
            "gain vs 3.13 best": ("baseline" if r["variant"] == BASELINE
                                  else _mark(r, "gain_vs313_best")),
            "break-even threads": "-" if _isnan(be) else str(be),
            "note": r["note"] or "",
        })
    return pd.DataFrame(rows)


def strategy_table(summary: pd.DataFrame, workload: str) -> pd.DataFrame:
    """One workload, every variant x strategy at its best worker count, formatted for reading."""
    rows = []
    for r in summary[summary["workload"] == workload].to_dict("records"):
        rows.append({"host": r["host"], "variant": r["variant"], "strategy": "sequential",
                     "workers": "1", "time": _fmt_time(r["seq_time"]), "speedup": "-",
                     "speedup vs 3.13 seq": ("baseline" if r["variant"] == BASELINE
                                             else _mark(_inverse(r, "slowdown"), "inverse")),
                     "efficiency": "-", "serial fraction": "-"})
        for s in PARALLEL:
            w = _get(r, f"best_workers_{s}")
            if _isnan(w):
                continue
            rows.append({"host": r["host"], "variant": r["variant"], "strategy": s,
                         "workers": str(w), "time": _fmt_time(r[f"time_{s}"]),
                         "speedup": _mark(r, f"speedup_{s}"),
                         "speedup vs 3.13 seq": _mark(r, f"speedup_vs313_{s}"),
                         "efficiency": _fmt_num(r[f"efficiency_{s}"]),
                         "serial fraction": _fmt_num(r[f"karp_flatt_{s}"])})
    return pd.DataFrame(rows)


def _inverse(row, col: str) -> dict:
    """1 / ratio with its CI bounds swapped and inverted, as columns 'inverse*'."""
    r, lo, hi = (_get(row, f"{col}{x}") for x in ("", "_ci_low", "_ci_high"))
    return {"inverse": 1 / r if r else math.nan, "inverse_ci_low": 1 / hi if hi else math.nan,
            "inverse_ci_high": 1 / lo if lo else math.nan,
            "inverse_significant": _get(row, f"{col}_significant")}


def _fmt_num(v) -> str:
    return "-" if _isnan(_get({"v": v}, "v")) else f"{v:.2f}"


def failures_table(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """The benchmarks that failed, timed out or lost their values, with the error."""
    bad = benchmarks[benchmarks["status"] != "ok"]
    return bad[["host", "variant", "workload", "strategy", "workers", "status",
                "error"]].reset_index(drop=True)


def _mark(row, col: str) -> str:
    text = _fmt_ratio(row, col)
    if text != "-" and _false(_get(row, f"{col}_significant")):
        text += " (n.s.)"
    return text


def write_report(summary: pd.DataFrame, claims: pd.DataFrame, metadata: pd.DataFrame,
                 path: str | Path, figures=(), benchmarks: pd.DataFrame | None = None) -> Path:
    """results/REPORT.md: headline, lecture claims, failures, run metadata, figure links."""
    path = Path(path)
    out = ["# ftbench report", "",
           "Generated by `python -m harness.analysis` from the raw pyperf results. Ratios are "
           "ratios of mean times with percentile-bootstrap 95% CIs; `(n.s.)` marks a ratio whose "
           "CI contains 1.0 (or that has fewer than two values on a side). Slowdown > 1: slower "
           "than 3.13; speedup and gain > 1: faster.", "",
           "## Headline", "", markdown_table(headline_table(summary)), "",
           "## The lecture's claims", "",
           "Per variant: confirmed / refuted / not significant (CI contains 1.0, or the compared "
           "CIs overlap) / not measured, then the measured ratio and its 95% CI. \"No faster\" "
           "claims are refuted only by a significant speedup. n/a: the claim is not about that "
           "variant.", "",
           markdown_table(claims_matrix(claims)) if len(claims)
           else "No claim applies to these results.", ""]
    if benchmarks is not None:
        bad = failures_table(benchmarks)
        if len(bad):
            out += ["## Benchmarks not measured", "", markdown_table(bad), ""]
    hosts = metadata.drop_duplicates("host")[["host", "cpu_model", "cpu_count"]]
    interp = metadata[["host", "variant", "python_version", "free_threaded", "source_sha256",
                       "source_origin", "configure_args", "build_date", "compiler",
                       "date_first", "date_last", "benchmarks", "ok", "failed"]]
    libs = metadata[["host", "variant", "profile", "size", "start_method", "accelerators",
                     "c_extensions", "numpy", "aiohttp", "requests", "pyperf"]]
    out += ["## Run metadata", "", "### Hosts", "", markdown_table(hosts), "",
            "### Interpreters and provenance", "", markdown_table(interp), "",
            "### Settings and libraries", "", markdown_table(libs), ""]
    if figures:
        out += ["## Figures", ""]
        for fig in figures:
            rel = Path(fig.path).relative_to(path.parent) if Path(fig.path).is_relative_to(
                path.parent) else fig.path
            out.append(f"![{fig.title}]({rel})")
        out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out))
    return path


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
        from harness import plots

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
                               "`python -m harness.bench`), or point FTBENCH_RESULTS at a "
                               "results directory.")


def describe_runs(res: Results) -> str:
    """Markdown: what was measured, on which machines and interpreters (or why nothing)."""
    if res.empty:
        return f"**{res.message}**"
    m = res.metadata
    lines = [f"{len(res.raw)} planned benchmarks, {int((res.raw['status'] == 'ok').sum())} "
             f"measured, over {m['host'].nunique()} host(s), workloads: "
             f"{', '.join(res.workloads)}.", ""]
    for host, g in m.groupby("host", sort=False):
        first = g.iloc[0]
        lines.append(f"- **{host}**: {first['cpu_model']}, {first['cpu_count']} CPUs")
        for r in g.to_dict("records"):
            lines.append(f"  - `{r['variant']}`: Python {r['python_version']} "
                         f"(free-threaded: {r['free_threaded']}), source sha256 "
                         f"`{(r['source_sha256'] or '?')[:12]}`, measured "
                         f"{r['date_first']} .. {r['date_last']}, {r['ok']} ok / "
                         f"{r['failed']} not measured")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.analysis", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("--raw", default="results/raw", help="raw results directory")
    parser.add_argument("--out", default="results", help="where CSVs, figures and REPORT.md go")
    args = parser.parse_args(argv)
    try:
        res = regenerate(args.raw, args.out)
    except AnalysisError as exc:
        print(f"ftbench: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    out = Path(args.out)
    print(f"wrote {out / 'benchmarks.csv'}, {out / 'summary.csv'}, {out / 'claims.csv'}, "
          f"{len(res.figures)} figures in {out / 'figures'}, {res.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
