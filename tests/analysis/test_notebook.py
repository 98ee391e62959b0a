"""analysis.ipynb executed headless: on synthetic results, on nothing, and (slow) on the committed
results, whose CSVs, REPORT.md and README headline it must reproduce exactly."""

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pandas")

from synth import model_results  # noqa: E402

from harness import analysis  # noqa: E402
from harness.analysis import report  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _execute_notebook(results: Path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.setenv("FTBENCH_RESULTS", str(results))
    nb = nbformat.read(REPO / "analysis.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            text.append(json.dumps(out.get("data", {}).get("text/markdown", "")))
            text.append(json.dumps(out.get("data", {}).get("text/html", "")))
    images = sum("image/png" in out.get("data", {})
                 for c in nb.cells for out in c.get("outputs", []))
    return "\n".join(text), images


def test_notebook_executes_headless_on_synthetic_results(tmp_path, monkeypatch):
    model_results(tmp_path / "raw")
    text, images = _execute_notebook(tmp_path, monkeypatch)
    assert "3.13t" in text and ("pays off" in text or "inconclusive" in text)
    assert "refuted" in text  # the claims table, threads on 3.13t
    assert images >= 5
    assert (tmp_path / "summary.csv").exists()


def test_notebook_says_clearly_when_there_is_nothing(tmp_path, monkeypatch):
    text, images = _execute_notebook(tmp_path, monkeypatch)
    assert "No results to analyse" in text and images == 0


def test_notebook_is_paired_with_its_py_percent_source():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(REPO / "analysis.ipynb", as_version=4)
    source = (REPO / "analysis.py").read_text()
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code and all(c in source for c in code)
    # committed executed, with its outputs: a reviewer reads it without running anything
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
def test_notebook_executes_on_the_committed_results_and_reproduces_them(tmp_path, monkeypatch):
    """The published CSVs and report are exactly what the analysis derives from the raw files."""
    published = REPO / "results"
    assert (published / "raw").is_dir(), "no published run under results/raw"
    shutil.copytree(published / "raw", tmp_path / "raw")
    if (published / "reruns").is_dir():  # a rerun beside the published set: the report compares the two
        shutil.copytree(published / "reruns", tmp_path / "reruns")
    text, images = _execute_notebook(tmp_path, monkeypatch)
    assert images >= 5 and "refuted" in text
    for name in ("benchmarks.csv", "ratios.csv", "summary.csv", "scaling.csv", "claims.csv", "flavours.csv",
                 "REPORT.md", *(["reproducibility.csv"] if (published / "reruns").is_dir() else [])):
        assert (tmp_path / name).read_text() == (published / name).read_text(), name
    res = analysis.regenerate(tmp_path / "raw", tmp_path / "again", figures=False)
    readme = (REPO / "README.md").read_text()
    assert report.readme_headline(res) in readme  # README's table is the real one
