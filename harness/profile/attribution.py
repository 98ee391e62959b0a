"""CPU seconds by category for one run, and the extra CPU of N workers over one, by category.

A run's profile sums its samples' weights (ns of CPU) by category (:mod:`harness.profile.categories`),
by the C function that decided the category and by the innermost Python function. Comparing the
sequential run with the N-worker run of the same tasks gives the *extra* CPU that N workers
spend on the same work, CPU(N) - CPU(1), category by category: where contention goes.

Honesty rules, all here:
- a category's figures are given only when the two runs hold at least :data:`MIN_SAMPLES` of its
  samples together; below that it reads "too few samples", never a percentage;
- a category's share is its growth over the sum of the growths (categories that shrank give
  nothing), so shares add up to 100% and never exceed it;
- the extra as a whole is attributed only when it stands out of the sampling noise (two standard
  deviations of a Poisson count difference, ``2 * sqrt(n1 + nN)`` samples) and is at least
  :data:`MIN_EXTRA` of the sequential run's CPU; otherwise the verdict is that there is little
  extra CPU to explain.
Stdlib only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.profile import categories, pysource, stacks

MIN_SAMPLES = 20  # samples of a category (both runs together) below which no figure is shown
MIN_EXTRA = 0.10  # extra CPU below this fraction of the sequential run's is "little extra CPU"
NOISE_SIGMAS = 2.0  # the extra must exceed this many standard deviations of the sampling noise
TOP = 5  # functions listed per table


@dataclass
class RunProfile:
    """One recorded run: its samples summed by category, deciding C function and Python function."""

    samples: int = 0
    cpu_ns: int = 0
    category_ns: Counter = field(default_factory=Counter)
    category_samples: Counter = field(default_factory=Counter)
    c_ns: Counter = field(default_factory=Counter)  # (category, symbol) -> ns
    py_ns: Counter = field(default_factory=Counter)  # (category, "py::..." or "") -> ns

    def add(self, sample: stacks.Sample) -> None:
        """Count one sample."""
        a = categories.classify(sample.frames)
        self.samples += 1
        self.cpu_ns += sample.period
        self.category_ns[a.category] += sample.period
        self.category_samples[a.category] += 1
        self.c_ns[(a.category, a.symbol)] += sample.period
        self.py_ns[(a.category, a.python or "")] += sample.period

    @property
    def cpu_s(self) -> float:
        """CPU seconds the samples stand for."""
        return self.cpu_ns / 1e9

    def top(self, n: int = TOP) -> dict:
        """The run's own table: CPU by category and its heaviest C and Python functions."""
        return {
            "categories": {c: {"cpu_s": self.category_ns[c] / 1e9, "samples": self.category_samples[c]}
                           for c in categories.CATEGORIES},
            "top_c": [{"category": c, "function": s, "cpu_s": ns / 1e9} for (c, s), ns in _heaviest(self.c_ns, n)],
            "top_python": [{"category": c, "function": _py_name(p), "cpu_s": ns / 1e9}
                           for (c, p), ns in _heaviest(self.py_ns, n) if p],
        }


def profile(samples: Iterable[stacks.Sample]) -> RunProfile:
    """The profile of a run's samples."""
    out = RunProfile()
    for s in samples:
        out.add(s)
    return out


def _heaviest(counter: Counter, n: int) -> list:
    return sorted(((k, v) for k, v in counter.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))[:n]


def _py_name(symbol: str) -> str:
    return str(pysource.resolve(symbol)) if symbol else ""


@dataclass(frozen=True)
class CategoryExtra:
    """One category's CPU at 1 and N workers, its extra, and its share of the growth (None: too few samples)."""

    category: str
    cpu_1_s: float
    cpu_n_s: float
    samples_1: int
    samples_n: int
    share: float | None
    top_c: tuple[tuple[str, float], ...]  # (function, extra s), growing ones first
    top_python: tuple[tuple[str, float], ...]  # ("name at file:line", extra s)

    @property
    def extra_s(self) -> float:
        """CPU(N) - CPU(1) in this category."""
        return self.cpu_n_s - self.cpu_1_s

    @property
    def enough(self) -> bool:
        """Do the two runs hold enough of its samples for a figure?"""
        return self.samples_1 + self.samples_n >= MIN_SAMPLES

    @property
    def label(self) -> str:
        """The category's name in tables."""
        return categories.LABELS[self.category]


@dataclass(frozen=True)
class Extra:
    """The extra CPU of the N-worker run over the sequential one, by category."""

    cpu_1_s: float
    cpu_n_s: float
    samples_1: int
    samples_n: int
    categories: tuple[CategoryExtra, ...]
    top_c: tuple[tuple[str, float], ...] = ()  # (function, extra s) over all categories, growing ones first
    top_python: tuple[tuple[str, float], ...] = ()

    @property
    def extra_s(self) -> float:
        """CPU(N) - CPU(1), all categories."""
        return self.cpu_n_s - self.cpu_1_s

    @property
    def noise_samples(self) -> float:
        """Two standard deviations of the sample-count difference (Poisson counts)."""
        return NOISE_SIGMAS * math.sqrt(self.samples_1 + self.samples_n)

    @property
    def resolved(self) -> bool:
        """Is there extra CPU to attribute: above the sampling noise and at least MIN_EXTRA of CPU(1)?"""
        return (self.samples_n - self.samples_1 > self.noise_samples
                and self.extra_s >= MIN_EXTRA * self.cpu_1_s and self.cpu_1_s > 0)

    @property
    def main(self) -> CategoryExtra | None:
        """The category that takes most of the extra CPU, if the extra is resolved and it has enough samples."""
        if not self.resolved:
            return None
        best = max(self.categories, key=lambda c: c.extra_s)
        return best if best.enough and best.share else None

    def cause(self) -> str | None:
        """The why-verdict's cause: '58% of the extra CPU in reference counting, top: `f` in `g` at x.py:41'."""
        main = self.main
        if main is None:
            return None
        text = f"{main.share:.0%} of the extra CPU in {main.label}"
        if main.top_c:
            text += f", top: `{main.top_c[0][0]}`"
            if main.top_python:
                name, _, where = main.top_python[0][0].partition(" at ")
                text += f" in `{name}`" + (f" at {where}" if where else "")
        return text

    def note(self) -> str:
        """One line for a table: the cause, or why there is none."""
        if self.cpu_1_s <= 0:
            return "no samples in the sequential run"
        rel = self.extra_s / self.cpu_1_s
        if not self.resolved:
            grew = max((c for c in self.categories if c.enough), key=lambda c: c.extra_s, default=None)
            largest = (f"; largest growth: {grew.label} {grew.extra_s:+.3f} s"
                       if grew is not None and grew.extra_s > 0 else "")
            return (f"little extra CPU: {rel:+.0%} of the sequential run's "
                    f"({self.samples_n - self.samples_1:+d} samples, noise +-{self.noise_samples:.0f}){largest}")
        return self.cause() or f"extra CPU {rel:+.0%}, no category with enough samples"

    def to_json(self) -> dict:
        """The extra as stored in the N-worker run's profile file."""
        return {
            "cpu_1_s": self.cpu_1_s, "cpu_n_s": self.cpu_n_s, "extra_s": self.extra_s,
            "samples_1": self.samples_1, "samples_n": self.samples_n, "resolved": self.resolved,
            "cause": self.cause(), "note": self.note(),
            "top_c": [list(t) for t in self.top_c], "top_python": [list(t) for t in self.top_python],
            "categories": [{"category": c.category, "label": c.label, "cpu_1_s": c.cpu_1_s, "cpu_n_s": c.cpu_n_s,
                            "extra_s": c.extra_s, "samples_1": c.samples_1, "samples_n": c.samples_n,
                            "enough": c.enough, "share": c.share,
                            "top_c": [list(t) for t in c.top_c], "top_python": [list(t) for t in c.top_python]}
                           for c in self.categories],
        }


def _growth(one: Counter, many: Counter, category: str | None, name, n: int) -> tuple[tuple[str, float], ...]:
    """What grew most from ``one`` to ``many`` in one category (None: all, summed over categories).

    Keys are (category, what); the result is (name(what), extra s), growing ones first.
    """
    def by_what(counter: Counter) -> Counter:
        out: Counter = Counter()
        for (c, what), ns in counter.items():
            if what and (category is None or c == category):
                out[what] += ns
        return out

    a, b = by_what(one), by_what(many)
    grown = sorted(((b[k] - a[k], k) for k in {*a, *b}), key=lambda t: (-t[0], t[1]))
    return tuple((name(k), d / 1e9) for d, k in grown[:n] if d > 0)


def extra(one: RunProfile, many: RunProfile, n: int = TOP) -> Extra:
    """The extra CPU of ``many`` (N workers) over ``one`` (sequential), by category."""
    growth = {c: many.category_ns[c] - one.category_ns[c] for c in categories.CATEGORIES}
    total_growth = sum(d for d in growth.values() if d > 0)
    rows = []
    for c in categories.CATEGORIES:
        enough = one.category_samples[c] + many.category_samples[c] >= MIN_SAMPLES
        share = max(growth[c], 0) / total_growth if enough and total_growth > 0 else None
        rows.append(CategoryExtra(c, one.category_ns[c] / 1e9, many.category_ns[c] / 1e9, one.category_samples[c],
                                  many.category_samples[c], share,
                                  _growth(one.c_ns, many.c_ns, c, str, n),
                                  _growth(one.py_ns, many.py_ns, c, _py_name, n)))
    return Extra(one.cpu_s, many.cpu_s, one.samples, many.samples, tuple(rows),
                 _growth(one.c_ns, many.c_ns, None, str, n), _growth(one.py_ns, many.py_ns, None, _py_name, n))
