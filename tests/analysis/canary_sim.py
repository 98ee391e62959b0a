"""A machine whose speed changes from process to process and within a process, with a speed canary.

Shared by the canary's known-truth tests. Three variants (A the baseline, B and C builds whose canary
costs 12-15% less) x options (sequential, threads, and further ones) run in interleaved rounds, one
process each per round (the order reversed every other round, as the campaign does). The machine's log speed is
a slow drift over the campaign, plus a jump per process, plus a change per value; the benchmark's
values carry it with their own noise. A *tracking* canary timed before and after each value sees the
same machine speed with its own noise; a *non-tracking* one sees only its own noise. The truths
are the options' times on a steady machine, so every ratio's truth is known.

Each simulated campaign is estimated as ratios.csv does, by the production functions: the paired
ratio by round (harness.analysis.stats.paired_contrast) for the slowdown, the gain and a speedup,
and Welch over process means (stats.contrast) for a speedup as well (the fallback of sets whose
rounds are not shared); and once more on the processes adjusted by
harness.analysis.canary.fit and adjust (centred on each variant's round) where the fit says the
canary tracks.
"""

from __future__ import annotations

import math

import numpy as np

from harness.analysis import canary, stats

TRUTH = {("A", "seq"): 1.0, ("B", "seq"): 1.3, ("C", "seq"): 1.35, ("A", "thr"): 0.9, ("B", "thr"): 0.6,
         ("C", "thr"): 0.95}
OTHERS = 0.8  # the true time of every further option (a workload sweeps ~10 per variant)
CANARY_COST = {"A": 0.004, "B": 0.0034, "C": 0.0035}
RATIOS = {  # name -> (numerator series, denominator series, estimator)
    "slowdown": (("B", "seq"), ("A", "seq"), "paired"),
    "gain": (("A", "thr"), ("B", "thr"), "paired"),
    "speedup": (("B", "seq"), ("B", "thr"), "paired"),
    "speedup welch": (("B", "seq"), ("B", "thr"), "welch"),  # the estimator of sets whose rounds are not shared
}
PAIRED = [name for name, (_, _, how) in RATIOS.items() if how == "paired"]


def campaign(rng, rounds: int, tracking: float, options: int = 2, process_sd: float = 0.08,
             value_sd: float = 0.05, drift: float = 0.10, own_sd: float = 0.02, canary_sd: float = 0.03,
             values: int = 3, unseen_sd: float = 0.0) -> list[dict]:
    """One simulated campaign: a dict per process (variant, option, round, values, canary times).

    ``tracking``: how much of the machine's log speed the canary sees (1: all of it, 0: none);
    ``unseen_sd``: a further per-process change of the benchmark's speed the canary never sees (the
    VM's noise on the benchmark's own footprint); ``options``: options per variant (sequential,
    threads, then further ones of true time OTHERS).
    """
    series = list(TRUTH) + [(v, f"o{i}") for i in range(3, options + 1) for v in ("A", "B", "C")]
    phase, period = rng.uniform(0, 2 * math.pi), 20.0 * len(series)
    out, t = [], 0
    for r in range(1, rounds + 1):
        for key in (series if r % 2 else series[::-1]):
            machine = drift * math.sin(2 * math.pi * t / period + phase) + rng.normal(0, process_sd)
            within = rng.normal(0, value_sd, values)
            logs = (math.log(TRUTH.get(key, OTHERS)) + machine + rng.normal(0, unseen_sd) + within
                    + rng.normal(0, own_sd, values))
            seen = tracking * (machine + np.repeat(within, 2))  # before and after each value
            canaries = math.log(CANARY_COST[key[0]]) + seen + rng.normal(0, canary_sd, 2 * values)
            out.append({"variant": key[0], "option": key[1], "round": r, "values": np.exp(logs),
                        "canary": float(np.mean(np.exp(canaries)))})
            t += 1
    return out


def _estimates(procs: list[dict], means: np.ndarray) -> dict:
    """Every ratio of RATIOS from the process means ``means`` (in ``procs`` order)."""
    by: dict = {}
    for p, m in zip(procs, means, strict=True):
        by.setdefault((p["variant"], p["option"]), {})[p["round"]] = float(m)
    out = {}
    for name, (num, den, how) in RATIOS.items():
        if how == "paired":
            out[name] = stats.paired_contrast(by[num], by[den])
        else:
            out[name] = stats.contrast([(np.array(list(by[num].values())), 1), (np.array(list(by[den].values())), -1)])
    return out


def estimate(procs: list[dict]) -> tuple[dict, dict, dict]:
    """(unadjusted, reported, fits): the ratios as measured, and as reported after the canary's
    decision; fits: option -> (its own fit, adjusted?), as harness.analysis.canary.apply does."""
    y = np.log([float(np.mean(p["values"])) for p in procs])
    c = np.log([p["canary"] for p in procs])
    centre = canary.centres(c, [(p["variant"], p["round"]) for p in procs])
    series = [(p["variant"], p["option"]) for p in procs]
    adjusted, fits = y.copy(), {}
    for option in dict.fromkeys(p["option"] for p in procs):
        idx = [i for i, p in enumerate(procs) if p["option"] == option]
        rest = [i for i, p in enumerate(procs) if p["option"] != option]
        own = canary.fit(y[idx], c[idx], [series[i] for i in idx])
        used, _ = canary.decide(canary.fit(y[rest], c[rest], [series[i] for i in rest]) if rest else None)
        fits[option] = (own, used)
        if used:
            adjusted[idx] = canary.adjust(y[idx], c[idx], centre[idx], own.slope)
    return _estimates(procs, np.exp(y)), _estimates(procs, np.exp(adjusted)), fits


def truth(name: str) -> float:
    """The true value of ratio ``name``."""
    num, den, _ = RATIOS[name]
    return TRUTH[num] / TRUTH[den]


def coverage(n_sim: int, rounds: int, tracking: float, seed: int = 11, **kw) -> dict:
    """Per ratio: coverage of the unadjusted and the reported CIs, their median half-widths; how often
    the sequential benchmark was adjusted and the median r of its fits."""
    rng = np.random.default_rng(seed)
    hits: dict = {(n, w): [] for n in RATIOS for w in ("unadjusted", "reported")}
    widths: dict = {k: [] for k in hits}
    used, rs = [], []
    for _ in range(n_sim):
        raw, reported, fits = estimate(campaign(rng, rounds, tracking, **kw))
        used.append(fits["seq"][1])
        rs.append(fits["seq"][0].r)
        for name in RATIOS:
            for which, est in (("unadjusted", raw), ("reported", reported)):
                c = est[name]
                hits[(name, which)].append(c.low <= truth(name) <= c.high)
                widths[(name, which)].append((c.high - c.low) / 2 / c.value)
    return {"used": float(np.mean(used)), "r": float(np.nanmedian(rs)),
            **{f"{n} {w} coverage": float(np.mean(h)) for (n, w), h in hits.items()},
            **{f"{n} {w} width": float(np.median(widths[(n, w)])) for (n, w) in hits}}
