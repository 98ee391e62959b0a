"""Known truth on the production path: a simulated drifting machine measures a workload in rounds,
and the analysis's own functions estimate its ratios (numpy for the simulation only).

The machine: a process of a benchmark whose true time is ``t`` measures ``t * speed(now) * e``,
with e log-normal (sigma drawn per simulated campaign from 1-4%, the spread of process means on
the VMs ftbench runs on) and ``speed`` a swing of +-30% over 40 minutes (drift as shared VMs
show it); each process takes 3 s of the clock and the rounds alternate their order (A B, then
B A), as the campaign's do. What the analysis sees is built by its own constructors
(:func:`harness.analysis.pairing.series` into :class:`harness.analysis.cells.WorkloadCell`) and
estimated by the functions :func:`harness.analysis.ratios.ratios_table` calls
(``slowdown_rows``, ``best_option_rows``, ``against_baseline_rows``, ``regret_rows``), so the
rates below are those of the code that writes ratios.csv, not of a reimplementation.

The scenarios:

- :func:`headline_slowdown`: the headline slowdown on the confirmation rounds, whose number is
  planned before the stage from the sweep's data (:func:`plan_rounds`): a fixed sample for the
  interval, so its 95% holds;
- :func:`until_decided_slowdown`: the older sets' rule, the reference measured from 3 rounds until a
  99% interval decides (up to 30), then reported at 95% as if the sample size had been fixed;
- :func:`confirmed_best`: the winner's curse, ten equally fast options, the fastest of the sweep
  confirmed in fresh rounds;
- :func:`sweep_ratios`: speedup, gain and the four-series speedup_ratio of the sweep's shared rounds;
- :func:`ties`: how often an option truly as fast as the fastest, or truly slower, is called tied.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from harness.analysis.cells import WorkloadCell
from harness.analysis.pairing import series
from harness.analysis.stats import MARGIN
from harness.intervals import ratio_verdict, t_quantile

NOISE = (0.01, 0.04)  # process-mean noise (log sd), drawn per simulated campaign
AMPLITUDE, PERIOD, SECONDS = 0.3, 2400.0, 3.0  # drift: log-speed swing, its period, seconds per process
TRUTHS = (1.00, 1.04, 1.05, 1.06, 1.10)  # true slowdowns on and near the +-5% margin
MIN_ROUNDS, MAX_ROUNDS, TARGET = 5, 30, 0.02  # the planned confirmation: 5-30 rounds for a +-2% interval
PILOT_ROUNDS = 3  # sweep rounds the plan is sized from


def measure(rng, truths, n_sim: int, n_rounds: int, noise=NOISE) -> np.ndarray:
    """Process means of shape (n_sim, n_series, n_rounds): the series of ``truths`` (true times, one per
    series, or one row per simulation) measured in ``n_rounds`` shared rounds of a drifting machine."""
    truths = np.broadcast_to(np.asarray(truths, dtype=float), (n_sim, np.shape(truths)[-1]))
    n_series = truths.shape[1]
    position = np.arange(n_series)
    order = np.where((np.arange(n_rounds) % 2 == 0)[:, None], position, position[::-1])  # (rounds, series)
    seconds = (np.arange(n_rounds)[:, None] * n_series + order) * SECONDS
    start = rng.uniform(0, PERIOD, (n_sim, 1, 1))
    phase = rng.uniform(0, 2 * math.pi, (n_sim, 1, 1))
    speed = np.exp(AMPLITUDE * np.sin(2 * math.pi * (start + seconds[None]) / PERIOD + phase))
    sigma = rng.uniform(*noise, (n_sim, 1, 1))
    values = truths[:, None, :] * speed * np.exp(sigma * rng.standard_normal((n_sim, n_rounds, n_series)))
    return values.transpose(0, 2, 1)


def plan_rounds(pilot: np.ndarray) -> int:
    """Rounds of a confirmation planned from the sweep's pilot rounds of two series (2 x n): enough for
    a +-2% paired interval at the pilot's spread, at least 5, at most 30. The plan looks at the pilot
    only, never at the rounds it sizes, so the interval on those rounds keeps its 95%."""
    d = np.log(pilot[0]) - np.log(pilot[1])
    sd = float(np.std(d, ddof=1)) if len(d) > 1 else math.inf
    need = (t_quantile(PILOT_ROUNDS - 1) * sd / TARGET) ** 2 if sd < math.inf else MAX_ROUNDS
    return int(min(max(math.ceil(need), MIN_ROUNDS), MAX_ROUNDS))


def _series(variant: str, option: tuple, values, stage: str, start: int = 1):
    """A production series of simulated process means, one process per round of one invocation."""
    rounds = list(range(start, start + len(values)))
    return series(f"{variant} {option[0]} x{option[1]}", [(float(v),) for v in values], rounds, ["sim"] * len(values),
                  stage=stage, stop_reason="fixed")


def _cell(variant: str, options: dict, confirm: dict | None = None, kind: str = "cpu", cores: int = 2):
    """A WorkloadCell of simulated series: ``options`` and ``confirm`` map (strategy, workers) -> means."""
    return WorkloadCell("sim", variant, "w", kind, cores,
                        {o: _series(variant, o, v, "sweep") for o, v in options.items()}, {},
                        {o: _series(variant, o, v, "confirm") for o, v in (confirm or {}).items()})


SEQ = ("sequential", 1)


def _rates(values, lows, highs, truth: float, margin: float = MARGIN) -> dict:
    """Coverage (two-sided: the truth inside the 95% CI), how often the CI lies wholly above or below
    the truth, the verdict shares, and the wrong-verdict rate against the truth's own side of the margin."""
    values, lows, highs = (np.asarray(x, dtype=float) for x in (values, lows, highs))
    verdicts = np.array([ratio_verdict(lo, hi, margin) for lo, hi in zip(lows, highs, strict=True)])
    true_side = ratio_verdict(truth, truth, margin)  # the verdict an exact measurement would give
    share = {v: float(np.mean(verdicts == v)) for v in ("greater", "equivalent", "less", "inconclusive")}
    wrong = {v: share[v] for v in ("greater", "equivalent", "less") if not _allowed(v, truth, margin)}
    return {"truth": truth, "n_sim": len(values), "coverage": float(np.mean((lows <= truth) & (truth <= highs))),
            "above": float(np.mean(lows > truth)), "below": float(np.mean(highs < truth)), **share,
            "wrong": float(sum(wrong.values())), "wrong_verdicts": wrong, "true_side": true_side,
            "bias": float(np.exp(np.mean(np.log(values / truth))) - 1)}


def _allowed(verdict: str, truth: float, margin: float) -> bool:
    """Whether ``verdict`` is a right call for a true ratio ``truth``: at exactly the margin neither
    "greater" nor "equivalent" is (the truth is on neither side), so both count as wrong there."""
    up, down = 1 + margin, 1 / (1 + margin)
    if verdict == "greater":
        return truth > up
    if verdict == "less":
        return truth < down
    return down < truth < up


def headline_slowdown(truth: float, n_sim: int = 1000, seed: int = 1, margin: float = MARGIN,
                      rounds: int | None = None) -> dict:
    """The headline slowdown of a variant ``truth`` times slower single-threaded than its baseline,
    on confirmation rounds planned from a 3-round pilot (or a fixed number of ``rounds``), through
    ``ratios.slowdown_rows``."""
    from harness.analysis.ratios import slowdown_rows

    rng = np.random.default_rng([seed, round(truth * 1e4)])
    pilot = measure(rng, [truth, 1.0], n_sim, PILOT_ROUNDS)
    plans = [rounds or plan_rounds(p) for p in pilot]
    out = {"value": [], "low": [], "high": [], "rounds": plans}
    for n in sorted(set(plans)):
        which = [i for i, p in enumerate(plans) if p == n]
        data = measure(rng, [truth, 1.0], len(which), n)
        for mine, theirs in data:
            row = slowdown_rows(_cell("B", {SEQ: mine}, {SEQ: mine}), _cell("A", {SEQ: theirs}, {SEQ: theirs}),
                                margin)[0]
            out["value"].append(row["value"])
            out["low"].append(row["ci_low"])
            out["high"].append(row["ci_high"])
    got = _rates(out["value"], out["low"], out["high"], truth, margin)
    got["mean_rounds"] = float(np.mean(plans))
    return got


def decided_at(num: np.ndarray, den: np.ndarray, first: int = 3, confidence: float = 0.99,
               margin: float = MARGIN) -> np.ndarray:
    """The rounds at which the older campaigns' rule stopped each simulated reference (n_sim x cap
    series): the first n >= ``first`` whose paired interval (harness.intervals.paired_product_interval,
    vectorised over simulations) at ``confidence`` decides the verdict, else the cap."""
    n_sim, cap = num.shape
    stop = np.full(n_sim, cap)
    up, down = 1 + margin, 1 / (1 + margin)
    for n in range(first, cap):
        x, y = num[:, :n], den[:, :n]
        mx, my = x.mean(1), y.mean(1)
        value = mx / my
        se = (x / mx[:, None] - y / my[:, None]).std(1, ddof=1) / math.sqrt(n)
        t = t_quantile(n - 1, confidence)
        low, high = value * np.exp(-t * se), value * np.exp(t * se)
        decided = (low > up) | (high < down) | ((low >= down) & (high <= up))
        stop = np.where((stop == cap) & decided, n, stop)
    return stop


def until_decided_slowdown(truth: float, n_sim: int = 1000, seed: int = 2, margin: float = MARGIN,
                           first: int = 3, cap: int = 30, decide_at: float = 0.99) -> dict:
    """The older sets' rule: the two references measured from ``first`` rounds, one more at a time
    until the ``decide_at`` paired interval decides (or ``cap``, :func:`decided_at`), then reported at
    95% by the sweep-slowdown path of ``ratios.slowdown_rows``."""
    from harness.analysis.ratios import slowdown_rows

    rng = np.random.default_rng([seed, round(truth * 1e4)])
    data = measure(rng, [truth, 1.0], n_sim, cap)
    used = decided_at(data[:, 0], data[:, 1], first, decide_at, margin)
    values, lows, highs = [], [], []
    for (mine, theirs), n in zip(data, used, strict=True):
        row = slowdown_rows(_cell("B", {SEQ: mine[:n]}), _cell("A", {SEQ: theirs[:n]}), margin)[0]
        values.append(row["value"])
        lows.append(row["ci_low"])
        highs.append(row["ci_high"])
    got = _rates(values, lows, highs, truth, margin)
    got["mean_rounds"] = float(np.mean(used))
    got["stopped_at_first"] = float(np.mean(used == first))
    return got


def confirmed_best(n_sim: int = 1000, seed: int = 3, options: int = 10, confirm_rounds: int = 8,
                   margin: float = MARGIN) -> dict:
    """Winner's curse: the variant's ``options`` options all truly 0.55 s, the baseline's best 0.5 s
    (its others 0.8 s), both sequential references 1.0 s. The sweep measures all of them in 3
    shared rounds, the fastest of each variant is confirmed with its reference in ``confirm_rounds``
    fresh rounds, and ``ratios.best_option_rows`` estimates best_speedup (truth 1 / 0.55) and
    gain_best (truth 0.5 / 0.55). Also the naive gain, estimated on the sweep rounds that chose it."""
    from harness.analysis.pairing import estimate
    from harness.analysis.ratios import best_option_rows
    from harness.analysis.selection import fastest

    rng = np.random.default_rng(seed)
    names = [SEQ] + [("threads", w) for w in range(1, options + 1)]
    variant = [1.0] + [0.55] * options
    base = [1.0, 0.5] + [0.8] * (options - 1)
    sweep = measure(rng, variant + base, n_sim, PILOT_ROUNDS)
    rows: dict = {"best_speedup": ([], [], []), "gain_best": ([], [], []), "naive": []}
    for sim in sweep:
        mine = dict(zip(names, sim[:len(names)], strict=True))
        theirs = dict(zip(names, sim[len(names):], strict=True))
        cells = [_cell(v, opts) for v, opts in (("B", mine), ("A", theirs))]
        chosen = [fastest(c.options) for c in cells]
        truths = [[variant[names.index(SEQ)], variant[names.index(chosen[0])]],
                  [base[names.index(SEQ)], base[names.index(chosen[1])]]]
        fresh = measure(rng, truths[0] + truths[1], 1, confirm_rounds)[0]
        cell, base_cell = (_cell(v, opts, {SEQ: f[0], o: f[1]}) for v, opts, o, f in
                           (("B", mine, chosen[0], fresh[:2]), ("A", theirs, chosen[1], fresh[2:])))
        for row in best_option_rows(cell, base_cell, margin):
            for acc, key in zip(rows[row["metric"]], ("value", "ci_low", "ci_high"), strict=True):
                acc.append(row[key])
        naive = estimate([(base_cell.options[chosen[1]], 1), (cell.options[chosen[0]], -1)])
        rows["naive"].append(naive.contrast.value)
    out = {m: _rates(*rows[m], truth, margin) for m, truth in (("best_speedup", 1 / 0.55), ("gain_best", 0.5 / 0.55))}
    out["naive_bias"] = float(np.exp(np.mean(np.log(np.asarray(rows["naive"]) / (0.5 / 0.55)))) - 1)
    return out


def sweep_ratios(n_sim: int = 1000, seed: int = 4, n_rounds: int = 5, margin: float = MARGIN) -> dict:
    """The sweep's ratios of one option on two variants in shared rounds on the drifting machine:
    the variant's sequential 1.1 s and threads x2 0.55 s, the baseline's 1.0 s and 0.5 s: speedup
    (truth 2.0), gain (0.5 / 0.55) and speedup_ratio (2.0 / 2.0 = 1.0), through ``own_speedup_rows``
    and ``against_baseline_rows``."""
    from harness.analysis.ratios import against_baseline_rows, own_speedup_rows

    rng = np.random.default_rng(seed)
    opt = ("threads", 2)
    truths = {"speedup": 1.1 / 0.55, "gain": 0.5 / 0.55, "speedup_ratio": (1.1 / 0.55) / (1.0 / 0.5)}
    data = measure(rng, [1.1, 0.55, 1.0, 0.5], n_sim, n_rounds)
    got: dict = {m: ([], [], []) for m in truths}
    for seq, mine, base_seq, theirs in data:
        cell, base = _cell("B", {SEQ: seq, opt: mine}), _cell("A", {SEQ: base_seq, opt: theirs})
        for row in own_speedup_rows(cell, margin) + against_baseline_rows(cell, base, margin):
            if row["metric"] in got:
                for acc, key in zip(got[row["metric"]], ("value", "ci_low", "ci_high"), strict=True):
                    acc.append(row[key])
    return {m: _rates(*got[m], truths[m], margin) for m in truths}


def ties(truth: float, n_sim: int = 1000, seed: int = 5, n_rounds: int = 5, margin: float = MARGIN) -> dict:
    """How often an option ``truth`` times slower than the fastest (truth 1.0: as fast) is tied with
    it by ``ratios.regret_rows``: its regret CI wholly inside the margin band."""
    from harness.analysis.ratios import regret_rows

    rng = np.random.default_rng([seed, round(truth * 1e4)])
    a, b = ("threads", 2), ("processes", 2)
    data = measure(rng, [0.5, 0.5 * truth], n_sim, n_rounds)
    tied = []
    for fast, slow in data:
        rows = regret_rows(_cell("B", {a: fast, b: slow}), margin)
        tied.append(sum(r["verdict"] in ("fastest", "equivalent") for r in rows) == 2)
    return {"truth": truth, "n_sim": n_sim, "tied": float(np.mean(tied))}


__all__ = ["MARGIN", "NOISE", "TRUTHS", "confirmed_best", "decided_at", "error_rates", "headline_slowdown", "measure",
           "plan_rounds", "sweep_ratios", "ties", "until_decided_slowdown"]


@lru_cache(maxsize=4)
def error_rates(n_sim: int = 1000, margin: float = MARGIN) -> tuple[dict, ...]:
    """The report's known-truth table: the headline slowdown at each of :data:`TRUTHS` on planned
    confirmation rounds, at the margin on the fewest rounds a plan may give, then the older rule
    (until decided) at the margin; computed once per process."""
    return (*(headline_slowdown(t, n_sim, margin=margin) for t in TRUTHS),
            headline_slowdown(1 + margin, n_sim, margin=margin, rounds=MIN_ROUNDS),
            until_decided_slowdown(1 + margin, n_sim, margin=margin))
