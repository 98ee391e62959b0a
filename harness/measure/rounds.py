"""Interleaved rounds: how a workload's benchmarks share the machine's drift.

A workload is measured in rounds: each round runs ONE pyperf process (a fresh interpreter) per
benchmark and variant still measured, in one order (A1 B1 A2 B2, then backwards: B2 A2 B1 A1, so
no variant always runs first: :func:`round_order`). Every option of a workload's sweep on every
variant shares each round, so the slow drift of a shared machine's speed reaches a speedup's
numerator and denominator alike instead of the minutes between two benchmarks, and the analysis
pairs the two sides of a cross-variant ratio by round, which cancels it. Each process's runs are
tagged with their round (``round``).

The keys of a :class:`Group` (one benchmark's variants) are stopped together by the group's rule
(:func:`harness.measure.stopping.stop_reason`); the other groups go on. A run flagged for foreign
load stays in the benchmark, is left out of the precision, and is measured again at once (at most
MAX_REMEASURE times per key).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from harness import metadata
from harness.measure.config import Precision
from harness.measure.stopping import half_width, process_means, stop_reason

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

    def add(self, bench) -> None:
        """Merge the runs of one more process of this key."""
        import pyperf

        if self.bench is None:
            self.bench = pyperf.Benchmark(bench.get_runs())
        else:
            self.bench.add_runs(bench)


@dataclass
class Group:
    """Keys measured and stopped together (one benchmark's variants), under one precision rule."""

    keys: list
    prec: Precision
    decided: object = None  # decided(outcomes, active) -> bool: a reference's rule (stopping.ratios_decided)


def round_order(names: list, r: int) -> list:
    """Round ``r`` (0-based): A B C, then C B A, then A B C ... so no variant always runs first."""
    return list(names) if r % 2 == 0 else list(reversed(names))


class Rounds:
    """The state of one interleaving: every group's outcomes, the keys still measured, the seconds spent.

    ``measure(key, round) -> (status, error, Benchmark | None)`` runs one pyperf process; ``clock``
    and ``log`` are replaced by tests.
    """

    def __init__(self, groups: dict[str, Group], measure, clock=time.monotonic, log=print,
                 labels: dict | None = None, title: str = ""):
        self.groups, self.measure, self.clock, self.log = groups, measure, clock, log
        self.labels, self.title = labels or {}, title
        self.group_of = {k: g for g, grp in groups.items() for k in grp.keys}
        self.out = {k: Outcome() for k in self.group_of}
        self.active = list(self.group_of)
        self.spent = dict.fromkeys(groups, 0.0)  # seconds of each group's own processes
        self.rounds = 0

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
            seconds[self.group_of[k]] += self.clock() - t0
        self.rounds += 1
        self.active = [k for k in self.active if self.out[k].status == "ok"]
        for k in self.active:
            self.out[k].precision = half_width(process_means(self.out[k].bench))
        for g in self.groups:
            self.spent[g] += seconds[g]
            self.stop_if_done(g, seconds[g])
        if self.title:
            left = len({self.group_of[k] for k in self.active})
            self.log(f"    {self.title} round {self.rounds}: {sum(seconds.values()):.0f} s"
                     + (f"; {left} benchmark(s) go on" if left else ""))

    def process(self, k) -> None:
        """One process of key ``k`` in this round, measured again while flagged (at most MAX_REMEASURE)."""
        o, r = self.out[k], self.rounds + 1
        while True:
            status, error, bench = self.measure(k, r)
            if status != "ok":
                o.status, o.error = status, error
                return
            bench.update_metadata(metadata.of(round=r))
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
        """Stop group ``g`` when its rule says so, recording why on each of its keys."""
        grp = self.groups[g]
        mine = [k for k in self.active if self.group_of[k] == g]
        if not mine or self.rounds < grp.prec.min_processes:
            return
        reason = stop_reason(grp.prec, grp.decided, self.out, mine, self.rounds, self.spent[g], round_seconds)
        if reason:
            for k in grp.keys:
                self.out[k].stop_reason = reason
            self.active = [k for k in self.active if self.group_of[k] != g]


def interleave_groups(groups: dict[str, Group], measure, clock=time.monotonic, log=print,
                      labels: dict | None = None, title: str = "") -> dict:
    """Measure every group's keys in the same interleaved rounds until each group's rule stops it.

    A round runs one process per active key (``measure(key, round)``), every group's keys in one
    order. Per group: at least ``min_processes`` rounds, then more until its rule stops it
    (:func:`harness.measure.stopping.stop_reason`). ``seconds`` of an outcome: its group's
    processes, every key together. With a ``title``, one line per round says what is left.
    """
    return Rounds(groups, measure, clock, log, labels, title).run()
