"""Synthetic raw results in the runner's format, for the analysis tests and the notebook test.

``write_variant`` writes results/raw/<host>/<variant>.json (a real pyperf BenchmarkSuite built
from pyperf.Run objects carrying the spec's metadata keys) and the tidy <variant>.csv beside it,
failed rows included. ``model_results`` fills a whole results tree from a simple performance
model (3.13t is slower single-threaded but its threads scale; I/O scales everywhere);
``campaign_results`` writes one measured in rounds the way the campaign does (or the way older
sets were). The numbers are invented: write them only under a temporary directory, never into the
repository's results/.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyperf

CSV_COLUMNS = ("host", "variant", "name", "workload", "kind", "strategy", "workers", "status",
               "error", "n_values", "mean", "median", "stdev", "min", "max", "gil_enabled",
               "peak_rss", "check")
VARIANT_BUILD = {"3.13": ("no", "yes"), "3.13t": ("yes", "no"), "3.13t-gil": ("yes", "yes")}


@dataclass
class Spec:
    """One planned benchmark: its runs' values (one list per pyperf run), or a failure."""

    workload: str
    kind: str
    strategy: str
    workers: int
    runs: list[list[float]] = field(default_factory=list)
    status: str = "ok"  # ok | failed | timeout
    error: str = ""
    peak_rss: int = 50_000_000
    figures: dict = field(default_factory=dict)
    run_meta: list = field(default_factory=list)  # extra metadata per run (newer runs' keys)
    meta: dict = field(default_factory=dict)  # extra metadata on every run (benchmark scope)
    stage: str = ""  # "confirm": the campaign's confirmation of a best option

    @property
    def name(self) -> str:
        return f"{self.workload}/{self.strategy}/{self.workers}" + (f"/{self.stage}" if self.stage else "")


def run_metadata(spec: Spec, host: str, variant: str, cpu_count: int, run_index: int) -> dict:
    free, gil = VARIANT_BUILD.get(variant, ("no", "yes"))
    version = "3.13.5" + ("" if free == "no" else " experimental free-threading build")
    return {
        "name": spec.name, "hostname": host, "cpu_model_name": "Synthetic CPU @ 3.0GHz",
        "cpu_count": cpu_count, "python_version": f"{version} (64-bit)",
        "python_executable": f"/cache/cpython/3.13.5{'t' if free == 'yes' else ''}/bin/python",
        "perf_version": "2.10.0", "date": f"2025-07-01 10:{run_index:02d}:00.000000",
        "platform": "Linux-6.1-x86_64", "loops": 1,
        "ftbench_workload": spec.workload, "ftbench_kind": spec.kind,
        "ftbench_strategy": spec.strategy, "ftbench_workers": spec.workers,
        "ftbench_variant": variant, "ftbench_free_threaded": free,
        "ftbench_gil_enabled": gil, "ftbench_check": "ok",
        "ftbench_peak_rss": spec.peak_rss + run_index, "ftbench_start_method": "fork",
        "ftbench_profile": "quick", "ftbench_size": "quick", "ftbench_host": host,
        "ftbench_numpy": "2.4.6", "ftbench_aiohttp": "3.14.5", "ftbench_requests": "2.34.2",
        "ftbench_pyperf": "2.10.0", "ftbench_accelerators": "pure",
        "ftbench_c_extensions": "aiohttp=no,yarl=no,multidict=no",
        "ftbench_source_sha256": "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640",
        "ftbench_source_origin": "python.org", "ftbench_cpu_count": cpu_count,
        "ftbench_configure_args": "--prefix=/cache --enable-optimizations"
                                  + (" --disable-gil" if free == "yes" else ""),
        "ftbench_build_date": "2025-06-30T12:00:00", "ftbench_compiler": "gcc 14.2",
        **{f"ftbench_figure_{k}": v for k, v in spec.figures.items()},
        **spec.meta,
        **({"ftbench_stage": spec.stage} if spec.stage else {}),
        **(spec.run_meta[run_index] if run_index < len(spec.run_meta) else {}),
    }


def write_variant(root: Path, host: str, variant: str, specs: list[Spec],
                  cpu_count: int = 2) -> tuple[Path, Path]:
    """Write <root>/<host>/<variant>.json and .csv; return both paths."""
    d = Path(root) / host
    d.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = d / f"{variant}.json", d / f"{variant}.csv"
    benches = []
    for spec in (s for s in specs if s.status == "ok"):
        runs = [pyperf.Run(values, warmups=[(1, values[0])],
                           metadata=run_metadata(spec, host, variant, cpu_count, i),
                           collect_metadata=False)
                for i, values in enumerate(spec.runs)]
        benches.append(pyperf.Benchmark(runs))
    if benches:
        pyperf.BenchmarkSuite(benches).dump(str(json_path), replace=True)
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for spec in specs:
            values = [v for run in spec.runs for v in run]
            row = dict.fromkeys(CSV_COLUMNS, "") | {
                "host": host, "variant": variant, "name": spec.name, "workload": spec.workload,
                "kind": spec.kind, "strategy": spec.strategy, "workers": spec.workers,
                "status": spec.status, "error": spec.error}
            if spec.status == "ok":
                row |= {"n_values": len(values), "mean": float(np.mean(values)),
                        "median": float(np.median(values)),
                        "stdev": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                        "min": min(values), "max": max(values), "check": "ok",
                        "gil_enabled": VARIANT_BUILD.get(variant, ("no", "yes"))[1],
                        "peak_rss": spec.peak_rss}
            writer.writerow(row)
    # the runner's resume state sits beside the results: the analysis must ignore it
    (d / f"{variant}.state.json").write_text('{"settings": {}, "benchmarks": {}}\n')
    return json_path, csv_path


SLOWDOWN = {"3.13": 1.0, "3.13t": 1.3, "3.13t-gil": 1.35}


def _speedup(kind: str, variant: str, strategy: str, workers: int, cores: int) -> float:
    parallel = min(workers, cores)
    if kind == "io":
        return {"threads": min(workers, 8) * 0.9, "asyncio": min(workers, 12) * 0.95,
                "asyncio_threads": min(workers, 8) * 0.85,
                "processes": parallel * 0.8}.get(strategy, 1.0)
    if strategy == "processes":
        return parallel * 0.9
    if strategy in ("threads", "asyncio_threads") and variant == "3.13t":
        return parallel * 0.95
    return 0.95 if strategy != "sequential" else 1.0


def model_specs(variant: str, cores: int = 2, seed: int = 0, values: int = 3, runs: int = 2,
                workloads=(("cpu_sum_squares", "cpu", 1.0), ("io_download", "io", 2.0))
                ) -> list[Spec]:
    """Specs of every workload x strategy x workers from the model, with 1% noise."""
    rng = np.random.default_rng(seed)
    specs = []
    for workload, kind, seq_time in workloads:
        sweep = (4, 16, 64) if kind == "io" else (1, 2, 4)
        for strategy in ("sequential", "threads", "processes", "asyncio", "asyncio_threads"):
            for workers in (1,) if strategy == "sequential" else sweep:
                mean = seq_time * SLOWDOWN[variant] / _speedup(kind, variant, strategy, workers,
                                                                cores)
                spec_runs = [list(mean * np.exp(rng.normal(0, 0.01, values)))
                             for _ in range(runs)]
                rss = 30_000_000 * (workers + 1 if strategy == "processes" else 1)
                specs.append(Spec(workload, kind, strategy, workers, spec_runs, peak_rss=rss))
    return specs


def model_results(raw_root: Path, hosts=("h1",), variants=("3.13", "3.13t", "3.13t-gil"),
                  cores: int = 2, **kw) -> Path:
    """A complete synthetic raw tree under ``raw_root`` (usually tmp_path / "raw")."""
    for h, host in enumerate(hosts):
        for v, variant in enumerate(variants):
            write_variant(raw_root, host, variant, model_specs(variant, cores, seed=10 * h + v,
                                                               **kw), cpu_count=cores)
    return raw_root


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel)


# ---------------------------------------------------------------------------------------------
# A campaign in rounds: what harness.measure writes today (invocation, workload-wide rounds, a
# confirmation of each variant's best option beside its sequential reference), and the layouts of
# older sets, for the analysis's pairing and fallbacks.

STRATEGIES = ("sequential", "threads", "processes", "asyncio", "asyncio_threads")
START = datetime(2025, 7, 1, 10, 0, 0)


def _options(kind: str) -> list[tuple[str, int]]:
    sweep = (4, 16, 64) if kind == "io" else (1, 2, 4)
    return [(s, w) for s in STRATEGIES for w in ((1,) if s == "sequential" else sweep)]


def _true_time(variant, kind, seq_time, option, cores, truth=None) -> float:
    if truth is not None and (variant, option) in truth:
        return truth[(variant, option)]
    return seq_time * SLOWDOWN[variant] / _speedup(kind, variant, option[0], option[1], cores)


class _Machine:
    """A clock (3 s per process) and a speed that drifts with it (log swing ``drift`` over 40 min)."""

    def __init__(self, rng, drift: float, noise: float):
        self.rng, self.drift, self.noise, self.now = rng, drift, noise, 0.0
        self.phase = rng.uniform(0, 2 * math.pi)

    def process(self, t: float, values: int) -> tuple[list[float], str]:
        speed = math.exp(self.drift * math.sin(2 * math.pi * self.now / 2400 + self.phase))
        mean = t * speed * math.exp(self.rng.normal(0, self.noise))
        date = (START + timedelta(seconds=self.now)).isoformat(" ")
        self.now += 3.0
        return [mean * math.exp(self.rng.normal(0, self.noise / 3)) for _ in range(values)], date


def campaign_results(raw_root: Path, host: str = "h1", variants=("3.13", "3.13t", "3.13t-gil"), cores: int = 2,
                     workloads=(("cpu_sum_squares", "cpu", 1.0), ("io_download", "io", 2.0)), sweep_rounds: int = 3,
                     confirm_rounds: int = 6, noise: float = 0.01, drift: float = 0.0, seed: int = 0,
                     layout: str = "current", truth: dict | None = None, values: int = 2,
                     invocation_of=None, options=None) -> Path:
    """A results set measured in rounds, written under ``raw_root``.

    layout "current": every run carries an invocation; each workload's options of every variant
    share rounds (order reversed every other round); the confirmation measures each variant's best
    option (the fastest sweep mean) beside its sequential reference in ``confirm_rounds`` planned
    rounds (only the reference when it is the best). "workload-rounds": the same without invocation
    and with the confirmation of the best option alone (sets of late 2026). "per-benchmark": no
    invocation, no confirmation, each benchmark's variants in rounds of their own, one benchmark
    after the other (the first sets). ``truth``: {(variant, option): true time} overriding the model;
    ``invocation_of(variant, stage)``: the invocation a variant's runs carry (default one for all);
    ``options``: the (strategy, workers) measured, instead of every strategy at 1, 2, 4 (I/O: 4, 16, 64).
    """
    rng = np.random.default_rng(seed)
    machine = _Machine(rng, drift, noise)
    invocation = (invocation_of or (lambda v, stage: "inv-1")) if layout == "current" else (lambda v, stage: None)
    specs: dict = {v: [] for v in variants}
    chosen = options
    for workload, kind, seq_time in workloads:
        options = list(chosen) if chosen else _options(kind)
        true = {(v, o): _true_time(v, kind, seq_time, o, cores, truth) for v in variants for o in options}
        runs: dict = {k: [] for k in true}
        meta: dict = {k: [] for k in true}

        def measure(keys, r, stage, runs=runs, meta=meta, true=true):
            for k in keys if r % 2 else keys[::-1]:
                vals, date = machine.process(true[k], values)
                runs[k].append(vals)
                m = {"ftbench_round": r, "date": date}
                if invocation(k[0], stage):
                    m["ftbench_invocation"] = invocation(k[0], stage)
                meta[k].append(m)

        if layout == "per-benchmark":
            for o in options:
                for r in range(1, sweep_rounds + 1):
                    measure([(v, o) for v in variants], r, "sweep")
        else:
            for r in range(1, sweep_rounds + 1):
                measure([(v, o) for o in options for v in variants], r, "sweep")
        for (v, o), rs in runs.items():
            specs[v].append(Spec(workload, kind, o[0], o[1], rs, run_meta=meta[(v, o)],
                                 meta={"ftbench_stop_reason": "budget"}))
        if layout == "per-benchmark" or not confirm_rounds:  # no confirmation: a profile without a target
            continue
        best = {v: min(options, key=lambda o, v=v: (np.mean(runs[(v, o)]), o[1])) for v in variants}
        confirm_keys = [(v, o) for v in variants
                        for o in dict.fromkeys(([("sequential", 1)] if layout == "current" else []) + [best[v]])]
        c_runs: dict = {k: [] for k in confirm_keys}
        c_meta: dict = {k: [] for k in confirm_keys}
        for r in range(1, confirm_rounds + 1):
            measure(confirm_keys, r, "confirm", c_runs, c_meta)
        plan = {"ftbench_planned_rounds": confirm_rounds, "ftbench_plan_reason": "synthetic: fixed"} \
            if layout == "current" else {}
        for (v, o), rs in c_runs.items():
            specs[v].append(Spec(workload, kind, o[0], o[1], rs, run_meta=c_meta[(v, o)], stage="confirm",
                                 meta={"ftbench_stage": "confirm", "ftbench_stop_reason": "fixed", **plan}))
    for v in variants:
        write_variant(raw_root, host, v, specs[v], cpu_count=cores)
    return raw_root
