"""Words and tables for reading: verdicts for the notebook, and results/REPORT.md.

Presentation only: every number is already in the summary, claims and metadata tables, so this
module formats (ratios as "1.23x [1.10-1.40]", "(n.s.)" for an inconclusive one) and never
computes (the known-truth table of the method section runs harness.analysis.simulate).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from harness.analysis import flavours, projection, standard
from harness.analysis.claims import claims_matrix
from harness.analysis.load import sweep_rows
from harness.analysis.results import Results
from harness.analysis.values import first_present, fmt_pct, fmt_ratio_column, is_nan, number_or_nan, text_or_none

__all__ = ["describe_runs", "failures_table", "headline_table", "markdown_table",
           "strategy_table", "verdict", "write_report", "hygiene_table", "readme_headline",
           "update_readme"]


def _fmt_time(t) -> str:
    return "-" if t is None or (isinstance(t, float) and math.isnan(t)) else f"{t:#.3g} s"


def _of_role(rows: dict, wanted: str):
    return next((r for v, r in rows.items() if r.get("role") == wanted), None)


VERDICT_WORDS = {"greater": "faster beyond the margin", "less": "slower beyond the margin",
                 "equivalent": "within the margin", "inconclusive": "inconclusive",
                 "n/a": "CI n/a"}


def verdict(summary: pd.DataFrame, workload: str, variant: str | None = None) -> str:
    """A reviewer's paragraph per host: does ``variant`` (default: the free-threaded one) pay?"""
    sub = summary[summary["workload"] == workload]
    if sub.empty:
        return f"**{workload}**: no results."
    parts = []
    for host, g in sub.groupby("host", sort=False):
        rows = {r["variant"]: r for r in g.to_dict("records")}
        row = rows.get(variant) if variant else _of_role(rows, "free-threaded")
        head = f"**{workload}** on *{host}* ({first_present(g['cpu_count'])} CPUs): "
        if row is None:
            parts.append(head + f"no {variant or 'free-threaded'} results.")
            continue
        name, base = row["variant"], text_or_none(row.get("baseline")) or "the baseline"
        if is_nan(number_or_nan(row, "gain_best")):
            parts.append(head + f"cannot say whether {name} pays off: "
                         f"{row['note'] or 'no ' + base + ' results'}.")
            continue
        v = text_or_none(row.get("gain_best_verdict")) or "n/a"
        ours = f"{row['best_strategy']} x{row['best_workers']}"
        theirs = row["baseline_best"]
        g_txt = fmt_ratio_column(row, "gain_best")
        if v == "greater":
            text = (f"**{name} pays off**: its best option, {ours}, runs {g_txt} the speed of "
                    f"{base}'s best, {theirs}.")
        elif v == "less":
            text = (f"**{name} does not pay off**: {base}'s best option, {theirs}, beats "
                    f"{name}'s best, {ours} ({name}/{base} speed {g_txt}).")
        elif v == "equivalent":
            text = (f"**no practical difference**: {name}'s best, {ours}, vs {base}'s best, "
                    f"{theirs} ({g_txt}, inside the margin).")
        else:
            text = (f"**inconclusive**: {name}'s best, {ours}, vs {base}'s best, {theirs} "
                    f"({g_txt}; {VERDICT_WORDS.get(v, v)}).")
        tied = text_or_none(row.get("tied_with_fastest"))
        if tied and "," in tied:
            text += f" Options tied with {name}'s fastest: {tied}."
        be = number_or_nan(row, "break_even_workers")
        if is_nan(be):
            text += f" No thread count on {name} beats {base}'s best."
        else:
            qual = "" if row.get("break_even_verdict") == "significant" else " (n.s.)"
            text += f" Threads on {name} beat {base}'s best from {be} threads on{qual}."
        slow = number_or_nan(row, "slowdown")
        if not is_nan(slow):
            text += (f" Single-threaded, {name} takes {fmt_ratio_column(row, 'slowdown')} the {base} "
                     f"time ({VERDICT_WORDS.get(row.get('slowdown_verdict'), '')}; > 1: slower).")
        ctrl = _of_role(rows, "control")
        if ctrl is not None and ctrl is not row and not is_nan(number_or_nan(ctrl, "gain_best")):
            text += (f" With the GIL forced on ({ctrl['variant']}) the best option is "
                     f"{ctrl['best_strategy']} x{ctrl['best_workers']}, "
                     f"{fmt_ratio_column(ctrl, 'gain_best')} {base}'s best speed.")
        parts.append(head + text)
    return "\n\n".join(parts)


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency); NaN and None print as '-'."""
    def cell(v):
        if v is None or v is pd.NA or is_nan(v):
            return "-"
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, df.columns)) + " |",
             "|" + "|".join("---" for _ in df.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in rec) + " |"
              for rec in df.itertuples(index=False)]
    return "\n".join(lines)


def _ratio_and_verdict(row, col: str) -> str:
    """ratio [CI], then the verdict when it is not a clear one."""
    text = fmt_ratio_column(row, col)
    v = text_or_none(row.get(f"{col}_verdict"))
    if text == "-" or v in (None, "greater", "less", "baseline", "n/a"):
        return text
    return f"{text} ({'n.s.' if v != 'equivalent' else 'equiv.'})"


def headline_table(summary: pd.DataFrame, workload: str | None = None) -> pd.DataFrame:
    """The report's headline: per workload x variant, formatted for reading (strings)."""
    sub = summary if workload is None else summary[summary["workload"] == workload]
    rows = []
    for r in sub.to_dict("records"):
        be = number_or_nan(r, "break_even_workers")
        is_base = r.get("role") == "baseline"
        rows.append({
            "host": r["host"], "workload": r["workload"], "kind": r["kind"],
            "variant": r["variant"],
            "sequential": _fmt_time(r["seq_time"]),
            "slowdown vs baseline": "baseline" if is_base else _ratio_and_verdict(r, "slowdown"),
            "best option": (f"{r['best_strategy']} x{r['best_workers']}"
                            if text_or_none(r["best_strategy"]) else "-"),
            "tied with fastest": r.get("tied_with_fastest") or "-",
            "speedup": _ratio_and_verdict(r, "best_speedup"),
            "gain vs baseline best": "baseline" if is_base else _ratio_and_verdict(r, "gain_best"),
            "break-even threads": "-" if is_nan(be) else (
                f"{be}" + ("" if r.get("break_even_verdict") == "significant" else " (n.s.)")),
            "note": r["note"] or "",
        })
    return pd.DataFrame(rows)


def strategy_table(summary: pd.DataFrame, workload: str) -> pd.DataFrame:
    """One workload, every variant x strategy at its reference worker count, for reading."""
    rows = []
    strategies = [c[len("workers_"):] for c in summary.columns if c.startswith("workers_")]
    for r in summary[summary["workload"] == workload].to_dict("records"):
        is_base = r.get("role") == "baseline"
        rows.append({"host": r["host"], "variant": r["variant"], "strategy": "sequential",
                     "workers": "1", "time": _fmt_time(r["seq_time"]), "speedup": "-",
                     "gain vs baseline": "baseline" if is_base else "-",
                     "efficiency": "-", "serial fraction": "-"})
        for s in strategies:
            w = number_or_nan(r, f"workers_{s}")
            if is_nan(w):
                continue
            kf = _fmt_num(r[f"karp_flatt_{s}"])
            if r.get(f"karp_flatt_{s}_flag"):
                kf += " (outside [0, 1])"
            rows.append({"host": r["host"], "variant": r["variant"], "strategy": s,
                         "workers": str(w), "time": _fmt_time(r[f"time_{s}"]),
                         "speedup": _ratio_and_verdict(r, f"speedup_{s}"),
                         "gain vs baseline": "baseline" if is_base else _ratio_and_verdict(r, f"gain_{s}"),
                         "efficiency": _fmt_num(r[f"efficiency_{s}"]),
                         "serial fraction": kf})
    return pd.DataFrame(rows)


def _fmt_num(v) -> str:
    return "-" if is_nan(number_or_nan({"v": v}, "v")) else f"{v:.2f}"


def failures_table(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """The benchmarks that failed, timed out or lost their values, with the error."""
    bad = benchmarks[benchmarks["status"] != "ok"]
    return bad[["host", "variant", "workload", "strategy", "workers", "status",
                "error"]].reset_index(drop=True)


def hygiene_table(res: Results) -> pd.DataFrame:
    """Per host x variant x strategy: precision reached, runs flagged, busy cores, peak memory."""
    b = res.benchmarks
    b = b[b["status"] == "ok"]
    rows = []
    for (host, variant, strategy), g in b.groupby(["host", "variant", "strategy"], sort=False):
        prec = pd.to_numeric(g["precision"], errors="coerce")
        busy = pd.to_numeric(g["busy_cores"], errors="coerce")
        mem = pd.to_numeric(g["peak_tree_memory"], errors="coerce")
        rows.append({
            "host": host, "variant": variant, "strategy": strategy, "benchmarks": len(g),
            "median processes": float(g["n_processes"].astype(float).median()),
            "median CI half-width": (f"{100 * prec.median():.1f}%" if prec.notna().any()
                                     else "n/a"),
            "reached 2%": f"{int((prec <= 0.02).sum())}/{int(prec.notna().sum())}",
            "runs flagged": int(pd.to_numeric(g["n_runs_flagged"]).fillna(0).sum()),
            "busy cores (median)": float(busy.median()) if busy.notna().any() else None,
            "peak tree memory MB (max)": float(mem.max()) / 2**20 if mem.notna().any() else None,
        })
    return pd.DataFrame(rows)


def _known_truth_md() -> list[str]:
    """The method section's table: simulated coverage and false-positive rates, computed on each run
    from harness.analysis.simulate so the report never quotes a number it did not compute."""
    from harness.analysis import simulate

    lines = ["| shape | true ratio | method | significant | CI coverage | right direction |",
             "|---|---|---|---|---|---|"]
    for shape in ((2, 2), (10, 3)):
        for true in (1.0, 1.1):
            got = simulate.compare(n_sim=2000, true_ratio=true, processes=shape[0],
                                   values=shape[1])
            for method in ("old", "new"):
                m = got[method]
                right = "-" if true == 1 else f"{100 * m['right']:.1f}%"
                name = ("value-level bootstrap (published)" if method == "old"
                        else "Welch on process means (now)")
                lines.append(f"| {shape[0]} processes x {shape[1]} values | {true} | {name} | "
                             f"{100 * m['significant']:.1f}% | {100 * m['coverage']:.1f}% | "
                             f"{right} |")
    return lines


def write_report(res: Results, path: str | Path) -> Path:
    """results/REPORT.md: method, headline, claims, hygiene, failures, run metadata, figures."""
    path = Path(path)
    summary, claims, metadata = res.summary, res.claims, res.metadata
    m = res.margin
    flagged = int(metadata["runs_flagged"].sum()) if "runs_flagged" in metadata else 0
    out = ["# ftbench report", "",
           "Generated by `python -m harness.analysis` from the raw pyperf results.", "",
           "## How to read it", "",
           "- **Unit**: the pyperf process (run). Values inside one process are correlated, so "
           "every interval is computed from the process means: t on the process means for a "
           "mean, Welch's t on the log scale (delta-method standard error, Welch-Satterthwaite "
           "degrees of freedom) for a ratio of means. A ratio of one benchmark on two variants "
           "(slowdown, gain, the confirmed best gain) is paired by round instead: the campaign "
           "ran both sides next to each other in every round, so t on the per-round differences "
           "(rounds - 1 degrees of freedom) cancels the machine's drift; a ratio of two speedups "
           "combines two such ratios. A benchmark with one process has no "
           "interval: `CI n/a`, never a number.",
           f"- **Verdicts** are three-valued against a practical margin of +-{100 * m:g}% "
           "(`--margin`): a ratio is *greater* only when its whole 95% CI lies above "
           f"{1 + m:g}, *less* only when it lies below 1/{1 + m:g}, *equivalent* when it lies "
           "inside that band, *inconclusive* otherwise; `(n.s.)` marks an inconclusive or n/a "
           "ratio, `(equiv.)` an equivalent one.",
           "- **Best option, selection-aware**: a campaign with a confirmation stage chooses each variant's best"
           " option (and the baseline's best) on all the sweep's processes, then measures those options again in"
           " fresh interleaved processes (`.../confirm` in the raw JSON) until the gain is decided at 99% (up to"
           " 30 processes in the default profile, 15 before 2026-11-27); speedup and gain are estimated on the "
           "fresh processes alone, so choosing the fastest of ~10 noisy means does not inflate the gain. Sets "
           "without it split each option's processes in two interleaved halves, choose on one (2, 4, ...) and "
           "estimate on the other (1, 3, 5, ...); with fewer than three processes per option the interval is "
           "n/a. The `selection` column of ratios.csv says which. *Tied with fastest* lists the options not "
           "shown slower than the fastest (all processes) by more than the margin.",
           "- **Per-strategy figures** are read at a worker count fixed in advance (the core "
           "count for CPU work, the largest count for I/O work), not at the best one. "
           "Efficiency and Karp-Flatt use p = min(workers, cores), are empty for p = 1 and for "
           "I/O work, and are flagged when outside [0, 1].",
           "- **Claims about free-threading** compare the free-threaded (or control) variant "
           "with its baseline for the same strategy and worker count (a speedup the GIL build "
           "also has is not evidence). Variants are told apart by their role "
           "(harness.variants).",
           f"- **Runs flagged for foreign load** are left out: {flagged} in these results.",
           "- Every ratio is one row of `ratios.csv`; `summary.csv`, this report and the "
           "README headline are pivoted from it.", "",
           "### Known-truth check of the method", "",
           "2,000 simulated comparisons per line (pyperf-shaped: intra-process correlation 0.3, "
           "noise 2-10%; `harness.analysis.simulate`, asserted in `tests/test_known_truth.py`). "
           "A CI should cover the true ratio ~95% of the time and call equal means significant "
           "~5% of the time.", "", *_known_truth_md(), "",
           "## Headline", "", markdown_table(headline_table(summary)), "",
           "## The lecture's claims", "",
           "Per variant: confirmed / refuted / inconclusive / not measured, then the measured "
           "ratio and its 95% CI. n/a: the claim is not about that variant.", "",
           markdown_table(claims_matrix(claims, _variant_key())) if len(claims)
           else "No claim applies to these results.", "",
           standard.section_markdown(res.standard, res.standard_geomean, res.standard_placement, m), "",
           projection.section_markdown(res.projection), "",
           *reruns_md(res), *flavours.section_markdown(res.flavours),
           "## Measurement hygiene", "",
           "Precision reached (95% CI half-width of the mean over processes), runs flagged for "
           "foreign load, busy cores and peak memory of the process tree, per strategy (busy "
           "cores and tree memory are empty for results recorded before they existed).", "",
           markdown_table(hygiene_table(res)), ""]
    bad = failures_table(res.benchmarks)
    if len(bad):
        out += ["## Benchmarks not measured", "", markdown_table(bad), ""]
    hosts = metadata.drop_duplicates("host")[["host", "cpu_model", "cpu_count"]]
    interp = metadata[["host", "variant", "role", "python_version", "free_threaded",
                       "source_sha256", "source_origin", "configure_args", "build_date",
                       "compiler", "date_first", "date_last", "benchmarks", "ok", "failed"]]
    libs = metadata[["host", "variant", "profile", "size", "start_method", "accelerators",
                     "c_extensions", "numpy", "aiohttp", "requests", "pyperf"]]
    out += ["## Run metadata", "", "### Hosts", "", markdown_table(hosts), "",
            "### Interpreters and provenance", "", markdown_table(interp), "",
            "### Settings and libraries", "", markdown_table(libs), ""]
    if res.figures:
        out += ["## Figures", ""]
        for fig in res.figures:
            rel = Path(fig.path).relative_to(path.parent) if Path(fig.path).is_relative_to(
                path.parent) else fig.path
            out.append(f"![{fig.title}]({rel})")
        out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out))
    return path


def reruns_md(res: Results) -> list[str]:
    """REPORT.md lines: how well a rerun of the same machine reproduces each published set."""
    if not res.reruns:
        return []
    out = ["## Reproducibility: a rerun of the same machine", "",
           "A second default campaign of the same machine and builds (`results/reruns/raw/<host>-rerun`), "
           "compared with `nox -s reproduce` (`python -m harness.analysis reproduce`). Headline verdicts: "
           "the single-thread slowdown and the selection-aware best gain of every workload and "
           "non-baseline variant, three-valued against the margin. Two honest 95% intervals of equal "
           "width hold each other's estimate about 83% of the time. Ratios of two variants paired by round "
           "(slowdown, gain, speedup_ratio) are shielded from slow drift of the machine; a variant's own "
           "speedups compare options of one workload, which share every round in campaigns since the "
           "workload rule (settings `rounds: workload`) and were measured minutes apart before it, when "
           "their intervals could miss a rerun: see the line by metric.", ""]
    for host, rerun, got in res.reruns:
        out += [f"### {host} vs {rerun}", "",
                f"- headline verdicts agree: **{fmt_pct(got['headline_agree'])}** of {got['headline_n']} ("
                + "; ".join(f"{m}: {k} of {n}" for m, (k, n) in got["by_metric"].items()) + ")",
                f"- direction and significance (CI excludes 1) of the same ratios agree: "
                f"{fmt_pct(got['significance_agree'])}",
                f"- headline verdicts that contradict (both decided, and different): {got['contradictions']} of "
                f"{got['headline_n']}; the others that differ are decided in one run and inconclusive in the other",
                f"- best-option family agrees: {fmt_pct(got['best_family_agree'])} of {got['best_family_n']}; "
                f"the same, or each run's best among the other's options tied with its fastest (not shown "
                f"slower by more than the margin): {fmt_pct(got['best_tied_agree'])}",
                f"- all ratio verdicts agree: {fmt_pct(got['ratio_verdicts_agree'])} of {got['ratios_n']}",
                f"- estimates of {host} inside {rerun}'s 95% CIs: **{fmt_pct(got['a_inside_b'])}**; of {rerun} "
                f"inside {host}'s: **{fmt_pct(got['b_inside_a'])}** (of {got['ci_n']} ratios with CIs on both sides)",
                "  - by metric: " + "; ".join(f"{m} {fmt_pct(x)} and {fmt_pct(y)} of {n}"
                                             for m, (x, y, n) in got["inside_by_metric"].items())]
        diff = got["table"][~got["table"]["agree"].astype(bool)]
        if len(diff):
            out.append("- headline verdicts that differ: " + "; ".join(
                f"{r['workload']} {r['variant']} {r['metric']} ({r['verdict_a']} vs {r['verdict_b']})"
                for r in diff.to_dict("records")))
        out.append("")
    return out


def _variant_key():
    from harness import variants

    return variants.order_key


def describe_runs(res: Results) -> str:
    """Markdown: what was measured, on which machines and interpreters (or why nothing)."""
    if res.empty:
        return f"**{res.message}**"
    m = res.metadata
    planned, confirmed = sweep_rows(res.raw), len(res.raw) - len(sweep_rows(res.raw))
    lines = [f"{len(planned)} planned benchmarks, {int((planned['status'] == 'ok').sum())} "
             f"measured" + (f" (and {confirmed} best options measured again to confirm them)"
                            if confirmed else "") + ", over {m['host'].nunique()} host(s), workloads: "
             f"{', '.join(res.workloads)}.", ""]
    for host, g in m.groupby("host", sort=False):
        first = g.iloc[0]
        lines.append(f"- **{host}**: {first['cpu_model']}, {first['cpu_count']} CPUs")
        for r in g.to_dict("records"):
            lines.append(f"  - `{r['variant']}` ({r['role']}): Python {r['python_version']} "
                         f"(free-threaded: {r['free_threaded']}), source sha256 "
                         f"`{(text_or_none(r['source_sha256']) or '?')[:12]}`, measured "
                         f"{r['date_first']} .. {r['date_last']}, {r['ok']} ok / "
                         f"{r['failed']} not measured, {r['runs_flagged']} runs flagged")
    return "\n".join(lines)


README_START, README_END = "<!-- headline:start -->", "<!-- headline:end -->"


def readme_headline(res: Results) -> str:
    """The README's headline block: the newest campaign alone (the machine it was measured on, then
    its headline table), and the names of the other published sets, whose tables are in REPORT.md."""
    ends = pd.to_datetime(res.metadata["date_last"], errors="coerce").groupby(res.metadata["host"], sort=False).max()
    newest = ends.fillna(pd.Timestamp.min).idxmax()
    g = res.metadata[res.metadata["host"] == newest]
    first = g.iloc[0]
    lines = [f"Measured on host `{newest}`: {first['cpu_model']}, {first['cpu_count']} CPUs; "
             f"CPython {first['python_version']} builds from source sha256 "
             f"`{(text_or_none(first['source_sha256']) or '?')[:12]}`; profile {first['profile']}; "
             f"{g['date_first'].min()} .. {g['date_last'].max()}."]
    others = [h for h in ends.index if h != newest]
    if others:
        lines.append("Also published, with their tables in results/REPORT.md: "
                     + ", ".join(f"`{h}`" for h in others) + ".")
    lines.append(f"Ratios with 95% CIs over pyperf processes; margin +-{100 * res.margin:g}%; "
                 "(n.s.): inconclusive; best option chosen on the sweep, its speedup and gain "
                 "estimated on fresh processes (see results/REPORT.md).")
    summary = res.summary[res.summary["host"] == newest]
    return "\n".join([*lines, "", markdown_table(headline_table(summary))])


def update_readme(path: str | Path, res: Results) -> bool:
    """Replace the block between the headline markers of README.md; False if it has no markers."""
    path = Path(path)
    text = path.read_text()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(f"{head}{README_START}\n{readme_headline(res)}\n{README_END}{tail}")
    return True
