"""The verdict in words: two or three sentences per workload, generated from the analysis' own tables.

Nothing is estimated here. Every figure is a cell of the summary, scaling, projection or ratios
table, printed the way the headline table prints it ("1.25x [1.19-1.31] (4 rounds)": the ratio, its
95% CI and its flag), so a sentence and the table always say the same. Per host x workload:

1. the single-thread price of each variant over its baseline (the headline slowdown);
2. each side's best option and the gain of the free-threaded best over the baseline's best, with its
   verdict (pays off / does not / no practical difference / cannot tell) on this machine's cores,
   then the projected break-even core count (harness.analysis.projection) with its 95% range;
3. why the parallel options stop where they do: the busy cores and the scaling table's verdict at
   each strategy's reference worker count (the core count for CPU work, the largest for I/O).

The words follow the ratio's three-valued verdict, never the point estimate: "pays off" only for
"greater", "no practical difference" only for "equivalent" (its whole CI inside the margin), and an
inconclusive ratio says so and why: the rounds (or processes) its interval rests on and the noise
of one of them, ``se_log * sqrt(rounds)`` for a ratio paired by round, ``se_log / sqrt(1/n + 1/m)``
for Welch over n and m processes (the spread of one unit that gives that interval). A set with one
variant says what it can (each variant's best option and its speedup) and which session measures
the comparison. One line per host sums the workloads up. REPORT.md adds the memory price
(harness.analysis.memory.memory_sentence) where it was measured; the README keeps one short line
per workload (:func:`readme_line`) to stay within its 10 KB.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.analysis import memory
from harness.analysis.order import variant_order
from harness.analysis.selection import option_text
from harness.analysis.values import first_present, fmt_ratio_column, is_nan, number_or_nan, text_or_none

__all__ = ["END", "START", "host_line", "markdown", "noise_reason", "projection_words", "readme_block", "readme_line",
           "sentences", "text_lines"]

START, END = "<!-- findings:start -->", "<!-- findings:end -->"

# What the scaling table's "why" verdict (harness.analysis.views.scaling_diagnosis) means, in words.
WHY_WORDS = {"scaling": "scaling", "serialised": "serialised: one at a time",
             "contended": "contended: the cores busy, the work no faster",
             "partly serialised": "partly serialised", "waiting": "waiting: under half a core busy"}
COMPARE_HINT = "`nox -s bench` measures the variants side by side (the price, and whether free-threading pays off)"


def _cell(row, col: str) -> str:
    """The headline table's figure of ``col``: ratio [CI], then its flag ("4 rounds", "above 2 cores")."""
    text = fmt_ratio_column(row, col)
    flag = text_or_none(row.get(f"{col}_flag"))
    return f"{text} ({flag})" if flag and text != "-" else text


def _pct(margin: float) -> str:
    return f"+-{100 * margin:g}%"


def _rows(summary: pd.DataFrame, host: str, workload: str) -> dict:
    """variant -> its summary row (a dict) for one host x workload, in registry order."""
    sub = summary[(summary["host"] == host) & (summary["workload"] == workload)]
    rows = {r["variant"]: r for r in sub.to_dict("records")}
    return {v: rows[v] for v in variant_order(rows)}


def _ratio_row(ratios: pd.DataFrame, host: str, workload: str, variant: str, metric: str) -> dict | None:
    """The ratios-table row a summary figure was pivoted from (its rounds, se_log, estimator)."""
    sel = ratios[(ratios["host"] == host) & (ratios["workload"] == workload) & (ratios["variant"] == variant)
                 & (ratios["metric"] == metric)]
    return sel.iloc[0].to_dict() if len(sel) else None


def noise_reason(r: dict | None, short: bool = False) -> str:
    """Why an interval is wide: the units it rests on and the noise of one unit, e.g. "3 rounds, 2.9%
    round-to-round noise" (paired) or "2 and 3 processes, 7.1% process-to-process noise" (Welch);
    ``short``: "3 rounds, 2.9% noise" (the README's lines)."""
    if r is None:
        return "no ratio row"
    n, m = (int(x) if not is_nan(number_or_nan(r, k)) else 0 for k, x in
            (("n_processes", r.get("n_processes")), ("n_processes_baseline", r.get("n_processes_baseline"))))
    se = number_or_nan(r, "se_log")
    paired = r.get("estimator") == "paired"
    s = "" if n == 1 else "s"
    units = f"{n} round{s}" if paired else (f"{n} process{'es' if s else ''} a side" if n == m
                                           else f"{n} and {m} processes")
    if is_nan(se) or n < 2 or (not paired and m < 2):
        return f"{units}: too few for an interval"
    noise = se * math.sqrt(n) if paired else se / math.sqrt(1 / n + 1 / m)
    unit = "" if short else "round-to-round " if paired else "process-to-process "
    return f"{units}, {100 * noise:.1f}% {unit}noise"


def _count(row, col: str) -> int:
    v = number_or_nan(row, col)
    return 0 if is_nan(v) or pd.isna(v) else int(v)


def _best_text(row) -> str:
    """"threads x4", or "threads x4; 6 of 10 options not told apart from it" when it is no single best."""
    strategy = text_or_none(row.get("best_strategy"))
    if strategy is None:
        return "none"
    text = option_text((strategy, row["best_workers"]))
    if row.get("single_best") is False and _count(row, "n_options") > 1:
        k = max(_count(row, "tie_size"), _count(row, "n_not_told_apart"))
        text += f"; {k} of {int(row['n_options'])} options not told apart from it"
    return text


def _price(row, base: str, margin: float, ratio: dict | None, first: bool = True) -> str:
    """One variant's single-thread price over its baseline, in the words of its verdict (``first``: the
    whole clause; otherwise the short one that follows it, same baseline)."""
    v, cell = row["variant"], _cell(row, "slowdown")
    verdict = text_or_none(row.get("slowdown_verdict"))
    who = f"{v} runs single-threaded code" if first else (f"the control {v}" if row.get("role") == "control" else v)
    than = f" than {base}" if first else ""
    if verdict == "greater":
        return f"{who} {cell} slower{than}"
    if verdict == "less":
        return f"{who} faster{than}, in {cell} of the time"
    if verdict == "equivalent":
        return f"{who} as fast{' as ' + base if first else ''} within {_pct(margin)}: {cell}"
    if cell == "-":
        return f"{v}'s single-thread price is unknown ({text_or_none(row.get('note')) or 'no sequential run'})"
    side = _side(row, "slowdown", "slower", "faster")
    if side:
        return (f"{who} {side}{than}, but not shown to be by more than {100 * margin:g}% "
                f"({cell}: {noise_reason(ratio)})")
    if first:
        return (f"cannot tell within {_pct(margin)} whether {v} runs single-threaded code slower than {base} "
                f"({cell}: {noise_reason(ratio)})")
    return f"{who}: cannot tell within {_pct(margin)} ({cell}: {noise_reason(ratio)})"


def _side(row, col: str, above: str, below: str) -> str:
    """``above`` or ``below`` when the CI of ``col`` leaves 1 out on that side, else ''."""
    lo, hi = number_or_nan(row, f"{col}_ci_low"), number_or_nan(row, f"{col}_ci_high")
    if is_nan(lo) or is_nan(hi) or lo <= 1 <= hi:
        return ""
    return above if lo > 1 else below


def _pays(row, cores, margin: float, ratio: dict | None, free_threaded: bool) -> str:
    """The verdict of the gain of the best option over the baseline's best on this machine."""
    who = "free-threading" if free_threaded else row["variant"]
    machine = f"this {cores}-core machine" if cores else "this machine"
    verdict = text_or_none(row.get("gain_best_verdict"))
    if verdict == "greater":
        return f"{who} pays off on {machine}"
    if verdict == "less":
        return f"{who} does not pay off on {machine}"
    if verdict == "equivalent":
        return f"no practical difference on {machine} (within {_pct(margin)})"
    side = _side(row, "gain_best", "faster", "slower")
    side = f"{side}, but not shown to be by more than {100 * margin:g}%; " if side else ""
    return f"cannot tell within {_pct(margin)} on {machine}: {side}{noise_reason(ratio)}"


def _cores(v) -> str:
    return "never" if math.isinf(v) else f"{v:.1f}"


def projection_words(p: dict | None) -> str:
    """The projected break-even core count as projection.csv has it, in words ('' for no projection)."""
    if p is None or p.get("status") in (None, "n/a"):
        note = text_or_none(p.get("note")) if p else None
        return f"no projected break-even ({note})" if note and not note.startswith("I/O") else ""
    low, high, p0 = float(p["low"]), float(p["high"]), p["cores_measured"]
    has_range = not (math.isnan(low) or math.isnan(high))
    rng = f" [{_cores(low)}-{_cores(high)}]" if has_range else " [no range: an input has no CI]"
    if has_range and low <= p0 and math.isinf(high):
        return f"projected break-even: cannot tell (95% range from already at {int(p0)} cores to never)"
    if p["status"] == "already":
        return (f"its threads already beat {p['baseline']}'s processes at the {int(p0)} measured cores "
                "(measured, not projected)")
    if p["status"] == "never":
        return "projected never to break even" + (f" (95% range {_cores(low)} cores to never)"
                                                  if has_range and not math.isinf(low) else "")
    return f"projected to break even at {_cores(float(p['break_even_cores']))} cores{rng}"


def _projection(res, host: str, workload: str, variant: str) -> dict | None:
    p = res.projection
    if p is None or not len(p):
        return None
    sel = p[(p["host"] == host) & (p["workload"] == workload) & (p["variant"] == variant)]
    return sel.iloc[0].to_dict() if len(sel) else None


def _why_words(why: str, workers: int, cores, kind) -> str:
    """The scaling table's verdict in words; a CPU option scaling at the core count is as far as it goes."""
    verdict, _, cause = why.partition(": ")
    words = WHY_WORDS.get(verdict, verdict)
    if verdict == "scaling" and kind != "io" and cores and workers >= cores:
        words = "scaling up to the cores"
    return words + (f"; {cause}" if cause else "")


def _why(res, host: str, workload: str, rows: dict) -> str:
    """Busy cores and the scaling verdict at each strategy's reference worker count: the threads of every
    variant compared, and the strategies of the best options."""
    compared = [v for v, r in rows.items() if r.get("role") in ("baseline", "free-threaded")] or list(rows)
    wanted = {"threads": list(compared)}
    for v in compared:
        s = text_or_none(rows[v].get("best_strategy"))
        if s and s != "sequential" and v not in wanted.setdefault(s, []):
            wanted[s].append(v)
    cores = first_present(r.get("cpu_count") for r in rows.values())
    kind = first_present(r.get("kind") for r in rows.values())
    sc = res.scaling
    sc = sc[(sc["host"] == host) & (sc["workload"] == workload)] if sc is not None else sc
    parts = []
    for strategy, names in wanted.items():
        said = []
        for v in names:
            w = number_or_nan(rows[v], f"workers_{strategy}")
            pt = sc[(sc["variant"] == v) & (sc["strategy"] == strategy) & (sc["workers"] == w)] \
                if sc is not None and not is_nan(w) else []
            point = pt.iloc[0].to_dict() if len(pt) else {}
            busy, why = number_or_nan(point, "busy_cores"), text_or_none(point.get("why"))
            if not is_nan(busy):
                words = (_why_words(why, int(w), cores, kind) if why else "one usable core: no verdict"
                         if int(w) == 1 or cores == 1 else "no verdict without its speedup")
                said.append((int(w), v, busy, words))
        if said:
            of = f" of the {cores} cores" if not parts and cores else ""
            parts.append(f"{strategy} x{said[0][0]} keep " + " and ".join(
                f"{busy:.2f}{of if i == 0 else ''} busy on {v} ({words})" if i == 0 else f"{busy:.2f} on {v} ({words})"
                for i, (_, v, busy, words) in enumerate(said)))
    if not parts:
        return "No busy cores recorded for these options: no why."
    return "Why they stop there: " + "; ".join(parts) + "."


def _single(rows: dict, res, host: str, workload: str) -> list[str]:
    """A workload without a variant compared with its baseline: each variant's best option, and the hint."""
    parts = []
    for v, r in rows.items():
        speedup = _cell(r, "best_speedup")
        if not _count(r, "n_ok"):
            parts.append(f"nothing of {v} was measured")
        elif text_or_none(r.get("best_strategy")) in (None, "sequential"):
            parts.append(f"{v}'s best option is its sequential run")
        elif speedup == "-":
            parts.append(f"{v}'s fastest option is {_best_text(r)}, with no sequential run to give its speedup")
        else:
            parts.append(f"{v}'s best option ({_best_text(r)}) runs at {speedup} its sequential speed")
    names = " and ".join(rows)
    return [f"{workload}: only {names} measured here: " + "; ".join(parts) + f"; {COMPARE_HINT}.",
            _why(res, host, workload, rows)]


def _failures(res, host: str, workload: str, rows: dict) -> str:
    """The benchmarks of the workload that produced no time, per variant, with the first error."""
    b = res.benchmarks
    parts = []
    for v, r in rows.items():
        bad = b[(b["host"] == host) & (b["workload"] == workload) & (b["variant"] == v) & (b["status"] != "ok")]
        if len(bad):
            which = ", ".join(f"{s}/{w} {st}" for s, w, st in zip(bad["strategy"], bad["workers"], bad["status"],
                                                                 strict=True))
            error = first_present(e for e in bad["error"] if text_or_none(e))
            parts.append(f"{len(bad)} of {v}'s {len(bad) + _count(r, 'n_ok')} benchmarks ({which}"
                         + (f"; first error: {error}" if error else "") + ")")
    return ("Not measured: " + "; ".join(parts) + ".") if parts else ""


def sentences(res, host: str, workload: str, with_memory: bool = False) -> list[str]:
    """The two or three sentences of one workload on one host; ``with_memory``: the memory price as a fourth
    (harness.analysis.memory.memory_sentence) where it was measured, for the report's long form."""
    rows = _rows(res.summary, host, workload)
    if not rows:
        return [f"{workload}: no results on {host}."]
    margin = res.margin
    compared = {v: r for v, r in rows.items() if r.get("role") != "baseline" and _count(r, "n_ok")
                and text_or_none(r.get("baseline")) in rows and r["baseline"] != v
                and _count(rows[r["baseline"]], "n_ok")}
    failed = _failures(res, host, workload, rows)
    if not compared:
        return _single(rows, res, host, workload) + ([failed] if failed else [])
    prices, said = [], set()
    for v, r in compared.items():
        prices.append(_price(r, r["baseline"], margin, _ratio_row(res.ratios, host, workload, v, "slowdown"),
                             first=r["baseline"] not in said))
        said.add(r["baseline"])
    out = [f"{workload}: " + ", ".join(prices) + "."]
    subjects = [v for v, r in compared.items() if r.get("role") == "free-threaded"] or list(compared)
    cores = first_present(r.get("cpu_count") for r in rows.values())
    for v in subjects:
        r, base = compared[v], rows[compared[v]["baseline"]]
        gain = _cell(r, "gain_best")
        ft = r.get("role") == "free-threaded"
        pays = _pays(r, cores, margin, _ratio_row(res.ratios, host, workload, v, "gain_best"), ft)
        text = (f"{v}'s best option ({_best_text(r)}) runs at {gain} the speed of {base['variant']}'s best "
                f"({_best_text(base)}): {pays}")
        if ft and r.get("kind") != "io":
            more = projection_words(_projection(res, host, workload, v))
            text += f"; {more}" if more else ""
        out.append(text[0].upper() + text[1:] + ".")
    out.append(_why(res, host, workload, rows))
    out += [failed] if failed else []
    for v in subjects if with_memory else ():
        mem = memory.memory_sentence(res.ratios, workload, v, host)
        if mem:
            out.append(mem)
    return out


def readme_line(res, host: str, workload: str) -> str:
    """One short line for the README: the gain of the free-threaded best over the baseline's best, its
    verdict, the single-thread price and the projected break-even (the legend is :func:`readme_block`'s)."""
    rows = _rows(res.summary, host, workload)
    ft = next((r for r in rows.values() if r.get("role") == "free-threaded"
               and text_or_none(r.get("baseline")) in rows), None)
    if ft is None:
        return f"- `{workload}`: no free-threaded variant beside its baseline"
    verdict = text_or_none(ft.get("gain_best_verdict"))
    words = {"greater": "pays off", "less": "does not pay off", "equivalent": "no practical difference"}.get(verdict)
    if words is None:
        side = _side(ft, "gain_best", "faster", "slower")
        words = (f"{side}, not shown beyond {_pct(res.margin)}" if side else "cannot tell") + \
            f" ({noise_reason(_ratio_row(res.ratios, host, workload, ft['variant'], 'gain_best'), True)})"
    line = f"- `{workload}`: {_cell(ft, 'gain_best')}, {words}; single-threaded {_cell(ft, 'slowdown')}"
    p = _projection(res, host, workload, ft["variant"])
    if p is not None and p.get("status") == "projected":
        line += f"; break-even projected at {_cores(float(p['break_even_cores']))} cores"
    return line


def _free_threaded_compared(summary: pd.DataFrame, host: str) -> pd.DataFrame:
    """The free-threaded rows of ``host`` whose baseline measured the same workload (a comparison exists)."""
    s = summary[summary["host"] == host]
    measured = set(zip(s["workload"], s["variant"], strict=True))
    keep = [r["role"] == "free-threaded" and (r["workload"], r["baseline"]) in measured
            for r in s[["role", "workload", "baseline"]].to_dict("records")]
    return s[keep]


def _and(parts: list[str]) -> str:
    parts = [p for p in parts if p]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def host_line(res, host: str) -> str:
    """The overall finding of one host: on how many workloads free-threading paid off, and its price."""
    s = res.summary[res.summary["host"] == host]
    ft = _free_threaded_compared(res.summary, host)
    first = s.iloc[0]
    machine = f"`{host}` ({first['cpu_model']}, {first['cpu_count']} cores)"
    if ft.empty:
        return f"On {machine}: no free-threaded variant measured beside its baseline; {COMPARE_HINT}."
    names, bases = (" and ".join(dict.fromkeys(ft[c])) for c in ("variant", "baseline"))

    def on(col: str, verdicts: tuple, what: str, named: bool = True) -> str:
        g = ft[ft[col].fillna("n/a").isin(verdicts)]
        listed = f" ({', '.join(g['workload'])})" if named and 0 < len(g) <= 3 else ""
        return f"{what} on {len(g)}{listed}" if len(g) else ""

    gain = _and([on("gain_best_verdict", ("greater",), f"beat {bases}'s best") or f"beat {bases}'s best on 0",
                 on("gain_best_verdict", ("equivalent",), "tied"), on("gain_best_verdict", ("less",), "lost"),
                 on("gain_best_verdict", ("inconclusive", "n/a"), f"was not told apart within {_pct(res.margin)}")])
    slower = ft[ft["slowdown_verdict"] == "greater"]
    span = f" ({slower['slowdown'].min():.2f}x-{slower['slowdown'].max():.2f}x the time)" if len(slower) else ""
    price = _and([on("slowdown_verdict", ("greater",), "slower beyond the margin", False) + span,
                  on("slowdown_verdict", ("equivalent",), "within it", False),
                  on("slowdown_verdict", ("less",), "faster", False),
                  on("slowdown_verdict", ("inconclusive", "n/a"), "undecided", False)])
    others = s["workload"].nunique() - ft["workload"].nunique()
    rest = f" ({others} more measured without {bases}: {COMPARE_HINT})" if others else ""
    return (f"On {machine}, of {len(ft)} workload{'s' if len(ft) > 1 else ''}, {names}'s best option {gain}; "
            "single-threaded it was "
            f"{price}{rest}.")


def text_lines(res, workloads=None) -> list[str]:
    """What a bench run ends with: per host, each workload's sentences, then the host's overall line."""
    out = []
    for host in res.hosts_newest_first:
        names = [w for w in dict.fromkeys(res.summary[res.summary["host"] == host]["workload"])
                 if workloads is None or w in workloads]
        for w in names:
            out += [" ".join(sentences(res, host, w)), ""]
        if workloads is None or len(names) > 1:
            out.append(host_line(res, host))
    return out


def markdown(res) -> list[str]:
    """REPORT.md's opening section: per host, its overall line, then each workload's sentences."""
    out = ["## Findings", "",
           "Generated from the tables below (`harness.analysis.findings`), never written by hand: each figure is "
           "the headline table's, each verdict the ratio's against the margin.", ""]
    for host in res.hosts_newest_first:
        out += [f"### {host}", "", host_line(res, host), ""]
        for w in dict.fromkeys(res.summary[res.summary["host"] == host]["workload"]):
            out.append("- " + " ".join(sentences(res, host, w, with_memory=True)))
        out.append("")
    return out


def readme_block(res, host: str) -> str:
    """The README's findings block for ``host``: its overall line and one short line per workload."""
    s = res.summary[res.summary["host"] == host]
    ft = _free_threaded_compared(res.summary, host)
    lines = [host_line(res, host)]
    if len(ft):
        v, base = ft["variant"].iloc[0], ft["baseline"].iloc[0]
        lines[0] += (f" Per workload: the speed of {v}'s best option over {base}'s best, whether it pays off on "
                     f"these cores, {v}'s single-thread time over {base}'s (full sentences: results/REPORT.md):")
    lines += ["", *(readme_line(res, host, w) for w in dict.fromkeys(s["workload"]))]
    return "\n".join(lines)
