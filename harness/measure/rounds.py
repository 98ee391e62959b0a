"""Interleaved rounds: how a workload's benchmarks share the machine's drift.

A workload is measured in rounds: each round runs ONE pyperf process (a fresh interpreter) per
benchmark and variant still measured, in one order (A1 B1 A2 B2, then backwards: B2 A2 B1 A1, so
no variant always runs first: :func:`round_order`). Every option of a workload's sweep on every
variant shares each round, so the slow drift of a shared machine's speed reaches a speedup's
numerator and denominator alike instead of the minutes between two benchmarks, and the analysis
pairs the two sides of a ratio by round, which cancels it. Each process's runs are tagged with
their round (``round``) and the campaign call they ran in (``invocation``): rounds pair only
within one invocation, since round 1 of a resumed campaign is not the minute of round 1 before it.

The keys of a :class:`Group` (one benchmark's variants) are stopped together by the group's rule;
the other groups go on. The rule is the precision rule (:func:`harness.measure.stopping.stop_reason`)
or, for a confirmation, a number of rounds fixed in advance (:func:`harness.measure.stopping.
planned_reason`). A group that ``follows`` others (a sequential reference follows its workload's
options) goes on while any key of theirs does, so every option's round has its reference in it. A
run flagged for foreign load stays in the benchmark, is left out of the precision, and is measured
again at once, in the same round (at most MAX_REMEASURE times per key).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from harness import metadata
from harness.measure.config import Precision
from harness.measure.stopping import HELD, half_width, planned_reason, process_means, stop_reason

MAX_REMEASURE = 2  # extra processes per variant per benchmark after runs flagged for foreign load


@dataclass
class Outcome:
    """One key's result (a variant's benchmark) after its rounds: what the campaign records."""

    status: str = "ok"
    error: str = ""
    bench: object = None  # the merged pyperf Benchmark
    precision: float = math.inf
    stop_reason: str = ""
    processes: int = 0  # rounds this key took part in
    remeasured: int = 0  # extra processes after flagged runs
    seconds: float = 0.0  # wall time of the group's processes, every key together
    own_seconds: float = 0.0  # wall time of this key's own processes, re-measures included

    def add(self, bench) -> None:
        """Merge the runs of one more process of this key."""
        import pyperf

        if self.bench is None:
            self.bench = pyperf.Benchmark(bench.get_runs())
        else:
            self.bench.add_runs(bench)

    @property
    def process_seconds(self) -> float:
        """Mean wall seconds of one of this key's processes (what sizes a later stage); 0 if none ran."""
        ran = self.processes + self.remeasured
        return self.own_seconds / ran if ran else 0.0


@dataclass
class Group:
    """Keys measured and stopped together (one benchmark's variants), under one rule.

    ``follows``: names of groups this one keeps pace with (a sequential reference follows its
    workload's options): it stops only once no key of theirs is still measured. ``planned``: a
    number of rounds fixed in advance (a confirmation), instead of the precision rule; ``limit``:
    the wall seconds after which a planned group stops anyway (stop reason "budget").
    """

    keys: list
    prec: Precision
    follows: tuple = ()
    planned: int = 0
    limit: float = math.inf


def round_order(names: list, r: int) -> list:
    """Round ``r`` (0-based): A B C, then C B A, then A B C ... so no variant always runs first."""
    return list(names) if r % 2 == 0 else list(reversed(names))


class Rounds:
    """The state of one interleaving: every group's outcomes, the keys still measured, the seconds spent.

    ``measure(key, round) -> (status, error, Benchmark | None)`` runs one pyperf process; ``clock``
    and ``log`` are replaced by tests. ``invocation``: recorded on every run beside its round.
    """

    def __init__(self, groups: dict[str, Group], measure, clock=time.monotonic, log=print,
                 labels: dict | None = None, title: str = "", invocation: str = ""):
        self.groups, self.measure, self.clock, self.log = groups, measure, clock, log
        self.labels, self.title, self.invocation = labels or {}, title, invocation
        self.group_of = {k: g for g, grp in groups.items() for k in grp.keys}
        self.out = {k: Outcome() for k in self.group_of}
        self.active = list(self.group_of)
        self.spent = dict.fromkeys(groups, 0.0)  # seconds of each group's own processes
        self.held: dict[str, str] = {}  # group -> HELD: its own rule said stop while a group it follows went on
        self.rounds = 0
        # a group that follows others decides after them, on what they decided in the same round
        self.deciding = sorted(groups, key=lambda g: bool(groups[g].follows))

    def run(self) -> dict:
        """Rounds until every group has stopped; key -> :class:`Outcome`."""
        while self.active:
            self.round()
        for g, grp in self.groups.items():
            for k in grp.keys:
                self.out[k].seconds = self.spent[g]
        return self.out

    def round(self) -> None:
        """One round: a process of every active key, then each group's rule decides whether it goes on."""
        seconds = dict.fromkeys(self.groups, 0.0)
        for k in round_order(self.active, self.rounds):
            t0 = self.clock()
            self.process(k)
            took = self.clock() - t0
            seconds[self.group_of[k]] += took
            self.out[k].own_seconds += took
        self.rounds += 1
        self.active = [k for k in self.active if self.out[k].status == "ok"]
        for k in self.active:
            self.out[k].precision = half_width(process_means(self.out[k].bench))
        for g in self.groups:
            self.spent[g] += seconds[g]
        for g in self.deciding:
            self.stop_if_done(g, seconds[g])
        if self.title:
            left = len({self.group_of[k] for k in self.active})
            planned = {grp.planned for grp in self.groups.values()}
            of = f" of {planned.pop()}" if len(planned) == 1 and 0 not in planned else ""
            self.log(f"    {self.title} round {self.rounds}{of}: {sum(seconds.values()):.0f} s"
                     + (f"; {left} benchmark(s) go on" if left and not of else ""))

    def process(self, k) -> None:
        """One process of key ``k`` in this round, measured again while flagged (at most MAX_REMEASURE)."""
        o, r = self.out[k], self.rounds + 1
        tags = metadata.of(round=r, **({"invocation": self.invocation} if self.invocation else {}))
        while True:
            status, error, bench = self.measure(k, r)
            if status != "ok":
                o.status, o.error = status, error
                return
            bench.update_metadata(tags)
            o.add(bench)
            run_meta = bench.get_runs()[-1].get_metadata()
            if metadata.get(run_meta, "foreign_flagged") != "yes":
                break
            cores = metadata.get(run_meta, "foreign_cores", 0.0) or 0.0
            said = f"  run {r} of {self.labels.get(k, k)} flagged: foreign load {cores:.2f} cores"
            if o.remeasured >= MAX_REMEASURE:
                self.log(f"{said}; kept (already re-measured {MAX_REMEASURE} times)")
                break
            o.remeasured += 1
            self.log(f"{said}; re-measuring")
        o.processes += 1

    def stop_if_done(self, g: str, round_seconds: float) -> None:
        """Stop group ``g`` when its rule says so, recording why on each of its keys.

        A group that follows others is held while any of their keys is still measured; once its own
        rule has said stop, it stops with them (stop reason "options": it ran as long as they did).
        """
        grp = self.groups[g]
        mine = [k for k in self.active if self.group_of[k] == g]
        if not mine:
            return
        if grp.planned:
            reason = planned_reason(grp.planned, self.rounds, self.spent[g], round_seconds, grp.limit)
        elif self.rounds < grp.prec.min_processes:
            return
        else:
            reason = self.held.get(g) or stop_reason(grp.prec, self.out, mine, self.rounds, self.spent[g],
                                                     round_seconds)
            if reason and any(self.group_of[k] in grp.follows for k in self.active):
                self.held[g] = HELD
                return
        if reason:
            for k in grp.keys:
                self.out[k].stop_reason = reason
            self.active = [k for k in self.active if self.group_of[k] != g]


def interleave_groups(groups: dict[str, Group], measure, clock=time.monotonic, log=print,
                      labels: dict | None = None, title: str = "", invocation: str = "") -> dict:
    """Measure every group's keys in the same interleaved rounds until each group's rule stops it.

    A round runs one process per active key (``measure(key, round)``), every group's keys in one
    order. Per group: its planned rounds, or at least ``min_processes`` rounds and then more until
    its precision rule stops it (:mod:`harness.measure.stopping`), and never before the groups it
    follows. ``seconds`` of an outcome: its group's processes, every key together. With a
    ``title``, one line per round says what is left; ``invocation`` is recorded on every run.
    """
    return Rounds(groups, measure, clock, log, labels, title, invocation).run()
