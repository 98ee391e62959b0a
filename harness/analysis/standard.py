"""The single-thread price of free-threading on the standard suite (pyperformance), as a distribution.

ftbench's own workloads are few and chosen for the lecture; pyperformance's default set is what the
rest of the world quotes. ``harness.provision.pyperformance`` runs it on the campaign's very builds
and writes, beside the campaign's results::

    <raw>/<host>/pyperformance/<variant>.json         pyperf BenchmarkSuite
    <raw>/<host>/pyperformance/<variant>.status.json  {"benchmarks": {name: {status, error, seconds}}}

This module reads them (``load``), takes every benchmark's single-thread slowdown of each
non-baseline variant against its baseline (``slowdowns``: ratio of means, > 1 = slower, with the
Welch interval on the log scale of ``harness.analysis.stats.contrast``; the pyperf process is the
unit), summarises the distribution per host x variant (``geomean``), places ftbench's workloads in
it (``placement``), and writes the REPORT.md section (``section_markdown``). The figures published
elsewhere (``PUBLISHED_REFERENCES``) are quotations for orientation, measured on other machines and
other (PGO+LTO) builds; they are never compared statistically with ours.

Variants are told apart by role (``harness.analysis.order``), never by name.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.analysis.order import baseline_variant, role, variant_order
from harness.analysis.stats import MARGIN, contrast, log_interval, process_means, ratio_verdict, welch
from harness.analysis.values import fmt_ratio

__all__ = ["GEOMEAN_COLUMNS", "LOAD_COLUMNS", "PLACEMENT_COLUMNS", "PUBLISHED_REFERENCES",
           "SLOWDOWN_COLUMNS", "Reference", "geomean", "load", "placement", "section_markdown",
           "slowdowns"]

SUBDIR = "pyperformance"
LOAD_COLUMNS = ("host", "variant", "role", "benchmark", "status", "error", "means", "n_processes",
                "n_values", "mean", "seconds", "source")
SLOWDOWN_COLUMNS = ("host", "variant", "role", "baseline", "benchmark", "value", "ci_low", "ci_high",
                    "df", "se_log", "verdict", "n_processes", "n_processes_baseline", "status",
                    "compared", "note")
GEOMEAN_COLUMNS = ("host", "variant", "role", "baseline", "k", "geomean", "ci_low", "ci_high", "df",
                   "se_log", "verdict", "min", "q25", "median", "q75", "max", "n_not_compared",
                   "note")
PLACEMENT_COLUMNS = ("host", "variant", "role", "workload", "kind", "slowdown", "ci_low", "ci_high",
                     "verdict", "percentile", "percentile_low", "percentile_high", "k", "note")


@dataclass(frozen=True)
class Reference:
    """A figure published elsewhere: a quotation for orientation, not a measurement of ours."""

    version: str  # the free-threaded build it is about, as the source names it
    factor: float  # approximate single-thread time factor vs the default build (> 1: slower)
    text: str  # what the source says
    source: str
    label: str = "published elsewhere, on other (PGO+LTO) builds and machines; not measured here"


def _references() -> tuple[Reference, ...]:
    """The quotations, kept as data beside this module (published_references.json): not code, not ours."""
    with open(Path(__file__).with_name("published_references.json"), encoding="utf-8") as f:
        return tuple(Reference(r["about"], r["factor"], r["text"], r["source"]) for r in json.load(f))


PUBLISHED_REFERENCES = _references()


# ---------------------------------------------------------------------------------------------
# Loading.


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _read_json(path: Path):
    try:
        return json.loads(path.read_text()), ""
    except (OSError, ValueError) as exc:
        return None, f"{path.name}: unreadable ({exc.__class__.__name__}: {exc})"


def _suite_benchmarks(path: Path) -> tuple[dict[str, list], str]:
    """{benchmark name: [values of each run]} of a pyperf file; runs without values are kept empty.

    pyperf's own loader first; a file it refuses (another shape) is read as plain JSON, so that
    whatever runs carry values still count.
    """
    try:
        import pyperf

        suite = pyperf.BenchmarkSuite.load(str(path))
        return {b.get_name(): [list(r.values) for r in b.get_runs()] for b in suite}, ""
    except Exception:  # noqa: BLE001 - pyperf raises ValueError, KeyError, TypeError...
        pass
    data, error = _read_json(path)
    if data is None:
        return {}, error
    out: dict[str, list] = {}
    try:
        common = data.get("metadata") or {}
        for i, bench in enumerate(data.get("benchmarks") or ()):
            name = (bench.get("metadata") or {}).get("name") or common.get("name") or f"benchmark{i}"
            runs = []
            for run in bench.get("runs") or ():
                values = run.get("values") if isinstance(run, dict) else None
                runs.append([float(v) for v in values] if values else [])
            out[str(name)] = runs
    except (AttributeError, TypeError, ValueError) as exc:
        return out, f"{path.name}: not a pyperf suite ({exc})"
    return out, ""


def _variant_names(directory: Path) -> list[str]:
    names = set()
    for p in directory.iterdir():
        if not p.is_file() or p.name.startswith(".") or ".bak-" in p.name or p.suffix != ".json":
            continue
        names.add(p.name[: -len(".status.json")] if p.name.endswith(".status.json") else p.stem)
    return variant_order(names)


def load(raw_root: str | Path = "results/raw") -> pd.DataFrame:
    """One row per host x variant x benchmark of every ``<host>/pyperformance/<variant>.json``.

    ``means`` holds the process means (np.ndarray; runs without values, e.g. calibration runs, are
    skipped), ``status``/``error`` come from ``<variant>.status.json`` (ok when there is none). A
    benchmark that failed on a variant appears with its status and error and no means. A call the
    status file says is ok but whose name the suite lacks is a group (``argparse``, ``base64``,
    ``async_tree``...) when the suite has results no status entry names: those are its results, so
    it gets no row of its own; without such results it is "missing". An unreadable suite file makes every
    benchmark of the status file "unreadable". No directory: an empty frame with the columns.
    """
    root = Path(raw_root)
    rows = []
    if not root.is_dir():
        return _empty(LOAD_COLUMNS)
    for host_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        pdir = host_dir / SUBDIR
        if not pdir.is_dir():
            continue
        for variant in _variant_names(pdir):
            rows += _load_variant(host_dir.name, variant, pdir)
    if not rows:
        return _empty(LOAD_COLUMNS)
    return pd.DataFrame(rows, columns=list(LOAD_COLUMNS))


def _load_variant(host: str, variant: str, pdir: Path) -> list[dict]:
    suite_path, status_path = pdir / f"{variant}.json", pdir / f"{variant}.status.json"
    benches, suite_error = _suite_benchmarks(suite_path) if suite_path.exists() else ({}, "")
    status: dict = {}
    if status_path.exists():
        data, err = _read_json(status_path)
        status = data.get("benchmarks") if isinstance(data, dict) else None
        status = {str(k): (v if isinstance(v, dict) else {}) for k, v in status.items()} \
            if isinstance(status, dict) else {}
        suite_error = suite_error or err
    rows = []
    unnamed = bool(set(benches) - set(status))  # results of a call named otherwise: a group's
    for name in sorted(set(benches) | set(status)):
        entry = status.get(name) or {}
        st = str(entry.get("status") or "ok")
        error = str(entry.get("error") or "")
        runs = benches.get(name)
        means = process_means(runs) if runs else np.asarray([], dtype=float)
        n_values = sum(len(r) for r in runs) if runs else 0
        if st == "ok" and name not in benches and unnamed and not suite_error:
            continue  # a group: its results have rows under their own names
        if st == "ok" and not len(means):
            st, error = ("unreadable", suite_error) if suite_error else (
                "missing", f"no values in {suite_path.name}")
        if st != "ok":
            means = np.asarray([], dtype=float)  # a failed call: its number is not a measurement
        rows.append({"host": host, "variant": variant, "role": role(variant), "benchmark": name,
                     "status": st, "error": error, "means": means, "n_processes": len(means),
                     "n_values": n_values, "mean": float(means.mean()) if len(means) else math.nan,
                     "seconds": entry.get("seconds", math.nan), "source": str(suite_path)})
    if not rows and suite_error:
        rows.append({"host": host, "variant": variant, "role": role(variant), "benchmark": "*",
                     "status": "unreadable", "error": suite_error, "means": np.asarray([], dtype=float),
                     "n_processes": 0, "n_values": 0, "mean": math.nan, "seconds": math.nan,
                     "source": str(suite_path)})
    return rows


# ---------------------------------------------------------------------------------------------
# Per-benchmark slowdowns.


def slowdowns(df: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """Per host x non-baseline variant x benchmark: the variant's mean / its baseline's mean.

    value > 1: the variant is slower single-threaded. ci_low/ci_high/df/se_log: Welch on the log
    scale over the process means (``stats.contrast``); verdict against ``margin`` ("greater" =
    slower beyond the margin). Only a benchmark that both sides ran has a number (``compared``);
    the rest are listed with a note ("failed on <variant>: <error>", "not run on <variant>"). A
    side with one process: the ratio, but CI "n/a" (NaN bounds) and a note.
    """
    if df is None or df.empty:
        return _empty(SLOWDOWN_COLUMNS)
    rows = []
    for host, g in df.groupby("host", sort=True):
        names = variant_order(g["variant"])
        by = {(r["variant"], r["benchmark"]): r for r in g.to_dict("records")}
        for variant in names:
            if role(variant) == "baseline":
                continue
            base = baseline_variant(variant, names)
            benches = sorted({b for v, b in by if v in (variant, base)} - {"*"})
            for bench in benches:
                rec = by.get((variant, bench)) or by.get((variant, "*"))  # "*": a whole file unreadable
                brec = (by.get((base, bench)) or by.get((base, "*"))) if base else None
                rows.append(_slowdown_row(host, variant, base, bench, rec, brec, margin))
    if not rows:
        return _empty(SLOWDOWN_COLUMNS)
    out = pd.DataFrame(rows, columns=list(SLOWDOWN_COLUMNS))
    for col in ("n_processes", "n_processes_baseline"):
        out[col] = pd.to_numeric(out[col]).astype("Int64")
    return out


def _side_problem(rec: dict | None, name: str | None) -> tuple[str, str] | None:
    if name is None:
        return "no-baseline", "no baseline variant of the same version"
    if rec is None:
        return "not-run", f"not run on {name}"
    if rec["status"] != "ok":
        error = f": {rec['error']}" if rec["error"] else ""
        return rec["status"], f"{rec['status']} on {name}{error}"
    return None


def _slowdown_row(host, variant, base, bench, rec, brec, margin) -> dict:
    row = {"host": host, "variant": variant, "role": role(variant), "baseline": base,
           "benchmark": bench, "value": math.nan, "ci_low": math.nan, "ci_high": math.nan,
           "df": math.nan, "se_log": math.nan, "verdict": "n/a",
           "n_processes": rec["n_processes"] if rec else 0,
           "n_processes_baseline": brec["n_processes"] if brec else 0,
           "status": "ok", "compared": False, "note": ""}
    problems = [p for p in (_side_problem(rec, variant), _side_problem(brec, base)) if p]
    if problems:
        row.update(status=problems[0][0], note="; ".join(p[1] for p in problems))
        return row
    c = contrast([(rec["means"], 1), (brec["means"], -1)])
    row.update(value=c.value, ci_low=c.low, ci_high=c.high, df=c.df, se_log=c.se,
               verdict=ratio_verdict(c.low, c.high, margin), compared=bool(c.value > 0))
    if c.n_min < 2:
        row["note"] = "one process on a side: CI n/a"
    return row


# ---------------------------------------------------------------------------------------------
# The distribution per host x variant.


def geomean(slowdowns: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """Per host x variant: the geometric mean of the per-benchmark slowdowns, with its 95% CI.

    Over the k benchmarks that both the variant and its baseline ran (``compared``). The estimate
    is exp(mean of the log slowdowns); its standard error propagates each benchmark's
    process-level uncertainty only, se = sqrt(sum se_i^2) / k, with Welch-Satterthwaite degrees of
    freedom from the per-benchmark df: df = (sum se_i^2)^2 / sum(se_i^4 / df_i). **The benchmark
    set is fixed, not sampled**: the interval says how well *these* k benchmarks were measured on
    this machine, not how a different choice of benchmarks (or "Python code in general") would
    fare; the spread between benchmarks is shown by the quantiles (min, 25%, median, 75%, max)
    instead. A benchmark without an interval (one process) leaves the geomean's CI n/a (noted).
    The verdict is against ``margin`` ("greater" = slower beyond the margin).
    """
    if slowdowns is None or slowdowns.empty:
        return _empty(GEOMEAN_COLUMNS)
    rows = []
    for (host, variant), g in slowdowns.groupby(["host", "variant"], sort=False):
        ok = g[g["compared"].astype(bool)]
        v = ok["value"].to_numpy(dtype=float)
        se = ok["se_log"].to_numpy(dtype=float)
        dfs = ok["df"].to_numpy(dtype=float)
        k = len(v)
        row = dict.fromkeys(GEOMEAN_COLUMNS, math.nan)
        row.update(host=host, variant=variant, role=g["role"].iloc[0], baseline=g["baseline"].iloc[0],
                   k=k, verdict="n/a", n_not_compared=int(len(g) - k), note="")
        notes = []
        if k:
            logs = np.log(v)
            row["geomean"] = float(np.exp(logs.mean()))
            q = np.quantile(v, [0, 0.25, 0.5, 0.75, 1])
            row.update(min=q[0], q25=q[1], median=q[2], q75=q[3], max=q[4])
            no_ci = ok.loc[~np.isfinite(se) | ~np.isfinite(dfs), "benchmark"].tolist()
            if no_ci:
                notes.append(f"CI n/a: no interval for {', '.join(no_ci)} (one process)")
            else:
                se_sum, row["df"] = welch(zip((se ** 2).tolist(), dfs.tolist(), strict=True))
                row["se_log"] = se_sum / k
                row["ci_low"], row["ci_high"] = log_interval(row["geomean"], row["se_log"], row["df"])
                row["verdict"] = ratio_verdict(row["ci_low"], row["ci_high"], margin)
        else:
            notes.append("no benchmark ran on both this variant and its baseline")
        row["note"] = "; ".join(notes)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(GEOMEAN_COLUMNS))
    out["k"] = out["k"].astype(int)
    out["n_not_compared"] = out["n_not_compared"].astype(int)
    return out


def placement(slowdowns: pd.DataFrame, ratios: pd.DataFrame | None) -> pd.DataFrame:
    """Where each ftbench workload's single-thread slowdown sits in the pyperformance distribution.

    Per host x free-threaded/control variant of ``slowdowns``: every workload's ``slowdown`` row of
    the ratios table (same host, same variant, metric "slowdown") with its CI, and ``percentile``:
    the share of the compared pyperformance benchmarks whose slowdown is below the workload's
    (``percentile_low``/``_high``: the same at the workload's CI bounds). Hosts are matched
    exactly; a host or variant the ratios do not have gives no row.
    """
    if (slowdowns is None or slowdowns.empty or ratios is None or ratios.empty
            or "metric" not in ratios):
        return _empty(PLACEMENT_COLUMNS)
    sd = ratios[ratios["metric"] == "slowdown"]
    rows = []
    for (host, variant), g in slowdowns.groupby(["host", "variant"], sort=False):
        if role(variant) not in ("free-threaded", "control"):
            continue
        dist = np.sort(g.loc[g["compared"].astype(bool), "value"].to_numpy(dtype=float))
        k = len(dist)
        mine = sd[(sd["host"].astype(str) == str(host)) & (sd["variant"].astype(str) == str(variant))]
        for r in mine.to_dict("records"):
            val, lo, hi = (float(r.get(c, math.nan)) for c in ("value", "ci_low", "ci_high"))

            def share(x, dist=dist, k=k):
                return float(np.searchsorted(dist, x, side="left")) / k if k and math.isfinite(x) else math.nan

            note = "" if k else "no pyperformance benchmark compared"
            if k and not math.isfinite(lo):
                note = "workload's CI n/a"
            rows.append({"host": host, "variant": variant, "role": role(variant),
                         "workload": r.get("workload"), "kind": r.get("kind"), "slowdown": val,
                         "ci_low": lo, "ci_high": hi, "verdict": r.get("verdict"),
                         "percentile": share(val), "percentile_low": share(lo),
                         "percentile_high": share(hi), "k": k, "note": note})
    if not rows:
        return _empty(PLACEMENT_COLUMNS)
    out = pd.DataFrame(rows, columns=list(PLACEMENT_COLUMNS))
    return out.sort_values(["host", "variant", "slowdown"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# REPORT.md.

TITLE = "## The single-thread price on the standard suite (pyperformance)"


def _isnan(v) -> bool:
    try:
        return v is None or v is pd.NA or math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def _pct(v) -> str:
    return "-" if _isnan(v) else f"{100 * v:.0f}%"


VERDICT_WORDS = {"greater": "slower beyond the margin", "less": "faster beyond the margin",
                 "equivalent": "within the margin", "inconclusive": "inconclusive",
                 "n/a": "CI n/a"}


def section_markdown(slowdowns: pd.DataFrame, geo: pd.DataFrame | None = None,
                     placement: pd.DataFrame | None = None, margin: float = MARGIN) -> str:
    """The REPORT.md section: per host x variant, the geomean [CI], the distribution, what was not
    compared (with its error line), ftbench's workloads placed in the distribution, and the
    published reference figures (labelled as quotations). Without pyperformance data: one line
    saying how to produce it."""
    out = [TITLE, ""]
    if slowdowns is None or slowdowns.empty:
        out.append("No pyperformance results yet: `nox -s pyperformance` runs the standard suite on "
                   "every variant (into `results/raw/<host>/pyperformance/`).")
        return "\n".join(out) + "\n"
    if geo is None:
        geo = geomean(slowdowns, margin)
    out += ["Every pyperformance benchmark that both the variant and its baseline (the default build "
            "of the same version) ran, on the same machine and builds as the campaign: the ratio of "
            "mean times (> 1: the variant is slower single-threaded), 95% CI over pyperf processes. "
            "The geometric mean's CI covers the measurement noise of *these* benchmarks only (the "
            "benchmark set is fixed, not a sample); the quantiles show how the price varies "
            f"between benchmarks. Verdicts against a margin of +-{100 * margin:g}%.", ""]
    for g in geo.to_dict("records"):
        host, variant = g["host"], g["variant"]
        out += [f"### {variant} vs {g['baseline'] or 'no baseline'} on *{host}*", ""]
        if g["k"]:
            out.append(f"- **{g['k']} benchmarks** ran on both: geometric mean slowdown "
                       f"**{fmt_ratio(g['geomean'], g['ci_low'], g['ci_high'])}** "
                       f"({VERDICT_WORDS.get(g['verdict'], g['verdict'])}"
                       f"{'; ' + g['note'] if g['note'] else ''}).")
            out.append(f"- Distribution over benchmarks: min {g['min']:.2f}x, 25% {g['q25']:.2f}x, "
                       f"median {g['median']:.2f}x, 75% {g['q75']:.2f}x, max {g['max']:.2f}x.")
        else:
            out.append(f"- No benchmark ran on both: {g['note']}.")
        sub = slowdowns[(slowdowns["host"] == host) & (slowdowns["variant"] == variant)]
        ok = sub[sub["compared"].astype(bool)].sort_values("value")
        if len(ok):
            per = ", ".join(f"{r['benchmark']} {fmt_ratio(r['value'], r['ci_low'], r['ci_high'])}"
                            for r in ok.to_dict("records"))
            out.append(f"- Per benchmark (fastest to slowest): {per}.")
        bad = sub[~sub["compared"].astype(bool)]
        if len(bad):
            out.append(f"- **Not compared ({len(bad)})**:")
            out += [f"  - {r['benchmark']}: {r['note'] or r['status']}" for r in bad.to_dict("records")]
        if placement is not None and len(placement):
            pl = placement[(placement["host"] == host) & (placement["variant"] == variant)]
            if len(pl):
                out.append("- **ftbench's workloads in this distribution** (their sequential slowdown "
                           f"from the campaign, and the share of these {g['k']} pyperformance benchmarks "
                           "with a smaller slowdown):")
                for r in pl.to_dict("records"):
                    rng = ("" if _isnan(r["percentile_low"]) or _isnan(r["percentile_high"])
                           else f" ({_pct(r['percentile_low'])}-{_pct(r['percentile_high'])} over its CI)")
                    kind = f" ({r['kind']})" if r.get("kind") not in (None, "cpu") and not _isnan(r["kind"]) else ""
                    out.append(f"  - {r['workload']}{kind}: "
                               f"{fmt_ratio(r['slowdown'], r['ci_low'], r['ci_high'])}; "
                               f"{_pct(r['percentile'])} of the benchmarks pay less{rng}")
        out.append("")
    return "\n".join(out + _references_md(slowdowns)) + "\n"


def _minor(name: str) -> str:
    """"3.13" of "3.13t", "3.13.0t" or "3.13t-gil": the CPython version a variant or a quotation is about."""
    found = re.match(r"\d+\.\d+", str(name))
    return found[0] if found else str(name)


def _references_md(slowdowns: pd.DataFrame) -> list[str]:
    """The quotations about the versions measured here only: what one release's free-threaded build
    costs (or disables) is not a fact about another's."""
    measured = {_minor(v) for v in slowdowns["variant"]}
    shown = [r for r in PUBLISHED_REFERENCES if _minor(r.version) in measured]
    out = ["### Published figures (quotations, not our measurements)", "",
           "Published elsewhere, on other (PGO+LTO) builds and other machines, for orientation only; "
           "our builds and machine differ, so these are not compared statistically with the numbers "
           "above.", ""]
    out += [f"- **{r.version}, about {r.factor:.2f}x** ({r.label}): \"{r.text}\". Source: {r.source}."
            for r in shown]
    left = len(PUBLISHED_REFERENCES) - len(shown)
    if left:
        which = f"the versions measured here ({', '.join(sorted(measured))})"
        out.append(f"- Only the quotations about {which} are shown: {left} about other versions left out."
                   if shown else f"- No quotation is about {which}: {left} about other versions left out.")
    return out
