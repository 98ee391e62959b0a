"""What one analysis produced, as one object for the notebook, the report and the CLI.

Its own module so that the pipeline that fills it and the report that reads it both import it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.analysis.stats import MARGIN


@dataclass
class Results:
    """Everything the analysis produced; ``message`` says why it is empty when it is."""

    raw: pd.DataFrame | None = None
    benchmarks: pd.DataFrame | None = None
    ratios: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    scaling: pd.DataFrame | None = None
    claims: pd.DataFrame | None = None
    metadata: pd.DataFrame | None = None
    flavours: pd.DataFrame | None = None  # plain vs optimized builds of one machine (harness.analysis.flavours)
    standard: pd.DataFrame | None = None  # pyperformance slowdowns per benchmark (harness.analysis.standard)
    standard_geomean: pd.DataFrame | None = None
    standard_placement: pd.DataFrame | None = None  # where each ftbench workload sits among them
    standard_memory: pd.DataFrame | None = None  # pyperf's peak RSS per benchmark, variant / baseline (memory)
    standard_memory_geomean: pd.DataFrame | None = None
    projection: pd.DataFrame | None = None  # projected break-even cores (harness.analysis.projection)
    reruns: list = field(default_factory=list)  # (host, rerun host, reproduce() of the two)
    other_days: list = field(default_factory=list)  # (newest host, an earlier set, reproduce() of the two)
    profiles: list = field(default_factory=list)  # rows of raw/<host>/profiles/summary.csv (nox -s why)
    canary: pd.DataFrame | None = None  # the speed canary's fit per workload (harness.analysis.canary)
    calibrations: pd.DataFrame | None = None  # noise calibrations per host (harness.analysis.noise)
    figures: list = field(default_factory=list)
    report: Path | None = None
    margin: float = MARGIN
    message: str = ""

    @property
    def empty(self) -> bool:
        """True when there was nothing to analyse (``message`` says why)."""
        return self.summary is None

    @property
    def workloads(self) -> list[str]:
        """The workloads analysed, in table order (empty when nothing was)."""
        return [] if self.empty else list(dict.fromkeys(self.summary["workload"]))

    @property
    def hosts_newest_first(self) -> list[str]:
        """The analysed sets, the one whose campaign ended last first: the report and the README lead with it."""
        if self.empty:
            return []
        hosts = list(dict.fromkeys(self.summary["host"]))
        if self.metadata is None or "date_last" not in self.metadata:
            return hosts
        ends = pd.to_datetime(self.metadata["date_last"], errors="coerce").groupby(self.metadata["host"]).max()
        last = {h: ends.get(h, pd.NaT) for h in hosts}
        # sorted() is stable: sets without a date keep their table order, after the dated ones.
        return sorted(hosts, key=lambda h: pd.Timestamp.min if pd.isna(last[h]) else last[h], reverse=True)

    def figure_paths(self, kind: str, workload: str | None = None) -> list[Path]:
        """The PNGs written of one ``kind`` (scaling, slowdown, headline, busy, memory), for the notebook."""
        return [f.path for f in self.figures
                if f.kind == kind and (workload is None or f.workload == workload)]
