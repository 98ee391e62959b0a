"""harness.analysis.plots: real PNGs for any core count and any number of variants."""

from pathlib import Path

import pytest

pytest.importorskip("pandas")

from handmade import S, png_ok, runs_with_metadata  # noqa: E402
from synth import model_results, write_variant  # noqa: E402

from harness import analysis  # noqa: E402


def test_plots_are_non_empty_pngs_for_any_core_count(tmp_path):
    model_results(tmp_path / "raw", hosts=("two", "eight"), cores=2)
    model_results(tmp_path / "raw", hosts=("eight",), cores=8)
    res = analysis.regenerate(tmp_path / "raw", tmp_path)
    kinds = {(f.kind, f.host) for f in res.figures}
    for host in ("two", "eight"):
        assert {("scaling", host), ("slowdown", host), ("headline", host),
                ("memory", host)} <= kinds
    assert all(png_ok(Path(f.path)) for f in res.figures)
    assert len(res.figure_paths("scaling", "io_download")) == 2


def test_plots_survive_a_lone_variant(tmp_path):
    write_variant(tmp_path / "raw", "h", "3.13t", [S("sequential", 1, 1.2, 1.2),
                                                   S("threads", 2, 0.7, 0.6)])
    res = analysis.regenerate(tmp_path / "raw", tmp_path)
    assert res.figures and all(png_ok(Path(f.path)) for f in res.figures)


def test_busy_cores_figure_when_recorded(tmp_path):
    raw = tmp_path / "raw"
    write_variant(raw, "h", "3.13", [runs_with_metadata("sequential", 1, [1.0, 1.01, 0.99], 1.0),
                                     runs_with_metadata("threads", 2, [1.0, 1.02, 0.99], 1.0)])
    write_variant(raw, "h", "3.13t", [runs_with_metadata("sequential", 1, [1.2, 1.21, 1.19], 1.0),
                                      runs_with_metadata("threads", 2, [0.61, 0.6, 0.62], 1.95)])
    res = analysis.regenerate(raw, tmp_path)
    busy = res.figure_paths("busy")
    assert len(busy) == 1 and png_ok(Path(busy[0]))
