"""A small ray tracer in pure Python: vector objects, operator methods and float arithmetic mixed.

Four spheres over a checkered floor, one light, shadows and one level of reflection, rendered in
20 horizontal bands of one image (pyperformance's ``raytrace`` is the inspiration; this tracer is
ftbench's own). Every ray allocates short-lived ``Vec`` objects and calls their ``__add__``,
``__mul__`` and ``dot`` methods: allocation, method calls and floats together, the mix issue 14
measured 3.13t 2.6x slower on. The check proves each band a second way: a pixel is the
background exactly where a primary ray, tested with plain floats and no ``Vec``, misses the scene,
and one pixel per band is traced again on its own.
"""

import math

from harness import CheckFailed, Context, Workload, paired

COUNT = 20  # bands per image
SPHERES = ((-1.2, 0.0, 4.0, 1.0, (230, 60, 50)), (1.1, -0.3, 3.5, 0.7, (60, 200, 90)),
           (0.0, 1.1, 6.0, 1.4, (70, 90, 230)), (0.4, -0.75, 2.4, 0.25, (240, 220, 60)))  # x, y, z, r, rgb
FLOOR_Y = -1.0
LIGHT = (-4.0, 5.0, -2.0)
BACKGROUND = (20, 24, 40)


class Vec:
    def __init__(self, x: float, y: float, z: float):
        self.x, self.y, self.z = x, y, z

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y, self.z + o.z)

    def __sub__(self, o):
        return Vec(self.x - o.x, self.y - o.y, self.z - o.z)

    def __mul__(self, k: float):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, o) -> float:
        return self.x * o.x + self.y * o.y + self.z * o.z

    def unit(self):
        return self * (1.0 / math.sqrt(self.dot(self)))


SCENE = [(Vec(x, y, z), r, rgb) for x, y, z, r, rgb in SPHERES]
LIGHT_POS = Vec(*LIGHT)


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, int, int, int]]:
    rows, width = params["rows"], params["width"]
    return [(band * rows, rows, width, rows * params["count"]) for band in range(params["count"])]


def hit(origin, direction):
    """(distance, point, normal, rgb) of the nearest sphere or floor the ray meets, or None."""
    best = None
    for centre, radius, rgb in SCENE:
        oc = origin - centre
        b = oc.dot(direction)
        disc = b * b - oc.dot(oc) + radius * radius
        if disc > 0:
            t = -b - math.sqrt(disc)
            if t > 1e-6 and (best is None or t < best[0]):
                point = origin + direction * t
                best = (t, point, (point - centre) * (1.0 / radius), rgb)
    if direction.y < 0:
        t = (FLOOR_Y - origin.y) / direction.y
        if t > 1e-6 and (best is None or t < best[0]):
            point = origin + direction * t
            rgb = (200, 200, 200) if (math.floor(point.x) + math.floor(point.z)) % 2 else (40, 40, 40)
            best = (t, point, Vec(0.0, 1.0, 0.0), rgb)
    return best


def trace(origin, direction, depth: int) -> tuple[float, float, float]:
    found = hit(origin, direction)
    if found is None:
        return BACKGROUND
    _, point, normal, rgb = found
    to_light = (LIGHT_POS - point).unit()
    light = 0.15
    if hit(point, to_light) is None:  # not in a shadow
        light += 0.85 * max(0.0, normal.dot(to_light))
    colour = [c * light for c in rgb]
    if depth > 0:
        reflected = trace(point, (direction - normal * (2 * direction.dot(normal))).unit(), depth - 1)
        colour = [0.75 * c + 0.25 * r for c, r in zip(colour, reflected, strict=True)]
    return colour


def pixel(x: int, y: int, width: int, height: int) -> int:
    """Trace one pixel from a camera at the origin; returns its 24-bit RGB."""
    direction = Vec((x - width / 2) / height, (height / 2 - y) / height, 1.0).unit()
    r, g, b = (min(255, int(c)) for c in trace(Vec(0.0, 0.0, 0.0), direction, 1))
    return r << 16 | g << 8 | b


def render(task: tuple[int, int, int, int]) -> list[int]:
    """One band of rows of the image, row by row."""
    first, rows, width, height = task
    return [pixel(x, y, width, height) for y in range(first, first + rows) for x in range(width)]


def misses(x: int, y: int, width: int, height: int) -> bool:
    """Does the primary ray miss every sphere and the floor? Plain floats, no Vec."""
    dx, dy = (x - width / 2) / height, (height / 2 - y) / height
    k = 1.0 / math.sqrt(dx * dx + dy * dy + 1.0)  # as Vec.unit computes it, to the last bit
    dx, dy, dz = dx * k, dy * k, 1.0 * k
    for cx, cy, cz, r, _ in SPHERES:
        b = -(cx * dx + cy * dy + cz * dz)
        if b < 0 and b * b - (cx * cx + cy * cy + cz * cz) + r * r > 0:
            return False
    return dy >= 0


def check(tasks: list, results: list, shared) -> None:
    background = BACKGROUND[0] << 16 | BACKGROUND[1] << 8 | BACKGROUND[2]
    for task, got in paired(tasks, results):
        first, rows, width, height = task
        if len(got) != rows * width:
            raise CheckFailed(f"render{task}: {len(got)} pixels, expected {rows * width}")
        for i, rgb in enumerate(got):
            x, y = i % width, first + i // width
            if (rgb == background) != misses(x, y, width, height):
                raise CheckFailed(f"render{task}: pixel ({x}, {y}) = {rgb:06x} disagrees with the scene")
        x, y = (first * 7) % width, first + rows // 2  # one pixel per band, traced again alone
        if got[(y - first) * width + x] != pixel(x, y, width, height):
            raise CheckFailed(f"render{task}: pixel ({x}, {y}) differs when traced again")


# The asyncio strategies are left out: for CPU work they add nothing the lecture's workloads do not
# already show, and the default campaign of every variant must fit in about 40 minutes on 2 cores.
WORKLOAD = Workload(
    name="raytrace",
    kind="cpu",
    description="ray tracer: one image in 20 bands, spheres, shadows, reflections (Vec objects, floats)",
    sizes={
        "tiny": {"rows": 1, "width": 16, "count": 4},
        "quick": {"rows": 3, "width": 120, "count": COUNT},
        "default": {"rows": 8, "width": 300, "count": COUNT},  # a 300 x 160 image
        "rigorous": {"rows": 16, "width": 600, "count": COUNT},
    },
    make_tasks=make_tasks,
    task=render,
    check=check,
    strategies=("sequential", "threads", "processes", "interpreters"),
    pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
            "default": {"processes": 2, "values": 2, "warmups": 1},
            "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
)
