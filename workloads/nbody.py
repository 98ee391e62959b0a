"""An n-body simulation in pure Python: float arithmetic on lists, the standard suite's numeric case.

A star and four planets on seeded near-circular orbits are integrated with a symplectic
(semi-implicit Euler) step, pair by pair. This is the kind of loop pyperformance's ``nbody``
measures (the inspiration; the code and the systems here are ftbench's own): float operations
on small lists, the work issue 14 measured 3.13t slowest on (2.69x). Each task is one seeded
system, so the 20 tasks are independent and run under every strategy. The check computes the
energy of each system a second way (from the seed and from the returned final state) and
recomputes the first task exactly.
"""

import functools
import math
import random

from harness import CheckFailed, Context, Workload, paired

COUNT = 20  # systems per run
PLANETS = 4
DT = 0.002  # time step: the innermost orbit (radius >= 1, period >= 2 pi) takes >= 3000 steps
ENERGY_TOLERANCE = 3e-4  # relative energy drift allowed (measured: at most 8.1e-5 for 20 to 30000 steps)
MOMENTUM_TOLERANCE = 1e-12  # total momentum starts at 0 and each pair step conserves it (rounding only)


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, int]]:
    return [(seed, params["steps"]) for seed in range(params["count"])]


def initial_system(seed: int) -> list[list[float]]:
    """Bodies as [x, y, z, vx, vy, vz, mass]: a unit-mass star at rest, planets on tilted orbits."""
    rng = random.Random(seed)
    bodies = [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]
    for i in range(PLANETS):
        r, angle, tilt = 1.0 + 1.5 * i + rng.random(), rng.uniform(0, 2 * math.pi), rng.uniform(-0.1, 0.1)
        speed = math.sqrt(1.0 / r) * rng.uniform(0.95, 1.05)
        bodies.append([r * math.cos(angle), r * math.sin(angle), r * tilt,
                       -speed * math.sin(angle), speed * math.cos(angle), 0.0, rng.uniform(1e-5, 1e-3)])
    # Give the star the opposite momentum of the planets, so the centre of mass stays at rest.
    for axis in (3, 4, 5):
        bodies[0][axis] = -sum(b[axis] * b[6] for b in bodies[1:]) / bodies[0][6]
    return bodies


def energy(bodies) -> float:
    """Kinetic plus potential energy (G = 1)."""
    e = 0.0
    for i, (x, y, z, vx, vy, vz, m) in enumerate(bodies):
        e += 0.5 * m * (vx * vx + vy * vy + vz * vz)
        for x2, y2, z2, _, _, _, m2 in bodies[i + 1:]:
            e -= m * m2 / math.sqrt((x - x2) ** 2 + (y - y2) ** 2 + (z - z2) ** 2)
    return e


def simulate(task: tuple[int, int]) -> tuple[tuple[float, ...], ...]:
    """Integrate one system for ``steps`` steps; returns its final state, body by body."""
    seed, steps = task
    bodies = initial_system(seed)
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    for _ in range(steps):
        for b1, b2 in pairs:
            dx, dy, dz = b1[0] - b2[0], b1[1] - b2[1], b1[2] - b2[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = DT / (d2 * math.sqrt(d2))
            m1, m2 = b1[6] * mag, b2[6] * mag
            b1[3] -= dx * m2
            b1[4] -= dy * m2
            b1[5] -= dz * m2
            b2[3] += dx * m1
            b2[4] += dy * m1
            b2[5] += dz * m1
        for b in bodies:
            b[0] += DT * b[3]
            b[1] += DT * b[4]
            b[2] += DT * b[5]
    return tuple(tuple(b) for b in bodies)


@functools.lru_cache(maxsize=8)
def expected(task: tuple[int, int]) -> tuple:
    """The same simulation run once, sequentially, in the checking process (cached)."""
    return simulate(task)


def check(tasks: list, results: list, shared) -> dict:
    worst = 0.0
    for task, got in paired(tasks, results):
        e0, e1 = energy(initial_system(task[0])), energy(got)
        drift = abs((e1 - e0) / e0)
        if not drift <= ENERGY_TOLERANCE:  # also catches NaN
            raise CheckFailed(f"simulate{task}: energy {e0!r} -> {e1!r}, drift {drift:.2e} > {ENERGY_TOLERANCE}")
        momentum = max(abs(sum(b[axis] * b[6] for b in got)) for axis in (3, 4, 5))
        if not momentum <= MOMENTUM_TOLERANCE:
            raise CheckFailed(f"simulate{task}: total momentum {momentum:.2e}, expected 0")
        worst = max(worst, drift)
    first = tuple(tasks[0])
    if tuple(map(tuple, results[0])) != expected(first):
        raise CheckFailed(f"simulate{first}: final state differs from a sequential recomputation")
    return {"energy_drift": worst}


# The asyncio strategies are left out: for CPU work they add nothing the lecture's workloads do not
# already show, and the default campaign of every variant must fit in about 40 minutes on 2 cores.
WORKLOAD = Workload(
    name="nbody",
    kind="cpu",
    description="n-body simulation of 20 seeded star+4-planet systems (float arithmetic on lists)",
    sizes={
        "tiny": {"steps": 20, "count": 4},
        "quick": {"steps": 1_200, "count": COUNT},
        "default": {"steps": 6_000, "count": COUNT},
        "rigorous": {"steps": 15_000, "count": COUNT},
    },
    make_tasks=make_tasks,
    task=simulate,
    check=check,
    strategies=("sequential", "threads", "processes", "interpreters"),
    pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
            "default": {"processes": 2, "values": 2, "warmups": 1},
            "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
)
