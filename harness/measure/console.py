"""What a campaign prints: a line per recorded benchmark, and the summary tables at the end.

The lines are for the person watching the campaign; the files are the record (the analysis never
reads this output). Each function returns text, so tests compare it exactly.
"""

from __future__ import annotations

import math

from harness import variants
from harness.measure.planned import Planned
from harness.measure.results import VariantStore


def say(text: str) -> None:
    """Print a line of the campaign's progress at once (its output is often a pipe or a CI log)."""
    print(text, flush=True)


def progress_line(k: int, total: int, name: str, status: str, error: str, bench) -> str:
    """``[k/N] workload/strategy/workers  mean +- stdev  ok``, or the status and error."""
    head = f"[{k}/{total}] {name:<36}"
    if status != "ok":
        return f"{head} {status.upper()}: {error}"
    stdev = bench.stdev() if len(bench.get_values()) > 1 else 0.0
    return f"{head} {_fmt(bench.mean())} +- {_fmt(stdev)}  ok"


def outcome_line(processes: int, precision: float, stop_reason: str, remeasured: int) -> str:
    """How a benchmark's sample was gathered: processes, precision, why it stopped, re-measures."""
    prec_text = f"+-{precision:.1%}" if math.isfinite(precision) else "n/a (one process)"
    return (f"      {processes} processes, precision {prec_text}, stopped: {stop_reason}"
            + (f", {remeasured} re-measured after foreign load" if remeasured else ""))


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms" if seconds < 10 else f"{seconds:8.2f} s "


def speedup_table(store: VariantStore, planned: list[Planned] | None = None) -> str:
    """Speedup vs sequential per workload x strategy: of ``planned``, else of everything in the store."""
    means = {b.get_name(): b.mean() for b in store.suite or ()}
    if planned is not None:
        keys = [(p.workload.name, p.strategy, p.workers) for p in planned]
    else:
        keys = sorted({tuple(n.split("/")[:2]) + (int(n.split("/")[2]),) for n in means if n.count("/") == 2})
    lines, by_key = [], {}
    for wl, strategy, workers in keys:
        by_key.setdefault((wl, strategy), []).append(workers)
    for (wl, strategy), workers in by_key.items():
        base = means.get(f"{wl}/sequential/1")
        cells = []
        for n in workers:
            mean = means.get(f"{wl}/{strategy}/{n}")
            cells.append(f"{n}:{base / mean:5.2f}x" if base and mean else f"{n}:   --")
        lines.append(f"  {wl:<22} {strategy:<16} " + "  ".join(cells))
    return "\n".join(lines)


def slowdown_lines(stores: dict[str, VariantStore]) -> list[str]:
    """Each variant's sequential time over its baseline's, when a baseline is in the campaign."""
    base = next((s for v, s in stores.items() if variants.get(v).role == "baseline"), None)
    if base is None or not base.suite or len(stores) < 2:
        return []
    means = {b.get_name(): b.mean() for b in base.suite}
    out = [f"\nslowdown vs {base.variant} (time / {base.variant} time), sequential/1:"]
    for name, store in stores.items():
        if store is base:
            continue
        cells = [f"{b.get_name().split('/')[0]} {b.mean() / means[b.get_name()]:.2f}"
                 for b in store.suite or () if b.get_name().endswith("/sequential/1") and b.get_name() in means]
        out.append(f"  {name:<10} " + (", ".join(cells) or "--"))
    return out


def summary(stores: dict[str, VariantStore]) -> str:
    """The end of a run: every variant's speedup table over all it holds, the slowdowns, where the files are."""
    out = []
    for name, store in stores.items():
        n = len(store.suite.get_benchmark_names()) if store.suite else 0
        out.append(f"\nspeedup vs sequential on {name} (workers:speedup), {n} benchmarks in {store.json_path}:")
        out.append(speedup_table(store) or "  (nothing measured)")
    out.extend(slowdown_lines(stores))
    dirs = sorted({str(s.dir) for s in stores.values()})
    out.append(f"\nraw results: {', '.join(dirs)} ({', '.join(f'{v}.json/.csv' for v in stores)}); "
               "next: nox -s analysis")
    return "\n".join(out)


def failures_text(failures: list[tuple[str, str, str]]) -> str:
    """The closing list of benchmarks that produced no time: ``name: status: error`` each."""
    lines = [f"\n{len(failures)} benchmark(s) did not produce a time:"]
    lines += [f"  {name}: {status}: {error}" for name, status, error in failures]
    return "\n".join(lines)
