"""Run a campaign: every variant of it, workload by workload, in interleaved rounds.

``run(config, planned)`` is the execution half of ``python -m harness.measure.bench`` (the CLI half
parses and checks the input and makes the frozen :class:`~harness.measure.config.Campaign`).

Interleaving. A workload is measured in rounds: each round runs ``python -m harness.measure.run ...
--processes 1`` once per benchmark of the workload and variant (seq A, seq B, seq C, threads x2 A, ...,
then backwards: :func:`interleave_groups`), with the variant's own python and environment
(``variants.get(v).apply_env``: the control gets PYTHON_GIL=1 from the registry, never from its
name), each a fresh interpreter in its own process group with a timeout. Each run is merged into the
variant's pyperf Benchmark and tagged with its round (``ftbench_round``). A shared VM's speed wanders
by tens of percent over an hour; sharing rounds puts that drift into both sides of every ratio of the
workload (a speedup no longer compares processes minutes apart), and the analysis pairs the two
sides of a cross-variant ratio by round, which cancels it. One variant (``nox -s bench-<variant>``)
is the same code with a one-name list.

Precision, per benchmark (its variants stop together; the workload's other benchmarks go on). After
``min_processes`` rounds, rounds are added while any variant's relative 95% CI half-width of the
mean over process means (t quantile, df = processes - 1) exceeds the target, up to
``max_processes`` rounds, and only while the next round still fits in the benchmark's ``budget``
seconds of its own processes. A workload's sequential benchmark, the reference of every ratio of its
workload, is measured instead until every variant's slowdown against its baseline is decided
(greater, less or equivalent against the margin, by a 99% interval paired by round:
:func:`ratios_decided`), up to the profile's ``reference_max_processes`` rounds within
``reference_budget`` seconds.
After a workload's last benchmark comes its confirmation stage (profiles with ``confirm_best``,
when a variant's baseline is in the campaign): each variant's best option, chosen on all its sweep
processes (:func:`best_option`, as the analysis chooses), is measured again in fresh interleaved
rounds, each variant running its own best, until every best-vs-best gain is decided by the same
99% rule, and stored as ``<workload>/<strategy>/<workers>/confirm`` (metadata ``ftbench_stage``):
the analysis estimates the best option's speedup and gain on these processes alone, which played
no part in the choice. ``ftbench_precision`` and ``ftbench_stop_reason`` (fixed, target, decided,
cap, budget) are recorded. A run the probe flagged for foreign load is said live, kept in the JSON
(the analysis leaves it out), left out of the precision and re-measured (at most MAX_REMEASURE
times per variant and benchmark).

Results sets. Files go to ``results/raw/<host>/<variant>.{json,csv,state.json}``, written
atomically after every workload's sweep and confirmation, so an interrupted campaign keeps every
workload it finished and the same command resumes it. Without ``--host`` the label is
``<hostname>-<machine fingerprint>`` plus ``-quick``/``-rigorous`` for those profiles
(``harness.measure.bench.host_label``): a fresh clone measures into its own set on any machine (the
committed published run, labelled ``vm``, is never resumed), and a quick smoke run never collides
with a default campaign. Each variant file is keyed by the machine and interpreter fingerprints, the
campaign settings (among them the round rule, ``config.ROUNDS``) and each workload's definition hash
(harness.measure.results): an explicit ``--host`` whose files were measured on another machine,
build or with other settings gets one line and exit 2, files untouched; a changed workload is
measured again.

The embedded I/O server runs on one interpreter for every variant (the baseline's venv python
when the baseline is in the campaign, else ``config.server_python``, else the first variant's),
recorded as ``ftbench_server_python``: a variant changes only the client side.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import intervals, metadata, variants
from harness.intervals import MARGIN, paired_ratio_interval, ratio_verdict, t_quantile
from harness.measure.config import Campaign, Precision
from harness.measure.results import ResultsError, VariantStore
from harness.provision import fingerprint

# Pure-Python aiohttp stack on every variant: free-threaded builds have no accelerated wheels, so the
# baseline must not use them either.
PURE_PYTHON_ENV = ("AIOHTTP_NO_EXTENSIONS", "YARL_NO_EXTENSIONS", "MULTIDICT_NO_EXTENSIONS",
                   "PROPCACHE_NO_EXTENSIONS", "FROZENLIST_NO_EXTENSIONS")
FORWARDED_ENV = PURE_PYTHON_ENV + ("FTBENCH_C_EXTENSIONS", "FTBENCH_WORKLOAD_PATH",
                                   "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# pyperf's manager's own line when a worker failed: never the cause
PYPERF_WRAPPER = re.compile(r"^RuntimeError: \S+ failed with exit code -?\d+$")


@dataclass(frozen=True)
class Planned:
    workload: object
    strategy: str
    workers: int

    @property
    def name(self) -> str:
        return f"{self.workload.name}/{self.strategy}/{self.workers}"

    def identity(self) -> dict:
        return {"workload": self.workload.name, "kind": self.workload.kind,
                "strategy": self.strategy, "workers": self.workers}


def run_one(p: Planned, config: Campaign, variant: str, pyperf_args: list, server_url: str, env: dict,
            tmp: Path, tag: str = ""):
    """Run one pyperf command in its own process group; return (status, error, Benchmark|None)."""
    import pyperf

    out = tmp / f"{p.workload.name}-{p.strategy}-{p.workers}{'-' + tag if tag else ''}.json"
    cmd = [config.python_of(variant), "-m", "harness.measure.run", "--workload", p.workload.name,
           "--strategy", p.strategy, "--workers", str(p.workers), "--size", config.size,
           "--scaling", config.scaling,
           "--bench-profile", config.profile, "--variant", variant, "--host", config.host,
           "--server-url", server_url, "--server-latency", "{:g}:{:g}".format(*config.latency),
           "--accelerators", config.accelerators, "--hook", "ftbench",
           "--inherit-environ", ",".join(FORWARDED_ENV), "--loops", "1", "-o", str(out),
           *pyperf_args, *[f"--option={k}={v}" for k, v in config.options]]
    out.unlink(missing_ok=True)
    log = tmp / "measure.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=functools.partial(die_with_parent, os.getpid()))
        try:
            if SIGNALLED:  # swallowed during the fork (see SIGNALLED)
                raise KeyboardInterrupt
            proc.wait(timeout=config.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return "timeout", f"killed after {config.timeout:g} s", None
        except BaseException:
            _kill_group(proc)
            raise
    text = log.read_text(errors="replace")
    if proc.returncode != 0 or not out.exists():
        return "failed", _error_line(text, proc.returncode), None
    try:
        bench = pyperf.Benchmark.load(str(out))
    except Exception as e:  # noqa: BLE001
        return "failed", f"unreadable pyperf output: {e}", None
    return "ok", "", bench


def die_with_parent(parent: int) -> None:
    """In the child: get SIGTERM when the orchestrator dies, even by SIGKILL (Linux only).

    harness.measure.run answers SIGTERM by killing its whole process group: pyperf's workers and
    their pools are its grandchildren and would otherwise outlive a killed campaign.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the orchestrator died before prctl: no signal will come
        os._exit(1)


# Signals received. A KeyboardInterrupt raised while Popen forks runs in an at-fork hook (e.g.
# logging's), where CPython swallows it ("Exception ignored in ... _afterFork"): run_one and the
# campaign loop check this list so such a Ctrl-C is not lost.
SIGNALLED: list[int] = []


def _interrupt(signum, frame):
    SIGNALLED.append(signum)
    raise KeyboardInterrupt  # SIGTERM ends a campaign as cleanly as Ctrl-C


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _error_line(text: str, code: int) -> str:
    """The most telling line of a failed worker's output: the exception, else the last line.

    pyperf's manager ends every failure with its own "RuntimeError: ... failed with exit code 1";
    the worker's exception, printed before it, is the one that says what went wrong.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Failed|Interrupt)\b", ln)
              or "CheckFailed" in ln]
    own = [ln for ln in errors if not PYPERF_WRAPPER.search(ln)]
    if own or errors:
        return (own or errors)[-1][:500]
    return (lines[-1][:500] if lines else f"exit status {code}")


def gil_verdict(bench, variant: str, allow_gil: bool) -> str:
    """'' if the GIL state matches the variant's role, else the reason the benchmark is rejected."""
    from harness.measure.results import run_metadata

    spec = variants.get(variant)
    meta = run_metadata(bench)
    enabled = metadata.get(meta, "gil_enabled") == "yes"
    if spec.role == "free-threaded" and enabled and not allow_gil:
        culprit = metadata.get(meta, "gil_reenabled_by") or "unknown (no import warning seen)"
        return f"the GIL was enabled during the run; re-enabled by module {culprit} (--allow-gil to accept)"
    if spec.role == "control" and not enabled:
        return "the control variant ran without the GIL (PYTHON_GIL=1 not honoured)"
    return ""


def c_extensions(env: dict, python: str = sys.executable) -> str:
    """Whether the aiohttp stack runs its C extensions under ``env`` (measured once, recorded on every run)."""
    code = """
found = []
try:
    import multidict
    from aiohttp import http_parser
    from yarl import _quoting
    found.append("aiohttp=" + ("yes" if http_parser.HttpResponseParser.__module__.endswith("_http_parser") else "no"))
    found.append("yarl=" + ("yes" if _quoting._Quoter.__module__.endswith("_c") else "no"))
    found.append("multidict=" + ("yes" if multidict.MultiDict.__module__ == "multidict._multidict" else "no"))
except ImportError as e:
    found.append(f"unavailable({e.name})")
print(",".join(found))
"""
    r = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


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


def summary(stores: dict[str, VariantStore]) -> str:
    """The end of a run: every variant's speedup table over all it holds, the slowdowns, where the files are."""
    out = []
    for name, store in stores.items():
        n = len(store.suite.get_benchmark_names()) if store.suite else 0
        out.append(f"\nspeedup vs sequential on {name} (workers:speedup), {n} benchmarks in {store.json_path}:")
        out.append(speedup_table(store) or "  (nothing measured)")
    base = next((s for v, s in stores.items() if variants.get(v).role == "baseline"), None)
    if base is not None and base.suite and len(stores) > 1:
        means = {b.get_name(): b.mean() for b in base.suite}
        out.append(f"\nslowdown vs {base.variant} (time / {base.variant} time), sequential/1:")
        for name, store in stores.items():
            if store is base:
                continue
            cells = [f"{b.get_name().split('/')[0]} {b.mean() / means[b.get_name()]:.2f}"
                     for b in store.suite or () if b.get_name().endswith("/sequential/1") and b.get_name() in means]
            out.append(f"  {name:<10} " + (", ".join(cells) or "--"))
    dirs = sorted({str(s.dir) for s in stores.values()})
    out.append(f"\nraw results: {', '.join(dirs)} ({', '.join(f'{v}.json/.csv' for v in stores)}); "
               "next: nox -s analysis")
    return "\n".join(out)


# --- precision: a 95% CI of the mean over process means ------------------------------------------------

def process_means(bench) -> list[float]:
    """The process means of ``bench`` (:func:`harness.intervals.process_means`), runs flagged for
    foreign load left out."""
    runs = bench.get_runs() if bench is not None else ()
    return intervals.process_means(r.values for r in runs
                                   if metadata.get(r.get_metadata(), "foreign_flagged") != "yes")


def round_means(bench) -> dict[int, float]:
    """round -> the mean of that round's runs of ``bench`` (runs flagged for foreign load left out)."""
    by_round: dict[int, list[float]] = {}
    for run in bench.get_runs() if bench is not None else ():
        meta = run.get_metadata()
        if run.values and metadata.get(meta, "foreign_flagged") != "yes":
            by_round.setdefault(metadata.get(meta, "round", 0), []).append(statistics.fmean(run.values))
    return {r: statistics.fmean(m) for r, m in by_round.items()}


def half_width(means: list[float]) -> float:
    """Relative 95% CI half-width of the mean of ``means`` (t quantile, df = n - 1); inf below 2 values."""
    if len(means) < 2:
        return math.inf
    mean = statistics.fmean(means)
    if mean <= 0:
        return math.inf
    return t_quantile(len(means) - 1) * statistics.stdev(means) / math.sqrt(len(means)) / mean


@dataclass
class Outcome:
    """One variant's result for one benchmark of an interleaved campaign."""

    status: str = "ok"
    error: str = ""
    bench: object = None  # the merged pyperf Benchmark
    precision: float = math.inf
    stop_reason: str = ""
    processes: int = 0  # rounds this variant took part in
    remeasured: int = 0  # extra processes after flagged runs
    seconds: float = 0.0  # wall time of the benchmark, all variants together


MAX_REMEASURE = 2  # extra processes per variant per benchmark after runs flagged for foreign load


def round_order(names: list[str], r: int) -> list[str]:
    """Round ``r`` (0-based): A B C, then C B A, then A B C ... so no variant always runs first."""
    return list(names) if r % 2 == 0 else list(reversed(names))


def ratios_decided(baselines: dict[str, str], confidence: float, margin: float = MARGIN, key=lambda v: v):
    """The stopping rule of a workload's sequential benchmark (the slowdown) and of its confirmation
    stage (the best-vs-best gain): every variant's ratio to its baseline (``baselines``: variant ->
    baseline) is decided (greater, less or equivalent against the margin) by its ``confidence``
    interval over process means, paired by round (:func:`harness.intervals.paired_ratio_interval`,
    as the analysis computes it). Deciding on a stricter interval than the analysis's 95% keeps the
    error of stopping at the first decided look near the nominal level
    (harness.analysis.simulate.rerun_agreement, tests/test_known_truth.py). ``key(variant)``: the
    variant's key in the outcomes (a workload's rounds key them by variant and benchmark)."""
    def decided(out: dict, active: list) -> bool:
        for v, base in baselines.items():
            if key(v) in active and key(base) in active:  # a failed side leaves no ratio to decide
                _, low, high, _ = paired_ratio_interval(round_means(out[key(v)].bench),
                                                        round_means(out[key(base)].bench), confidence)
                if ratio_verdict(low, high, margin) in ("inconclusive", "n/a"):
                    return False
        return True

    return decided


@dataclass
class Group:
    """Keys measured and stopped together (one benchmark's variants), under one precision rule."""

    keys: list
    prec: Precision
    decided: object = None  # decided(outcomes, active) -> bool: a reference's rule (ratios_decided)


def interleave_groups(groups: dict[str, Group], measure, clock=time.monotonic, log=print,
                      labels: dict | None = None, title: str = "") -> dict:
    """Measure every group's keys in the same interleaved rounds until each group's rule stops it.

    A round runs ONE pyperf process (a fresh interpreter, ``measure(key, round) -> (status, error,
    Benchmark | None)``) per key still active, every group's keys in one order (A1 B1 A2 B2, then
    B2 A2 B1 A1, ...). A campaign passes a whole workload: every option of its sweep on every
    variant shares each round, so the machine's slow drift (its speed wanders by tens of percent
    over an hour on a shared VM) reaches a speedup's numerator and denominator alike instead of
    the minutes between two benchmarks; a group's own rule still decides how many rounds it gets.

    Per group (``Group.prec``): at least ``min_processes`` rounds; then more while any key's
    relative CI half-width exceeds ``target``, up to ``max_processes`` rounds or while the group's
    next round still fits in ``budget`` seconds of its own processes. With ``decided`` (a
    workload's sequential reference: :func:`ratios_decided`) rounds are added until it is true
    instead of until the target. ``stop_reason``: fixed (no target), target, decided, cap or budget.
    A run flagged for foreign load stays in the benchmark, is left out of the precision, and is
    re-measured at once (at most MAX_REMEASURE times per key). ``seconds`` of an outcome: its
    group's processes, every key together. With a ``title``, one line per round says what is left.
    """
    import pyperf

    labels = labels or {}
    group_of = {k: g for g, grp in groups.items() for k in grp.keys}
    out = {k: Outcome() for k in group_of}
    active = list(group_of)
    spent = dict.fromkeys(groups, 0.0)  # seconds of each group's own processes
    r = 0
    while active:
        this_round = dict.fromkeys(groups, 0.0)
        for k in round_order(active, r):
            o, g = out[k], group_of[k]
            t0 = clock()
            while True:
                status, error, bench = measure(k, r + 1)
                if status != "ok":
                    o.status, o.error = status, error
                    break
                bench.update_metadata(_meta(round=r + 1))
                if o.bench is None:
                    o.bench = pyperf.Benchmark(bench.get_runs())
                else:
                    o.bench.add_runs(bench)
                run_meta = bench.get_runs()[-1].get_metadata()
                if metadata.get(run_meta, "foreign_flagged") != "yes":
                    break
                cores = metadata.get(run_meta, "foreign_cores", 0.0) or 0.0
                label = labels.get(k, k)
                if o.remeasured >= MAX_REMEASURE:
                    log(f"  run {r + 1} of {label} flagged: foreign load {cores:.2f} cores; "
                        f"kept (already re-measured {MAX_REMEASURE} times)")
                    break
                o.remeasured += 1
                log(f"  run {r + 1} of {label} flagged: foreign load {cores:.2f} cores; re-measuring")
            if o.status == "ok":
                o.processes += 1
            this_round[g] += clock() - t0
        active = [k for k in active if out[k].status == "ok"]
        r += 1
        for k in active:
            out[k].precision = half_width(process_means(out[k].bench))
        for g, grp in groups.items():
            spent[g] += this_round[g]
            mine = [k for k in active if group_of[k] == g]
            if not mine or r < grp.prec.min_processes:
                continue
            if reason := _stop_reason(grp, out, mine, r, spent[g], this_round[g]):
                for k in grp.keys:
                    out[k].stop_reason = reason
                active = [k for k in active if group_of[k] != g]
        if title:
            left = len({group_of[k] for k in active})
            log(f"    {title} round {r}: {sum(this_round.values()):.0f} s"
                + (f"; {left} benchmark(s) go on" if left else ""))
    for g, grp in groups.items():
        for k in grp.keys:
            out[k].seconds = spent[g]
    return out


def _stop_reason(grp: Group, out: dict, mine: list, r: int, spent: float, round_seconds: float) -> str:
    """Why ``grp`` stops after round ``r`` ('' to go on)."""
    prec = grp.prec
    if prec.target is None:
        return "fixed"
    if grp.decided is not None and grp.decided(out, mine):
        return "decided"
    if grp.decided is None and all(out[k].precision <= prec.target for k in mine):
        return "target"
    if r >= prec.max_processes:
        return "cap"
    if spent + round_seconds > prec.budget:
        return "budget"  # the next round would overrun: stop, and say so
    return ""


def confirm_name(p: Planned) -> str:
    return f"{p.name}/{metadata.CONFIRM}"


def best_option(store: VariantStore, options: list[Planned]) -> Planned | None:
    """The option of ``options`` (one workload's sweep) with the lowest mean over process means on
    ``store`` (ties: fewer workers), as the analysis chooses it; None if none was measured."""
    measured = [(statistics.fmean(pm), p.workers, k) for k, p in enumerate(options)
                if (pm := process_means(store.benchmark(p.name)))]
    return options[min(measured)[2]] if measured else None


def baseline_pairs(names: list[str]) -> dict[str, str]:
    """variant -> its baseline, for every variant of ``names`` whose baseline is also there."""
    return {v: b.name for v in names if (b := variants.baseline_of(v)) and b.name in names and b.name != v}


def confirmation_plan(stores: dict[str, VariantStore], options: list[Planned]) -> dict[str, Planned]:
    """variant -> the best option to confirm: every variant with its baseline in the campaign, and
    that baseline; {} when no variant has one (nothing to compare) or a side has no best option."""
    names = list(stores)
    pairs = baseline_pairs(names)
    sides = [v for v in names if v in pairs or v in pairs.values()]
    plan = {v: best_option(stores[v], options) for v in sides}
    return plan if pairs and all(plan.values()) else {}


def _renamed(bench, name: str):
    """``bench`` with its runs' name metadata set to ``name`` (pyperf names a benchmark by its runs)."""
    import pyperf

    runs = [r._update_metadata({"name": name}) for r in bench.get_runs()]
    return pyperf.Benchmark(runs)


def _meta(**values) -> dict:
    meta: dict = {}
    for name, value in values.items():
        metadata.put(meta, name, value)
    return meta


def effective_precision(prec: Precision, overrides: dict | None) -> Precision:
    """The profile's precision with a workload's own pyperf settings.

    ``values`` and ``warmups`` replace the profile's. ``processes`` fixes the sample of a profile without a
    target (quick); with a target it can only raise the floor: fewer than the profile's minimum would give
    intervals with one or two degrees of freedom, and stopping on a noisy estimate of the spread from so few
    processes undercovers (tests/test_known_truth.py measures it).
    """
    if not overrides:
        return prec
    changes = {k: overrides[k] for k in ("values", "warmups", "reference_budget") if k in overrides}
    if "processes" in overrides:
        n = int(overrides["processes"])
        if prec.target:
            floor = max(n, prec.min_processes)
            changes.update(min_processes=floor, max_processes=max(floor, prec.max_processes))
        else:
            changes.update(min_processes=n, max_processes=n)
    return dataclasses.replace(prec, **changes)


# --- where the results go, what they were measured with ------------------------------------------------


def workload_hash(workload) -> str:
    """sha256 (12 hex) of the workload's module file and its sizes: a changed definition is re-measured."""
    h = hashlib.sha256()
    module = sys.modules.get(getattr(workload.task, "__module__", ""), None)
    path = getattr(module, "__file__", None)
    if path:
        with open(path, "rb") as f:
            h.update(f.read())
    h.update(json.dumps(workload.sizes, sort_keys=True, default=repr).encode())
    return h.hexdigest()[:12]


def server_python(config: Campaign) -> str:
    """One interpreter for the embedded server whatever the variant: the baseline's, else the configured one."""
    for v in config.variants:
        if variants.get(v).role == "baseline":
            return config.python_of(v)
    return config.server_python or config.python_of(config.variants[0])


def variant_env(config: Campaign, variant: str, base: dict | None = None) -> dict:
    """The environment of a variant's processes: the aiohttp stack choice, then the variant's own variables."""
    env = dict(os.environ if base is None else base)
    for key in PURE_PYTHON_ENV:
        env.pop(key, None)
        if config.accelerators == "pure":
            env[key] = "1"
    env["FTBENCH_FOREIGN_THRESHOLD"] = repr(config.foreign_threshold)  # read by harness.measure.run
    env.pop("FTBENCH_SERVER_PID", None)  # set only while this campaign's server runs
    return variants.get(variant).apply_env(env)


# --- the campaign ---------------------------------------------------------------------------------


def run(config: Campaign, planned: list[Planned], measure=None) -> int:
    """Measure every planned benchmark on every variant of ``config``, interleaved; print the summary.

    ``measure``: for tests, replaces the real pyperf process (``measure(p, variant, round, pyperf_args,
    server_url) -> (status, error, Benchmark|None)``). Exit status: 0, 1 if a benchmark failed, 2 if
    the results set cannot be resumed (one line, nothing written), 130 when interrupted.
    """
    names = list(config.variants)
    machine = fingerprint.machine()
    try:
        interps = {v: fingerprint.interpreter(config.python_of(v)) for v in names}
    except OSError as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    hashes = {p.workload.name: workload_hash(p.workload) for p in planned}
    # the settings, plus the build's version and source as older state files had them (the
    # interpreter fingerprint, compared first, says more)
    settings = {v: {**config.settings(), "python": interps[v]["version"],
                    "source_sha256": interps[v]["source_sha256"]} for v in names}
    stores = {v: VariantStore(config.results, config.host, v) for v in names}
    try:
        for v, store in stores.items():  # every check before any write: a refusal leaves every file as it was
            store.check(settings[v], config.fresh, machine, interps[v])
        for v, store in stores.items():
            for line in store.apply(settings[v], config.fresh, machine, interps[v], hashes):
                print(f"ftbench: {line}", flush=True)
    except ResultsError as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"ftbench bench: error: cannot write results in {stores[names[0]].dir}: {e}", file=sys.stderr)
        return 2
    envs = {v: variant_env(config, v) for v in names}
    if measure is None:
        for v in names:
            envs[v]["FTBENCH_C_EXTENSIONS"] = c_extensions(envs[v], config.python_of(v))
    todo = [p for p in planned if not all(s.done(p.name) for s in stores.values())]
    done_all = len(planned) - len(todo)
    print(f"ftbench: {', '.join(names)} on {config.host} (machine {machine['id']}): {len(planned)} benchmarks, "
          f"{done_all} already measured, profile {config.profile}, interleaved rounds"
          + (f", aiohttp stack {envs[names[0]].get('FTBENCH_C_EXTENSIONS', '?')}" if measure is None else ""),
          flush=True)
    server, server_py = None, server_python(config)
    failures = []
    tmp = Path(tempfile.mkdtemp(prefix="ftbench-"))
    started = time.monotonic()

    def measure_rounds(groups: dict[str, Group], option: dict, title: str, stage: str = ""):
        """Interleaved rounds of ``groups`` (``option``: key -> (variant, the Planned it runs)): a
        workload's sweep (every option on every variant, keyed (variant, benchmark)), or a
        confirmation (each variant its best, keyed by variant)."""
        prec_of = {k: grp.prec for grp in groups.values() for k in grp.keys}

        def one(key, r):
            if SIGNALLED:
                raise KeyboardInterrupt
            v, q = option[key]
            prec = prec_of[key]
            pyperf_args = ["--processes=1", f"--values={prec.values}", f"--warmups={prec.warmups}"]
            url = server.url if server and q.workload.needs_server else ""
            if measure is not None:
                status, error, bench = measure(q, v, r, pyperf_args, url)
            else:
                status, error, bench = run_one(q, config, v, pyperf_args, url, envs[v], tmp,
                                               tag=f"{v}-{r}{'-' + stage if stage else ''}")
            if bench is not None and (reason := gil_verdict(bench, v, config.allow_gil)):
                return "failed", reason, None
            if bench is not None and stage:
                bench.update_metadata(_meta(stage=stage))
            return status, error, bench

        labels = {key: f"{q.name} on {v}" for key, (v, q) in option.items()}
        return interleave_groups(groups, one, labels=labels, title=title)

    def record(plan: dict[str, Planned], outcomes: dict[str, Outcome], k: int, stage: str = ""):
        for v, q in plan.items():
            o = outcomes[v]
            name = confirm_name(q) if stage == metadata.CONFIRM else q.name
            if o.bench is not None and o.status == "ok":
                extra = {"stop_reason": o.stop_reason}
                if math.isfinite(o.precision):
                    extra["precision"] = round(o.precision, 6)
                if q.workload.needs_server:
                    extra["server_python"] = server_py
                o.bench.update_metadata(_meta(**extra))
                if stage:  # its own name: the sweep's benchmark of the option stays as it was measured
                    o.bench = _renamed(o.bench, name)
            stores[v].record(name, q.identity() | ({"stage": stage} if stage else {}), o.status, o.error,
                             o.bench if o.status == "ok" else None, o.seconds)
            shown = name if len(plan) == 1 else f"{name}@{v}"
            if o.status != "ok":
                failures.append((shown, o.status, o.error))
            print(progress_line(k, len(planned), shown, o.status, o.error, o.bench), flush=True)
            if o.status == "ok":
                prec_text = f"+-{o.precision:.1%}" if math.isfinite(o.precision) else "n/a (one process)"
                print(f"      {o.processes} processes, precision {prec_text}, stopped: {o.stop_reason}"
                      + (f", {o.remeasured} re-measured after foreign load" if o.remeasured else ""), flush=True)
    try:
        # a resumed campaign may still owe a workload's confirmation after its sweep is done
        owed = todo or config.precision.confirm_best
        if measure is None and owed and any(p.workload.needs_server for p in planned):
            from harness.measure.server import Server

            server = Server(latency=config.latency, seed=0, python=server_py)
            server.start()
            for v in names:  # the probe subtracts the server's CPU: it is not foreign load
                envs[v]["FTBENCH_SERVER_PID"] = str(server.pid)
        sweeps: dict[str, list] = {}  # workload -> [(k, Planned)]: measured together, round by round
        for k, p in enumerate(planned, 1):
            sweeps.setdefault(p.workload.name, []).append((k, p))
        for workload, items in sweeps.items():
            if SIGNALLED:  # see SIGNALLED
                raise KeyboardInterrupt
            groups, option, owed = {}, {}, []
            for k, p in items:
                these = [v for v in names if not stores[v].done(p.name)]
                if not these:
                    continue
                prec = effective_precision(config.precision, p.workload.pyperf.get(config.profile))
                decided, bases = None, baseline_pairs(these)
                if p.strategy == "sequential" and prec.target and bases:  # the reference: until decided
                    prec = prec.for_decision()
                    decided = ratios_decided(bases, prec.decision_confidence, key=lambda v, n=p.name: (v, n))
                groups[p.name] = Group([(v, p.name) for v in these], prec, decided)
                option.update({(v, p.name): (v, p) for v in these})
                owed.append((k, p, these))
            if groups:
                print(f"  {workload}: {len(groups)} benchmarks x {len(names)} variants, interleaved round by round",
                      flush=True)
                outcomes = measure_rounds(groups, option, workload)
                for k, p, these in owed:
                    record({v: p for v in these}, {v: outcomes[(v, p.name)] for v in these}, k)
            k, p = items[-1]
            prec = effective_precision(config.precision, p.workload.pyperf.get(config.profile))
            if prec.target and prec.confirm_best:
                plan = confirmation_plan(stores, [q for _, q in items])
                if plan and not all(stores[v].done(confirm_name(q)) for v, q in plan.items()):
                    prec = prec.for_decision()
                    label = f"{workload} best options (" + ", ".join(
                        f"{v} {q.strategy} x{q.workers}" for v, q in plan.items()) + ")"
                    print(f"  confirming {label}", flush=True)
                    decided = ratios_decided(baseline_pairs(list(plan)), prec.decision_confidence)
                    outcomes = measure_rounds({label: Group(list(plan), prec, decided)},
                                              {v: (v, q) for v, q in plan.items()}, label, stage=metadata.CONFIRM)
                    record(plan, outcomes, k, stage=metadata.CONFIRM)
    except KeyboardInterrupt:
        print(f"\nftbench: interrupted; everything measured so far is in {stores[names[0]].dir}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nftbench: campaign done in {time.monotonic() - started:.0f} s")
    print(summary(stores))
    if failures:
        print(f"\n{len(failures)} benchmark(s) did not produce a time:", file=sys.stderr)
        for name, status, error in failures:
            print(f"  {name}: {status}: {error}", file=sys.stderr)
        return 1
    return 0


def progress_line(k: int, total: int, name: str, status: str, error: str, bench) -> str:
    """``[k/N] workload/strategy/workers  mean +- stdev  ok``, or the status and error."""
    head = f"[{k}/{total}] {name:<36}"
    if status != "ok":
        return f"{head} {status.upper()}: {error}"
    stdev = bench.stdev() if len(bench.get_values()) > 1 else 0.0
    return f"{head} {_fmt(bench.mean())} +- {_fmt(stdev)}  ok"


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms" if seconds < 10 else f"{seconds:8.2f} s "
