"""One workload on one variant of one host: its options' process means, the unit every ratio uses.

A *cell* gathers what the ratios, the best-option selection and the lecture's claims need of one
host x variant x workload: per option (strategy, workers) the process means of the sweep, the round
each process ran in (for pairing two variants by round) and, when the campaign confirmed its best
option, the fresh confirmation processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness import metadata as md
from harness.analysis.stats import Contrast, contrast, paired_contrast, process_means
from harness.analysis.values import first_present, text_or_none


@dataclass
class WorkloadCell:
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
    def sequential_option(self) -> tuple | None:
        """("sequential", fewest workers measured), the reference of every speedup; None if it failed."""
        workers = sorted(w for s, w in self.options if s == "sequential")
        return ("sequential", workers[0]) if workers else None

    @property
    def sequential(self):
        """Process means of the sequential option, None if it failed."""
        option = self.sequential_option
        return self.options[option] if option else None

    @property
    def sequential_rounds(self) -> dict:
        """{round: mean} of the sequential option; {} when it failed or its rounds are unknown."""
        option = self.sequential_option
        return self.rounds.get(option, {}) if option else {}


def workload_cells(raw: pd.DataFrame) -> dict:
    """{(host, variant, workload): WorkloadCell} of the successful benchmarks of a raw frame.

    The sweep's benchmarks fill ``options``; the confirmation stage's re-measurements (stage
    ``confirm``) fill ``confirm`` of the cell whose sweep they follow, never ``options``.
    """
    out: dict = {}
    ok = raw[(raw["status"] == "ok") & (raw["values"].map(len) > 0)]
    stage = ok["stage"] if "stage" in ok.columns else pd.Series("sweep", index=ok.index)
    for rec in ok[stage != md.CONFIRM].to_dict("records"):
        key = (rec["host"], rec["variant"], rec["workload"])
        if key not in out:
            sub = raw[(raw["host"] == rec["host"]) & (raw["variant"] == rec["variant"])
                      & (raw["workload"] == rec["workload"])]
            cores = first_present(sub["cpu_count"])
            out[key] = WorkloadCell(rec["host"], rec["variant"], rec["workload"], first_present(sub["kind"]),
                                    int(cores) if cores is not None else None, {}, {})
        runs = rec.get("runs") or tuple((v,) for v in rec["values"])
        opt = (rec["strategy"], int(rec["workers"]))
        out[key].options[opt] = process_means(runs)
        out[key].rounds[opt] = means_by_round(runs, rec.get("run_rounds"))
        out[key].scaling[opt] = text_or_none(rec.get("scaling"))
    for rec in ok[stage == md.CONFIRM].to_dict("records"):
        cell = out.get((rec["host"], rec["variant"], rec["workload"]))
        if cell is not None:
            opt = (rec["strategy"], int(rec["workers"]))
            cell.confirm[opt] = process_means(rec["runs"])
            cell.confirm_rounds[opt] = means_by_round(rec["runs"], rec.get("run_rounds"))
    return out


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


def means_by_round(runs, rounds) -> dict:
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
