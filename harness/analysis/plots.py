"""Figures of the analysis as PNG files under results/figures/ (matplotlib Agg, seaborn style).

Every figure is drawn from the tables of harness.analysis (nothing is recomputed here) and works
for any core count: the ideal-scaling line is read from each host's ``cpu_count`` and drawn only
for CPU-bound work. A ratio whose verdict is not clear (CI n/a, inconclusive, or not significant)
is drawn with a hollow marker, so an inconclusive result never looks like one. Colours follow the
variant's role (harness.variants), so a new interpreter version needs no edit here.
Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so plotting from a notebook
kernel or a headless CLI behaves the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from harness.analysis.order import role, strategies, variant_order

ROLE_COLORS = {"baseline": "#1f77b4", "free-threaded": "#d62728", "control": "#2ca02c"}
FONT = 9  # points: the smallest text of any figure
STRATEGY_STYLE = {  # (line style, marker)
    "sequential": ("-", "s"),
    "threads": ("-", "o"),
    "processes": ("--", "^"),
    "asyncio": (":", "D"),
    "asyncio_threads": ("-.", "v"),
    "interpreters": ("--", "P"),
}
DPI = 110


@dataclass(frozen=True)
class FigureFile:
    """One written PNG: what it shows (kind: scaling, slowdown, headline, memory, memory_per_speedup) and where."""

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

    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85),
          "font.size": FONT, "legend.fontsize": FONT, "xtick.labelsize": FONT,
          "ytick.labelsize": FONT, "axes.labelsize": FONT + 1, "axes.titlesize": FONT + 1}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width * ncols, height * nrows), dpi=DPI, layout="constrained")
        axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(nrows * ncols)]
    return fig, axes


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def _missing(v) -> bool:
    return v is None or v is _pandas_na() or (isinstance(v, float) and math.isnan(v))


def _pandas_na():
    import pandas as pd

    return pd.NA


def _significant(v) -> bool:
    return not _missing(v) and bool(v)


def _color(variant: str) -> str:
    return ROLE_COLORS.get(role(variant), "gray")


def _point(ax, x, y, lo, hi, color, marker, sig, label=None):
    """A marker with its CI as an error bar; hollow when the ratio is not significant."""
    if not _missing(lo) and not _missing(hi):
        ax.errorbar([x], [y], yerr=[[y - lo], [hi - y]], fmt="none", ecolor=color, capsize=3,
                    lw=1)
    ax.plot([x], [y], marker=marker, ls="none", ms=7, color=color, mec=color,
            mfc=color if sig else "white", label=label)


def scaling_figure(scaling, host: str, workload: str, path: Path) -> Path:
    """Speedup vs workers, one panel per strategy (shared y), one line per variant.

    95% CI as a band; hollow markers where the verdict is not clear; the ideal line (linear up
    to the core count, flat after) only for CPU-bound work; a weak-scaling benchmark plots its
    efficiency t(1)/t(N) instead (ideal: 1).
    """
    import numpy as np
    from matplotlib.lines import Line2D

    data = scaling[(scaling["host"] == host) & (scaling["workload"] == workload)
                   & (scaling["strategy"] != "sequential")].copy()
    weak = data["weak_efficiency"].notna()
    data.loc[weak, "speedup"] = data.loc[weak, "weak_efficiency"]
    cores = int(data["cpu_count"].dropna().iloc[0]) if data["cpu_count"].notna().any() else None
    kind = data["kind"].dropna().iloc[0] if data["kind"].notna().any() else None
    strats = strategies(data["strategy"]) or ["(none)"]
    fig, axes = _figure(ncols=len(strats), width=2.9, height=3.4)
    for ax in axes[1:]:
        ax.sharey(axes[0])
    xmax = max(data["workers"].max(), 2) if len(data) else 2
    variants = variant_order(data["variant"])
    for ax, strategy in zip(axes, strats, strict=True):
        sub = data[data["strategy"] == strategy]
        for variant in variants:
            g = sub[sub["variant"] == variant].sort_values("workers")
            if g.empty or g["speedup"].isna().all():
                continue
            color = _color(variant)
            x = g["workers"].astype(float)
            ax.plot(x, g["speedup"], color=color, lw=1.5)
            lo, hi = g["speedup_ci_low"].astype(float), g["speedup_ci_high"].astype(float)
            if lo.notna().any():
                ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
            for w, y, v in zip(x, g["speedup"], g["speedup_verdict"], strict=True):
                clear = v in ("greater", "less")
                ax.plot([w], [y], marker="o", ls="none", ms=5, color=color,
                        mfc=color if clear else "white")
        ax.axhline(1.0, color="black", lw=0.8)
        if cores and kind not in ("io",) and not weak.any():
            xs = np.unique(np.r_[1, np.geomspace(1, xmax, 50), cores, xmax])
            ax.plot(xs, np.minimum(xs, cores), color="gray", ls="--", lw=1)
        ax.set_xscale("log", base=2)
        ticks = sorted(set(data["workers"].astype(int)))
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_title(strategy)
        ax.set_xlabel("workers")
    axes[0].set_ylabel("weak-scaling efficiency t(1)/t(N)" if weak.any()
                       else "speedup vs own sequential")
    handles = [Line2D([], [], color=_color(v), marker="o", label=v) for v in variants]
    handles.append(Line2D([], [], color="gray", marker="o", mfc="white", ls="none",
                          label="hollow: inconclusive / CI n/a"))
    if cores and kind != "io" and not weak.any():
        handles.append(Line2D([], [], color="gray", ls="--", label=f"ideal ({cores} cores)"))
    fig.legend(handles=handles, loc="outside right center", fontsize=FONT)
    fig.suptitle(f"{workload} ({kind or '?'}) on {host}: scaling per strategy")
    return _save(fig, path)


def busy_figure(scaling, host: str, path: Path) -> Path | None:
    """Speedup against busy cores, per workload x variant (only when busy cores were recorded)."""
    data = scaling[(scaling["host"] == host) & scaling["busy_cores"].notna()
                   & (scaling["strategy"] != "sequential")]
    if data.empty:
        return None
    workloads = list(dict.fromkeys(data["workload"]))
    ncols = min(3, len(workloads))
    nrows = -(-len(workloads) // ncols)
    fig, axes = _figure(ncols=ncols, nrows=nrows, width=3.6, height=3.2)
    for ax in axes[len(workloads):]:
        ax.set_visible(False)
    for ax, workload in zip(axes, workloads, strict=False):
        g = data[data["workload"] == workload]
        for r in g.to_dict("records"):
            ls, marker = STRATEGY_STYLE.get(r["strategy"], ("-", "o"))
            ax.plot([r["busy_cores"]], [r["speedup"]], marker=marker, ls="none",
                    color=_color(r["variant"]), ms=6)
        top = max(float(g["busy_cores"].max()), float(g["speedup"].max()), 1.0)
        ax.plot([0, top], [0, top], color="gray", ls="--", lw=1)
        ax.set_title(workload)
        ax.set_xlabel("busy cores (CPU time / wall)")
        ax.set_ylabel("speedup")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=_color(v), marker="o", ls="none", label=v)
               for v in variant_order(data["variant"])]
    handles += [Line2D([], [], color="gray", marker=STRATEGY_STYLE.get(s, ("-", "o"))[1],
                       ls="none", label=s) for s in dict.fromkeys(data["strategy"])]
    fig.legend(handles=handles, loc="outside right center", fontsize=FONT)
    fig.suptitle(f"why it scales or not on {host}: speedup vs busy cores (diagonal: every busy "
                 "core does useful work)")
    return _save(fig, path)


def slowdown_figure(summary, host: str, path: Path) -> Path:
    """Single-thread slowdown vs the baseline per workload and variant, with 95% CI error bars."""
    data = summary[(summary["host"] == host) & (summary["role"] != "baseline")]
    workloads = list(dict.fromkeys(data["workload"]))
    variants = list(dict.fromkeys(data["variant"]))
    fig, (ax,) = _figure(width=max(6.4, 1.1 * len(workloads) + 3))
    for j, variant in enumerate(variants):
        offset = (j - (len(variants) - 1) / 2) * 0.18
        label = variant
        for r in data[data["variant"] == variant].to_dict("records"):
            if _missing(r["slowdown"]):
                continue
            _point(ax, workloads.index(r["workload"]) + offset, r["slowdown"],
                   r["slowdown_ci_low"], r["slowdown_ci_high"], _color(variant),
                   "o", r["slowdown_verdict"] in ("greater", "less"), label=label)
            label = None
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xlim(-0.6, len(workloads) - 0.4)
    ax.set_xticks(range(len(workloads)), workloads, rotation=20, ha="right")
    ax.set_ylabel("sequential time / baseline sequential time")
    ax.set_title(f"single-thread slowdown on {host} (> 1: slower; hollow: inconclusive)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=FONT)
    return _save(fig, path)


# Filled shapes that stay distinct at 9 points, the most distinct first; a workload past them gets
# a numbered marker.
WORKLOAD_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "<", ">", "p", "h", "d", "8", "H")
LEGEND_COLUMN_WIDTH = 2.0  # inches per legend column under the headline figure


def workload_markers(workloads) -> dict[str, str]:
    """A distinct marker per workload, for any number of them: the filled shapes first, then
    numbered markers ("$12$"), so no workload shares a marker or is left out of a legend."""
    out = {}
    for i, workload in enumerate(dict.fromkeys(workloads)):
        out[workload] = WORKLOAD_MARKERS[i] if i < len(WORKLOAD_MARKERS) else f"${i + 1}$"
    return out


def _log_ticks(ax, values) -> None:
    """Plain-number ticks on a log axis: 1, 2, 5 per decade over a wide range, every integer
    multiple over a narrow one, minor ticks unlabelled (no crowded 6.0 7.0 8.0 9.0)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    positive = [v for v in values if v > 0]
    wide = bool(positive) and max(positive) / min(positive) > 4
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if wide else tuple(range(1, 10))))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


NO_THREADS = "no threads benchmark: the best option's speedup instead"


def headline_speedup(summary, host: str) -> str:
    """The headline's y column for ``host``: ``speedup_threads``, else ``best_speedup`` when no threads
    benchmark was measured there (``--strategies sequential``, processes only): the figure shows
    what exists and says so (:data:`NO_THREADS`) rather than failing or vanishing."""
    if "speedup_threads" in summary and summary.loc[summary["host"] == host, "speedup_threads"].notna().any():
        return "speedup_threads"
    return "best_speedup"


def draw_headline(summary, host: str):
    """Slowdown (x) vs best threads speedup (y), one point per workload x variant.

    Colour: variant; marker: workload (:func:`workload_markers`, one each however many). Quadrant
    lines at 1.0; points above the diagonal y = x beat the baseline's sequential time with threads
    despite the single-thread cost. Hollow (a numbered marker: faint): either ratio not
    significant. The title is the figure's
    (wrapped to its width) and the legend sits under the axes, the figure as tall as its rows need,
    so neither is cut off however many workloads there are.
    """
    import textwrap

    import numpy as np
    from matplotlib.lines import Line2D

    y = headline_speedup(summary, host)
    data = summary[(summary["host"] == host)].dropna(subset=["slowdown", y])
    markers = workload_markers(data["workload"])
    variants = variant_order(data["variant"])
    width = 8.4
    columns = int(width // LEGEND_COLUMN_WIDTH)
    rows = -(-(1 + len(variants) + len(markers)) // columns)
    fig, (ax,) = _figure(width=width, height=5.0 + 0.2 * rows)
    for r in data.to_dict("records"):
        sig = r[f"{y}_verdict"] in ("greater", "less") and (
            r["role"] == "baseline" or r["slowdown_verdict"] in ("greater", "less"))
        color, marker = _color(r["variant"]), markers[r["workload"]]
        numbered = marker.startswith("$")  # a glyph cannot be hollow: faint instead
        ax.plot([r["slowdown"]], [r[y]], marker=marker, ls="none", ms=9, color=color,
                mec=color, mfc=color if sig or numbered else "white", alpha=0.85 if sig or not numbered else 0.3)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.axhline(1.0, color="black", lw=0.8)
    handles = []
    if len(data):
        x_lo = min(0.9, float(data["slowdown"].min()) - 0.05)
        x_hi = max(1.1, float(data["slowdown"].max()) + 0.05)
        xs = np.linspace(x_lo, x_hi, 2)
        ax.plot(xs, xs, color="gray", ls="--", lw=1)
        handles.append(Line2D([], [], color="gray", ls="--",
                              label="y = x: baseline sequential speed"))
        ax.set_xlim(x_lo, x_hi)
        ax.set_yscale("log")
        _log_ticks(ax, [*data[y].astype(float), 1.0])
    handles += [Line2D([], [], marker="o", ls="none", color=_color(v), label=v) for v in variants]
    handles += [Line2D([], [], marker=m, ls="none", color="gray", label=w) for w, m in markers.items()]
    ax.set_xlabel("single-thread slowdown vs baseline (> 1: slower)")
    threads = y == "speedup_threads"
    ax.set_ylabel(f"{'threads' if threads else 'best option'} speedup vs own sequential (log)")
    chars = int(width * 72 / (0.6 * (FONT + 1)))  # what fits on one line of the figure
    title = textwrap.fill(f"{host}: single-thread price vs {'threads gain' if threads else NO_THREADS}", chars)
    hollow = "hollow (numbered: faint)" if any(m.startswith("$") for m in markers.values()) else "hollow"
    fig.suptitle(f"{title}\n(one point per workload and variant; {hollow}: inconclusive)", fontsize=FONT + 1)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", fontsize=FONT, ncols=columns)
    return fig


def headline_figure(summary, host: str, path: Path) -> Path:
    """The headline figure of ``host`` (:func:`draw_headline`) written to ``path``."""
    return _save(draw_headline(summary, host), path)


def memory_figure(benchmarks, host: str, path: Path) -> Path:
    """Peak memory per strategy and variant at each strategy's largest worker count, per workload.

    The summed peak of the whole process tree when the runs recorded it, else max(own RSS, largest
    child), which understates a pool of processes (said in the label).
    """
    import seaborn as sns

    tree = benchmarks["peak_tree_memory"].notna().any()
    col, what = (("peak_tree_memory", "peak process-tree memory (MiB)") if tree
                 else ("peak_rss", "peak RSS, largest process (MiB)"))
    data = benchmarks[(benchmarks["host"] == host) & (benchmarks["status"] == "ok")
                      & benchmarks[col].notna()].copy()
    data["peak_rss_mib"] = data[col].astype(float) / 2**20
    top = data.groupby(["workload", "variant", "strategy"])["workers"].transform("max")
    data = data[data["workers"] == top]
    workloads = list(dict.fromkeys(data["workload"])) or ["(none)"]
    fig, axes = _workload_panels(workloads)
    for ax, workload in zip(axes, workloads, strict=False):
        g = data[data["workload"] == workload]
        if len(g):
            sns.barplot(data=g, x="strategy", y="peak_rss_mib", hue="variant", ax=ax,
                        palette={v: _color(v) for v in set(g["variant"])}, errorbar=None)
            ax.tick_params(axis="x", rotation=30)
        ax.set_title(workload)
        ax.set_xlabel("")
        ax.set_ylabel(what)
    fig.suptitle(f"peak memory per strategy on {host}")
    return _save(fig, path)


def _workload_panels(workloads: list):
    """A figure of one panel per workload, three to a row; the grid's spare panels hidden."""
    ncols = min(3, len(workloads))
    fig, axes = _figure(ncols=ncols, width=4.6, height=4.2, nrows=-(-len(workloads) // ncols))
    for ax in axes[len(workloads):]:
        ax.set_visible(False)
    return fig, axes


def memory_per_speedup_figure(table, host: str, path: Path) -> Path | None:
    """MiB of peak process-tree memory per unit of speedup, per strategy and variant, per workload, at
    each strategy's reference worker count (harness.analysis.memory.memory_per_speedup: sequential is
    the MiB of the sequential run). None when no run of ``host`` recorded its tree memory."""
    import seaborn as sns

    data = table[(table["host"] == host)].dropna(subset=["mb_per_speedup"])
    if data.empty:
        return None
    workloads = list(dict.fromkeys(data["workload"]))
    fig, axes = _workload_panels(workloads)
    for ax, workload in zip(axes, workloads, strict=False):
        g = data[data["workload"] == workload]
        sns.barplot(data=g, x="strategy", y="mb_per_speedup", hue="variant", ax=ax,
                    palette={v: _color(v) for v in set(g["variant"])}, errorbar=None,
                    hue_order=variant_order(g["variant"]), order=strategies(g["strategy"]))
        ax.tick_params(axis="x", rotation=30)
        ax.set_title(workload)
        ax.set_xlabel("")
        ax.set_ylabel("MiB per unit of speedup (sequential: MiB)")
        handles, labels = ax.get_legend_handles_labels()
        ax.get_legend().remove()  # one legend for the figure, under it: a panel's would hide bars
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=FONT)
    fig.suptitle(f"peak process-tree memory per unit of speedup on {host} (each strategy at its reference workers)")
    return _save(fig, path)


def make_all(benchmarks, summary, scaling, out_dir: str | Path) -> list[FigureFile]:
    """Every figure for every host (and workload): the list of files written."""
    from harness.analysis.memory import memory_per_speedup

    out = Path(out_dir)
    made = []
    per_speedup_table = memory_per_speedup(summary, scaling)
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
        speedup = ("threads speedup" if headline_speedup(summary, host) == "speedup_threads"
                   else f"best option's speedup ({NO_THREADS.split(':')[0]})")
        made.append(FigureFile("headline", host, None,
                               headline_figure(summary, host, out / f"headline_{h}.png"),
                               f"slowdown vs {speedup} on {host}"))
        busy = busy_figure(scaling, host, out / f"busy_{h}.png")
        if busy is not None:
            made.append(FigureFile("busy", host, None, busy, f"speedup vs busy cores on {host}"))
        made.append(FigureFile("memory", host, None,
                               memory_figure(benchmarks, host, out / f"memory_{h}.png"),
                               f"peak memory on {host}"))
        per_speedup = memory_per_speedup_figure(per_speedup_table, host, out / f"memory_per_speedup_{h}.png")
        if per_speedup is not None:
            made.append(FigureFile("memory_per_speedup", host, None, per_speedup,
                                   f"memory per unit of speedup on {host}"))
    return made
