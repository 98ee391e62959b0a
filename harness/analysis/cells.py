"""One workload on one variant of one host: its options' process means, the unit every ratio uses.

A *cell* gathers what the ratios and the best-option selection need of one host x variant x
workload: per option (strategy, workers) the series of the sweep (process means by invocation and
round, harness.analysis.pairing) and, when the campaign confirmed its best option, the series of
the confirmation stage: the best option and, in newer sets, the sequential reference measured in
the same rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from harness import metadata as md
from harness.analysis.pairing import Series, series
from harness.analysis.values import first_present, text_or_none


@dataclass
class WorkloadCell:
    """One host x variant x workload: its options' series and context."""

    host: str
    variant: str
    workload: str
    kind: str | None
    cores: int | None
    options: dict  # (strategy, workers) -> Series of the sweep
    scaling: dict  # (strategy, workers) -> "strong" / "weak" / None
    confirm: dict = field(default_factory=dict)  # the confirmation stage: (strategy, workers) -> Series
    plan: tuple = (None, None)  # (planned_rounds, plan_reason) of the confirmation, when recorded

    def plan_text(self, used: int) -> str:
        """How the confirmation's rounds were sized, for a ratio estimated on ``used`` of them."""
        planned, reason = self.plan
        if not planned:
            return ""
        text = f"{planned} rounds planned before the stage" + (f" ({reason})" if reason else "")
        return text if used >= planned else f"{used} of {text}"

    @property
    def sequential_option(self) -> tuple | None:
        """("sequential", fewest workers measured), the reference of every speedup; None if it failed."""
        workers = sorted(w for s, w in self.options if s == "sequential")
        return ("sequential", workers[0]) if workers else None

    @property
    def sequential(self) -> Series | None:
        """The sweep's sequential series, None if it failed."""
        option = self.sequential_option
        return self.options[option] if option else None

    @property
    def confirmed_option(self) -> tuple | None:
        """The best option the confirmation stage measured again: the one that is not the sequential
        reference measured beside it, or the reference itself when it was the best; None without one."""
        others = [o for o in self.confirm if o[0] != "sequential"]
        return others[0] if others else next(iter(self.confirm), None)

    @property
    def confirmed_sequential(self) -> Series | None:
        """The sequential reference measured in the confirmation's rounds (None in older sets)."""
        return next((v for (s, _), v in self.confirm.items() if s == "sequential"), None)


def label(variant: str, option: tuple) -> str:
    """How a series is named in notes: "3.13t threads x2"."""
    return f"{variant} {option[0]} x{option[1]}"


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
        opt = (rec["strategy"], int(rec["workers"]))
        out[key].options[opt] = _series(rec, opt, "sweep")
        out[key].scaling[opt] = text_or_none(rec.get("scaling"))
    for rec in ok[stage == md.CONFIRM].to_dict("records"):
        cell = out.get((rec["host"], rec["variant"], rec["workload"]))
        if cell is not None:
            opt = (rec["strategy"], int(rec["workers"]))
            cell.confirm[opt] = _series(rec, opt, md.CONFIRM)
            if rec.get("planned_rounds") is not None and rec["planned_rounds"] == rec["planned_rounds"]:
                cell.plan = (int(rec["planned_rounds"]), text_or_none(rec.get("plan_reason")))
    for cell in out.values():
        cell.confirm = latest_confirmation(cell.confirm)
    return out


def latest_confirmation(confirm: dict) -> dict:
    """The confirmation of the latest invocation only: {option: its series restricted to it}.

    A resumed workload is confirmed again in its new invocation, perhaps on another best option;
    an earlier confirmation's runs pair with nothing of the new one and its option is no longer
    the best, so neither is read (the files keep them).
    """
    invocations = [k[0] for s in confirm.values() for k in s.keys]
    if len(set(invocations)) < 2:
        return confirm

    def last_start(invocation):
        return max((when[1] for s in confirm.values() for k, when in s.started.items() if k[0] == invocation),
                   default=None)

    starts = {inv: last_start(inv) for inv in set(invocations)}
    if any(t is None for t in starts.values()):
        latest = invocations[-1]
    else:
        latest = max(starts, key=starts.get)
    out = {}
    for option, s in confirm.items():
        keep = [i for i, k in enumerate(s.keys) if k[0] == latest]
        if keep:
            out[option] = replace(
                s, means=s.means[keep], keys=tuple(s.keys[i] for i in keep),
                started={k: v for k, v in s.started.items() if k[0] == latest},
                flagged=frozenset(k for k in s.flagged if k[0] == latest))
    return out


def _series(rec: dict, option: tuple, stage: str) -> Series:
    """The series of one raw row (its kept runs, their rounds, invocations and start dates)."""
    runs = rec.get("runs") or tuple((v,) for v in rec["values"])
    return series(label(rec["variant"], option), runs, rec.get("run_rounds"), rec.get("run_invocations"),
                  rec.get("run_dates"), stage, rec.get("flagged_rounds") or (), text_or_none(rec.get("stop_reason")))


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
