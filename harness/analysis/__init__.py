"""Analysing: runs in the analysis venv (pandas, matplotlib). The notebook needs only this package.

This module is the facade: the public names of the modules below, re-exported. The modules import
each other directly, never this facade, so the package has no import circle.

- load: raw results -> one row per benchmark (benchmarks_table); values: reading table cells
- cells, pairing, selection, ratios: one workload on one variant, the one estimator of every ratio (paired by
  round where its benchmarks shared rounds), the best option and its ties, every ratio in long form
- views: summary, scaling and run metadata pivoted from the ratios
- claims, flavours, standard, projection: the lecture's claims, build flavours, pyperformance, a projection
- reproduce: agreement of two result sets; report, plots: REPORT.md, README headline, figures;
  simulate: a drifting machine for the known-truth tests of the production path
- results (what an analysis produced), pipeline (analyse, regenerate, open_results), cli
"""

from harness.analysis.cells import reference_workers
from harness.analysis.claims import CLAIMS, LECTURE_CPU_WORKLOADS, WIDE_MARGIN, claims_matrix, lecture_claims
from harness.analysis.cli import main
from harness.analysis.load import BENCHMARK_COLUMNS, AnalysisError, NoResults, benchmarks_table, load_raw
from harness.analysis.order import baseline_variant, role, strategies, variant_order
from harness.analysis.pipeline import analyse, analyse_set, open_results, regenerate, rerun_agreement
from harness.analysis.ratios import RATIO_COLUMNS, ratios_table
from harness.analysis.report import (
    describe_runs,
    failures_table,
    headline_table,
    hygiene_table,
    markdown_table,
    strategy_table,
    verdict,
    write_report,
)
from harness.analysis.reproduce import reproduce
from harness.analysis.results import Results
from harness.analysis.stats import (
    CONFIDENCE,
    MARGIN,
    Contrast,
    contrast,
    describe_runs_values,
    describe_values,
    efficiency,
    karp_flatt,
    measured_break_even_workers,
    process_means,
    ratio_verdict,
    significant,
    t_quantile,
    usable_cores,
)
from harness.analysis.views import run_metadata, scaling_table, summary_table

__all__ = [
    # loading, tables and the pipeline
    "AnalysisError", "BENCHMARK_COLUMNS", "NoResults", "RATIO_COLUMNS", "Results",
    "baseline_variant", "benchmarks_table", "load_raw", "main", "open_results", "ratios_table",
    "analyse", "analyse_set", "reference_workers", "regenerate", "rerun_agreement", "reproduce", "role",
    "run_metadata", "scaling_table", "strategies", "summary_table", "variant_order",
    # harness.analysis.stats
    "CONFIDENCE", "MARGIN", "Contrast", "measured_break_even_workers", "contrast",
    "describe_runs_values", "describe_values", "efficiency", "karp_flatt", "process_means",
    "ratio_verdict", "significant", "t_quantile", "usable_cores",
    # harness.analysis.claims
    "CLAIMS", "LECTURE_CPU_WORKLOADS", "WIDE_MARGIN", "claims_matrix", "lecture_claims",
    # harness.analysis.report
    "describe_runs", "failures_table", "headline_table", "hygiene_table", "markdown_table",
    "strategy_table", "verdict", "write_report",
]
