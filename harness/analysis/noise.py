"""The machine's noise as each campaign calibrated it before measuring, for REPORT.md.

harness.measure.calibration records, in every variant's state file, one calibration per campaign
invocation: the process-to-process spread of a fixed kernel on each variant, the speed canary's
correlation with it, steal time, foreign load and the system checks. This module reads them back
(one row per host x invocation) and writes the report's small section on them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from harness import metadata as md

CALIBRATION_COLUMNS = ("host", "date", "seconds", "noise", "per_variant", "canary_r", "canary_c_r",
                       "steal_cores", "foreign_cores", "frequency_scaling", "aslr", "warnings", "advice")


def _number(x) -> float:
    return float(x) if isinstance(x, (int, float)) else math.nan


def _row(host: str, rec: dict) -> dict:
    checks = rec.get("checks") or {}
    per = rec.get("variants") or {}
    return {"host": host, "date": rec.get("date"), "seconds": _number(rec.get("seconds")),
            "noise": _number(rec.get("noise")),
            "per_variant": ", ".join(f"{v} {_number(p.get('process_cv')):.1%}" for v, p in per.items()),
            "canary_r": _number(rec.get("canary_r")), "canary_c_r": _number(rec.get("canary_c_r")),
            "steal_cores": _number(rec.get("steal_cores")), "foreign_cores": _number(rec.get("foreign_cores")),
            "frequency_scaling": checks.get("frequency_scaling"), "aslr": checks.get("aslr"),
            "warnings": "; ".join(checks.get("warnings") or ()), "advice": " ".join(rec.get("advice") or ())}


def calibrations(raw_dir: str | Path, host: str | None = None) -> pd.DataFrame:
    """One row per host x recorded calibration (every variant's state file holds the same ones)."""
    rows = []
    root = Path(raw_dir)
    hosts = sorted(p for p in root.iterdir() if p.is_dir() and host in (None, p.name)) if root.is_dir() else []
    for d in hosts:
        seen = set()
        for state in sorted(d.glob("*.state.json")):
            try:
                recs = json.loads(state.read_text()).get("calibrations") or []
            except (OSError, ValueError):
                continue
            for rec in recs:
                if isinstance(rec, dict) and rec.get("date") not in seen:
                    seen.add(rec.get("date"))
                    rows.append(_row(d.name, rec))
    return pd.DataFrame(rows, columns=list(CALIBRATION_COLUMNS))


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.1%}"


def _num(x: float, fmt: str = ".2f") -> str:
    return "n/a" if math.isnan(x) else format(x, fmt)


def section_markdown(cal: pd.DataFrame | None) -> list[str]:
    """REPORT.md's section on the calibrations (nothing for sets measured before they existed)."""
    if cal is None or not len(cal):
        return []
    lines = ["## Machine noise, calibrated before measuring", "",
             "Before measuring, each campaign timed a fixed pure-Python kernel in a few fresh processes per variant "
             "(`harness.measure.calibration`): *noise* is the spread of the kernel's process means (the unit of "
             "every interval here), pooled over the variants; r is the speed canary's correlation with the kernel "
             "over those processes; steal and foreign load are the machine's during the calibration.", "",
             "| host | date | noise | per variant | canary r (Python, sha256) | steal | foreign | frequency | ASLR |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in cal.to_dict("records"):
        lines.append(f"| {r['host']} | {r['date']} | {_pct(r['noise'])} | {r['per_variant']} | "
                     f"{_num(r['canary_r'])}, {_num(r['canary_c_r'])} | {_num(r['steal_cores'])} | "
                     f"{_num(r['foreign_cores'])} | {r['frequency_scaling']} | {r['aslr']} |")
    warned = [f"- {r['host']} {r['date']}: {r['warnings']}" for r in cal.to_dict("records") if r["warnings"]]
    return [*lines, "", *(["Warnings:", "", *warned, ""] if warned else [])]


def process_noise(raw: pd.DataFrame, host: str) -> float:
    """A set's process-to-process noise from its own data: the median, over its sequential sweep
    benchmarks, of the coefficient of variation of their process means (what the calibration
    measures before a campaign, read afterwards: sets measured before calibrations have one too)."""
    import numpy as np

    rows = raw[(raw["host"] == host) & (raw["strategy"] == "sequential") & (raw["status"] == "ok")]
    if "stage" in rows.columns:
        rows = rows[rows["stage"] != md.CONFIRM]
    cvs = []
    for runs in rows["runs"]:
        means = [float(np.mean(r)) for r in runs or () if len(r)]
        if len(means) >= 2:
            cvs.append(float(np.std(means, ddof=1) / np.mean(means)))
    return float(np.median(cvs)) if cvs else math.nan
