"""The analysis reads the profiles of ``nox -s why``: scaling.csv's "contended" names its cause, REPORT.md
gets a section with the tables and the flame graphs' links; without profiles nothing changes."""

import pytest

pd = pytest.importorskip("pandas")

from handmade import runs_with_metadata  # noqa: E402
from synth import write_variant  # noqa: E402

from harness import analysis  # noqa: E402
from harness.profile import attribution, outputs  # noqa: E402
from harness.profile.stacks import Frame, Sample  # noqa: E402

CAUSE = "100% of the extra CPU in reference counting, top: `_Py_DecRefShared` in `g` at w.py"


def _raw(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [runs_with_metadata("sequential", 1, [1.0, 1.01, 0.99], 1.0)])
    write_variant(raw, "h", "3.13t", [
        runs_with_metadata("sequential", 1, [1.2, 1.21, 1.19], 1.0),
        runs_with_metadata("threads", 2, [0.61, 0.6, 0.62], 1.95),  # scaling
        runs_with_metadata("processes", 2, [0.9, 0.91, 0.9], 1.9)])  # contended
    return raw


def _profile(raw, strategy="processes"):
    def s(sym, n):
        return [Sample(1, 1, 0, 1_000_000, (Frame(sym, "/bin/python3.13t"), Frame("py::g:/x/w.py", "/tmp/j.so")))] * n

    x = attribution.extra(attribution.profile(s("_PyEval_EvalFrameDefault", 200) + s("_Py_DecRefShared", 20)),
                          attribution.profile(s("_PyEval_EvalFrameDefault", 200) + s("_Py_DecRefShared", 130)))
    root = outputs.profiles_dir(raw.parent, "h")
    outputs.write_run(root / "cpu_sum_squares", outputs.stem("3.13t", strategy, 2), {
        "host": "h", "workload": "cpu_sum_squares", "variant": "3.13t", "strategy": strategy, "workers": 2,
        "size": "default", "cpu_count": 2, "busy_cores": 1.9, "extra": x.to_json(),
        "sampling": {"event": "cpu-clock", "frequency_hz": 999, "call_graph": "dwarf", "stack_bytes": 16384,
                     "samples": 330, "samples_whole_process": 330, "lost": 0, "overhead": 1.05}})
    outputs.write_summary(root)


def test_a_contended_point_with_a_profile_names_its_cause(tmp_path):
    raw = _raw(tmp_path)
    _profile(raw)
    _profile(raw, "threads")  # a profile of a point that scales: its verdict stays as it is
    res = analysis.regenerate(raw, tmp_path, figures=False)
    why = res.scaling.set_index(["variant", "strategy", "workers"])["why"]
    assert why[("3.13t", "processes", 2)] == f"contended: {CAUSE}"
    assert why[("3.13t", "threads", 2)] == "scaling"
    assert pd.read_csv(tmp_path / "scaling.csv").query("strategy == 'processes'")["why"].iloc[0].startswith(
        "contended: 100% of the extra CPU in reference counting")
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Where the extra CPU goes (profiles)" in report
    assert "| reference counting | 0.020 | 0.130 | +0.110 | 100% | `_Py_DecRefShared` | g at w.py |" in report
    assert "(raw/h/profiles/cpu_sum_squares/3.13t-processes-2-diff.svg)" in report


def test_no_profiles_no_change(tmp_path):
    raw = _raw(tmp_path)
    res = analysis.regenerate(raw, tmp_path, figures=False)
    assert res.scaling.set_index(["variant", "strategy", "workers"])["why"][("3.13t", "processes", 2)] == "contended"
    assert res.profiles == [] and "profiles)" not in (tmp_path / "REPORT.md").read_text()


def test_the_report_links_stay_right_when_it_is_written_elsewhere(tmp_path):
    raw = _raw(tmp_path / "set")
    _profile(raw)
    out = tmp_path / "elsewhere"
    analysis.regenerate(raw, out, figures=False)
    assert "(../set/raw/h/profiles/cpu_sum_squares/3.13t-processes-2.svg)" in (out / "REPORT.md").read_text()
