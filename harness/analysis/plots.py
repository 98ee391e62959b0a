"""Figures of the analysis as PNG files under results/figures/ (matplotlib Agg, seaborn style).

Every figure is drawn from the tables of harness.analysis (nothing is recomputed here) and works
for any core count: the ideal-scaling line is read from each host's ``cpu_count``. A ratio whose
95% CI contains 1.0 is drawn with a hollow marker, so an insignificant result never looks like one.
Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so plotting from a notebook
kernel or a headless CLI behaves the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

VARIANT_COLORS = {"3.13": "#1f77b4", "3.13t": "#d62728", "3.13t-gil": "#2ca02c"}
STRATEGY_STYLE = {  # (line style, marker)
    "sequential": ("-", "s"),
    "threads": ("-", "o"),
    "processes": ("--", "^"),
    "asyncio": (":", "D"),
    "asyncio_threads": ("-.", "v"),
}
DPI = 110


@dataclass(frozen=True)
class FigureFile:
    """One written PNG: what it shows (kind: scaling, slowdown, headline, memory) and where."""

    kind: str
    host: str
    workload: str | None
    path: Path
    title: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))


def _figure(ncols: int = 1, width: float = 6.4, height: float = 4.4, nrows: int = 1):
    """A pyplot-free Figure with seaborn's whitegrid look; width and height are per panel."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import seaborn as sns
    from matplotlib.figure import Figure

    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85)}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width * ncols, height * nrows), dpi=DPI, layout="constrained")
        axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(nrows * ncols)]
    return fig, axes


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def _nan(v) -> bool:
    return v is None or v is _na() or (isinstance(v, float) and math.isnan(v))


def _na():
    import pandas as pd

    return pd.NA


def _sig(v) -> bool:
    return not _nan(v) and bool(v)


def _point(ax, x, y, lo, hi, color, marker, sig, label=None):
    """A marker with its CI as an error bar; hollow when the ratio is not significant."""
    if not _nan(lo) and not _nan(hi):
        ax.errorbar([x], [y], yerr=[[y - lo], [hi - y]], fmt="none", ecolor=color, capsize=3,
                    lw=1)
    ax.plot([x], [y], marker=marker, ls="none", ms=7, color=color, mec=color,
            mfc=color if sig else "white", label=label)


def scaling_figure(scaling, host: str, workload: str, path: Path) -> Path:
    """Speedup vs workers: against the variant's own sequential time, and against 3.13's.

    One line per variant x strategy, a 95% CI band, the ideal line (linear up to the core count,
    flat after) on the left panel; hollow markers where the speedup is not significant.
    """
    import numpy as np

    data = scaling[(scaling["host"] == host) & (scaling["workload"] == workload)]
    cores = int(data["cpu_count"].dropna().iloc[0]) if data["cpu_count"].notna().any() else None
    fig, (left, right) = _figure(ncols=2)
    panels = ((left, "speedup", "speedup vs its own sequential run"),
              (right, "speedup_vs313", "speedup vs 3.13 sequential"))
    xmax = max(data["workers"].max(), 2) if len(data) else 2
    for ax, col, ylabel in panels:
        for (variant, strategy), g in data.groupby(["variant", "strategy"], sort=False):
            if strategy == "sequential" or g[col].isna().all():
                continue
            g = g.sort_values("workers")
            ls, marker = STRATEGY_STYLE.get(strategy, ("-", "o"))
            color = VARIANT_COLORS.get(variant, "gray")
            ax.plot(g["workers"], g[col], ls=ls, color=color, lw=1.5,
                    label=f"{variant} {strategy}")
            lo, hi = g[f"{col}_ci_low"].astype(float), g[f"{col}_ci_high"].astype(float)
            if lo.notna().any():
                ax.fill_between(g["workers"], lo, hi, color=color, alpha=0.15, lw=0)
            for w, y, s in zip(g["workers"], g[col], g[f"{col}_significant"], strict=True):
                ax.plot([w], [y], marker=marker, ls="none", ms=6, color=color,
                        mfc=color if _sig(s) else "white")
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_xscale("log", base=2)
        ticks = sorted(set(data["workers"]))
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("workers (threads / processes / tasks in flight)")
        ax.set_ylabel(ylabel)
    kind = data["kind"].dropna().iloc[0] if data["kind"].notna().any() else None
    if cores and kind != "io":  # waiting-bound work is not limited by the cores: no ideal line
        xs = np.unique(np.r_[1, np.geomspace(1, xmax, 50), cores, xmax])
        left.plot(xs, np.minimum(xs, cores), color="gray", ls="--", lw=1,
                  label=f"ideal ({cores} cores)")
        for ax in (left, right):
            ax.axvline(cores, color="gray", lw=0.6, ls=":")
    handles, labels = left.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=5, fontsize=7)
    fig.suptitle(f"{workload} on {host}: scaling (hollow marker: CI contains 1.0)")
    return _save(fig, path)


def slowdown_figure(summary, host: str, path: Path) -> Path:
    """Single-thread slowdown vs 3.13 per workload and variant, with 95% CI error bars."""
    data = summary[(summary["host"] == host) & (summary["variant"] != "3.13")]
    workloads = list(dict.fromkeys(data["workload"]))
    variants = list(dict.fromkeys(data["variant"]))
    fig, (ax,) = _figure(width=max(6.4, 1.1 * len(workloads) + 3))
    for j, variant in enumerate(variants):
        offset = (j - (len(variants) - 1) / 2) * 0.18
        label = variant
        for r in data[data["variant"] == variant].to_dict("records"):
            if _nan(r["slowdown"]):
                continue
            _point(ax, workloads.index(r["workload"]) + offset, r["slowdown"],
                   r["slowdown_ci_low"], r["slowdown_ci_high"], VARIANT_COLORS.get(variant, "gray"),
                   "o", _sig(r["slowdown_significant"]), label=label)
            label = None
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xlim(-0.6, len(workloads) - 0.4)
    ax.set_xticks(range(len(workloads)), workloads, rotation=20, ha="right")
    ax.set_ylabel("sequential time / 3.13 sequential time")
    ax.set_title(f"single-thread slowdown on {host} (> 1: slower; hollow: not significant)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return _save(fig, path)


def headline_figure(summary, host: str, path: Path) -> Path:
    """Slowdown (x) vs best threads speedup (y), one point per workload x variant.

    Colour: variant; marker: workload. Quadrant lines at 1.0; points above the diagonal y = x
    beat 3.13's sequential time with threads despite the single-thread cost. Hollow: either
    ratio not significant.
    """
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import ScalarFormatter

    data = summary[(summary["host"] == host)].dropna(subset=["slowdown", "speedup_threads"])
    fig, (ax,) = _figure(width=6.8, height=5.2)
    markers = dict(zip(dict.fromkeys(data["workload"]), "osD^vP*Xph", strict=False))
    for r in data.to_dict("records"):
        sig = _sig(r["speedup_threads_significant"]) and (
            r["variant"] == "3.13" or _sig(r["slowdown_significant"]))
        color = VARIANT_COLORS.get(r["variant"], "gray")
        ax.plot([r["slowdown"]], [r["speedup_threads"]], marker=markers.get(r["workload"], "o"),
                ls="none", ms=9, color=color, mec=color, mfc=color if sig else "white", alpha=0.85)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.axhline(1.0, color="black", lw=0.8)
    handles = []
    if len(data):
        x_lo = min(0.9, float(data["slowdown"].min()) - 0.05)
        x_hi = max(1.1, float(data["slowdown"].max()) + 0.05)
        xs = np.linspace(x_lo, x_hi, 2)
        ax.plot(xs, xs, color="gray", ls="--", lw=1)
        handles.append(Line2D([], [], color="gray", ls="--", label="y = x: 3.13 sequential speed"))
        ax.set_xlim(x_lo, x_hi)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
    handles += [Line2D([], [], marker="o", ls="none", color=c, label=v)
                for v, c in VARIANT_COLORS.items() if v in set(data["variant"])]
    handles += [Line2D([], [], marker=m, ls="none", color="gray", label=w)
                for w, m in markers.items()]
    ax.set_xlabel("single-thread slowdown vs 3.13 (> 1: slower)")
    ax.set_ylabel("best threads speedup vs own sequential (log)")
    ax.set_title(f"{host}: single-thread price vs multi-thread gain (hollow: n.s.)")
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="best")
    return _save(fig, path)


def memory_figure(benchmarks, host: str, path: Path) -> Path:
    """Peak RSS per strategy and variant at each strategy's largest worker count, per workload."""
    import seaborn as sns

    data = benchmarks[(benchmarks["host"] == host) & (benchmarks["status"] == "ok")
                      & benchmarks["peak_rss"].notna()].copy()
    data["peak_rss_mib"] = data["peak_rss"].astype(float) / 2**20
    top = data.groupby(["workload", "variant", "strategy"])["workers"].transform("max")
    data = data[data["workers"] == top]
    workloads = list(dict.fromkeys(data["workload"])) or ["(none)"]
    ncols = min(3, len(workloads))
    nrows = -(-len(workloads) // ncols)
    fig, axes = _figure(ncols=ncols, width=4.6, height=4.2, nrows=nrows)
    for ax in axes[len(workloads):]:
        ax.set_visible(False)
    for ax, workload in zip(axes, workloads, strict=False):
        g = data[data["workload"] == workload]
        if len(g):
            sns.barplot(data=g, x="strategy", y="peak_rss_mib", hue="variant", ax=ax,
                        palette=VARIANT_COLORS, errorbar=None)
            ax.tick_params(axis="x", rotation=30)
        ax.set_title(workload, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("peak RSS (MiB), largest worker count")
    fig.suptitle(f"peak memory per strategy on {host}")
    return _save(fig, path)


def make_all(benchmarks, summary, scaling, out_dir: str | Path) -> list[FigureFile]:
    """Every figure for every host (and workload): the list of files written."""
    out = Path(out_dir)
    made = []
    for host in dict.fromkeys(summary["host"]):
        h = _slug(host)
        for workload in dict.fromkeys(scaling.loc[scaling["host"] == host, "workload"]):
            path = out / f"scaling_{h}_{_slug(workload)}.png"
            made.append(FigureFile("scaling", host, workload,
                                   scaling_figure(scaling, host, workload, path),
                                   f"{workload} scaling on {host}"))
        made.append(FigureFile("slowdown", host, None,
                               slowdown_figure(summary, host, out / f"slowdown_{h}.png"),
                               f"single-thread slowdown on {host}"))
        made.append(FigureFile("headline", host, None,
                               headline_figure(summary, host, out / f"headline_{h}.png"),
                               f"slowdown vs threads speedup on {host}"))
        made.append(FigureFile("memory", host, None,
                               memory_figure(benchmarks, host, out / f"memory_{h}.png"),
                               f"peak memory on {host}"))
    return made
