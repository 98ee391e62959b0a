"""``nox -s why``: where the extra CPU of N workers goes, by category, C function and Python function.

Runs on the host Python where perf runs (stdlib only), like the bench command::

    python -m harness.profile WORKLOAD[,WORKLOAD|GROUP...] [--strategy S] [--workers N]
        [--variants NAME,NAME] [--python VARIANT=PATH ...] [--size default] [--results DIR]
        [--host LABEL] [--frequency 999] [--call-graph dwarf|flat] [--stack-bytes 16384]
        [--no-overhead] [--option KEY=VALUE]

For each variant (default: every variant of the registry) it runs the workload's task list once
sequentially and once at N workers under ``perf record`` (:mod:`harness.profile.record`), each
after an unprofiled run of the same command that gives the sampling overhead, and writes the
profiles beside the results set (:mod:`harness.profile.outputs`). The default option is the
free-threaded variant's fastest parallel option in this machine's latest campaign, else threads
at 2 x cores. Exit status 2 with one line when the input is bad or perf cannot record here; the
campaign and the analysis never need perf.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness import variants
from harness.files import write_atomic
from harness.profile import attribution, flamegraph, outputs, record, stacks, text
from harness.provision import fingerprint

HOST_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TARGET = ("-m", "harness.profile.target")
CATALOGUE_TIMEOUT = 120.0


class UsageError(Exception):
    """Bad input: one line, exit status 2, nothing run or written."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked as far as it can be without asking a variant's python."""
    p = _Parser(prog="python -m harness.profile", description=__doc__.split("\n")[0])
    p.add_argument("workloads", help="workload names or groups (e.g. pitfalls), comma-separated")
    p.add_argument("--strategy", help="parallel strategy to profile (default: see the module docstring)")
    p.add_argument("--workers", type=int, help="worker count of the parallel run (default: see above)")
    p.add_argument("--variants", help=f"comma-separated, from {', '.join(variants.registry())} (default: all)")
    p.add_argument("--python", action="append", default=[], metavar="VARIANT=PATH",
                   help="the python of VARIANT's benchmark venv (nox -s why passes them)")
    p.add_argument("--size", default="default", help="task size (default: default)")
    p.add_argument("--results", default="results", help="results directory (default: results)")
    p.add_argument("--host", help="host label of the results set (default: as for bench)")
    p.add_argument("--frequency", type=int, default=record.DEFAULT_FREQUENCY, help="samples per second of CPU")
    p.add_argument("--call-graph", default="dwarf", choices=record.CALL_GRAPHS)
    p.add_argument("--stack-bytes", type=int, default=record.DEFAULT_STACK_BYTES,
                   help="user stack copied per sample for DWARF unwinding")
    p.add_argument("--no-overhead", action="store_true", help="skip the unprofiled runs (no overhead figure)")
    p.add_argument("--option", action="append", default=[], help="KEY=VALUE for the workload")
    args = p.parse_args(argv)
    if args.workers is not None and args.workers < 2:
        raise UsageError(f"--workers {args.workers}: the parallel run needs at least 2 workers")
    if not 1 <= args.frequency <= 20_000:
        raise UsageError(f"--frequency {args.frequency}: expected 1 to 20000 samples per second")
    if args.stack_bytes % 8 or not 1024 <= args.stack_bytes <= 65528:
        raise UsageError(f"--stack-bytes {args.stack_bytes}: expected a multiple of 8 from 1024 to 65528")
    if args.host is not None and not HOST_LABEL.fullmatch(args.host):
        raise UsageError(f"--host {args.host!r}: expected letters, digits, '.', '_' and '-', e.g. --host lab-pc1")
    args.variant_names = _variant_names(args.variants)
    args.pythons = _pythons(args.python)
    missing = [v for v in args.variant_names if v not in args.pythons]
    if missing:
        raise UsageError(f"no python for {', '.join(missing)}: give --python VARIANT=PATH (nox -s why does)")
    return args


def _variant_names(text: str | None) -> list[str]:
    known = list(variants.registry())
    names = known if text is None else [x.strip() for x in text.split(",")]
    for name in names:
        if name not in known:
            raise UsageError(f"unknown variant {name!r}; valid: {', '.join(known)}")
    return list(dict.fromkeys(names))


def _pythons(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, path = item.partition("=")
        if not eq or not path:
            raise UsageError(f"--python {item!r}: expected VARIANT=PATH")
        if not os.access(path, os.X_OK):
            raise UsageError(f"--python {name}: {path} is not an executable")
        out[name] = path
    return out


def catalogue(python: str) -> dict:
    """The workloads the variant's python finds (name -> kind, tags, runnable strategies, sizes)."""
    r = subprocess.run([python, *TARGET, "--list"], capture_output=True, text=True, timeout=CATALOGUE_TIMEOUT)
    if r.returncode != 0:
        raise UsageError(f"{python} cannot list the workloads: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(r.stdout)


def workload_names(text: str, known: dict) -> list[str]:
    """Names or groups (tags), in order, each once; a workload that needs the HTTP server is refused."""
    out = []
    for item in (x.strip() for x in text.split(",")):
        tagged = [n for n, w in known.items() if item in w["tags"]]
        if item in known:
            out.append(item)
        elif tagged:
            out.extend(tagged)
        else:
            raise UsageError(f"unknown workload {item!r}; valid: {', '.join(known)}")
    for name in out:
        if known[name]["needs_server"]:
            raise UsageError(f"{name} waits on the embedded HTTP server: the profile is of CPU work; "
                             "profile a CPU-bound workload")
    return list(dict.fromkeys(out))


def host_label(args: argparse.Namespace) -> str:
    """--host, else bench's default (hostname + machine fingerprint, -local beside a published set)."""
    if args.host:
        return args.host
    flavour = variants.get(args.variant_names[0]).build.flavour
    return fingerprint.beside_published(args.results, fingerprint.default_label(flavour))


def best_option(results: str, hosts: list[str], variant: str, workload: str) -> tuple[str, int] | None:
    """The fastest parallel (strategy, workers) of ``workload`` on ``variant`` in the first host set that has it."""
    import csv

    for host in hosts:
        path = Path(results) / "raw" / host / f"{variant}.csv"
        if not path.exists():
            continue
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("workload") == workload and r.get("status") == "ok"
                    and r.get("strategy") != "sequential" and r.get("mean")]
        if rows:
            best = min(rows, key=lambda r: float(r["mean"]))
            return best["strategy"], int(best["workers"])
    return None


def option_for(args: argparse.Namespace, host: str, workload: str) -> tuple[str, int, str]:
    """(strategy, workers, where the choice came from) for one workload."""
    cores = os.cpu_count() or 1
    if args.strategy and args.workers:
        return args.strategy, args.workers, "given"
    free = [v for v in args.variant_names if variants.get(v).role == "free-threaded"] or args.variant_names
    hosts = [host, host.removesuffix("-local")]
    best = best_option(args.results, hosts, free[0], workload) if not args.strategy else None
    if best and best[1] >= 2:
        return best[0], args.workers or best[1], f"fastest parallel option of {free[0]} in the latest campaign"
    return args.strategy or "threads", args.workers or 2 * cores, "default: 2 x cores"


@dataclass(frozen=True)
class Job:
    """One workload on one variant: a sequential and an N-worker profile."""

    workload: str
    variant: str
    python: str
    strategy: str
    workers: int
    origin: str


def _command(args: argparse.Namespace, job: Job, strategy: str, workers: int) -> list[str]:
    opts = [x for o in args.option for x in ("--option", o)]
    return [job.python, *TARGET, "--workload", job.workload, "--strategy", strategy, "--workers", str(workers),
            "--size", args.size, *opts]


def _unprofiled_wall(command: list[str], env: dict) -> float:
    """Seconds between the marks of the same run without perf (the overhead's denominator)."""
    with tempfile.TemporaryDirectory(prefix="ftbench-why-") as tmp:
        marks = os.path.join(tmp, "marks.json")
        returncode, stderr = record.run_group([*command, marks], env, record.TIMEOUT)
        if returncode != 0:
            raise record.RunFailed((stderr.strip().splitlines() or [f"exit status {returncode}"])[-1])
        with open(marks) as f:
            m = json.load(f)
    return (m["end_ns"] - m["start_ns"]) / 1e9


@dataclass(frozen=True)
class Run:
    """A recorded run and what was derived from it in memory."""

    recording: record.Recording
    profile: attribution.RunProfile
    overhead: float | None
    busy_cores: float


def profile_run(args: argparse.Namespace, job: Job, strategy: str, workers: int, settings: record.Settings) -> Run:
    """One run under perf (after an unprofiled one unless --no-overhead)."""
    env = variants.get(job.variant).apply_env(os.environ)
    command = _command(args, job, strategy, workers)
    plain = None if args.no_overhead else _unprofiled_wall(command, env)
    rec = record.record(command, env, settings)
    prof = attribution.profile(rec.samples)
    return Run(rec, prof, rec.wall_s / plain if plain else None, prof.cpu_s / rec.wall_s if rec.wall_s else 0.0)


def _document(args, host: str, job: Job, strategy: str, workers: int, run: Run, settings) -> dict:
    return {
        "host": host, "workload": job.workload, "variant": job.variant, "strategy": strategy, "workers": workers,
        "size": args.size, "cpu_count": os.cpu_count(), "gil_enabled": run.recording.marks["gil_enabled"],
        "tasks": run.recording.marks["tasks"], "busy_cores": run.busy_cores,
        "usable_cores": min(workers, os.cpu_count() or 1),
        "sampling": {"event": record.EVENT, "frequency_hz": settings.frequency, "call_graph": settings.call_graph,
                     "stack_bytes": settings.stack_bytes if settings.call_graph == "dwarf" else None,
                     "samples": run.profile.samples, "samples_whole_process": run.recording.all_samples,
                     "lost": run.recording.lost, "overhead": run.overhead},
        **run.profile.top(),
    }


def _write_run(directory: Path, name: str, run: Run, title: str, subtitle: str) -> None:
    folded = stacks.fold(run.recording.samples)
    write_atomic(directory / f"{name}.folded", stacks.folded_text(folded))
    write_atomic(directory / f"{name}.svg", flamegraph.render(folded, title, subtitle))


def profile_job(args: argparse.Namespace, host: str, job: Job, settings: record.Settings) -> str:
    """Profile one workload on one variant (sequential, then N workers), write its files; the console table."""
    one = profile_run(args, job, "sequential", 1, settings)
    many = profile_run(args, job, job.strategy, job.workers, settings)
    x = attribution.extra(one.profile, many.profile)
    directory = outputs.profiles_dir(args.results, host) / job.workload
    write_outputs(directory, args, host, job, settings, one, many, x)
    return console_table(directory, job, settings, one, many, x)


def write_outputs(directory: Path, args, host: str, job: Job, settings, one: Run, many: Run,
                  x: attribution.Extra) -> None:
    """The folded stacks, flame graphs and JSON of both runs, and the differential flame graph."""
    directory.mkdir(parents=True, exist_ok=True)
    seq_name, name = outputs.stem(job.variant, "sequential", 1), outputs.stem(job.variant, job.strategy, job.workers)
    rate = f"{settings.frequency} Hz {record.EVENT}, {settings.call_graph} call stacks"
    _write_run(directory, seq_name, one, f"{job.workload} on {job.variant}: sequential",
               f"{one.profile.cpu_s:.3f} s CPU in {one.profile.samples} samples ({rate})")
    _write_run(directory, name, many, f"{job.workload} on {job.variant}: {job.strategy} x{job.workers}",
               f"{many.profile.cpu_s:.3f} s CPU in {many.profile.samples} samples ({rate})")
    source = many.recording.marks.get("workload_file", "")
    write_atomic(directory / f"{name}-diff.svg", flamegraph.render(
        stacks.rooted_at(stacks.fold(many.recording.samples), source),
        f"{job.workload} on {job.variant}: {job.strategy} x{job.workers} against sequential, from the workload's "
        "functions", f"extra CPU {x.extra_s:+.3f} s: {x.note()}",
        baseline=stacks.rooted_at(stacks.fold(one.recording.samples), source)))
    outputs.write_run(directory, seq_name, _document(args, host, job, "sequential", 1, one, settings))
    doc = _document(args, host, job, job.strategy, job.workers, many, settings)
    doc |= {"extra": x.to_json(), "sequential_overhead": one.overhead, "sequential_busy_cores": one.busy_cores,
            "sequential_lost": one.recording.lost, "option_from": job.origin}
    outputs.write_run(directory, name, doc)


def console_table(directory: Path, job: Job, settings, one: Run, many: Run, x: attribution.Extra) -> str:
    """The table printed for one job: categories, idle cores, why, top functions, how it was sampled."""
    name = outputs.stem(job.variant, job.strategy, job.workers)
    usable = min(job.workers, os.cpu_count() or 1)
    idle = (max(0.0, 1 - one.busy_cores), max(0.0, usable - many.busy_cores))
    overhead = " and ".join(f"x{r.overhead:.2f}" if r.overhead else "not measured" for r in (one, many))
    sampling = (f"{settings.frequency} Hz {record.EVENT}, {settings.call_graph} call stacks; {one.profile.samples} "
                f"and {many.profile.samples} samples in the runs ({one.recording.lost + many.recording.lost} lost); "
                f"overhead {overhead} (profiled wall time over an unprofiled run's); files: "
                f"{directory}/{name}.{{folded,svg,json}}, {name}-diff.svg")
    head = f"{job.workload} on {job.variant}: {job.strategy} x{job.workers} against sequential ({job.origin})"
    gil = many.recording.marks["gil_enabled"]
    warn = "" if gil == variants.get(job.variant).gil_expected else f"\n  note: the GIL was {'on' if gil else 'off'}"
    return text.console(x, head, idle, sampling) + warn


def plan(args: argparse.Namespace, host: str) -> list[Job]:
    """Every (workload, variant) job, with its parallel option; bad names or strategies are usage errors."""
    known = catalogue(args.pythons[args.variant_names[0]])
    jobs = []
    for workload in workload_names(args.workloads, known):
        if args.size not in known[workload]["sizes"]:
            raise UsageError(f"unknown size {args.size!r}; valid: {', '.join(known[workload]['sizes'])}")
        strategy, workers, origin = option_for(args, host, workload)
        runnable = [s for s in known[workload]["strategies"] if s != "sequential"]
        if strategy not in runnable:
            raise UsageError(f"{workload} does not run under strategy {strategy!r} here; valid: {', '.join(runnable)}")
        jobs += [Job(workload, v, args.pythons[v], strategy, workers, origin) for v in args.variant_names]
    return jobs


def main(argv: list[str] | None = None) -> int:
    """Check, plan, profile every job, rebuild the summary; 0, 1 (a run failed) or 2 (usage, no perf)."""
    try:
        args = parse_args(argv)
        record.check_perf()
        host = host_label(args)
        jobs = plan(args, host)
    except (UsageError, record.PerfUnavailable) as e:
        print(f"why: {e}", file=sys.stderr)
        return 2
    settings = record.Settings(args.frequency, args.call_graph, args.stack_bytes)
    print(f"profiling {len(jobs)} workload x variant pair(s) on {platform.node()} into "
          f"{outputs.profiles_dir(args.results, host)} (CPU {os.cpu_count()} cores; other load on the machine "
          "shows up as idle cores and overhead)", flush=True)
    status = 0
    for job in jobs:
        try:
            print(profile_job(args, host, job, settings), flush=True)
        except (record.RunFailed, RuntimeError, subprocess.TimeoutExpired) as e:
            print(f"why: {job.workload} on {job.variant} failed: {e}", file=sys.stderr)
            status = 1
    root = outputs.profiles_dir(args.results, host)
    if root.exists():
        print(f"summary: {outputs.write_summary(root)}")
    return status
