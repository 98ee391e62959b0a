"""Run a campaign: every variant of it, workload by workload, in interleaved rounds.

``run(config, planned)`` is the execution half of ``python -m harness.measure.bench`` (the CLI half
parses and checks the input and makes the frozen :class:`~harness.measure.config.Campaign`). It is
a sequence of named steps:

0. :func:`harness.measure.preflight.prepare`: each workload's requirements installed for each
   variant, and its file loaded once there (an import that fails, or turns the GIL back on in a
   free-threaded variant, leaves it unmeasured on that variant, in one line);
1. :func:`open_stores`: the results set of every variant, checked before anything is written
   (another machine, build or settings: one line, exit 2, files untouched), then resumed; then the
   machine's noise is calibrated and recorded (:mod:`harness.measure.calibration`);
2. :meth:`CampaignRun.start`: the variants' environments, a scratch directory, the embedded server;
3. per workload, :meth:`CampaignRun.sweep`: every planned benchmark of the workload on every
   variant, in shared rounds (:mod:`harness.measure.rounds`) until each stops
   (:mod:`harness.measure.stopping`), the sequential reference in every round an option runs; then
   :meth:`CampaignRun.confirm`: each variant's best option and its reference measured again side
   by side, in a number of rounds fixed beforehand from the sweep (:mod:`harness.measure.confirmation`,
   :mod:`harness.measure.sizing`);
4. :meth:`CampaignRun.record`: each benchmark's sample written at once to its variant's files, so an
   interrupted campaign keeps every benchmark it finished and the same command resumes it;
5. the summary (:mod:`harness.measure.console`) and the exit status: 0, 1 if a benchmark failed,
   2 if the results set cannot be resumed, 130 when interrupted.

Files go to ``results/raw/<host>/<variant>.{json,csv,state.json}`` (:mod:`harness.measure.results`).
Each variant file is keyed by the machine and interpreter fingerprints, the campaign settings
(among them the round rule, ``config.ROUNDS``) and each workload's definition hash: a changed
workload is measured again, never mixed with its old runs. Every run records the campaign call
it ran in (``invocation``): the analysis pairs rounds only within one. A resume measures a workload
that any variant still owes again whole, on every variant, so its ratios have a same-invocation
pair; the runs of the earlier call stay beside the new ones. One variant
(``nox -s bench-<variant>``) is the same code with a one-name list; its runs pair with no other
variant's.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from harness import metadata
from harness.measure import calibration, console, preflight, worker
from harness.measure.config import Campaign, Precision
from harness.measure.confirmation import baseline_pairs, confirmation_plan, renamed, size
from harness.measure.environment import C_EXTENSIONS_ENV, SERVER_PID_ENV, c_extensions, server_python, variant_env
from harness.measure.planned import Planned, confirm_name, workload_hash
from harness.measure.results import ResultsError, VariantStore
from harness.measure.rounds import Group, Outcome, interleave_groups
from harness.measure.stopping import effective_precision
from harness.provision import fingerprint

# What the plan's rough duration assumes, before anything is timed: a timed run of a workload
# takes about half a second (what `nox -s new-workload` sizes a workload to, and about what the
# built-in ones take sequentially), and a pyperf process adds about as much to start and report.
TYPICAL_SECONDS = 0.5
PROCESS_OVERHEAD = 0.5


class Refused(Exception):
    """The results set cannot take this campaign: one line, exit 2, nothing written."""


def open_stores(config: Campaign, planned: list[Planned], log=console.say,
                ready: dict | None = None) -> tuple[dict[str, VariantStore], dict]:
    """Every variant's results store, checked and resumed; and the machine's fingerprint.

    Every check comes before any write, so a refusal (:class:`Refused`) leaves every file as it
    was. ``log`` gets a line per workload whose stale benchmarks were dropped. ``ready``: the
    preflight's (variant, workload) -> :class:`~harness.measure.preflight.Ready`, whose installed
    requirements are part of the workload's definition hash on that variant.
    """
    names = list(config.variants)
    machine = fingerprint.machine()
    try:
        interps = {v: fingerprint.interpreter(config.python_of(v)) for v in names}
    except OSError as e:
        raise Refused(str(e)) from None
    hashes = definition_hashes(config, planned, ready or {})
    # the settings, plus the build's version and source, readable in the state file (the interpreter
    # fingerprint, compared first, is what refuses another build)
    settings = {v: {**config.settings(), "python": interps[v]["version"],
                    "source_sha256": interps[v]["source_sha256"]} for v in names}
    stores = {v: VariantStore(config.results, config.host, v) for v in names}
    try:
        for v, store in stores.items():
            store.check(settings[v], config.fresh, machine, interps[v])
        for v, store in stores.items():
            for line in store.apply(settings[v], config.fresh, machine, interps[v], hashes[v]):
                log(f"ftbench: {line}")
    except ResultsError as e:
        raise Refused(str(e)) from None
    except OSError as e:
        raise Refused(f"cannot write results in {stores[names[0]].dir}: {e}") from None
    return stores, machine


def definition_hashes(config: Campaign, planned: list[Planned], ready: dict) -> dict[str, dict[str, str]]:
    """variant -> workload -> its definition hash there (its code, sizes and installed requirements)."""
    return {v: {p.workload.name: workload_hash(p.workload, ready.get((v, p.workload.name), preflight.NOTHING).versions)
                for p in planned} for v in config.variants}


def by_workload(planned: list[Planned]) -> dict[str, list[tuple[int, Planned]]]:
    """workload -> its [(k, Planned)] in plan order (k counts from 1): what one sweep measures together."""
    sweeps: dict[str, list[tuple[int, Planned]]] = {}
    for k, p in enumerate(planned, 1):
        sweeps.setdefault(p.workload.name, []).append((k, p))
    return sweeps


def new_invocation() -> str:
    """The id of one campaign call, recorded on every run: its start time and 6 random hex digits
    (readable in a note, and two calls started in the same second still differ)."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


class CampaignRun:
    """One execution of a campaign: its stores, the variants' environments, the server, the failures so far.

    ``measure``: for tests, replaces the real pyperf process (``measure(p, variant, round,
    pyperf_args, server_url) -> (status, error, Benchmark|None)``); no server is started and no
    C extension is probed then. ``clock``: the rounds' clock (tests simulate one). Every run of
    this execution records ``invocation`` (one per call of ``python -m harness.measure.bench``).
    ``ready``: the preflight's verdicts (see :func:`run`).
    """

    def __init__(self, config: Campaign, planned: list[Planned], stores: dict[str, VariantStore], measure=None,
                 clock=time.monotonic, invocation: str | None = None, ready: dict | None = None):
        self.config, self.planned, self.stores, self.fake = config, planned, stores, measure
        self.clock, self.invocation = clock, invocation or new_invocation()
        self.ready = ready or {}
        self.hashes = definition_hashes(config, planned, self.ready)
        self.names = list(config.variants)
        self.envs = {v: variant_env(config, v) for v in self.names}
        self.server_python = server_python(config)
        self.server = None
        self.tmp: Path | None = None
        self.failures: list[tuple[str, str, str]] = []
        self.swept: set[str] = set()  # workloads whose sweep ran in this invocation

    def probe_extensions(self) -> None:
        """Ask each variant's python once which aiohttp-stack C extensions run (recorded on every run)."""
        if self.fake is None:
            for v in self.names:
                self.envs[v][C_EXTENSIONS_ENV] = c_extensions(self.envs[v], self.config.python_of(v))

    def headline(self, machine: dict) -> str:
        """The campaign's first line: variants, host, machine, how many benchmarks are left, the profile."""
        done = len(self.planned) - len(self.owed())
        stack = f", aiohttp stack {self.envs[self.names[0]].get(C_EXTENSIONS_ENV, '?')}" if self.fake is None else ""
        return (f"ftbench: {', '.join(self.names)} on {self.config.host} (machine {machine['id']}): "
                f"{len(self.planned)} benchmarks, {done} already measured, profile {self.config.profile}, "
                f"interleaved rounds{stack}; {self.rough_duration()}")

    def owed(self) -> list[Planned]:
        """The planned benchmarks that some variant has not measured yet."""
        return [p for p in self.planned if not all(s.done(p.name) for s in self.stores.values())]

    def rough_duration(self) -> str:
        """The plan's rough wall time, before anything is timed: every benchmark left on every variant
        for the profile's minimum rounds, at TYPICAL_SECONDS per timed run of a workload (the size
        the scaffold and the built-in workloads aim at), plus each workload's confirmation budget."""
        prec = self.config.precision
        left = self.owed()
        if not left:
            return "nothing left to measure"
        per_process = (prec.values + prec.warmups) * TYPICAL_SECONDS + PROCESS_OVERHEAD
        workloads = len({p.workload.name for p in left})
        confirm = prec.reference_budget * workloads if prec.confirm_best and prec.target else 0.0
        seconds = len(left) * len(self.names) * prec.min_processes * per_process + confirm
        return (f"roughly {max(1, round(seconds / 60))} min for workloads of ~{TYPICAL_SECONDS} s "
                f"({prec.min_processes} round(s) of {len(left) * len(self.names)} processes"
                + (f", a confirmation of at most {prec.reference_budget:.0f} s a workload" if confirm else "")
                + "); refined as workloads finish")

    def progress(self, workload: str, started: float, done: int, total: int) -> str:
        """After a workload: its wall time so far, and the rest of the campaign at this pace."""
        spent = time.monotonic() - started
        line = f"  {workload} done; {done} of {total} workload(s) in {spent / 60:.1f} min"
        if done < total:
            line += f", about {spent / done * (total - done) / 60:.0f} min left at this pace"
        return line

    def start(self) -> None:
        """A scratch directory, and the embedded server if a benchmark still to measure needs it."""
        self.tmp = Path(tempfile.mkdtemp(prefix="ftbench-"))
        todo = bool(self.owed())
        # a resumed campaign may still owe a workload's confirmation after its sweep is done
        owed = todo or self.config.precision.confirm_best
        if self.fake is None and owed and any(p.workload.needs_server for p in self.planned):
            from harness.measure.server import Server

            self.server = Server(latency=self.config.latency, seed=0, python=self.server_python)
            self.server.start()
            for v in self.names:  # the probe subtracts the server's CPU: it is not foreign load
                self.envs[v][SERVER_PID_ENV] = str(self.server.pid)

    def stop(self) -> None:
        """Stop the server and remove the scratch directory, whatever happened."""
        if self.server:
            self.server.stop()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def precision_of(self, p: Planned) -> Precision:
        """The profile's precision with ``p``'s workload's own pyperf settings."""
        return effective_precision(self.config.precision, p.workload.pyperf.get(self.config.profile))

    def sweep_groups(self, items: list[tuple[int, Planned]]) -> dict[str, Group]:
        """One workload's sweep: a group per benchmark, of every variant; {} when all are measured.

        A workload that any variant still owes a benchmark is measured again whole, on every
        variant: its ratios pair by (invocation, round), so a benchmark measured alone in a later
        invocation would pair with nothing (the earlier runs stay in the files). The sequential
        reference follows the options: it is measured in every round any of them is.
        """
        live = self.live(items)
        if all(self.stores[v].done(p.name) for v in live for _, p in items):
            return {}
        groups = {p.name: Group([(v, p.name) for v in live], self.precision_of(p)) for _, p in items}
        options = tuple(p.name for _, p in items if p.strategy != "sequential")
        for _, p in items:
            if p.strategy == "sequential":
                groups[p.name] = dataclasses.replace(groups[p.name], follows=options)
        return groups

    def live(self, items: list[tuple[int, Planned]]) -> list[str]:
        """The variants that can run this workload (the preflight refused none of its benchmarks there)."""
        return [v for v in self.names if not any(self.refused(v, p) for _, p in items)]

    def ready_of(self, v: str, p: Planned) -> preflight.Ready:
        """What ``p``'s workload runs with on ``v`` (its requirements' overlay), or why it does not run there."""
        return self.ready.get((v, p.workload.name), preflight.NOTHING)

    def refused(self, v: str, p: Planned) -> str:
        """Why ``p``'s workload is not measured on ``v`` (the preflight's one line), or ''."""
        return self.ready_of(v, p).refused

    def record_refused(self, items: list[tuple[int, Planned]]) -> None:
        """Record every benchmark of a workload that a variant cannot run as failed, with the reason;
        one failure line per workload and variant (the preflight already said it)."""
        for v in self.names:
            todo = [p for _, p in items if self.refused(v, p) and not self.stores[v].done(p.name)]
            for p in todo:
                self.stores[v].record(p.name, p.identity(), "failed", self.refused(v, p))
            if todo:
                self.failures.append((f"{todo[0].workload.name}@{v}", "failed", self.refused(v, todo[0])))

    def sweep(self, items: list[tuple[int, Planned]]) -> None:
        """Measure one workload's planned benchmarks on every variant, round by round, and record them."""
        self.record_refused(items)
        groups = self.sweep_groups(items)
        if not groups:
            return
        workload, live = items[0][1].workload.name, self.live(items)
        again = sum(self.stores[v].done(p.name) for v in live for _, p in items)
        console.say(f"  {workload}: {len(groups)} benchmarks x {len(live)} variants, interleaved round by round"
                    + (f" (resumed: measured again whole, its {again} earlier benchmark(s) keep their runs)"
                       if again else ""))
        option = {(v, p.name): (v, p) for _, p in items for v in live}
        outcomes = self.measure_rounds(groups, option, workload)
        self.swept.add(workload)
        for k, p in items:
            self.record([(v, p) for v in live], outcomes, k)

    def confirm(self, items: list[tuple[int, Planned]]) -> None:
        """Measure each variant's best option and its reference again, in a number of rounds planned first.

        Owed after a sweep of this invocation, or when a confirmation benchmark is missing: then the
        whole stage runs again, on every side, so its ratios pair within one invocation.
        """
        k, p = items[-1]
        prec = self.precision_of(p)
        if not (prec.target and prec.confirm_best):
            return
        live = self.live(items)
        c = confirmation_plan({v: self.stores[v] for v in live}, [q for _, q in items])
        workload = p.workload.name
        if c is None:
            if baseline_pairs(live) and live == self.names:  # a refused variant was said by the preflight
                console.say(f"  {workload}: no confirmation: a variant has no sweep process to choose its best "
                            "option on (every one failed or was flagged for foreign load)")
            return
        if workload not in self.swept and all(self.stores[v].done(confirm_name(q)) for v, q in c.keys):
            return
        plan = size(self.stores, c, prec)
        console.say(f"  confirming {workload}: {plan.rounds} rounds planned from {plan.reason}; "
                    f"best options: {c.label()}")
        option = {(v, q.name): (v, q) for v, q in c.keys}
        group = Group(list(option), prec, planned=plan.rounds, limit=plan.limit)
        title = f"{workload} confirmation"
        outcomes = self.measure_rounds({title: group}, option, title, stage=metadata.CONFIRM)
        self.record(c.keys, outcomes, k, stage=metadata.CONFIRM,
                    extra=metadata.of(planned_rounds=plan.rounds, plan_reason=plan.reason))

    def measure_rounds(self, groups: dict[str, Group], option: dict, title: str, stage: str = "") -> dict:
        """Interleaved rounds of ``groups``; ``option``: key -> (variant, the Planned it runs)."""
        slots = {k: (*option[k], grp.prec) for grp in groups.values() for k in grp.keys}
        labels = {key: f"{q.name} on {v}" for key, (v, q) in option.items()}
        return interleave_groups(groups, functools.partial(self.measure_process, slots, stage), clock=self.clock,
                                 log=console.say, labels=labels, title=title, invocation=self.invocation)

    def measure_process(self, slots: dict, stage: str, key, r: int):
        """One pyperf process of ``key`` in round ``r``: (status, error, Benchmark|None), GIL state checked."""
        worker.raise_if_signalled()
        v, q, prec = slots[key]
        pyperf_args = ["--processes=1", f"--values={prec.values}", f"--warmups={prec.warmups}"]
        url = self.server.url if self.server and q.workload.needs_server else ""
        if self.fake is not None:
            status, error, bench = self.fake(q, v, r, pyperf_args, url)
        else:
            status, error, bench = worker.run_one(q, self.config, v, pyperf_args, url, self.envs[v], self.tmp,
                                                  tag=f"{v}-{r}{'-' + stage if stage else ''}",
                                                  overlay=self.ready_of(v, q).overlay)
        if bench is not None and (reason := worker.gil_verdict(bench, v, self.config.allow_gil)):
            return "failed", reason, None
        if bench is not None and stage:
            bench.update_metadata(metadata.of(stage=stage))
        return status, error, bench

    def record(self, entries: list[tuple[str, Planned]], outcomes: dict, k: int, stage: str = "",
               extra: dict | None = None) -> None:
        """Write each (variant, benchmark) outcome to its variant's files, and say it.

        ``outcomes`` is keyed by (variant, benchmark name); ``extra``: metadata of the stage (a
        confirmation's plan) written on every run beside how the sample was gathered.
        """
        for v, q in entries:
            o = outcomes[(v, q.name)]
            name = confirm_name(q) if stage == metadata.CONFIRM else q.name
            if o.bench is not None and o.status == "ok":
                o.bench.update_metadata(self.sample_metadata(o, q, v) | (extra or {}))
                if stage:  # its own name: the sweep's benchmark of the option stays as it was measured
                    o.bench = renamed(o.bench, name)
            self.stores[v].record(name, q.identity() | ({"stage": stage} if stage else {}), o.status, o.error,
                                  o.bench if o.status == "ok" else None, o.seconds, o.process_seconds)
            shown = name if len(self.names) == 1 else f"{name}@{v}"
            if o.status != "ok":
                self.failures.append((shown, o.status, o.error))
            console.say(console.progress_line(k, len(self.planned), shown, o.status, o.error, o.bench))
            if o.status == "ok":
                console.say(console.outcome_line(o.processes, o.precision, o.stop_reason, o.remeasured))

    def sample_metadata(self, o: Outcome, q: Planned, v: str) -> dict:
        """How the sample was gathered, for the benchmark's metadata: why it stopped, its precision, the
        server; and what was measured: the workload's file, its definition hash, its installed requirements."""
        extra = {"stop_reason": o.stop_reason, "workload_hash": self.hashes[v][q.workload.name]}
        if source := self.config.file_of(q.workload.name):
            extra["workload_file"] = source
        if installed := self.ready_of(v, q).describe():
            extra["requirements"] = installed
        if math.isfinite(o.precision):
            extra["precision"] = round(o.precision, 6)
        if q.workload.needs_server:
            extra["server_python"] = self.server_python
        return metadata.of(**extra)


def run(config: Campaign, planned: list[Planned], measure=None, ready: dict | None = None) -> int:
    """Measure every planned benchmark on every variant of ``config``, interleaved; print the summary.

    ``measure``: for tests, replaces the real pyperf process (see :class:`CampaignRun`). ``ready``:
    (variant, workload) -> :class:`~harness.measure.preflight.Ready`; by default the preflight's,
    none with a fake ``measure``. Exit status: 0, 1 if a benchmark failed (or a workload could not
    run on a variant), 2 if the results set cannot be resumed (one line, nothing written) or
    written (a full disk: one line, the files as of the last recorded benchmark), 130 when interrupted.
    """
    if ready is None and measure is None:
        names = list(dict.fromkeys(p.workload.name for p in planned))
        ready = preflight.prepare(config, names, {v: variant_env(config, v) for v in config.variants},
                                  log=console.say)
    try:
        stores, machine = open_stores(config, planned, ready=ready)
    except Refused as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    campaign = CampaignRun(config, planned, stores, measure, ready=ready)
    campaign.probe_extensions()
    console.say(campaign.headline(machine))
    started = time.monotonic()
    try:
        if measure is None:  # know the noise first (a fake pyperf process has none)
            calibration.at_start(config, planned, campaign.envs, stores, log=console.say)
        campaign.start()
        sweeps = by_workload(planned)
        for done, (workload, items) in enumerate(sweeps.items(), start=1):
            worker.raise_if_signalled()
            campaign.sweep(items)
            campaign.confirm(items)
            console.say(campaign.progress(workload, started, done, len(sweeps)))
    except KeyboardInterrupt:
        print(f"\nftbench: interrupted; everything measured so far is in {stores[config.variants[0]].dir}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    except ResultsError as e:  # a write failed (a full disk): nothing more can be kept
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    finally:
        campaign.stop()
    print(f"\nftbench: campaign done in {time.monotonic() - started:.0f} s")
    print(console.summary(stores))
    if campaign.failures:
        print(console.failures_text(campaign.failures), file=sys.stderr)
        return 1
    return 0
