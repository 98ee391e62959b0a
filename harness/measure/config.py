"""The campaign configuration: one frozen object, made once from the command line, read everywhere.

Nothing downstream mutates parsed arguments or writes ``os.environ`` to pass a setting on: the
campaign, the per-benchmark runner and the results store receive this object (or values taken
from it). :meth:`Campaign.settings` is what a resumed run must match to append to a results set.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROFILES = ("quick", "default", "rigorous")
SCALINGS = ("strong", "weak")  # strong: fixed total work; weak: each worker gets the sequential amount


@dataclass(frozen=True)
class Precision:
    """How many pyperf processes a benchmark gets: at least ``min_processes``, then more (in
    interleaved rounds) until the 95% CI half-width of the mean over processes is at most
    ``target`` (relative), ``max_processes`` is reached or ``budget`` seconds are spent."""

    min_processes: int
    max_processes: int
    target: float | None  # None: a fixed sample of min_processes
    budget: float  # seconds per benchmark, all variants together
    values: int  # pyperf values per process
    warmups: int
    # a workload's sequential benchmark, the reference of every ratio of its workload: rounds are added
    # until every variant's slowdown is decided by a decision_confidence interval (then "decided"), up to
    # reference_max_processes rounds or while the next round fits in reference_budget seconds
    reference_max_processes: int = 0  # 0: the reference follows the profile's rule like any benchmark
    reference_budget: float = 0.0
    decision_confidence: float = 0.99
    # after a workload's sweep, each variant's best option (chosen on the sweep) is measured again in
    # fresh interleaved rounds, by the reference's rule, until every best-vs-best gain is decided:
    # the gain is estimated on processes that played no part in the choice
    confirm_best: bool = False

    def for_decision(self) -> Precision:
        """The precision of a benchmark measured until its verdicts are decided: a workload's sequential
        benchmark (the denominator of every speedup of its workload and both sides of the slowdown, so
        its error enters every headline ratio) and the confirmation of its best options. Measured
        until its verdicts are decided rather than to a fixed width: a slowdown far from the margin is
        decided in the profile's minimum of rounds, one near it gets up to reference_max_processes.
        In simulation (harness.analysis.simulate.rerun_agreement, process means 1-4% noisy) two
        campaigns then agree on 97% of three-valued verdicts at about 6 processes per side on
        average with the default cap of 30 (95% with a cap of 15), against 89% at a fixed 3 and 93%
        at a fixed 6. The cap of 30 came from a rerun: numpy_blocks' slowdowns and best-vs-best
        gains (process means ~7% noisy on the VM) stopped at 15, inconclusive in one run and decided in
        the other; its rounds are short (~5 s), so the budget, not the cap, bounds the costly ones."""
        if not self.reference_max_processes:
            return self
        return dataclasses.replace(self, max_processes=max(self.min_processes, self.reference_max_processes),
                                   budget=max(self.budget, self.reference_budget))


# default: sized for ONE interleaved campaign of 3 variants x 129 benchmarks on 2 cores in <= 40 min.
# Measured on the plain builds (results/raw/vm-471cc7, budget 20 s): the 3 minimum rounds alone cost
# ~40 min (a process of 1 warm-up + 2 values, ~0.45 s of start-up and bookkeeping each; the slowest
# round, io_download sequential, 39 s), extra rounds another ~7 min: 47 min. A budget of 15 s (all
# variants of a benchmark together, never overrun: a round that would not fit is not started) keeps
# the extra rounds to the benchmarks whose rounds are short, where they buy the most precision.
# The rules added since (references until decided, confirmation of the best options) cost more:
# 85 min on the slower AMD VM of results/raw/vm-106a85, 29 of them those two stages.
PRECISION = {
    "quick": Precision(min_processes=1, max_processes=1, target=None, budget=30.0, values=2, warmups=1),
    "default": Precision(min_processes=3, max_processes=8, target=0.02, budget=15.0, values=2, warmups=1,
                         reference_max_processes=30, reference_budget=240.0, confirm_best=True),
    "rigorous": Precision(min_processes=6, max_processes=30, target=0.01, budget=300.0, values=5, warmups=1,
                          reference_max_processes=30, reference_budget=600.0, confirm_best=True),
}


# What a round holds: every benchmark of a workload on every variant (harness.measure.campaign.
# interleave_groups). Recorded in the settings, so a set measured one benchmark at a time (before
# this rule, no "rounds" setting) is never resumed and mixed with it.
ROUNDS = "workload"


@dataclass(frozen=True)
class Campaign:
    """Everything that defines a campaign. Frozen: made once by harness.measure.bench."""

    variants: tuple[str, ...]  # names from harness.variants, in measuring order
    pythons: tuple[tuple[str, str], ...]  # (variant, python executable of its benchmark venv)
    profile: str = "default"
    size: str = "default"
    scaling: str = "strong"
    results: Path = Path("results")
    host: str = "host"
    timeout: float = 600.0  # seconds per pyperf process group
    latency: tuple[float, float] = (0.02, 0.05)
    fresh: bool = False
    allow_gil: bool = False
    accelerators: str = "pure"  # or "native"
    options: tuple[tuple[str, str], ...] = ()
    precision: Precision = PRECISION["default"]
    foreign_threshold: float = 0.10  # cores of foreign load that flag a run
    server_python: str | None = None  # the embedded server's interpreter (None: the first variant's)
    extra: dict = field(default_factory=dict, compare=False, hash=False)  # not part of the identity

    def python_of(self, variant: str) -> str:
        return dict(self.pythons)[variant]

    def options_dict(self) -> dict[str, str]:
        return dict(self.options)

    def settings(self) -> dict:
        """What defines the measurements (a resume compares it): everything but where and how long."""
        out = asdict(self)
        for k in ("variants", "pythons", "results", "host", "timeout", "fresh", "extra", "server_python"):
            out.pop(k)
        out["latency"] = list(self.latency)
        out["options"] = sorted(f"{k}={v}" for k, v in self.options)
        out["rounds"] = ROUNDS
        return out
