"""From raw pyperf results to every table, figure and REPORT.md: the pipeline the CLI and notebook run.

Pipeline (``python -m harness.analysis [--raw results/raw] [--out results] [--margin 0.05]``)::

    load_raw          results/raw/<host>/<variant>.{json,csv} -> one row per planned benchmark
    benchmarks_table  -> results/benchmarks.csv   (per-benchmark statistics over processes)
    ratios_table      -> results/ratios.csv       (every ratio: one row, CI, verdict)
    summary_table     -> results/summary.csv      (ratios pivoted per host x workload x variant)
    scaling_table     -> results/scaling.csv      (every strategy x workers point, "why" lens; a
                         contended point's cause from raw/<host>/profiles/summary.csv, nox -s why)
    lecture_claims    -> results/claims.csv       (confirmed / refuted / inconclusive)
    flavours.compare  -> results/flavours.csv     (plain vs optimized builds of one machine)
    rerun_agreement   -> results/reproducibility.csv (a rerun in results/reruns/raw/<host>-rerun)
    standard          -> results/pyperformance_{slowdowns,geomean}.csv (the standard suite's price)
    memory            -> results/pyperformance_memory.csv (pyperf's peak RSS, variant / baseline)
    projection        -> results/projection.csv   (projected break-even cores: a projection)
    write_report      -> results/REPORT.md        (plus PNGs from harness.analysis.plots)

Variants are read through harness.variants: a variant's role (baseline, free-threaded, control)
decides what it is compared with, never its name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.analysis import canary, flavours, machines, memory, noise, projection, standard
from harness.analysis.claims import lecture_claims
from harness.analysis.load import AnalysisError, NoResults, benchmarks_table, load_raw
from harness.analysis.ratios import ratios_table
from harness.analysis.report import newest_host, write_report
from harness.analysis.reproduce import reproduce
from harness.analysis.results import Results
from harness.analysis.stats import MARGIN
from harness.analysis.views import run_metadata, scaling_table, summary_table
from harness.profile import outputs as profile_outputs


def verdict_tables(raw_dir: str | Path = "results/raw", margin: float = MARGIN,
                   keep_flagged: bool = False, host: str | None = None) -> Results:
    """The tables every verdict rests on (ratios, summary, scaling, projection, metadata), nothing written:
    what the findings of a bench run need, without the claims, flavours and the standard suite."""
    raw = load_raw(raw_dir, keep_flagged, host)
    ratios, fits = canary.adjusted_ratios(raw, ratios_table(raw, margin), lambda r: ratios_table(r, margin))
    profiles = [r for r in profile_outputs.read_summary(raw_dir) if host is None or r["host"] == host]
    res = Results(raw=raw, benchmarks=benchmarks_table(raw), ratios=ratios,
                  summary=summary_table(raw, ratios, margin),
                  scaling=scaling_table(raw, ratios, margin, profile_outputs.causes_of(profiles)),
                  metadata=run_metadata(raw), margin=margin, profiles=profiles, canary=fits,
                  calibrations=noise.calibrations(raw_dir, host))
    res.projection = projection.project(ratios)
    return res


def analyse(raw_dir: str | Path = "results/raw", margin: float = MARGIN,
            keep_flagged: bool = False, host: str | None = None) -> Results:
    """Every table from one raw directory (``host``: of that host alone), nothing written."""
    res = verdict_tables(raw_dir, margin, keep_flagged, host)
    ratios = res.ratios
    res.claims = lecture_claims(ratios, margin)
    res.flavours = flavours.compare(ratios, res.metadata, flavours.machine_ids(raw_dir), margin)
    suite = standard.load(raw_dir)
    suite = suite if host is None else suite[suite["host"] == host]
    res.standard = standard.slowdowns(suite, margin)
    res.standard_geomean = standard.geomean(res.standard, margin)
    res.standard_placement = standard.placement(res.standard, ratios)
    res.standard_memory = standard.slowdowns(memory.pyperformance_peaks(suite), margin)
    res.standard_memory_geomean = standard.geomean(res.standard_memory, margin)
    return res


def rerun_sets(res: Results, raw_dir: str | Path, margin: float = MARGIN) -> dict[str, tuple[Path, Results]]:
    """host -> (its rerun's directory, the rerun analysed), for the hosts of ``res`` that have one."""
    hosts = set(res.ratios["host"])
    return {host: (rerun, analyse_set(rerun, margin)) for host, rerun in flavours.reruns(raw_dir).items()
            if host in hosts}


def rerun_agreement(res: Results, raw_dir: str | Path, margin: float = MARGIN, reruns: dict | None = None) -> list:
    """For each host with a rerun (``reruns/raw/<host>-rerun`` beside raw/): reproduce() of the two.
    ``reruns``: :func:`rerun_sets` when already analysed."""
    out = []
    for host, (rerun, analysed) in (rerun_sets(res, raw_dir, margin) if reruns is None else reruns).items():
        got = reproduce(_only_host(res, host), analysed)
        got["machines"] = machines.compare_sets(Path(raw_dir) / host, rerun)
        out.append((host, rerun.name, got))
    return out


def other_days(res: Results, raw_dir: str | Path, margin: float = MARGIN, reruns: dict | None = None) -> list:
    """The newest set against every other set of its build flavour (and their reruns): another day, maybe
    another machine. [(newest, other, reproduce() of the two)], the machines compared in ``machines``.
    ``reruns``: :func:`rerun_sets` when already analysed."""
    if res.empty or res.metadata["host"].nunique() < 2:
        return []
    flavour = flavours.host_flavours(res.metadata)
    newest = newest_host(res)
    mine = _only_host(res, newest)
    reruns = rerun_sets(res, raw_dir, margin) if reruns is None else reruns
    out = []
    for host in dict.fromkeys(res.metadata["host"]):
        if host == newest or flavour.get(host) != flavour.get(newest):
            continue
        sets = [(host, _only_host(res, host), Path(raw_dir) / host)]
        if host in reruns:
            rerun, analysed = reruns[host]
            sets.append((rerun.name, analysed, rerun))
        for label, other, path in sets:
            got = reproduce(other, mine)
            got["machines"] = machines.compare_sets(path, Path(raw_dir) / newest)
            got["noise"] = noise.process_noise(other.raw, label)
            out.append((newest, label, got))
    return out


def regenerate(raw_dir: str | Path = "results/raw", out_dir: str | Path = "results",
               figures: bool = True, margin: float = MARGIN,
               keep_flagged: bool = False) -> Results:
    """Read the raw results; write the CSVs, figures/ and REPORT.md."""
    res = analyse(raw_dir, margin, keep_flagged)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res.benchmarks.to_csv(out / "benchmarks.csv", index=False, float_format="%.6g")
    res.ratios.to_csv(out / "ratios.csv", index=False, float_format="%.6g")
    res.summary.to_csv(out / "summary.csv", index=False, float_format="%.6g")
    res.scaling.to_csv(out / "scaling.csv", index=False, float_format="%.6g")
    res.claims.to_csv(out / "claims.csv", index=False)
    res.flavours.to_csv(out / "flavours.csv", index=False, float_format="%.6g")
    res.standard.to_csv(out / "pyperformance_slowdowns.csv", index=False, float_format="%.6g")
    res.standard_geomean.to_csv(out / "pyperformance_geomean.csv", index=False, float_format="%.6g")
    res.standard_memory.to_csv(out / "pyperformance_memory.csv", index=False, float_format="%.6g")
    res.projection.to_csv(out / "projection.csv", index=False, float_format="%.6g")
    if res.canary is not None and len(res.canary):  # sets measured with the speed canary
        res.canary.to_csv(out / "canary.csv", index=False, float_format="%.6g")
    reruns = rerun_sets(res, raw_dir, margin)
    res.reruns = rerun_agreement(res, raw_dir, margin, reruns)
    res.other_days = other_days(res, raw_dir, margin, reruns)
    if res.reruns:
        pd.concat([got["table"].assign(host=host, rerun=rerun) for host, rerun, got in res.reruns]) \
            .to_csv(out / "reproducibility.csv", index=False)
    if figures:
        from harness.analysis import plots

        res.figures = plots.make_all(res.benchmarks, res.summary, res.scaling, out / "figures")
    res.report = write_report(res, out / "REPORT.md")
    return res


def open_results(results_dir: str | Path = "results") -> Results:
    """For the notebook: regenerate from <results_dir>/raw, or say clearly that nothing is there."""
    results_dir = Path(results_dir)
    try:
        return regenerate(results_dir / "raw", results_dir)
    except NoResults as exc:
        return Results(message=f"No results to analyse: {exc}. Measure first (`nox -s bench` or "
                               "`python -m harness.measure.bench`), or point FTBENCH_RESULTS at a "
                               "results directory.")


def analyse_set(path: str | Path, margin: float = MARGIN) -> Results:
    """One results set: a host directory (``results/raw/<host>``) or a raw directory of one host."""
    path = Path(path)
    if path.is_dir() and any(path.glob("*.json")):  # a host directory: analyse it alone
        return analyse(path.parent, margin, host=path.name)
    res = analyse(path, margin)
    hosts = list(dict.fromkeys(res.ratios["host"]))
    if len(hosts) > 1:
        raise AnalysisError(f"{path}: holds {len(hosts)} hosts ({', '.join(hosts)}); give one host's "
                            f"directory, e.g. {Path(path) / hosts[0]}")
    return res


def _only_host(res: Results, host: str) -> Results:
    """The tables of one host of a multi-host analysis, to compare that host with its rerun."""
    keep = lambda df: df[df["host"] == host].reset_index(drop=True)  # noqa: E731
    return Results(raw=keep(res.raw), benchmarks=keep(res.benchmarks), ratios=keep(res.ratios),
                   summary=keep(res.summary), scaling=keep(res.scaling), metadata=keep(res.metadata),
                   claims=res.claims, margin=res.margin)

