"""Run a campaign: every variant of it, workload by workload, in interleaved rounds.

``run(config, planned)`` is the execution half of ``python -m harness.measure.bench`` (the CLI half
parses and checks the input and makes the frozen :class:`~harness.measure.config.Campaign`). It is
a sequence of named steps:

1. :func:`open_stores`: the results set of every variant, checked before anything is written
   (another machine, build or settings: one line, exit 2, files untouched), then resumed; then the
   machine's noise is calibrated and recorded (:mod:`harness.measure.calibration`);
2. :meth:`CampaignRun.start`: the variants' environments, a scratch directory, the embedded server;
3. per workload, :meth:`CampaignRun.sweep`: every planned benchmark of the workload on every
   variant, in shared rounds (:mod:`harness.measure.rounds`) until each stops
   (:mod:`harness.measure.stopping`), then :meth:`CampaignRun.confirm`: each variant's best option
   measured again (:mod:`harness.measure.confirmation`);
4. :meth:`CampaignRun.record`: each benchmark's sample written at once to its variant's files, so an
   interrupted campaign keeps every benchmark it finished and the same command resumes it;
5. the summary (:mod:`harness.measure.console`) and the exit status: 0, 1 if a benchmark failed,
   2 if the results set cannot be resumed, 130 when interrupted.

Files go to ``results/raw/<host>/<variant>.{json,csv,state.json}`` (:mod:`harness.measure.results`).
Each variant file is keyed by the machine and interpreter fingerprints, the campaign settings
(among them the round rule, ``config.ROUNDS``) and each workload's definition hash: a changed
workload is measured again, never mixed with its old runs. One variant
(``nox -s bench-<variant>``) is the same code with a one-name list.
"""

from __future__ import annotations

import functools
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness import metadata
from harness.measure import calibration, console, worker
from harness.measure.config import Campaign, Precision
from harness.measure.confirmation import baseline_pairs, confirmation_plan, renamed
from harness.measure.environment import C_EXTENSIONS_ENV, SERVER_PID_ENV, c_extensions, server_python, variant_env
from harness.measure.planned import Planned, confirm_name, workload_hash
from harness.measure.results import ResultsError, VariantStore
from harness.measure.rounds import Group, Outcome, interleave_groups
from harness.measure.stopping import effective_precision, ratios_decided
from harness.provision import fingerprint


class Refused(Exception):
    """The results set cannot take this campaign: one line, exit 2, nothing written."""


def open_stores(config: Campaign, planned: list[Planned], log=console.say) -> tuple[dict[str, VariantStore], dict]:
    """Every variant's results store, checked and resumed; and the machine's fingerprint.

    Every check comes before any write, so a refusal (:class:`Refused`) leaves every file as it
    was. ``log`` gets a line per workload whose stale benchmarks were dropped.
    """
    names = list(config.variants)
    machine = fingerprint.machine()
    try:
        interps = {v: fingerprint.interpreter(config.python_of(v)) for v in names}
    except OSError as e:
        raise Refused(str(e)) from None
    hashes = {p.workload.name: workload_hash(p.workload) for p in planned}
    # the settings, plus the build's version and source, readable in the state file (the interpreter
    # fingerprint, compared first, is what refuses another build)
    settings = {v: {**config.settings(), "python": interps[v]["version"],
                    "source_sha256": interps[v]["source_sha256"]} for v in names}
    stores = {v: VariantStore(config.results, config.host, v) for v in names}
    try:
        for v, store in stores.items():
            store.check(settings[v], config.fresh, machine, interps[v])
        for v, store in stores.items():
            for line in store.apply(settings[v], config.fresh, machine, interps[v], hashes):
                log(f"ftbench: {line}")
    except ResultsError as e:
        raise Refused(str(e)) from None
    except OSError as e:
        raise Refused(f"cannot write results in {stores[names[0]].dir}: {e}") from None
    return stores, machine


def by_workload(planned: list[Planned]) -> dict[str, list[tuple[int, Planned]]]:
    """workload -> its [(k, Planned)] in plan order (k counts from 1): what one sweep measures together."""
    sweeps: dict[str, list[tuple[int, Planned]]] = {}
    for k, p in enumerate(planned, 1):
        sweeps.setdefault(p.workload.name, []).append((k, p))
    return sweeps


class CampaignRun:
    """One execution of a campaign: its stores, the variants' environments, the server, the failures so far.

    ``measure``: for tests, replaces the real pyperf process (``measure(p, variant, round,
    pyperf_args, server_url) -> (status, error, Benchmark|None)``); no server is started and no
    C extension is probed then.
    """

    def __init__(self, config: Campaign, planned: list[Planned], stores: dict[str, VariantStore], measure=None):
        self.config, self.planned, self.stores, self.fake = config, planned, stores, measure
        self.names = list(config.variants)
        self.envs = {v: variant_env(config, v) for v in self.names}
        self.server_python = server_python(config)
        self.server = None
        self.tmp: Path | None = None
        self.failures: list[tuple[str, str, str]] = []

    def probe_extensions(self) -> None:
        """Ask each variant's python once which aiohttp-stack C extensions run (recorded on every run)."""
        if self.fake is None:
            for v in self.names:
                self.envs[v][C_EXTENSIONS_ENV] = c_extensions(self.envs[v], self.config.python_of(v))

    def headline(self, machine: dict) -> str:
        """The campaign's first line: variants, host, machine, how many benchmarks are left, the profile."""
        done = sum(all(s.done(p.name) for s in self.stores.values()) for p in self.planned)
        stack = f", aiohttp stack {self.envs[self.names[0]].get(C_EXTENSIONS_ENV, '?')}" if self.fake is None else ""
        return (f"ftbench: {', '.join(self.names)} on {self.config.host} (machine {machine['id']}): "
                f"{len(self.planned)} benchmarks, {done} already measured, profile {self.config.profile}, "
                f"interleaved rounds{stack}")

    def start(self) -> None:
        """A scratch directory, and the embedded server if a benchmark still to measure needs it."""
        self.tmp = Path(tempfile.mkdtemp(prefix="ftbench-"))
        todo = any(not all(s.done(p.name) for s in self.stores.values()) for p in self.planned)
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

    def sweep_groups(self, items: list[tuple[int, Planned]]) -> tuple[dict, dict, list]:
        """One workload's sweep: (groups, key -> (variant, Planned), [(k, Planned, variants)] to record).

        Keyed by (variant, benchmark); a variant that already has a benchmark is not measured again.
        The sequential benchmark, the reference of every ratio of its workload, runs until its
        slowdowns are decided when the profile has a target and a baseline is in the campaign.
        """
        groups, option, owed = {}, {}, []
        for k, p in items:
            these = [v for v in self.names if not self.stores[v].done(p.name)]
            if not these:
                continue
            prec, decided = self.precision_of(p), None
            bases = baseline_pairs(these)
            if p.strategy == "sequential" and prec.target and bases:
                prec = prec.for_decision()
                decided = ratios_decided({(v, p.name): (b, p.name) for v, b in bases.items()},
                                         prec.decision_confidence)
            groups[p.name] = Group([(v, p.name) for v in these], prec, decided)
            option.update({(v, p.name): (v, p) for v in these})
            owed.append((k, p, these))
        return groups, option, owed

    def sweep(self, items: list[tuple[int, Planned]]) -> None:
        """Measure one workload's planned benchmarks on every variant, round by round, and record them."""
        groups, option, owed = self.sweep_groups(items)
        if not groups:
            return
        workload = items[0][1].workload.name
        console.say(f"  {workload}: {len(groups)} benchmarks x {len(self.names)} variants, interleaved round by round")
        outcomes = self.measure_rounds(groups, option, workload)
        for k, p, these in owed:
            self.record({v: p for v in these}, {v: outcomes[(v, p.name)] for v in these}, k)

    def confirm(self, items: list[tuple[int, Planned]]) -> None:
        """Measure each variant's best option of the workload again, until every best-vs-best gain is decided."""
        k, p = items[-1]
        prec = self.precision_of(p)
        if not (prec.target and prec.confirm_best):
            return
        plan = confirmation_plan(self.stores, [q for _, q in items])
        if not plan or all(self.stores[v].done(confirm_name(q)) for v, q in plan.items()):
            return
        prec = prec.for_decision()
        label = f"{p.workload.name} best options (" + ", ".join(
            f"{v} {q.strategy} x{q.workers}" for v, q in plan.items()) + ")"
        console.say(f"  confirming {label}")
        decided = ratios_decided(baseline_pairs(list(plan)), prec.decision_confidence)
        outcomes = self.measure_rounds({label: Group(list(plan), prec, decided)},
                                       {v: (v, q) for v, q in plan.items()}, label, stage=metadata.CONFIRM)
        self.record(plan, outcomes, k, stage=metadata.CONFIRM)

    def measure_rounds(self, groups: dict[str, Group], option: dict, title: str, stage: str = "") -> dict:
        """Interleaved rounds of ``groups``; ``option``: key -> (variant, the Planned it runs)."""
        slots = {k: (*option[k], grp.prec) for grp in groups.values() for k in grp.keys}
        labels = {key: f"{q.name} on {v}" for key, (v, q) in option.items()}
        return interleave_groups(groups, functools.partial(self.measure_process, slots, stage),
                                 labels=labels, title=title)

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
                                                  tag=f"{v}-{r}{'-' + stage if stage else ''}")
        if bench is not None and (reason := worker.gil_verdict(bench, v, self.config.allow_gil)):
            return "failed", reason, None
        if bench is not None and stage:
            bench.update_metadata(metadata.of(stage=stage))
        return status, error, bench

    def record(self, plan: dict[str, Planned], outcomes: dict[str, Outcome], k: int, stage: str = "") -> None:
        """Write each variant's outcome of one benchmark (or its confirmation) to its files, and say it."""
        for v, q in plan.items():
            o = outcomes[v]
            name = confirm_name(q) if stage == metadata.CONFIRM else q.name
            ok = o.bench is not None and o.status == "ok"
            if ok:
                o.bench.update_metadata(self.sample_metadata(o, q))
                if stage:  # its own name: the sweep's benchmark of the option stays as it was measured
                    o.bench = renamed(o.bench, name)
            self.stores[v].record(name, q.identity() | ({"stage": stage} if stage else {}), o.status, o.error,
                                  o.bench if o.status == "ok" else None, o.seconds)
            shown = name if len(plan) == 1 else f"{name}@{v}"
            if o.status != "ok":
                self.failures.append((shown, o.status, o.error))
            console.say(console.progress_line(k, len(self.planned), shown, o.status, o.error, o.bench))
            if o.status == "ok":
                console.say(console.outcome_line(o.processes, o.precision, o.stop_reason, o.remeasured))

    def sample_metadata(self, o: Outcome, q: Planned) -> dict:
        """How the sample was gathered, for the benchmark's metadata: why it stopped, its precision, the server."""
        extra = {"stop_reason": o.stop_reason}
        if math.isfinite(o.precision):
            extra["precision"] = round(o.precision, 6)
        if q.workload.needs_server:
            extra["server_python"] = self.server_python
        return metadata.of(**extra)


def run(config: Campaign, planned: list[Planned], measure=None) -> int:
    """Measure every planned benchmark on every variant of ``config``, interleaved; print the summary.

    ``measure``: for tests, replaces the real pyperf process (see :class:`CampaignRun`). Exit status:
    0, 1 if a benchmark failed, 2 if the results set cannot be resumed (one line, nothing written),
    130 when interrupted.
    """
    try:
        stores, machine = open_stores(config, planned)
    except Refused as e:
        print(f"ftbench bench: error: {e}", file=sys.stderr)
        return 2
    campaign = CampaignRun(config, planned, stores, measure)
    campaign.probe_extensions()
    console.say(campaign.headline(machine))
    started = time.monotonic()
    try:
        if measure is None:  # know the noise first (a fake pyperf process has none)
            calibration.at_start(config, planned, campaign.envs, stores, log=console.say)
        campaign.start()
        for items in by_workload(planned).values():
            worker.raise_if_signalled()
            campaign.sweep(items)
            campaign.confirm(items)
    except KeyboardInterrupt:
        print(f"\nftbench: interrupted; everything measured so far is in {stores[config.variants[0]].dir}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        campaign.stop()
    print(f"\nftbench: campaign done in {time.monotonic() - started:.0f} s")
    print(console.summary(stores))
    if campaign.failures:
        print(console.failures_text(campaign.failures), file=sys.stderr)
        return 1
    return 0
