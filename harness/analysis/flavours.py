"""Build flavours and reruns: how much of the free-threading price PGO + LTO changes, and whether a
rerun of the same machine gives the same verdicts.

Both compare two results sets of ONE machine (the machine fingerprint in each set's
``<variant>.state.json``), never two machines:

- flavours: a plain and an optimized (``--enable-optimizations --with-lto``) set; per workload and
  non-baseline variant, the single-thread slowdown on each flavour and their ratio (optimized /
  plain), whose CI combines the two independent sets' log-scale standard errors;
- reruns: ``results/reruns/raw/<host>-rerun/`` is a rerun of ``results/raw/<host>/`` (a second
  default campaign); the report gives the agreement of their verdicts (harness.analysis.reproduce).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from harness.analysis.stats import MARGIN, log_interval, ratio_verdict, welch
from harness.analysis.values import fmt_ratio

RERUN_SUFFIX = "-rerun"
FLAVOUR_COLUMNS = ("machine", "workload", "variant", "plain_host", "optimized_host",
                   "slowdown_plain", "slowdown_plain_ci_low", "slowdown_plain_ci_high",
                   "slowdown_optimized", "slowdown_optimized_ci_low", "slowdown_optimized_ci_high",
                   "optimized_vs_plain", "optimized_vs_plain_ci_low", "optimized_vs_plain_ci_high",
                   "verdict")


def flavour_from_configure_args(configure_args) -> str:
    """optimized when the build was configured with PGO (--enable-optimizations), else plain."""
    return "optimized" if "--enable-optimizations" in str(configure_args or "") else "plain"


def machine_ids(raw_root: str | Path) -> dict[str, str]:
    """host -> machine fingerprint id, from any ``<variant>.state.json`` of the host's set."""
    out = {}
    root = Path(raw_root)
    if not root.is_dir():
        return out
    for host_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for state in sorted(host_dir.glob("*.state.json")):
            try:
                machine = json.loads(state.read_text()).get("machine") or {}
            except (OSError, ValueError):
                continue
            if isinstance(machine, dict) and machine.get("id"):
                out[host_dir.name] = machine["id"]
                break
    return out


def host_flavours(metadata: pd.DataFrame) -> dict[str, str]:
    """host -> flavour; a host whose variants disagree is left out (it cannot be compared)."""
    out = {}
    for host, g in metadata.groupby("host", sort=False):
        found = {flavour_from_configure_args(a) for a in g["configure_args"]}
        if len(found) == 1:
            out[host] = found.pop()
    return out


def _combine(a: dict, b: dict, margin: float) -> dict:
    """b / a for two independent ratios with their log-scale se and df: value, CI, verdict."""
    value = b["value"] / a["value"]
    if pd.isna(a["se_log"]) or pd.isna(b["se_log"]):
        return {"value": value, "low": math.nan, "high": math.nan, "verdict": "n/a"}
    se, df = welch([(a["se_log"] ** 2, a["df"]), (b["se_log"] ** 2, b["df"])])
    low, high = log_interval(value, se, df)
    return {"value": value, "low": low, "high": high, "verdict": ratio_verdict(low, high, margin)}


def compare(ratios: pd.DataFrame, metadata: pd.DataFrame, machines: dict[str, str],
            margin: float = MARGIN) -> pd.DataFrame:
    """Per machine x workload x variant: the slowdown on the plain and on the optimized build."""
    flavours = host_flavours(metadata)
    rows = []
    slow = ratios[ratios["metric"] == "slowdown"]
    for machine in sorted(set(machines.values())):
        hosts = [h for h, m in machines.items() if m == machine and h in flavours]
        pairs = [(p, o) for p in hosts if flavours[p] == "plain" for o in hosts if flavours[o] == "optimized"]
        for plain, opt in pairs:
            a = slow[slow["host"] == plain].set_index(["workload", "variant"])
            b = slow[slow["host"] == opt].set_index(["workload", "variant"])
            for key in [k for k in b.index if k in a.index]:
                ra, rb = a.loc[key].to_dict(), b.loc[key].to_dict()
                c = _combine(ra, rb, margin)
                rows.append({"machine": machine, "workload": key[0], "variant": key[1],
                             "plain_host": plain, "optimized_host": opt,
                             "slowdown_plain": ra["value"], "slowdown_plain_ci_low": ra["ci_low"],
                             "slowdown_plain_ci_high": ra["ci_high"],
                             "slowdown_optimized": rb["value"], "slowdown_optimized_ci_low": rb["ci_low"],
                             "slowdown_optimized_ci_high": rb["ci_high"],
                             "optimized_vs_plain": c["value"], "optimized_vs_plain_ci_low": c["low"],
                             "optimized_vs_plain_ci_high": c["high"], "verdict": c["verdict"]})
    return pd.DataFrame(rows, columns=list(FLAVOUR_COLUMNS))


def section_markdown(df: pd.DataFrame) -> list[str]:
    """REPORT.md lines: the flavour comparison, or nothing when no machine has both flavours."""
    if df is None or not len(df):
        return []
    out = ["## Build flavours: plain vs optimized (PGO + LTO)", "",
           "The single-thread slowdown (own sequential time / the baseline's) measured on each "
           "flavour of the same machine, and how the optimized builds change it "
           "(optimized / plain; < 1: PGO + LTO makes the free-threading price smaller). The two "
           "sets are independent campaigns; the ratio's CI combines both.", ""]
    for (machine, variant), g in df.groupby(["machine", "variant"], sort=False):
        out += [f"### {variant} on machine {machine} ({g['plain_host'].iloc[0]} vs "
                f"{g['optimized_host'].iloc[0]})", "",
                "| workload | slowdown, plain | slowdown, optimized | optimized / plain | verdict |",
                "|---|---|---|---|---|"]
        for r in g.to_dict("records"):
            cells = [fmt_ratio(r[c], r[f"{c}_ci_low"], r[f"{c}_ci_high"])
                     for c in ("slowdown_plain", "slowdown_optimized", "optimized_vs_plain")]
            out.append(f"| {r['workload']} | {' | '.join(cells)} | {r['verdict']} |")
        out += ["", f"Geometric mean over these {len(g)} workloads: plain {g['slowdown_plain'].pipe(_gm):.2f}x, "
                f"optimized {g['slowdown_optimized'].pipe(_gm):.2f}x.", ""]
    return out


def _gm(s: pd.Series) -> float:
    v = pd.to_numeric(s).dropna().to_numpy(dtype=float)
    return float(np.exp(np.mean(np.log(v)))) if len(v) else math.nan


def reruns(raw_root: str | Path) -> dict[str, Path]:
    """host -> the raw root of its rerun: ``<results>/reruns/raw/<host>-rerun/`` beside ``<results>/raw``."""
    root = Path(raw_root).parent / "reruns" / "raw"
    if not root.is_dir():
        return {}
    return {p.name[: -len(RERUN_SUFFIX)]: p for p in sorted(root.iterdir())
            if p.is_dir() and p.name.endswith(RERUN_SUFFIX)}
