"""One estimator for every ratio: a product of benchmark means, paired by round where the benchmarks
were measured in the same rounds, Welch over process means (with a note saying why) where not.

A *series* is one benchmark's process means, keyed by (invocation, stage, round): the campaign call
the processes ran in, the stage (the sweep, or the confirmation that re-measures after it, whose
rounds are numbered on their own) and the interleaving round. Two series measured in the same
rounds saw the same minutes of the machine, so a drift of the machine moves both alike; the paired
interval (:func:`harness.intervals.paired_product_interval`) cancels it and counts the covariance of
series that share rounds once, for a ratio (two series) as for a ratio of ratios (four).

Sets measured before the ``invocation`` key existed carry none: their runs are read as ONE
invocation, ``legacy``, shared by all files of the set, which is what those campaigns did within
one call. Their round numbers were not always shared, though: before the workload rule each
benchmark numbered its own rounds, so round 2 of a sequential run and round 2 of a threads run are
minutes apart. For a legacy set the pairing therefore also checks the run dates: the rounds are
shared only if every process of a round started before any process of the next common round.

When the series cannot be paired (fewer than two common rounds, rounds not shared, different
invocations) the estimate falls back to Welch over the process means and its ``note`` says why:
a fallback is written down, never silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np

from harness.analysis.stats import CONFIDENCE, Contrast, contrast, process_means
from harness.intervals import paired_product_interval

LEGACY = "legacy"  # the invocation of every run of a set measured before runs recorded theirs


@dataclass(frozen=True)
class Series:
    """One benchmark's process means, by round: what every ratio is estimated from."""

    label: str  # "3.13t threads x2": names the series in notes
    means: np.ndarray  # process means in run order (the Welch fallback's sample)
    keys: tuple = ()  # (invocation, stage, round) of each process in run order; () when not recorded
    started: dict = field(default_factory=dict)  # key -> (first, last) start time of its processes
    flagged: frozenset = frozenset()  # keys of runs left out for foreign load
    stop_reason: str | None = None

    def __len__(self) -> int:
        """Processes measured (the unit of replication of the Welch fallback)."""
        return len(self.means)

    def mean(self) -> float:
        """Mean over processes: the benchmark's time."""
        return float(np.mean(self.means)) if len(self.means) else math.nan

    @cached_property
    def rounds(self) -> dict:
        """{key: mean of the process means of that round}; {} when rounds were not recorded."""
        by_key: dict = {}
        if len(self.keys) != len(self.means):
            return by_key
        for k, m in zip(self.keys, self.means, strict=True):
            by_key.setdefault(k, []).append(float(m))
        return {k: float(np.mean(v)) for k, v in by_key.items()}

    @property
    def legacy(self) -> bool:
        """Measured before runs recorded their invocation."""
        return any(k[0] == LEGACY for k in self.keys)

    def subset(self, positions) -> Series:
        """The processes at ``positions`` (run order) with their rounds: one half of a split sample."""
        positions = list(positions)
        keys = tuple(self.keys[i] for i in positions) if self.keys else ()
        return Series(self.label, self.means[positions], keys, self.started, self.flagged, self.stop_reason)


def series(label: str, runs, rounds=None, invocations=None, dates=None, stage: str = "sweep",
           flagged=(), stop_reason=None) -> Series:
    """The series of one benchmark from its kept runs and their round, invocation and start date.

    A run without a round leaves the series unpaired (older results): Welch only. A run without an
    invocation belongs to the ``legacy`` invocation (see the module docstring).
    """
    means = process_means(runs)
    n = len(means)
    rounds = list(rounds or ())
    if len(rounds) != n or any(r is None for r in rounds):
        return Series(label, means, stop_reason=stop_reason)
    invocations = list(invocations or ()) or [None] * n
    dates = list(dates or ()) or [None] * n
    keys = tuple((inv or LEGACY, stage, int(r)) for r, inv in zip(rounds, invocations, strict=True))
    started: dict = {}
    for key, date in zip(keys, dates, strict=True):
        when = _parse_date(date)
        if when is not None:
            lo, hi = started.get(key, (when, when))
            started[key] = (min(lo, when), max(hi, when))
    flagged_keys = frozenset((inv or LEGACY, stage, int(r)) for inv, r in flagged if r is not None)
    return Series(label, means, keys, started, flagged_keys, stop_reason)


def _parse_date(text):
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Estimate:
    """A ratio's estimate: its contrast, whether it is paired by round, the rounds used, and why not."""

    contrast: Contrast
    paired: bool
    rounds: int  # common rounds of a paired estimate; 0 for Welch
    note: str = ""

    @property
    def estimator(self) -> str:
        """'paired' or 'welch' (the ratios table's ``estimator`` column); '' when there is no value."""
        if self.paired:
            return "paired"
        return "welch" if self.contrast.n_min > 0 else ""


def estimate(terms, confidence: float = CONFIDENCE) -> Estimate:
    """prod_i mean(series_i) ** sign_i with its 95% interval: paired by round when every series was
    measured in the same rounds (at least two), else Welch over process means with the reason.

    ``terms``: [(Series, +1 or -1), ...].
    """
    terms = list(terms)
    common = set.intersection(*(set(s.rounds) for s, _ in terms))
    reason = _unpaired_reason(terms, common)
    if reason:
        return Estimate(contrast([(s.means, sign) for s, sign in terms], confidence), False, 0, reason)
    value, low, high, se, n = paired_product_interval([(s.rounds, sign) for s, sign in terms], confidence)
    c = Contrast(value, low, high, n - 1, se, n)
    return Estimate(c, True, n, _left_out(terms, common))


def _unpaired_reason(terms, common: set) -> str:
    """Why ``terms`` cannot be paired by round ('' when they can)."""
    labels = " and ".join(dict.fromkeys(s.label for s, _ in terms))
    if any(not s.rounds for s, _ in terms):
        return f"rounds not recorded for {labels}: Welch over processes"
    if len(common) < 2:
        invocations = [{k[0] for k in s.rounds} for s, _ in terms]
        if not set.intersection(*invocations):
            return (f"{labels} ran in different invocations ("
                    + "; ".join(", ".join(sorted(i)) for i in invocations) + "): not paired, Welch over processes")
        stages = [{k[1] for k in s.rounds} for s, _ in terms]
        if not set.intersection(*stages):
            return (f"{labels} were measured in different stages (sweep, confirmation), minutes apart: "
                    "Welch over processes, the drift between them is in no interval")
        return f"{len(common)} round(s) shared by {labels}: fewer than 2 to pair, Welch over processes"
    if any(s.legacy for s, _ in terms) and not _rounds_shared(terms, common):
        return (f"older set: {labels} ran in rounds of their own, minutes apart (rounds numbered per "
                "benchmark): Welch over processes, the drift between them is in no interval")
    return ""


def _rounds_shared(terms, common: set) -> bool:
    """Every process of each common round started before any process of the next common round."""
    series = list({id(s): s for s, _ in terms}.values())
    if len({s.label for s in series}) < 2:
        return True  # one benchmark against itself (e.g. two halves): nothing to align
    keys = sorted(common)
    for k1, k2 in zip(keys, keys[1:], strict=False):
        if k1[:2] != k2[:2]:
            continue
        spans = [s.started.get(k) for s in series for k in (k1, k2)]
        if any(span is None for span in spans):
            return False  # cannot be shown to be shared
        end_first = max(s.started[k1][1] for s in series)
        start_next = min(s.started[k2][0] for s in series)
        if not end_first < start_next:
            return False
    return True


def _left_out(terms, common: set) -> str:
    """A note for rounds every side ran but one side's run was flagged for foreign load and left out."""
    everywhere = set.intersection(*(set(s.rounds) | set(s.flagged) for s, _ in terms))
    lost = sorted(everywhere - common)
    if not lost:
        return ""
    return (f"paired over {len(common)} rounds; round(s) {', '.join(str(k[2]) for k in lost)} left out "
            "(a run flagged for foreign load on one side)")
