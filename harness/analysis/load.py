"""Raw results -> tables: read results/raw/<host>/<variant>.{json,csv} into one row per benchmark.

The raw pyperf values are the source of truth. A benchmark the CSV lists but whose values are not in
the JSON stays (status "missing"), a failed one keeps its error: nothing measured is dropped. Runs
flagged for foreign load (metadata ``foreign_flagged == "yes"``) are left out unless
``keep_flagged``, and counted. Every interval of :func:`benchmarks_table` is over the pyperf
processes (harness.analysis.stats).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from harness import metadata as md
from harness import variants as reg
from harness.analysis.order import sort_rows
from harness.analysis.stats import describe_runs_values
from harness.analysis.values import first_present, text_or_none
from harness.provision import fingerprint

STATUSES = ("ok", "failed", "timeout")
CSV_REQUIRED = ("host", "variant", "name", "workload", "kind", "strategy", "workers", "status")
# Run metadata kept per benchmark, column -> stored key (a value that differs between runs is joined
# with "; "): pyperf's own keys and ftbench's build and library provenance.
PROVENANCE = {
    "python_executable": "python_executable",
    **{name: md.stored(name) for name in (
        "source_sha256", "source_origin", "configure_args", "build_date", "compiler", "profile", "size",
        "start_method", "accelerators", "c_extensions", "numpy", "aiohttp", "requests", "pyperf")},
    "platform": "platform",
}
RAW_COLUMNS = (
    "host", "cpu_model", "cpu_count", "python_version", "variant", "free_threaded", "gil_enabled",
    "name", "workload", "kind", "strategy", "workers", "status", "error", "values", "peak_rss",
    "check", "gil_reenabled_by", "date_first", "date_last", "figures", "source", *PROVENANCE,
    "runs", "run_rounds", "run_invocations", "run_dates", "flagged_rounds", "n_runs_flagged", "busy_cores",
    "foreign_cores", "peak_tree_memory", "run_memory", "memory_method",
    "precision_target", "stop_reason", "scaling", "rounds", "stage", "planned_rounds", "plan_reason",
    "run_canary",
)
# Measured by each pyperf process; results recorded before a key existed lack it: empty columns, no error.
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
        check_host_label(host_dir)
        for variant in _variant_files(host_dir):
            rows += _load_variant(host_dir.name, variant, host_dir, keep_flagged)
    if not rows:
        raise NoResults(f"{root}: no raw results (<host>/<variant>.json) yet; "
                        "run the benchmarks first")
    return pd.DataFrame(rows, columns=list(RAW_COLUMNS))


def check_host_label(host_dir: Path) -> None:
    """Refuse a results set whose directory name is not a host label (AnalysisError, one line).

    The name is written into every CSV row and README line: a name starting with ``=`` or ``+`` would
    be a spreadsheet formula, one holding a newline would split a line. The campaign never makes
    such a name (``--host`` is checked the same way); a copied or renamed set must be renamed back.
    """
    if not fingerprint.is_host_label(host_dir.name):
        raise AnalysisError(f"{host_dir.parent}/{host_dir.name!r}: not a host label (letters, digits, '.', '_' "
                            f"and '-', starting with a letter or digit, at most {fingerprint.MAX_HOST_LABEL} "
                            "characters); rename the directory")


def _load_suite(path: Path):
    """The pyperf suite of ``path``; any failure of pyperf's loader is one AnalysisError naming the file."""
    import pyperf

    try:
        return pyperf.BenchmarkSuite.load(str(path))
    except Exception as exc:  # noqa: BLE001 - pyperf raises ValueError, KeyError, TypeError...
        raise AnalysisError(f"{path}: not valid pyperf JSON: {exc}") from None


def _load_variant(host: str, variant: str, host_dir: Path,
                  keep_flagged: bool = False) -> list[dict]:
    """The rows of one variant: its JSON's benchmarks, then those only its CSV lists (failed, timed
    out, or lost), with the machine context of the JSON so a failure still says where it ran."""
    json_path, csv_path = host_dir / f"{variant}.json", host_dir / f"{variant}.csv"
    rows: dict[str, dict] = {}
    if json_path.exists():
        for bench in _load_suite(json_path):
            row = _benchmark_row(bench, host, variant, json_path, keep_flagged)
            rows[row["name"]] = row
    context = {k: first_present(r[k] for r in rows.values())
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


def joined(values) -> str | None:
    """Distinct values in first-seen order joined with "; ": a provenance that differs between runs
    shows every value instead of one chosen silently; None when there is none."""
    seen = list(dict.fromkeys(str(v) for v in values if v is not None))
    return "; ".join(seen) if seen else None


def _written(meta: dict, name: str):
    """ftbench's metadata ``name`` as written, unparsed: differing values are joined verbatim."""
    return meta.get(md.stored(name))


def _benchmark_row(bench, host: str, variant: str, path: Path, keep_flagged: bool = False) -> dict:
    """One benchmark of a pyperf file as a raw row: values of the kept runs, metadata over all runs.

    A benchmark without workload / strategy / workers metadata is identified by its name
    (``workload/strategy/workers``), as the runner names them; a run-scope key is merged by its
    rule in harness.metadata.
    """
    name = bench.get_name() or ""
    measured = [r for r in bench.get_runs() if r.values]
    flagged = [r for r in measured if md.get(r.get_metadata(), "foreign_flagged") == "yes"]
    kept = measured if keep_flagged else [r for r in measured if r not in flagged]
    runs = [r.get_metadata() for r in measured]
    meta = runs or [bench.get_metadata()]
    parts = name.split("/")

    def pick(key, index):
        key = md.stored(key)
        got = first_present(m.get(key) for m in meta)
        if got is None and len(parts) == 3:
            got = parts[index]
        if got is None:
            raise AnalysisError(f"{path}: benchmark {name!r} has no {key} metadata")
        return got

    said = first_present(_written(m, "variant") for m in meta)
    if said is not None and said != variant:
        raise AnalysisError(f"{path}: benchmark {name!r} was measured as variant {said!r}")
    try:
        workers = int(pick("workers", 2))
    except ValueError:
        raise AnalysisError(f"{path}: benchmark {name!r}: workers is not an integer") from None
    values = tuple(float(v) for r in kept for v in r.values)
    merged = md.merge([r.get_metadata() for r in kept] or runs)
    benchmark_meta = md.merge(runs + [bench.get_metadata()], ("precision", "stop_reason", "scaling"))
    gil = [_written(m, "gil_enabled") for m in meta if _written(m, "gil_enabled")]
    rss = [int(_written(m, "peak_rss")) for m in meta if _written(m, "peak_rss") is not None]
    checks = {_written(m, "check") for m in meta if _written(m, "check")}
    dates = sorted(str(m["date"]) for m in meta if m.get("date"))
    figures: dict[str, list] = {}
    for m in meta:
        for figure, value in md.figures(m).items():
            figures.setdefault(figure, []).append(value)
    cpu_count = first_present(_written(m, "cpu_count") for m in meta) or \
        first_present(m.get("cpu_count") for m in meta)
    return {
        "host": host,
        "cpu_model": first_present(m.get("cpu_model_name") for m in meta),
        "cpu_count": int(cpu_count) if cpu_count is not None else None,
        "python_version": first_present(m.get("python_version") for m in meta),
        "variant": variant,
        "free_threaded": first_present(_written(m, "free_threaded") for m in meta),
        "gil_enabled": ("yes" if "yes" in gil else "no") if gil else None,
        "name": name,
        "workload": pick("workload", 0),
        "kind": first_present(_written(m, "kind") for m in meta),
        "strategy": pick("strategy", 1),
        "workers": workers,
        "status": "ok" if values else "missing",
        "error": "" if values else (f"all {len(flagged)} runs flagged for foreign load"
                                    if flagged else f"no values in {path.name}"),
        "values": values,
        "peak_rss": max(rss) if rss else None,
        "check": ("ok" if checks == {"ok"} else joined(sorted(checks))) if checks else None,
        "gil_reenabled_by": joined(_written(m, "gil_reenabled_by") for m in meta),
        "date_first": dates[0] if dates else None,
        "date_last": dates[-1] if dates else None,
        "figures": {k: float(np.mean(v)) for k, v in figures.items()},
        "source": str(path),
        **{col: joined(m.get(key) for m in meta) for col, key in PROVENANCE.items()},
        "runs": tuple(tuple(float(v) for v in r.values) for r in kept),
        "run_rounds": tuple(md.get(r.get_metadata(), "round") for r in kept),
        "run_invocations": tuple(md.get(r.get_metadata(), "invocation") for r in kept),
        "run_dates": tuple(r.get_metadata().get("date") for r in kept),
        "flagged_rounds": tuple((md.get(r.get_metadata(), "invocation"), md.get(r.get_metadata(), "round"))
                                for r in flagged if r not in kept),
        "n_runs_flagged": len(flagged),
        **{k: merged.get(k) for k in RUN_KEYS},
        # each kept process's peak tree memory, for the memory ratios (harness.analysis.memory)
        "run_memory": tuple(md.get(r.get_metadata(), "peak_tree_memory") for r in kept),
        "memory_method": merged.get("memory_method"),
        "precision_target": benchmark_meta.get("precision"), "stop_reason": benchmark_meta.get("stop_reason"),
        "scaling": benchmark_meta.get("scaling"), "rounds": merged.get("round"),
        "stage": _stage(name, meta),
        # the plan of the latest confirmation (runs are stored in the order they were measured; a
        # resumed workload's confirmation is planned again, and only its latest one is read)
        "planned_rounds": md.get(meta[-1], "planned_rounds"), "plan_reason": md.get(meta[-1], "plan_reason"),
        # the speed canary's mean time in each kept run (None where not recorded): harness.analysis.canary
        "run_canary": tuple(md.get(r.get_metadata(), "canary_seconds") for r in kept),
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
    """The records of a results CSV, ``workers`` as int; a truncated or foreign file is an AnalysisError."""
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
    """A raw row for a benchmark only the CSV lists: no values, its status and error kept."""
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
        "figures": {}, "source": str(csv_path), "runs": (), "run_rounds": (), "run_invocations": (),
        "run_dates": (), "flagged_rounds": (), "n_runs_flagged": 0, "run_memory": (),
        "stage": _stage(rec["name"]), "run_canary": (),
    }


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
        check = text_or_none(rec["check"])
        row = {c: rec.get(c) for c in IDENTITY} | stats | {
            "status": rec["status"], "peak_rss": rec["peak_rss"],
            "check_ok": None if check is None else check == "ok",
            "error": text_or_none(rec["error"]) or "",
            "gil_reenabled_by": text_or_none(rec["gil_reenabled_by"]) or "",
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
    return sort_rows(df)

