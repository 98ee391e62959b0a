"""The campaign configuration: one frozen object, made once from the command line, read everywhere.

Nothing downstream mutates parsed arguments or writes ``os.environ`` to pass a setting on: the
campaign, the per-benchmark runner and the results store receive this object (or values taken
from it). :meth:`Campaign.settings` is what a resumed run must match to append to a results set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

PROFILES = ("quick", "default", "rigorous")
SCALINGS = ("strong", "weak")  # strong: fixed total work; weak: each worker gets the sequential amount


@dataclass(frozen=True)
class Precision:
    """How many pyperf processes a benchmark gets, in the sweep and in the confirmation stage.

    Sweep: at least ``min_processes``, then more (in interleaved rounds) until the 95% CI
    half-width of the mean over processes is at most ``target`` (relative), ``max_processes`` is
    reached or ``budget`` seconds are spent (harness.measure.stopping). Confirmation
    (``confirm_best``): a number of fresh rounds fixed before the stage from the sweep's data
    (harness.measure.sizing), at most ``reference_max_processes`` and sized to fit
    ``reference_budget`` seconds.
    """

    min_processes: int
    max_processes: int
    target: float | None  # None: a fixed sample of min_processes
    budget: float  # seconds per benchmark, all variants together
    values: int  # pyperf values per process
    warmups: int
    # the confirmation stage's cap on its planned rounds, and the seconds its rounds are sized to fit
    reference_max_processes: int = 0
    reference_budget: float = 0.0
    # after a workload's sweep, each variant's best option (chosen on the sweep) and its sequential
    # reference are measured again in fresh interleaved rounds, as many as planned from the sweep: the
    # headline ratios are estimated on processes that played no part in choosing the option nor in
    # deciding how many rounds to take, so their 95% t interval keeps its promise
    confirm_best: bool = False


# The profiles. default: sized for one interleaved campaign of every variant on a 2-core machine
# within a working session; its minimum of 3 rounds is most of the sweep's cost. A budget (all
# variants of a benchmark together, never overrun: a round that would not fit is not started) keeps
# the extra rounds to the benchmarks whose rounds are short, where they buy the most precision; the
# confirmation gets its own, larger one, sized so that a one-workload campaign of the three variants
# (a workload of ~0.5 s) ends within about 6 minutes on a 2-core machine: its rounds are planned to
# fit it (harness.measure.sizing), so a ratio near the margin gets fewer rounds, never a wrong CI.
PRECISION = {
    "quick": Precision(min_processes=1, max_processes=1, target=None, budget=30.0, values=2, warmups=1),
    "default": Precision(min_processes=3, max_processes=8, target=0.02, budget=15.0, values=2, warmups=1,
                         reference_max_processes=30, reference_budget=120.0, confirm_best=True),
    "rigorous": Precision(min_processes=6, max_processes=30, target=0.01, budget=300.0, values=5, warmups=1,
                          reference_max_processes=30, reference_budget=600.0, confirm_best=True),
}


# What a round holds: every benchmark of a workload on every variant, each variant's sequential
# reference in every round any of its options runs; then the confirmation's planned rounds of the
# best options beside their references (harness.measure.rounds, harness.measure.sizing). Recorded in
# the settings, so a set measured under another round rule is never resumed and mixed with it.
ROUNDS = "workload, reference with its options, planned confirmation"


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
    # where each workload comes from, (name, file), and what its file needs installed, (name,
    # requirements): each process imports that file alone, with its requirements' overlay; a
    # workload's definition hash (per workload, in the results) is what a resume compares
    workload_files: tuple[tuple[str, str], ...] = ()
    requirements: tuple[tuple[str, tuple[str, ...]], ...] = ()
    allow_source_builds: bool = False  # requirements may be built from source (default: wheels only)

    def python_of(self, variant: str) -> str:
        """The python of ``variant``'s benchmark venv."""
        return dict(self.pythons)[variant]

    def file_of(self, workload: str) -> str | None:
        """The file that defines ``workload`` (None: not known; the process then discovers every workload)."""
        return dict(self.workload_files).get(workload)

    def requirements_of(self, workload: str) -> tuple[str, ...]:
        """What ``workload``'s file declares in ``requires=`` (empty: it runs on the venv alone)."""
        return dict(self.requirements).get(workload, ())

    def settings(self) -> dict:
        """What defines the measurements (a resume compares it): everything but where and how long."""
        out = asdict(self)
        # where and how long; and each workload's origin and requirements, which its definition hash covers
        for k in ("variants", "pythons", "results", "host", "timeout", "fresh", "server_python",
                  "workload_files", "requirements", "allow_source_builds"):
            out.pop(k)
        out["latency"] = list(self.latency)
        out["options"] = sorted(f"{k}={v}" for k, v in self.options)
        out["rounds"] = ROUNDS
        return out
