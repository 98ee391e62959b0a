"""Print the figures the issues ask for, from real measurements (never from a unit test).

    python -m harness.figures report   [--results results] [--host H]   # from the raw pyperf files
    python -m harness.figures overhead [--rounds 5]                      # live, on this interpreter

``report`` reads ``results/raw/<host>/<variant>.json`` with pyperf only. ``overhead`` times the
sequential cpu_sum_squares both ways on the running interpreter, back to back: through the whole
harness (pyperf workers, strategy, check) and with a bare ``time.perf_counter`` loop.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CPU_RSD_LIMIT = 0.02


def load_suites(results: Path, host: str | None) -> dict[tuple[str, str], dict]:
    """{(host, variant): {benchmark name: pyperf.Benchmark}} for every raw file found."""
    import pyperf

    out = {}
    for path in sorted((results / "raw").glob("*/*.json")):
        if path.name.endswith(".state.json") or (host and path.parent.name != host):
            continue
        suite = pyperf.BenchmarkSuite.load(str(path))
        out[(path.parent.name, path.stem)] = {b.get_name(): b for b in suite}
    return out


def _speedup(benches: dict, workload: str, strategy: str, workers: int) -> float | None:
    base, other = benches.get(f"{workload}/sequential/1"), benches.get(f"{workload}/{strategy}/{workers}")
    return base.mean() / other.mean() if base and other else None


def _cores(benches: dict) -> int:
    for b in benches.values():
        return int(b.get_metadata().get("ftbench_cpu_count") or b.get_metadata().get("cpu_count") or 1)
    return 1


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")


def report(results: Path, host: str | None) -> list[str]:
    lines = []
    suites = load_suites(results, host)
    if not suites:
        return [f"no raw results under {results / 'raw'}: run nox -s bench first"]
    for (h, variant), benches in sorted(suites.items()):
        cores = _cores(benches)
        lines.append(f"== {h} / {variant} ({cores} cores)")
        s = _speedup(benches, "cpu_sum_squares", "threads", cores)
        if s is not None:
            if variant == "3.13t":
                target, ok = f">= {0.95 * cores:.2f}x", s >= 0.95 * cores
            elif variant == "3.13":
                target, ok = "<= 1.10x", s <= 1.10
            else:
                target, ok = "(control, no target)", None
            lines.append(f"cpu_sum_squares threads/{cores} vs sequential: {s:.2f}x  target {target}  "
                         f"{_verdict(ok)}")
        for wl in ("numpy_blocks", "cpu_realistic"):
            s = _speedup(benches, wl, "threads", cores)
            if s is not None:
                lines.append(f"{wl} threads/{cores} vs sequential: {s:.2f}x")
        t, p = benches.get(f"ipc_payload/threads/{cores}"), benches.get(f"ipc_payload/processes/{cores}")
        if t and p:
            lines.append(f"ipc_payload threads/{cores} time / processes/{cores} time: {t.mean() / p.mean():.2f}")
        for name, b in sorted(benches.items()):
            if name.startswith("io_download/asyncio/"):
                meta = b.get_metadata()
                lo, hi = (float(x) for x in meta.get("ftbench_server_latency", "0.02:0.05").split(":"))
                k = int(meta.get("ftbench_tasks", 160))
                c = int(name.rsplit("/", 1)[1])
                bound = math.ceil(k / c) * (lo + hi) / 2
                lines.append(f"{name}: {b.mean() * 1e3:.0f} ms vs latency bound ceil({k}/{c}) x "
                             f"{(lo + hi) / 2 * 1e3:.0f} ms = {bound * 1e3:.0f} ms -> {b.mean() / bound:.2f}x "
                             f"(target <= 1.2x) {_verdict(b.mean() <= 1.2 * bound)}")
        rsd = {n: b.stdev() / b.mean() for n, b in benches.items()
               if b.get_metadata().get("ftbench_kind") == "cpu" and len(b.get_values()) > 1}
        if rsd:
            worst = max(rsd, key=rsd.get)
            over = sorted(n for n, r in rsd.items() if r > CPU_RSD_LIMIT)
            profile = next(iter(benches.values())).get_metadata().get("ftbench_profile")
            lines.append(f"CPU benchmarks RSD: max {rsd[worst]:.1%} ({worst}), {len(over)}/{len(rsd)} above "
                         f"{CPU_RSD_LIMIT:.0%} (profile {profile}) {_verdict(not over)}"
                         + (f": {', '.join(over)}" if over else ""))
    return lines


def bare_loop(repeat: int, size: str) -> list[float]:
    """The same function, tasks and size as the harness, timed with nothing but perf_counter."""
    from workloads.cpu_sum_squares import WORKLOAD, sum_squares

    tasks = WORKLOAD.make_tasks(WORKLOAD.sizes[size], None)
    [sum_squares(n) for n in tasks]  # warm up, like pyperf's warmup value
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        [sum_squares(n) for n in tasks]
        times.append(time.perf_counter() - t0)
    return times


def overhead(rounds: int, size: str) -> list[str]:
    """Harness vs bare loop, interleaved in rounds so that slow drifts of the machine hit both."""
    import pyperf

    from harness.probe import free_threaded

    variant = "3.13t" if free_threaded() else "3.13"
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    harness, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            out = Path(tmp) / f"seq{i}.json"
            subprocess.run([sys.executable, "-m", "harness.measure", "--workload", "cpu_sum_squares",
                            "--strategy", "sequential", "--workers", "1", "--size", size, "--variant", variant,
                            "--hook", "ftbench", "--loops", "1", "--processes", "2", "--values", "3",
                            "--warmups", "1", "-q", "-o", str(out)], check=True, env=env,
                           stdout=subprocess.DEVNULL)
            harness += pyperf.Benchmark.load(str(out)).get_values()
            bare += bare_loop(6, size)

    def describe(values):
        return (f"median {statistics.median(values) * 1e3:.1f} ms, mean {statistics.fmean(values) * 1e3:.1f} ms, "
                f"RSD {statistics.stdev(values) / statistics.fmean(values):.1%}, n={len(values)}")

    diff = statistics.median(harness) / statistics.median(bare) - 1
    return [f"{sys.executable} ({variant}), cpu_sum_squares/sequential/1 size {size}, {rounds} interleaved rounds:",
            f"harness (pyperf workers, strategy, check): {describe(harness)}",
            f"bare perf_counter loop in this process: {describe(bare)}",
            f"difference of medians {diff:+.1%} (target within 3%) {_verdict(abs(diff) <= 0.03)}; "
            f"the bare loop's own RSD is this machine's noise floor"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.figures", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="issue figures from results/raw")
    r.add_argument("--results", default="results", type=Path)
    r.add_argument("--host")
    r.add_argument("--json", action="store_true", help="also print the lines as JSON")
    o = sub.add_parser("overhead", help="harness vs bare perf_counter loop, on this interpreter")
    o.add_argument("--rounds", type=int, default=5)
    o.add_argument("--size", default="default")
    args = p.parse_args(argv)
    try:
        lines = report(args.results, args.host) if args.command == "report" else overhead(args.rounds, args.size)
    except (OSError, ValueError) as e:
        print(f"ftbench figures: error: {e}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    if getattr(args, "json", False):
        print(json.dumps(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
