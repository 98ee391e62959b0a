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
# Every number below comes from `harness.analysis` (this notebook computes nothing itself): ratios
# are ratios of mean times with percentile-bootstrap 95% confidence intervals, and a ratio whose
# interval contains 1.0 is called *not significant* (hollow markers in the figures).
#
# The results directory is `$FTBENCH_RESULTS` (default `results`); running this notebook
# regenerates `benchmarks.csv`, `summary.csv`, `claims.csv`, `figures/` and `REPORT.md` there from
# the raw pyperf files in `raw/`.

# %%
import os

from IPython.display import Image, Markdown, display

from harness import analysis

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
# Per workload and variant: the sequential time, the single-thread slowdown against 3.13 on the
# same host, the fastest way to run the workload and its speedup over the variant's own sequential
# run, how that best option compares with 3.13's best option (gain > 1: the variant is faster), and
# the fewest threads with which the variant beats 3.13's best option.

# %%
if not res.empty:
    display(analysis.headline_table(res.summary))
    for path in res.figure_paths("headline") + res.figure_paths("slowdown"):
        display(Image(filename=str(path)))

# %% [markdown]
# ## Per workload: the verdict, the numbers, the scaling curves
#
# Left panel: speedup over the variant's own sequential run, with the ideal line (linear up to
# the core count, flat after). Right panel: speedup over 3.13's sequential run, one yardstick for
# all three variants.

# %%
for workload in res.workloads:
    display(Markdown(f"### {workload}"))
    display(Markdown(analysis.verdict(res.summary, workload)))
    display(analysis.strategy_table(res.summary, workload))
    for path in res.figure_paths("scaling", workload):
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
# Each quantitative claim of the lecture, per variant. On 3.13 and 3.13t-gil the GIL makes
# threads useless for pure-Python CPU work, as the lecture says; on 3.13t the claim "threads do
# not help CPU-bound work" is expected to be **refuted**, and the table says so when it is.

# %%
if not res.empty:
    display(analysis.claims_matrix(res.claims))

# %% [markdown]
# ## Benchmarks that were not measured
#
# Failed or timed-out benchmarks are kept with their error, never dropped.

# %%
if not res.empty:
    display(analysis.failures_table(res.benchmarks))
