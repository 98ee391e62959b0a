"""How many rounds a confirmation takes: fixed before the stage, from the sweep's data alone.

A two-stage design (Stein's): the sweep's rounds estimate how much each headline ratio of the
workload wanders from round to round and how far it lies from the edges of the practical margin;
from that the number of fresh confirmation rounds ``n2`` is fixed, and exactly ``n2`` rounds run.
The fresh sample's size does not depend on its own values, so the t interval computed on it keeps
its 95% promise (a sample measured until its ratio looks decided does not: stopping at the first
decided look favours the runs that happened to look decided).

For each ratio (slowdown seq_v / seq_base, gain_best best_base / best_v, best_speedup seq_v /
best_v): ``s``, the standard deviation of the per-round relative differences on the sweep's common
rounds (the se of :func:`harness.intervals.paired_ratio_interval` times sqrt(n)), and ``D``, the
log distance of the sweep's estimate to the nearer edge of the band [1/1.05, 1.05]. The interval
must end on one side of that edge to give a verdict (greater or less outside the band, equivalent
inside), so its half-width should be below ``D``; aiming at ``0.8 D`` leaves room for the
estimate to move by a fifth of that distance. The rounds needed: the smallest ``n`` with
t(0.975, n - 1) s / sqrt(n) <= max(H_MIN, 0.8 D). ``n2`` is the largest need, at least
MIN_CONFIRM_ROUNDS, at most the profile's cap, and no more than fit the profile's budget at the
sweep's seconds per round of the confirmed benchmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.intervals import MARGIN, paired_ratio_interval, t_quantile

MIN_CONFIRM_ROUNDS = 5  # every headline interval rests on at least 4 degrees of freedom
# The narrowest half-width (log scale) a plan aims at. A ratio on the edge of the margin (D = 0)
# cannot be decided by any number of rounds; aiming at 1% still narrows its interval to a useful
# width while the profile's cap bounds the cost, and below 1% the per-round spread of a shared VM
# (2 to 8% per process) would ask for hundreds of rounds.
H_MIN = 0.01
SHRINK = 0.8  # aim the half-width at this share of the distance to the margin's edge
# The confirmation's hard wall-clock limit, as a multiple of what it was sized to take (at least the
# profile's budget): only a machine far slower than during the sweep reaches it (stop reason "budget").
HARD_LIMIT = 2.0


@dataclass(frozen=True)
class Need:
    """What one headline ratio asks of the confirmation, from the sweep's rounds."""

    name: str  # e.g. "slowdown 3.13t/3.13"
    value: float  # the sweep's estimate
    spread: float  # SD of the per-round relative differences; NaN with fewer than 2 common rounds
    distance: float  # log distance of ``value`` to the nearer edge of the margin band
    rounds: int  # rounds it needs (a large number when the spread is unknown)


@dataclass(frozen=True)
class Plan:
    """The confirmation's fixed number of rounds, why, and the stage's hard wall-clock limit."""

    rounds: int
    reason: str  # what sized it: "the sweep's 3.1% round-to-round spread of slowdown 3.13t/3.13 (...)"
    round_seconds: float  # the sweep's seconds per confirmation-sized round (0: unknown)
    limit: float  # seconds after which the stage stops anyway


def margin_distance(value: float, margin: float = MARGIN) -> float:
    """Log distance of ``value`` to the nearer edge of [1/(1+margin), 1+margin] (0 on an edge)."""
    return abs(abs(math.log(value)) - math.log1p(margin))


def rounds_for(spread: float, half_width: float) -> int:
    """The fewest rounds n (>= 2) with t(0.975, n - 1) * spread / sqrt(n) <= half_width."""
    if spread <= 0:
        return 2
    n = max(2, math.floor((1.96 * spread / half_width) ** 2))  # the normal bound: t only asks for more
    while t_quantile(n - 1) * spread / math.sqrt(n) > half_width:
        n += 1
    return n


def need(name: str, num: dict, den: dict, unknown: int) -> Need | None:
    """The need of the ratio mean(num) / mean(den), series keyed alike by (invocation, round).

    None when either side is missing; ``unknown`` rounds when the sweep gives no spread (fewer
    than two common rounds).
    """
    if not num or not den:
        return None
    value, _, _, se = paired_ratio_interval(num, den)
    if not math.isfinite(value) or value <= 0:
        return None
    distance = margin_distance(value)
    if not math.isfinite(se):
        return Need(name, value, math.nan, distance, unknown)
    spread = se * math.sqrt(len(set(num) & set(den)))
    return Need(name, value, spread, distance, rounds_for(spread, max(H_MIN, SHRINK * distance)))


def plan(needs: list[Need], cap: int, budget: float, round_seconds: float) -> Plan:
    """``n2`` for ``needs`` (each headline ratio's), within [MIN_CONFIRM_ROUNDS, cap] and ``budget``.

    ``round_seconds``: the sweep's seconds per confirmation-sized round (0: unknown, no budget
    cap). The reason names the ratio that needs the most rounds and every bound that applied.
    """
    cap = max(cap, MIN_CONFIRM_ROUNDS)
    binding = max(needs, key=lambda n: n.rounds) if needs else None
    wanted = binding.rounds if binding else cap
    rounds = min(max(wanted, MIN_CONFIRM_ROUNDS), cap)
    why = [_said(binding)]
    if wanted > cap:
        why.append(f"it needs {wanted}, capped at {cap}")
    elif wanted < MIN_CONFIRM_ROUNDS:
        why.append(f"it needs {wanted}, raised to the minimum of {MIN_CONFIRM_ROUNDS}")
    if round_seconds > 0 and budget > 0:
        fit = math.floor(budget / round_seconds)
        if fit < rounds:
            rounds = max(fit, MIN_CONFIRM_ROUNDS)
            why.append(f"{fit} round(s) fit the {budget:g} s budget at {round_seconds:.1f} s a round"
                       + (f", the minimum of {MIN_CONFIRM_ROUNDS} taken anyway" if fit < MIN_CONFIRM_ROUNDS else ""))
    limit = HARD_LIMIT * max(budget, rounds * round_seconds) if budget > 0 or round_seconds > 0 else math.inf
    return Plan(rounds, "; ".join(why), round_seconds, limit)


def _said(binding: Need | None) -> str:
    """How the ratio that sized the plan is said: its spread, estimate and distance to the margin."""
    if binding is None:
        return "no ratio to size on (the profile's cap)"
    if not math.isfinite(binding.spread):
        return f"no round-to-round spread of {binding.name} (fewer than 2 common sweep rounds)"
    return (f"the sweep's {binding.spread:.1%} round-to-round spread of {binding.name} "
            f"(at {binding.value:.3f}, {binding.distance:.1%} from the margin's edge)")
