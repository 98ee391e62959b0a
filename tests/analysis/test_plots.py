"""harness.analysis.plots: real PNGs for any core count and any number of variants."""

from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

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


def _summary(host: str, workloads: int):
    """A summary with ``workloads`` workloads on a baseline and a free-threaded variant."""
    rows = []
    for i in range(workloads):
        for variant, role, slowdown in (("3.13", "baseline", 1.0), ("3.13t", "free-threaded", 1.1 + i / 10)):
            rows.append({"host": host, "workload": f"workload_{i:02d}", "variant": variant, "role": role,
                         "slowdown": slowdown, "slowdown_verdict": "greater", "speedup_threads": 0.5 + i / 4,
                         "speedup_threads_verdict": "greater" if i % 2 else "inconclusive"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("workloads", [1, 11, 23])
def test_the_headline_figure_names_every_workload_and_keeps_its_title_inside(workloads, tmp_path):
    from harness.analysis import plots

    host = "a-rather-long-host-label-" * 3 + "end"
    markers = plots.workload_markers(f"workload_{i:02d}" for i in range(workloads))
    assert len(set(markers.values())) == workloads  # no two workloads share a marker
    fig = plots.draw_headline(_summary(host, workloads), host)
    fig.canvas.draw()
    legend = {t.get_text() for lg in fig.legends for t in lg.get_texts()}
    assert {f"workload_{i:02d}" for i in range(workloads)} | {"3.13", "3.13t"} <= legend
    figure_box = fig.bbox
    for artist in (fig._suptitle, *fig.legends):
        box = artist.get_window_extent()
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1, artist  # nothing cut off at the sides
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1, artist
    assert "end" in fig._suptitle.get_text()  # the whole host label, wrapped, not truncated
    assert png_ok(plots.headline_figure(_summary(host, workloads), host, tmp_path / "h.png"))
