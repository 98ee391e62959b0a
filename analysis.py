# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Does free-threaded CPython 3.13t pay off?
#
# ftbench runs the same pyperf workloads on three interpreters built from one CPython 3.13.5
# source tarball:
#
# - **3.13**: the default build, with the GIL;
# - **3.13t**: the free-threaded build (`--disable-gil`);
# - **3.13t-gil**: the same 3.13t binary with `PYTHON_GIL=1`, the control that separates the cost
#   of the free-threaded build from the effect of removing the GIL.
#
# Each workload is solved the lecture's ways: sequentially, with threads, with processes and with
# asyncio (native coroutines, and coroutines that offload to a thread pool), over a sweep of worker
# counts. One pyperf value is one complete run of a strategy over all the tasks.
#
# Every number below comes from `harness.analysis` (this notebook computes nothing itself). The
# pyperf *process* is the unit: ratios are ratios of mean times with 95% confidence intervals from
# the process means (Welch's t on the log scale), and every verdict is three-valued against a
# practical margin of +-5%: *greater* / *less* only when the whole interval lies beyond the
# margin, *equivalent* inside it, otherwise *inconclusive* (hollow markers in the figures). A
# benchmark with one process has no interval ("CI n/a"). The best option is chosen on the sweep and
# measured again in fresh processes (the campaign's confirmation stage; older sets: chosen on half
# of the processes, measured on the other half), so the headline gain is not the winner's curse.
#
# The results directory is `$FTBENCH_RESULTS` (default `results`); running this notebook
# regenerates `benchmarks.csv`, `ratios.csv`, `summary.csv`, `scaling.csv`, `claims.csv`,
# `figures/` and `REPORT.md` there from the raw pyperf files in `raw/`.

# %%
import os

from IPython.display import Image, Markdown, display

from harness import analysis
from harness.analysis import flavours, report

RESULTS = os.environ.get("FTBENCH_RESULTS", "results")
res = analysis.open_results(RESULTS)

# %% [markdown]
# ## What was measured, where, with which interpreters

# %%
display(Markdown(analysis.describe_runs(res)))
if not res.empty:
    display(res.metadata)

# %% [markdown]
# ## The headline
#
# Per workload and variant: the sequential time, the single-thread slowdown against the baseline
# (default) build on the same host, the best option (chosen on the sweep, estimated on fresh processes) and the options
# statistically tied with the fastest, its speedup over the variant's own sequential run, how it
# compares with the baseline's best option (gain > 1: the variant is faster), and the fewest
# threads with which the variant beats the baseline's best option ("(n.s.)" when not significant).

# %%
if not res.empty:
    display(analysis.headline_table(res.summary))
    for path in res.figure_paths("headline") + res.figure_paths("slowdown"):
        display(Image(filename=str(path)))

# %% [markdown]
# ## Every ratio, in long form
#
# `ratios.csv`: one row per ratio (metric, what it is taken against, value, 95% CI, degrees of
# freedom, verdict, processes on each side). The tables above and below are pivoted from it.

# %%
if not res.empty:
    display(res.ratios.head(20))
    display(res.ratios.groupby(["metric", "verdict"]).size().unstack(fill_value=0))

# %% [markdown]
# ## Per workload: the verdict, the numbers, the scaling curves
#
# One panel per strategy, shared y axis: speedup over the variant's own sequential run, the 95%
# CI as a band, the ideal line (linear up to the core count, flat after) for CPU-bound work only.
# Per-strategy figures in the table are read at a worker count fixed in advance (the core count
# for CPU work, the largest count for I/O work); efficiency and serial fraction use
# p = min(workers, cores).

# %%
for workload in res.workloads:
    display(Markdown(f"### {workload}"))
    display(Markdown(analysis.verdict(res.summary, workload)))
    display(analysis.strategy_table(res.summary, workload))
    for path in res.figure_paths("scaling", workload):
        display(Image(filename=str(path)))

# %% [markdown]
# ## Why a strategy does (not) scale
#
# From the busy cores each run records (CPU time of its process tree / wall time; empty for
# results recorded before that existed): CPU per unit of work relative to sequential, a verdict
# (serialised, contended, waiting, scaling) and MB of peak process-tree memory per unit of speedup.

# %%
if not res.empty:
    display(res.scaling[["workload", "variant", "strategy", "workers", "speedup", "busy_cores",
                         "cpu_per_work", "why", "mb_per_speedup", "weak_efficiency"]])
    display(analysis.hygiene_table(res))
    for path in res.figure_paths("busy"):
        display(Image(filename=str(path)))

# %% [markdown]
# ## Memory
#
# Peak resident set size of the benchmark worker and its children, at each strategy's largest
# worker count: the lecture's point that processes cost memory that threads share.

# %%
for path in res.figure_paths("memory"):
    display(Image(filename=str(path)))

# %% [markdown]
# ## The lecture's claims, checked
#
# Each quantitative claim of the lecture, per variant: confirmed / refuted / inconclusive against
# the margin. Claims about free-threading compare the free-threaded build with the default build
# for the same strategy and worker count. On the free-threaded build the claim "threads do not
# help CPU-bound work" is expected to be **refuted**, and the table says so when it is.

# %%
if not res.empty:
    display(analysis.claims_matrix(res.claims))

# %% [markdown]
# ## Reproducibility and build flavours
#
# A rerun of the same machine (kept in `results/reruns/raw/<host>-rerun/`) compared verdict by
# verdict with the published set; and, where one machine was measured on both the plain and the
# optimized (PGO + LTO) builds, how much of the single-thread price PGO + LTO changes.

# %%
if not res.empty:
    display(Markdown("\n".join(report.reruns_md(res)) or "No rerun beside these results."))
    display(Markdown("\n".join(flavours.section_markdown(res.flavours))
                     or "No machine measured on both build flavours."))

# %% [markdown]
# ## Benchmarks that were not measured
#
# Failed or timed-out benchmarks are kept with their error, never dropped.

# %%
if not res.empty:
    display(analysis.failures_table(res.benchmarks))
