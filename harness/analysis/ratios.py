"""Every ratio the analysis derives, one row each in long form (results/ratios.csv).

Each ratio is estimated once, here, by harness.analysis.pairing.estimate: paired by (invocation,
round) where its benchmarks ran in the same rounds, Welch over process means otherwise, the reason
written in the row's ``note``. It carries its 95% CI, degrees of freedom, three-valued verdict, the
rounds (paired) or processes (Welch) on each side and a ``flag`` the tables print next to the
figure. ``summary.csv``, the claims, the report, the README headline, the projection and the
flavours read these rows; none estimates a ratio again. Variants are compared with their baseline
(harness.analysis.order), never by name.

metric: what the ratio is (> 1 means "the row's option is faster", except slowdown, regret and memory):

- speedup: own sequential time / time of this option (sweep, paired by round)
- weak_efficiency: the same ratio when the benchmark ran with --scaling weak: t(1) / t(N)
- speedup_vs_baseline: the baseline variant's sequential time / time of this option
- gain: the baseline variant's time for the same strategy x workers / this time
- speedup_ratio: (own sequential / this option) / (the baseline's sequential / the baseline's same
  option): one paired product of four series, what free-threading adds beyond what the GIL build
  already scales
- slowdown: own sequential time / the baseline's (> 1: slower), from the confirmation rounds where
  the sequential references were measured in them, else from the sweep (noted)
- slowdown_sweep: the same from the sweep, when the headline slowdown comes from the confirmation
- best_speedup, gain_best: the best option, chosen and estimated selection-aware
  (harness.analysis.selection)
- regret: this option's time / the fastest option's on the sweep (> 1: slower); an option is tied
  with the fastest when its regret is "equivalent"
- vs_strategy: time of the option named in ``baseline`` / this option's, same variant and workers:
  the lecture's comparisons of two strategies
- memory_ratio, memory_ratio_best: peak process-tree memory (PSS) of the sequential run, and of the
  best option, over the baseline's (> 1: more memory; harness.analysis.memory)

flag: "above N cores" for a CPU speedup whose estimate or whole CI exceeds the N usable cores
(min(workers, cores)): not a plain speedup; "N rounds" for a headline ratio whose interval rests on
fewer than :data:`MIN_HEADLINE_ROUNDS` rounds.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.analysis.cells import WorkloadCell, label, reference_workers, workload_cells
from harness.analysis.memory import memory_ratios, peak_series
from harness.analysis.order import baseline_variant, role, sort_rows
from harness.analysis.pairing import Estimate, estimate
from harness.analysis.selection import choose, regret_terms
from harness.analysis.stats import MARGIN, Contrast, ratio_verdict, significant, usable_cores

RATIO_COLUMNS = ("host", "cpu_count", "workload", "kind", "variant", "role", "strategy", "workers",
                 "metric", "baseline", "value", "ci_low", "ci_high", "df", "se_log",
                 "significant", "verdict", "precision", "estimator", "n_processes", "n_processes_baseline",
                 "selection", "flag", "note")
HEADLINE_METRICS = ("slowdown", "memory_ratio", "best_speedup", "gain_best")
MIN_HEADLINE_ROUNDS = 5  # a headline interval on fewer rounds is flagged: df <= 3 makes t huge and s unstable
SPEEDUP_METRICS = ("speedup", "best_speedup")
COMPARED_STRATEGIES = (("asyncio", "threads"), ("threads", "processes"), ("asyncio", "processes"))
NO_RATIO = Estimate(Contrast(1.0, math.nan, math.nan, math.nan, math.nan, 0), False, 0)


def _join(*notes) -> str:
    return "; ".join(dict.fromkeys(n for n in notes if n))


def ratio_row(cell: WorkloadCell, option: tuple, metric: str, against: str, est: Estimate, n_processes: int,
              n_against: int, margin: float, selection: str = "", note: str = "") -> dict:
    """One row of the ratios table: ``est`` taken for ``option`` of ``cell`` against ``against``.

    A paired estimate counts rounds on both sides, Welch processes. An interval from one process on
    a side does not exist: NaN bounds and a note, never a number.
    """
    c = est.contrast
    lo, hi = c.low, c.high
    if est.paired:
        n_processes = n_against = est.rounds
    note = _join(note, est.note)
    if c.n_min < 2 and not math.isnan(c.value) and est is not NO_RATIO:
        note = _join(note, "one process (or round) on a side: CI n/a")
    prec = (hi - lo) / 2 / c.value if c.value and not math.isnan(lo) else math.nan
    strategy, workers = option
    flags, why = _flags(cell, metric, workers, c, est)
    return {"host": cell.host, "cpu_count": cell.cores, "workload": cell.workload,
            "kind": cell.kind, "variant": cell.variant, "role": role(cell.variant),
            "strategy": strategy, "workers": workers, "metric": metric, "baseline": against,
            "value": c.value, "ci_low": lo, "ci_high": hi, "df": c.df, "se_log": c.se,
            "significant": significant(lo, hi) if not math.isnan(lo) else None,
            "verdict": ratio_verdict(lo, hi, margin), "precision": prec, "estimator": est.estimator,
            "n_processes": n_processes, "n_processes_baseline": n_against, "selection": selection,
            "flag": "; ".join(flags), "note": _join(note, *why)}


def _flags(cell: WorkloadCell, metric: str, workers, c: Contrast, est: Estimate) -> tuple[list, list]:
    """(flags, notes): a CPU speedup above its usable cores; a headline interval on too few rounds."""
    flags, why = [], []
    if metric in SPEEDUP_METRICS and cell.kind != "io" and not math.isnan(c.value):
        p = usable_cores(workers, cell.cores)
        if p and (c.value > p or c.low > p):
            unit = "cores" if p > 1 else "core"
            flags.append(f"above {p} {unit}")
            whole = " (its whole CI)" if c.low > p else ""
            why.append(f"above the {p} usable {unit}{whole}: not a plain speedup (superlinear, or the sequential "
                       "reference and the option did not see the same machine)")
    n = est.rounds if est.paired else c.n_min
    if metric in HEADLINE_METRICS and not math.isnan(c.low) and n < MIN_HEADLINE_ROUNDS:
        unit = "rounds" if est.paired else "processes"
        flags.append(f"{n} {unit}")
        why.append(f"{n} {unit}: fewer than the {MIN_HEADLINE_ROUNDS} a headline interval needs (df = {c.df:.3g})")
    return flags, why


def own_speedup_rows(cell: WorkloadCell, margin: float) -> list[dict]:
    """speedup (or weak_efficiency) of every parallel option against the variant's own sequential run."""
    seq = cell.sequential
    if seq is None:
        return []
    against = label(cell.variant, cell.sequential_option)
    rows = []
    for option, s in cell.options.items():
        if option[0] != "sequential":
            metric = "weak_efficiency" if cell.scaling.get(option) == "weak" else "speedup"
            rows.append(ratio_row(cell, option, metric, against, estimate([(seq, 1), (s, -1)]),
                                  len(s), len(seq), margin))
    return rows


def against_baseline_rows(cell: WorkloadCell, base: WorkloadCell, margin: float) -> list[dict]:
    """speedup_vs_baseline, gain and speedup_ratio of every option against the baseline, and the
    sweep's slowdown (``slowdown_sweep`` when the headline slowdown comes from the confirmation)."""
    rows = []
    seq, base_seq = cell.sequential, base.sequential
    for option, s in cell.options.items():
        strategy, workers = option
        if base_seq is not None and strategy == "sequential":
            if _confirmed_references(cell, base) is not None:
                rows.append(ratio_row(cell, option, "slowdown_sweep", base_seq.label,
                                      estimate([(s, 1), (base_seq, -1)]), len(s), len(base_seq), margin))
        elif base_seq is not None:
            rows.append(ratio_row(cell, option, "speedup_vs_baseline", base_seq.label,
                                  estimate([(base_seq, 1), (s, -1)]), len(s), len(base_seq), margin))
        b = base.options.get(option)
        if b is None or strategy == "sequential":
            continue
        rows.append(ratio_row(cell, option, "gain", b.label, estimate([(b, 1), (s, -1)]), len(s), len(b), margin))
        if seq is not None and base_seq is not None:
            terms = [(seq, 1), (s, -1), (base_seq, -1), (b, 1)]
            rows.append(ratio_row(cell, option, "speedup_ratio", b.label, estimate(terms),
                                  min(len(s), len(seq)), min(len(b), len(base_seq)), margin))
    return rows


def _confirmed_references(cell: WorkloadCell, base: WorkloadCell):
    """The two sequential references measured in the confirmation rounds, or None (older sets)."""
    mine, theirs = cell.confirmed_sequential, base.confirmed_sequential
    return (mine, theirs) if mine is not None and theirs is not None else None


def slowdown_rows(cell: WorkloadCell, base: WorkloadCell, margin: float) -> list[dict]:
    """The headline slowdown: own sequential / the baseline's, on the confirmation rounds where both
    references were measured in them (a fixed, pre-planned number of rounds), else on the sweep's."""
    confirmed = _confirmed_references(cell, base)
    if confirmed is not None:
        mine, theirs = confirmed
        est = estimate([(mine, 1), (theirs, -1)])
        selection = _join("sequential references measured side by side in the confirmation rounds",
                          cell.plan_text(est.rounds))
        return [ratio_row(cell, cell.sequential_option or ("sequential", 1), "slowdown", theirs.label, est,
                          len(mine), len(theirs), margin, selection)]
    seq, base_seq = cell.sequential, base.sequential
    if seq is None or base_seq is None:
        return []
    return [ratio_row(cell, cell.sequential_option, "slowdown", base_seq.label, estimate([(seq, 1), (base_seq, -1)]),
                      len(seq), len(base_seq), margin, note=_sweep_slowdown_note(seq, base_seq))]


def _sweep_slowdown_note(seq, base_seq) -> str:
    """Why a slowdown from the sweep's reference may claim more than it earned: its stopping rule."""
    reasons = sorted({r for r in (seq.stop_reason, base_seq.stop_reason) if r})
    if seq.legacy or base_seq.legacy:
        text = "older set: slowdown from the sweep's reference (no sequential confirmation)"
    else:  # a profile without a precision target (quick) confirms nothing
        text = "no confirmation in this run: slowdown from the sweep's reference"
    if not reasons:
        return text + ", stopping rule not recorded"
    if reasons == ["fixed"]:
        return text
    rule = ("until decided" if "decided" in reasons
            else "as long as its options" if reasons == ["options"] else "until its precision target")
    return (text + f", measured {rule} (stopped: {', '.join(reasons)}): its interval does not account for "
            "the stopping rule")


def best_option_rows(cell: WorkloadCell, base: WorkloadCell | None, margin: float) -> list[dict]:
    """best_speedup and gain_best of the selection-aware best option (harness.analysis.selection)."""
    best = choose(cell, base)
    if best is None:
        return []
    rows = []
    if best.reference is not None:
        if best.option[0] == "sequential":
            est, note = NO_RATIO, "the best option is the sequential reference"
        else:
            est = estimate([(best.reference, 1), (best.estimating, -1)])
            note = best.reference_note
        rows.append(ratio_row(cell, best.option, "best_speedup", best.reference.label, est, best.n_processes,
                              len(best.reference), margin, _join(best.selection, _plan(cell, est)), note))
    if base is not None and base.variant != cell.variant and best.baseline_estimating is not None:
        est = estimate([(best.baseline_estimating, 1), (best.estimating, -1)])
        rows.append(ratio_row(cell, best.option, "gain_best", best.baseline_estimating.label, est,
                              best.n_processes, len(best.baseline_estimating), margin,
                              _join(best.selection, _plan(cell, est), best.baseline_note)))
    return rows


def _plan(cell: WorkloadCell, est: Estimate) -> str:
    """The confirmation's plan, for an estimate paired on its rounds ('' otherwise)."""
    return cell.plan_text(est.rounds) if est.paired and est.rounds else ""


def regret_rows(cell: WorkloadCell, margin: float) -> list[dict]:
    """regret of every option: its time / the fastest option's (sweep); the fastest's own row is 1.0
    with verdict "fastest"."""
    if not cell.options:
        return []
    best, terms = regret_terms(cell)
    fastest = cell.options[best]
    row = ratio_row(cell, best, "regret", fastest.label, NO_RATIO, len(fastest), len(fastest), margin,
                    note="the fastest option of the sweep")
    rows = [row | {"verdict": "fastest", "significant": None}]
    for option, t in terms.items():
        rows.append(ratio_row(cell, option, "regret", fastest.label, estimate(t), len(cell.options[option]),
                              len(fastest), margin))
    return rows


def strategy_rows(cell: WorkloadCell, margin: float) -> list[dict]:
    """vs_strategy: the lecture's comparisons of two strategies (e.g. asyncio vs threads), at the
    worker count fixed in advance among the counts both measured."""
    rows = []
    for fast, slow in COMPARED_STRATEGIES:
        common = [w for s, w in cell.options if s == fast and (slow, w) in cell.options]
        w = reference_workers(cell.kind, common, cell.cores)
        if w is None:
            continue
        a, b = cell.options[(fast, w)], cell.options[(slow, w)]
        rows.append(ratio_row(cell, (fast, w), "vs_strategy", b.label, estimate([(b, 1), (a, -1)]),
                              len(a), len(b), margin))
    return rows


def ratios_table(raw: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """Every ratio the analysis derives, one row each, with its CI, verdict and how it was estimated."""
    rows = []
    cells = workload_cells(raw)
    peaks = peak_series(raw)
    names = list(dict.fromkeys(raw["variant"]))
    for (host, variant, workload), cell in cells.items():
        baseline_name = baseline_variant(variant, names)
        base = cells.get((host, baseline_name, workload)) if baseline_name else None
        rows += own_speedup_rows(cell, margin)
        if base is not None and baseline_name != variant:
            rows += slowdown_rows(cell, base, margin)
            rows += against_baseline_rows(cell, base, margin)
            rows += [ratio_row(cell, m.option, m.metric, m.against, m.estimate, m.n_processes, m.n_against, margin,
                               m.selection, m.note) for m in memory_ratios(cell, base, peaks)]
        rows += best_option_rows(cell, base, margin)
        rows += regret_rows(cell, margin)
        rows += strategy_rows(cell, margin)
    df = pd.DataFrame(rows, columns=list(RATIO_COLUMNS))
    for col in ("cpu_count", "workers", "n_processes", "n_processes_baseline"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["significant"] = df["significant"].astype("boolean")
    return sort_rows(df, ("host", "workload", "variant", "metric", "strategy", "workers"))


__all__ = ["COMPARED_STRATEGIES", "HEADLINE_METRICS", "MIN_HEADLINE_ROUNDS", "RATIO_COLUMNS", "against_baseline_rows",
           "best_option_rows", "own_speedup_rows", "ratio_row", "ratios_table", "regret_rows", "slowdown_rows",
           "strategy_rows"]
