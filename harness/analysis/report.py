"""Words and tables for reading: verdicts for the notebook, and results/REPORT.md.

Presentation only: every number is already in the summary, claims and metadata tables, so this
module formats (ratios as "1.23x [1.10-1.40]", "(n.s.)" for an insignificant one) and never
computes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.analysis.claims import (
    BASELINE,
    FREE_THREADED,
    PARALLEL,
    _first,
    _fmt_ratio,
    _get,
    _isnan,
    _str,
    _true,
    claims_matrix,
)

if TYPE_CHECKING:
    from harness.analysis import Results

__all__ = ["describe_runs", "failures_table", "headline_table", "markdown_table",
           "strategy_table", "verdict", "write_report"]


def _false(v) -> bool:
    return v is not None and v is not pd.NA and not _isnan(v) and not bool(v)


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
                         f"`{(_str(r['source_sha256']) or '?')[:12]}`, measured "
                         f"{r['date_first']} .. {r['date_last']}, {r['ok']} ok / "
                         f"{r['failed']} not measured")
    return "\n".join(lines)


README_START, README_END = "<!-- headline:start -->", "<!-- headline:end -->"


def readme_headline(summary: pd.DataFrame, metadata: pd.DataFrame) -> str:
    """The README's headline block: the machine it was measured on, then the headline table."""
    lines = []
    for host, g in metadata.groupby("host", sort=False):
        first = g.iloc[0]
        lines.append(f"Measured on host `{host}`: {first['cpu_model']}, {first['cpu_count']} CPUs; "
                     f"CPython {first['python_version']} builds from source sha256 "
                     f"`{(_str(first['source_sha256']) or '?')[:12]}`; profile {first['profile']}; "
                     f"{g['date_first'].min()} .. {g['date_last'].max()}.")
    return "\n".join([*lines, "", markdown_table(headline_table(summary))])


def update_readme(path: str | Path, summary: pd.DataFrame, metadata: pd.DataFrame) -> bool:
    """Replace the block between the headline markers of README.md; False if it has no markers."""
    path = Path(path)
    text = path.read_text()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(f"{head}{README_START}\n{readme_headline(summary, metadata)}\n{README_END}{tail}")
    return True
