"""harness.profile.attribution: CPU by category, the extra CPU of N workers, and its honesty rules."""

from __future__ import annotations

import math

import pytest

from harness.profile import attribution
from harness.profile.stacks import Frame, Sample

BIN = "/opt/bin/python3.13t"
MS = 1_000_000
STACKS = {
    "eval": (Frame("_PyEval_EvalFrameDefault", BIN), Frame("py::f:/repo/w.py", "/tmp/j.so")),
    "refcount": (Frame("_Py_DecRefShared", BIN), Frame("Py_DECREF", "inlined"),
                 Frame("_PyEval_EvalFrameDefault", BIN), Frame("py::g:/repo/w.py", "/tmp/j.so")),
    "locks": (Frame("_PyMutex_LockTimed", BIN), Frame("py::h:/repo/w.py", "/tmp/j.so")),
    "objects": (Frame("PyDict_SetItem", BIN),),
}


def samples(**counts: int) -> list[Sample]:
    out = []
    for category, n in counts.items():
        out += [Sample(1, 1, i, MS, STACKS[category]) for i in range(n)]
    return out


def test_profile_sums_cpu_by_category_function_and_python_function():
    p = attribution.profile(samples(eval=30, refcount=10))
    assert (p.samples, p.cpu_s) == (40, pytest.approx(0.040))
    assert p.category_samples == {"eval": 30, "refcount": 10}
    assert p.c_ns[("refcount", "_Py_DecRefShared")] == 10 * MS
    assert p.py_ns[("eval", "py::f:/repo/w.py")] == 30 * MS
    top = p.top()
    assert top["categories"]["eval"] == {"cpu_s": pytest.approx(0.030), "samples": 30}
    assert top["top_c"][0] == {"category": "eval", "function": "_PyEval_EvalFrameDefault", "cpu_s": pytest.approx(0.03)}


def test_extra_names_the_category_that_grew_with_its_share():
    one = attribution.profile(samples(eval=200, refcount=20, objects=50))
    many = attribution.profile(samples(eval=210, refcount=110, objects=40))
    x = attribution.extra(one, many)
    assert x.extra_s == pytest.approx(0.090)
    assert x.resolved
    by = {c.category: c for c in x.categories}
    assert by["refcount"].extra_s == pytest.approx(0.090)
    assert by["refcount"].share == pytest.approx(90 / 100)  # growth 90 of 10 + 90: shrinking objects gives nothing
    assert by["objects"].share == 0
    assert sum(c.share or 0 for c in x.categories) == pytest.approx(1)
    assert by["refcount"].top_c == (("_Py_DecRefShared", pytest.approx(0.09)),)
    # /repo is outside the working directory: the file's base name is shown
    assert x.cause() == "90% of the extra CPU in reference counting, top: `_Py_DecRefShared` in `g` at w.py"
    assert x.top_python[0][0] == "g at w.py"


def test_a_category_with_too_few_samples_gets_no_share():
    one = attribution.profile(samples(eval=200, locks=5))
    many = attribution.profile(samples(eval=300, locks=14))
    x = attribution.extra(one, many)
    locks = next(c for c in x.categories if c.category == "locks")
    assert (locks.samples_1 + locks.samples_n, locks.enough, locks.share) == (19, False, None)
    assert next(c for c in x.categories if c.category == "idle").share is None  # no samples at all


def test_little_extra_cpu_is_said_so_and_names_no_cause():
    one = attribution.profile(samples(eval=300, refcount=50))
    many = attribution.profile(samples(eval=290, refcount=80))  # +20 samples: inside 2 sqrt(730) = 54
    x = attribution.extra(one, many)
    assert not x.resolved and x.cause() is None and x.main is None
    assert x.note().startswith("little extra CPU: +6% of the sequential run's (+20 samples, noise +-54)")
    assert x.note().endswith("largest growth: reference counting +0.030 s")


@pytest.mark.parametrize(("n1", "nn", "resolved"), [(1000, 1070, False), (1000, 1110, True), (100, 130, False),
                                                    (100, 135, True), (10000, 10900, False)])
def test_the_extra_must_clear_both_the_noise_and_the_relative_floor(n1, nn, resolved):
    """+70 of 1000 is inside 2 sqrt(2070) = 91, +110 is not (and is 11%); +30 of 100 is 30% but inside
    2 sqrt(230) = 30.3, +35 is not; +900 of 10000 clears the noise (289) but not the 10% floor."""
    x = attribution.extra(attribution.profile(samples(eval=n1)), attribution.profile(samples(eval=nn)))
    assert x.noise_samples == pytest.approx(2 * math.sqrt(n1 + nn))
    assert x.resolved is resolved


def test_no_sequential_samples_is_never_a_ratio():
    x = attribution.extra(attribution.profile([]), attribution.profile(samples(eval=50)))
    assert not x.resolved and x.note() == "no samples in the sequential run"


def test_to_json_holds_no_wall_time_and_is_strict_json():
    import json

    one = attribution.profile(samples(eval=200, refcount=20))
    many = attribution.profile(samples(eval=200, refcount=120))
    doc = attribution.extra(one, many).to_json()
    json.dumps(doc, allow_nan=False)
    assert doc["cause"].startswith("100% of the extra CPU in reference counting")
    assert not any("wall" in k for k in doc)
