"""harness.profile's files: Python names with their lines, flame graphs, the run JSON, the summary, the report text."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from harness.profile import attribution, flamegraph, outputs, pysource, text
from harness.profile.stacks import Frame, Sample

SOURCE = '''\
import functools


def top():
    def inner():
        return 1
    return inner


class Box:
    @functools.cache
    def get(self):
        return 2

    class Inner:
        def deep(self):
            pass
'''


def test_python_frames_resolve_to_the_line_of_their_definition(tmp_path, monkeypatch):
    path = tmp_path / "w.py"
    path.write_text(SOURCE)
    monkeypatch.chdir(tmp_path)
    got = {q: pysource.resolve(f"py::{q}:{path}").line for q in
           ("top", "top.<locals>.inner", "Box.get", "Box.Inner.deep", "<module>", "missing")}
    assert got == {"top": 4, "top.<locals>.inner": 5, "Box.get": 12, "Box.Inner.deep": 16, "<module>": 1,
                   "missing": None}
    assert str(pysource.resolve(f"py::Box.get:{path}")) == "Box.get at w.py:12"  # relative to the working dir
    assert str(pysource.resolve("py::_find_and_load:<frozen importlib._bootstrap>")) == (
        "_find_and_load at <frozen importlib._bootstrap>")
    assert pysource.split("py::f:/a:b/c.py") == ("f", "/a:b/c.py")


FOLDED = Counter({"py::main:/x/a.py;_PyEval_EvalFrameDefault;_Py_DecRefShared": 30_000_000,
                  "py::main:/x/a.py;_PyEval_EvalFrameDefault": 60_000_000,
                  "py::main:/x/a.py;_PyMutex_LockTimed;__schedule_[k]": 10_000_000})


def _rects(svg: str) -> dict[str, ET.Element]:
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    out = {}
    for g in root.findall("s:g", ns):
        name = g.find("s:title", ns).text.split(":")[0] if not g.find("s:title", ns).text.startswith("py::") else "py"
        out[name] = g.find("s:rect", ns)
    return out


def test_a_flame_graph_is_svg_with_widths_proportional_to_cpu_and_category_colours():
    svg = flamegraph.render(FOLDED, "title <&>", "sub")
    rects = _rects(svg)
    total = float(rects["all"].get("width"))
    assert float(rects["_PyEval_EvalFrameDefault"].get("width")) == pytest.approx(0.9 * total, rel=1e-3)
    assert float(rects["_Py_DecRefShared"].get("width")) == pytest.approx(0.3 * total, rel=1e-3)
    assert rects["_Py_DecRefShared"].get("fill") == flamegraph.COLOURS["refcount"]
    assert rects["_PyMutex_LockTimed"].get("fill") == flamegraph.COLOURS["locks"]
    assert rects["__schedule_[k]"].get("fill") == flamegraph.COLOURS["kernel"]
    assert rects["py"].get("fill") == flamegraph.COLOURS["python"]
    assert "title &lt;&amp;&gt;" in svg


def test_the_differential_flame_graph_colours_growth_red_and_loss_blue():
    before = Counter({"py::main:/x/a.py;_PyEval_EvalFrameDefault;_Py_DecRefShared": 5_000_000,
                      "py::main:/x/a.py;_PyEval_EvalFrameDefault": 60_000_000,
                      "py::main:/x/a.py;_PyMutex_LockTimed;__schedule_[k]": 20_000_000})
    rects = _rects(flamegraph.render(FOLDED, "diff", baseline=before))
    red, blue = rects["_Py_DecRefShared"].get("fill"), rects["__schedule_[k]"].get("fill")
    assert red == "rgb(230,64,64)"  # the largest change (+25 ms) has the full colour
    assert blue.endswith(",230)") and blue != "rgb(64,64,230)"  # -10 ms: a lighter blue
    assert rects["_PyMutex_LockTimed"].get("fill") == "#e0e0e0"  # its own CPU did not change: its callee's did
    assert rects["_PyEval_EvalFrameDefault"].get("fill") == "#e0e0e0"


def test_frame_category_of_folded_labels():
    assert flamegraph.frame_category("py::f:/a.py") == "python"
    assert flamegraph.frame_category("do_idle_[k]") == "idle"
    assert flamegraph.frame_category("futex_wait_[k]") == "kernel"
    assert flamegraph.frame_category("mystery") == "other"


BIN = "/opt/bin/python3.13t"


def _extra():
    def s(sym, n):
        return [Sample(1, 1, 0, 1_000_000, (Frame(sym, BIN), Frame("py::g:/x/w.py", "/tmp/j.so")))] * n
    one = attribution.profile(s("_PyEval_EvalFrameDefault", 200) + s("_Py_DecRefShared", 20))
    many = attribution.profile(s("_PyEval_EvalFrameDefault", 200) + s("_Py_DecRefShared", 130))
    return attribution.extra(one, many)


def _document(host="h1", workload="w", variant="3.13t", extra=True):
    doc = {"host": host, "workload": workload, "variant": variant, "strategy": "threads", "workers": 2,
           "size": "default", "cpu_count": 2, "busy_cores": 1.8,
           "sampling": {"event": "cpu-clock", "frequency_hz": 999, "call_graph": "dwarf", "stack_bytes": 16384,
                        "samples": 330, "samples_whole_process": 900, "lost": 0, "overhead": 1.05}}
    if extra:
        doc |= {"extra": _extra().to_json(), "sequential_overhead": 1.02, "sequential_busy_cores": 0.99,
                "sequential_lost": 0}
    return doc


def test_the_summary_has_a_row_per_profile_and_category_and_the_analysis_reads_its_causes(tmp_path):
    root = outputs.profiles_dir(tmp_path, "h1")
    outputs.write_run(root / "w", outputs.stem("3.13t", "threads", 2), _document())
    outputs.write_run(root / "w", outputs.stem("3.13t", "sequential", 1), _document(extra=False))
    (root / "w" / "junk.json").write_text("{not json")
    path = outputs.write_summary(root)
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == 10 and {r["category"] for r in rows} == set(attribution.categories.CATEGORIES)
    ref = next(r for r in rows if r["category"] == "refcount")
    assert (ref["share"], ref["top_c_function"], ref["profile"]) == ("1.0", "_Py_DecRefShared",
                                                                     "raw/h1/profiles/w/3.13t-threads-2.json")
    assert ref["cause"] == "100% of the extra CPU in reference counting, top: `_Py_DecRefShared` in `g` at w.py"
    assert outputs.causes(tmp_path / "raw") == {("h1", "w", "3.13t", "threads", 2): ref["cause"]}
    assert not any("wall" in c or c in ("time", "mean") for c in outputs.SUMMARY_COLUMNS)


def test_no_profiles_no_causes(tmp_path):
    assert outputs.causes(tmp_path / "raw") == {} and outputs.read_summary(tmp_path) == []


def test_the_report_text_shows_too_few_samples_and_links_the_flame_graphs(tmp_path):
    root = outputs.profiles_dir(tmp_path, "h1")
    outputs.write_run(root / "w", "3.13t-threads-2", _document())
    outputs.write_summary(root)
    md = text.markdown(outputs.read_summary(tmp_path / "raw"))
    assert "| reference counting | 0.020 | 0.130 | +0.110 | 100% | `_Py_DecRefShared` | g at w.py |" in md
    assert "| locks and critical sections | 0.000 | 0.000 | +0.000 | too few samples (< 20) |  |  |" in md
    assert "(raw/h1/profiles/w/3.13t-sequential-1.svg)" in md and "(raw/h1/profiles/w/3.13t-threads-2-diff.svg)" in md
    assert "999 Hz" in md and "x1.02 and x1.05" in md


def test_the_console_table():
    out = text.console(_extra(), "head", (0.01, 0.2), "999 Hz")
    assert "reference counting" in out and "why: 100% of the extra CPU in reference counting" in out
    assert "idle cores (not sampled)" in out and "too few samples" in out
