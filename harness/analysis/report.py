"""Words and tables for reading: verdicts for the notebook, and results/REPORT.md.

Presentation only: every number is already in the summary, claims and metadata tables, so this
module formats (ratios as "1.23x [1.10-1.40]", "(n.s.)" for an inconclusive one) and never
computes (the known-truth table of the method section runs harness.analysis.simulate).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from harness.analysis import canary, findings, flavours, machines, memory, noise, projection, standard
from harness.analysis.claims import claims_matrix
from harness.analysis.load import sweep_rows
from harness.analysis.reproduce import best_option_lines
from harness.analysis.results import Results
from harness.analysis.selection import best_label
from harness.analysis.values import first_present, fmt_pct, fmt_ratio_column, is_nan, number_or_nan, text_or_none

__all__ = ["describe_runs", "failures_table", "headline_table", "markdown_table",
           "strategy_table", "verdict", "write_report", "hygiene_table", "readme_findings", "readme_headline",
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
    """ratio [CI], then the verdict when it is not a clear one, then its flag (e.g. "above 2 cores":
    such a figure is never shown plain)."""
    text = fmt_ratio_column(row, col)
    if text == "-":
        return text
    v = text_or_none(row.get(f"{col}_verdict"))
    marks = [] if v in (None, "greater", "less", "baseline", "n/a") else ["n.s." if v != "equivalent" else "equiv."]
    marks += [text_or_none(row.get(f"{col}_flag"))]
    marks = [m for m in marks if m]
    return f"{text} ({'; '.join(marks)})" if marks else text


COMPACT_DROPS = ("host", "kind", "sequential", "tied with fastest")  # the README's copy: one host, 10 KB


def headline_table(summary: pd.DataFrame, workload: str | None = None, memory: bool = True,
                   compact: bool = False) -> pd.DataFrame:
    """The report's headline: per workload x variant, formatted for reading (strings); ``memory``: with
    the sequential run's peak memory over the baseline's; ``compact``: without the columns of
    :data:`COMPACT_DROPS` (the README's copy leaves both out to stay short; REPORT.md has them)."""
    sub = summary if workload is None else summary[summary["workload"] == workload]
    rows = []
    for r in sub.to_dict("records"):
        be = number_or_nan(r, "break_even_workers")
        is_base = r.get("role") == "baseline"
        memory_cell = {"memory vs baseline": "baseline" if is_base else _ratio_and_verdict(r, "memory_ratio")}
        rows.append({
            "host": r["host"], "workload": r["workload"], "kind": r["kind"],
            "variant": r["variant"],
            "sequential": _fmt_time(r["seq_time"]),
            "slowdown vs baseline": "baseline" if is_base else _ratio_and_verdict(r, "slowdown"),
            **(memory_cell if memory else {}),
            "best option": best_label((text_or_none(r["best_strategy"]), r["best_workers"]), r),
            "tied with fastest": text_or_none(r.get("tied_with_fastest")) or "-",
            "speedup": _ratio_and_verdict(r, "best_speedup"),
            "gain vs baseline best": "baseline" if is_base else _ratio_and_verdict(r, "gain_best"),
            "break-even threads": "-" if is_nan(be) else (
                f"{be}" + ("" if r.get("break_even_verdict") == "significant" else " (n.s.)")),
            "note": r["note"] or "",
        })
    df = pd.DataFrame(rows)
    return df.drop(columns=[c for c in COMPACT_DROPS if c in df.columns]) if compact else df


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
    """The benchmarks that failed, timed out or lost their values, with the error.

    One line per workload, variant and error: a workload that could not run on a variant at all
    (a requirement without a wheel there, an import that turned the GIL back on) failed every one
    of its benchmarks for one reason, listed together.
    """
    bad = benchmarks[benchmarks["status"] != "ok"]
    cols = ["host", "variant", "workload", "strategy", "workers", "status", "error"]
    if bad.empty:
        return bad[cols].reset_index(drop=True)
    keys = ["host", "variant", "workload", "status", "error"]
    joined = bad[cols].astype({"workers": str}).groupby(keys, sort=False, dropna=False).agg(
        lambda values: ", ".join(dict.fromkeys(values)))
    return joined.reset_index()[cols]


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


def _known_truth_md(margin: float) -> list[str]:
    """The method section's table: coverage and wrong-verdict rates of the headline slowdown at truths on
    and near the margin, computed on each run by harness.analysis.simulate through the functions that
    write ratios.csv, so the report never quotes a rate it did not compute."""
    from harness.analysis import simulate

    rows = simulate.error_rates(margin=margin)
    pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    lines = ["| truth | rounds | CI covers the truth | CI above / below it | greater | equivalent | less | "
             "wrong verdicts |", "|---|---|---|---|---|---|---|---|"]
    for i, got in enumerate(rows):
        rule = ("until decided (older sets)" if i == len(rows) - 1 else "fixed, the fewest planned"
                if i == len(rows) - 2 else "planned from a 3-round pilot")
        wrong = ", ".join(f"{v} {pct(x)}" for v, x in got["wrong_verdicts"].items() if x) or "none"
        lines.append(f"| {got['truth']:.2f} | {rule}, mean {got['mean_rounds']:.1f} | {pct(got['coverage'])} | "
                     f"{pct(got['above'])} / {pct(got['below'])} | {pct(got['greater'])} | "
                     f"{pct(got['equivalent'])} | {pct(got['less'])} | {wrong} |")
    return [f"{rows[0]['n_sim']:,} simulated campaigns per line: two sequential references on a machine whose "
            "speed swings +-30% over 40 minutes, process means 1-4% noisy, their rounds interleaved; the "
            "slowdown estimated by the code that writes ratios.csv (`harness.analysis.simulate`, asserted in "
            "`tests/analysis/test_known_truth.py`). A 95% CI should cover the truth 95% of the time, missing "
            "it 2.5% on each side. At a truth exactly on the margin, both *greater* and *equivalent* are "
            "wrong calls. The planned lines size the confirmation from 3 earlier rounds (5-30 rounds for a "
            "+-2% interval), as a campaign plans it from its sweep, never from the rounds it sizes. The last "
            "line is the older sets' rule for the reference (from 3 rounds until a 99% interval decides, up "
            "to 30, reported at 95%): its intervals ignore the stopping rule.", "",
            *lines]


def _fallbacks_md(ratios: pd.DataFrame) -> list[str]:
    """Per host, how many headline figures rest on a fallback estimator or carry a flag (ratios.csv
    ``note`` and ``flag`` say which and why)."""
    out = []
    for host, g in ratios.groupby("host", sort=False):
        slow, best, gain = (g[g["metric"] == m] for m in ("slowdown", "best_speedup", "gain_best"))
        head = pd.concat([slow, best, gain])
        from_sweep = int(slow["note"].str.contains("slowdown from the sweep's reference").sum())
        parts = [f"{from_sweep} of {len(slow)} slowdowns "
                 "from the sweep's reference (no sequential confirmation)",
                 f"{int((best['estimator'] == 'welch').sum())} of {len(best)} best speedups by Welch "
                 "(their sides not measured in the same rounds)",
                 f"{int(head['flag'].str.contains('rounds|processes').sum())} of {len(head)} headline intervals "
                 "on fewer than 5 rounds",
                 f"{int(g['flag'].str.contains('cores').sum())} speedups above their usable cores"]
        out.append(f"- *{host}*: " + "; ".join(parts) + ".")
    return out


def _method_md(res: Results) -> list[str]:
    """The report's 'How to read it' section."""
    m = res.margin
    flagged = int(res.metadata["runs_flagged"].sum()) if "runs_flagged" in res.metadata else 0
    return [
        "## How to read it", "",
        "- **Unit**: the pyperf process (run). Values inside one process are correlated, so every interval "
        "is computed from the process means. A campaign measures a workload in interleaved *rounds*: every "
        "option of every variant once per round, the order reversed every other round. Every ratio is "
        "estimated once (`ratios.csv`, harness.analysis.pairing), paired by (invocation, round) over the "
        "rounds its benchmarks share: the per-round relative differences give the standard error (delta "
        "method on the log scale, rounds - 1 degrees of freedom), so a drift of the machine that moves "
        "all benchmarks of a round alike cancels; a ratio of two speedups is one paired product of four "
        "series. Where the benchmarks did not share rounds (older sets numbered rounds per benchmark; the "
        "sweep and the confirmation are minutes apart; two invocations) it falls back to Welch's t over "
        "process means and the row's `note` says why; `estimator` says which. One process (or round) on "
        "a side has no interval: `CI n/a`, never a number.",
        f"- **Verdicts** are three-valued against a practical margin of +-{100 * m:g}% (`--margin`): a "
        f"ratio is *greater* only when its whole 95% CI lies above {1 + m:g}, *less* only when it lies "
        f"below 1/{1 + m:g}, *equivalent* when it lies inside that band, *inconclusive* otherwise; "
        "`(n.s.)` marks an inconclusive or n/a ratio, `(equiv.)` an equivalent one.",
        "- **Headline ratios** come from the confirmation stage: after a workload's sweep, each variant's "
        "best option (chosen on all the sweep's processes) is measured again beside the variant's "
        "sequential reference in a number of rounds planned before the stage from the sweep's data, so "
        "the t interval on them is valid at 95% (the rounds were not added until the answer looked "
        "decided). The slowdown (own sequential / the baseline's), the best option's speedup (own "
        "sequential / best) and its gain over the baseline's best are paired by round on those rounds; "
        "choosing the fastest of ~10 noisy means therefore does not inflate them. Older sets without a "
        "sequential reference in the confirmation fall back (noted in ratios.csv): the slowdown from the "
        "sweep's reference, which was measured until its verdict was decided, so its interval ignores "
        "the stopping rule (see the known-truth table); the best speedup by Welch between the sweep's "
        "sequential processes and the confirmation's, minutes apart; sets without any confirmation choose "
        "on half of each option's processes and estimate on the other half. A figure followed by "
        "`(N rounds)` or `(N processes)` rests on fewer than 5: its interval is shown, with df <= 3.",
        "- **A speedup above the cores**: a CPU speedup whose estimate or whole CI exceeds the usable cores "
        "p = min(workers, cores) is not a plain speedup (superlinear effects, or a reference and an option "
        "that did not see the same machine): it is shown `(above p cores)`, never as a plain figure.",
        "- **Ties and the best option**: an option is *tied with the fastest* only when its *regret* (its "
        "time / the fastest option's on the sweep, paired by round) has its whole 95% CI inside the "
        "margin band. When more than half of a variant's options are tied, or cannot be shown slower "
        "than the fastest by more than the margin, the headline says *no single best (k of n)* instead "
        "of naming one; the figures beside it are those of the option chosen and confirmed all the same "
        "(the option of the best_speedup row in ratios.csv, `best_strategy` in summary.csv).",
        "- **Per-strategy figures** are read at a worker count fixed in advance (the core count for CPU "
        "work, the largest count for I/O work), not at the best one. Efficiency and Karp-Flatt use "
        "p = min(workers, cores), are empty for p = 1 and for I/O work, and are flagged when outside [0, 1].",
        "- **Claims about free-threading** compare the free-threaded (or control) variant with its baseline "
        "for the same strategy and worker count (a speedup the GIL build also has is not evidence). "
        "Variants are told apart by their role (harness.variants). The claims quote rows of ratios.csv.",
        f"- **Runs flagged for foreign load** are left out: {flagged} in these results; a round that loses "
        "a run on one side is left out of that ratio's pairing (noted).",
        "- **What the intervals cover**: the measurement noise of this machine during this campaign. They "
        "do not cover the difference between two machines of the same label, or the same machine on "
        "another day: a rerun on another VM can land outside them.",
        "- Every ratio is one row of `ratios.csv`; `summary.csv`, the claims, this report and the README "
        "headline read it.", "",
        "Fallbacks and flags in these results:", "", *_fallbacks_md(res.ratios), "",
        "### Known-truth check of the method", "", *_known_truth_md(m), ""]


def write_report(res: Results, path: str | Path) -> Path:
    """results/REPORT.md: method, headline, claims, hygiene, failures, run metadata, figures."""
    path = Path(path)
    summary, claims, metadata = res.summary, res.claims, res.metadata
    m = res.margin
    out = ["# ftbench report", "",
           "Generated by `python -m harness.analysis` from the raw pyperf results.", "",
           *findings.markdown(res),
           *_method_md(res),
           "## Headline", "", markdown_table(headline_table(summary)), "",
           "## The lecture's claims", "",
           "Per variant: confirmed / refuted / inconclusive / not measured, then the measured "
           "ratio and its 95% CI. n/a: the claim is not about that variant.", "",
           markdown_table(claims_matrix(claims, _variant_key())) if len(claims)
           else "No claim applies to these results.", "",
           *memory_md(res),
           standard.section_markdown(res.standard, res.standard_geomean, res.standard_placement, m), "",
           projection.section_markdown(res.projection), "",
           *reruns_md(res), *other_days_md(res), *flavours.section_markdown(res.flavours),
           *noise.section_markdown(res.calibrations), *canary.section_markdown(res.canary),
           "## Measurement hygiene", "",
           "Precision reached (95% CI half-width of the mean over processes), runs flagged for "
           "foreign load, busy cores and peak memory of the process tree, per strategy (busy "
           "cores and tree memory are empty for results recorded before they existed).", "",
           markdown_table(hygiene_table(res)), "", *profiles_md(res, path)]
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


def profiles_md(res: Results, path: Path) -> list[str]:
    """Where the extra CPU of N workers goes, from the profiles of ``nox -s why`` (none: no section)."""
    if not res.profiles:
        return []
    from harness.profile import text

    base = os.path.relpath(res.profiles[0]["results_dir"], path.parent)
    return ["## Where the extra CPU goes (profiles)", "",
            "`nox -s why` profiles a workload's task list with perf, sequentially and at N workers, and splits "
            "the extra CPU of the N-worker run by category (docs/why.md). Attributions on the machine named, "
            "not timings: the profiled runs are not the campaign's.", "",
            text.markdown(res.profiles, "" if base == "." else base + "/"), ""]


def memory_md(res: Results) -> list[str]:
    """REPORT.md lines: each variant's memory price and the memory per unit of speedup (harness.analysis.memory)."""
    out = ["## The memory price", ""]
    ratios = memory.ratio_table(res.ratios)
    if ratios.empty:
        out += ["No run recorded its process tree's peak memory (results measured before it was): "
                "no memory ratio.", ""]
    else:
        out += [memory.METHOD_TEXT + f" Verdicts against +-{100 * res.margin:g}%.", "", markdown_table(ratios), ""]
    per_speedup = memory.per_speedup_table(res.summary, res.scaling)
    if len(per_speedup):
        out += ["### Memory per unit of speedup", "", memory.PER_SPEEDUP_TEXT, "", markdown_table(per_speedup), ""]
    lines = memory.pyperformance_lines(res.standard_memory_geomean)
    if lines:
        out += ["### pyperformance: pyperf's own memory record", "", memory.PYPERF_MEMORY_TEXT, "", *lines, ""]
    return out


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
        out += [f"### {host} vs {rerun}", "", *machines.report_lines(got.get("machines")),
                f"- headline verdicts agree: **{fmt_pct(got['headline_agree'])}** of {got['headline_n']} ("
                + "; ".join(f"{m}: {k} of {n}" for m, (k, n) in got["by_metric"].items()) + ")",
                f"- direction and significance (CI excludes 1) of the same ratios agree: "
                f"{fmt_pct(got['significance_agree'])}",
                f"- headline verdicts that contradict (both decided, and different): {got['contradictions']} of "
                f"{got['headline_n']}; the others that differ are decided in one run and inconclusive in the other",
                *(f"- {line}" for line in best_option_lines(got)),
                f"- all ratio verdicts agree: {fmt_pct(got['ratio_verdicts_agree'])} of {got['ratios_n']}",
                f"- estimates of {host} inside {rerun}'s 95% CIs: **{fmt_pct(got['a_inside_b'])}**; of {rerun} "
                f"inside {host}'s: **{fmt_pct(got['b_inside_a'])}** (of {got['ci_n']} ratios with CIs on both sides)",
                "  - by metric: " + "; ".join(f"{m} {fmt_pct(x)} and {fmt_pct(y)} of {n}"
                                             for m, (x, y, n) in got["inside_by_metric"].items())]
        if differ := _verdicts_that_differ(got["table"]):
            out.append(f"- headline verdicts that differ: {differ}")
        out.append("")
    return out


def other_days_md(res: Results) -> list[str]:
    """REPORT.md lines: the newest set beside the earlier sets of its build flavour, each day's noise."""
    if not res.other_days:
        return []
    newest = res.other_days[0][0]
    out = ["## Another day: the newest set against the earlier ones", "",
           f"`{newest}` compared with every earlier set of its build flavour and their reruns "
           "(`nox -s reproduce -- A B`). Two machines, or one machine on two days, are not a rerun: "
           "their intervals cover each day's noise, not the difference between the days; a verdict "
           "decided on one day and inconclusive on the other is honest, a contradiction (both decided, "
           "different) is not. Noise: the median process-to-process spread of the sets' sequential "
           "benchmarks (the calibration's figure is in *Machine noise* for sets that have one).", "",
           "| set | machine | noise | headline verdicts agree | contradictions | estimates inside the other's 95% CI |",
           "|---|---|---|---|---|---|"]
    rows = [(newest, None, noise.process_noise(res.raw, newest))]
    rows += [(label, got, got["noise"]) for _, label, got in res.other_days]
    for label, got, spread in rows:
        machine = _machine_of(res, label) or label.removesuffix("-rerun") + "'s"
        spread_text = "n/a" if is_nan(spread) else f"{spread:.1%}"
        if got is None:
            out.append(f"| {label} (newest) | {machine} | {spread_text} | - | - | - |")
            continue
        out.append(f"| {label} | {machine} | {spread_text} | {fmt_pct(got['headline_agree'])} of "
                   f"{got['headline_n']} | {got['contradictions']} | {fmt_pct(got['b_inside_a'])} ({newest} in "
                   f"{label}), {fmt_pct(got['a_inside_b'])} ({label} in {newest}) |")
    out.append("")
    for _, label, got in res.other_days:
        differ = _verdicts_that_differ(got["table"])
        out.append(f"- {label} vs {newest}: {machines.in_a_few_words(got.get('machines'))}"
                   + (f"; headline verdicts that differ: {differ}" if differ else ""))
    return [*out, ""]


def _verdicts_that_differ(table: pd.DataFrame) -> str:
    """The headline verdicts two compared sets disagree on, '; '-joined ('' when none)."""
    diff = table[~table["agree"].astype(bool)]
    return "; ".join(f"{r['workload']} {r['variant']} {r['metric']} ({r['verdict_a']} vs {r['verdict_b']})"
                     for r in diff.to_dict("records"))


def _machine_of(res: Results, host: str) -> str:
    """The CPU model and core count a host's metadata records ('' for a host it has no row of)."""
    g = res.metadata[res.metadata["host"] == host]
    return _machine_words(g.iloc[0]) if len(g) else ""


def _machine_words(row) -> str:
    """One metadata row's machine, as the report and the README name it."""
    return f"{row['cpu_model']}, {row['cpu_count']} CPUs"


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
        lines.append(f"- **{host}**: {_machine_words(first)}")
        for r in g.to_dict("records"):
            lines.append(f"  - `{r['variant']}` ({r['role']}): Python {r['python_version']} "
                         f"(free-threaded: {r['free_threaded']}), source sha256 "
                         f"`{(text_or_none(r['source_sha256']) or '?')[:12]}`, measured "
                         f"{r['date_first']} .. {r['date_last']}, {r['ok']} ok / "
                         f"{r['failed']} not measured, {r['runs_flagged']} runs flagged")
    return "\n".join(lines)


README_START, README_END = "<!-- headline:start -->", "<!-- headline:end -->"


def newest_host(res: Results) -> str:
    """The host whose campaign ended last: the README shows it alone."""
    return res.hosts_newest_first[0]


def readme_headline(res: Results) -> str:
    """The README's headline block: the newest campaign alone (the machine it was measured on, then
    its compact headline table), and the names of the other published sets, whose tables are in REPORT.md."""
    newest = newest_host(res)
    g = res.metadata[res.metadata["host"] == newest]
    first = g.iloc[0]
    lines = [f"Measured on host `{newest}`: {_machine_words(first)}; "
             f"CPython {first['python_version']} builds from source sha256 "
             f"`{(text_or_none(first['source_sha256']) or '?')[:12]}`; profile {first['profile']}; "
             f"{g['date_first'].min()} .. {g['date_last'].max()}."]
    others = [h for h in dict.fromkeys(res.metadata["host"]) if h != newest]
    if others:
        lines.append("Also published, with their tables in results/REPORT.md: "
                     + ", ".join(f"`{h}`" for h in others) + ".")
    lines.append(f"Ratios with 95% CIs, paired by round; margin +-{100 * res.margin:g}%; (n.s.): inconclusive; "
                 "(N rounds): a CI on fewer than 5; (above N cores): not a plain speedup; no single best (k of n): "
                 "k options not told apart from the fastest; speedup and gain of the best option on fresh rounds. "
                 "The CIs cover this machine's noise, not another machine's (results/REPORT.md).")
    summary = res.summary[res.summary["host"] == newest]
    return "\n".join([*lines, "", markdown_table(headline_table(summary, memory=False, compact=True))])


def readme_findings(res: Results) -> str:
    """The README's findings block: the newest campaign's overall line and one short line per workload."""
    return findings.readme_block(res, newest_host(res))


def update_readme(path: str | Path, res: Results) -> bool:
    """Replace the block between the headline markers of README.md, and the one between the findings
    markers where it has them; False if it has no headline markers."""
    path = Path(path)
    text = path.read_text()
    if README_START not in text or README_END not in text:
        return False
    for start, end, block in ((findings.START, findings.END, readme_findings), (README_START, README_END,
                                                                                readme_headline)):
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            text = f"{head}{start}\n{block(res)}\n{end}{tail}"
    path.write_text(text)
    return True
