"""python -m harness.analysis: everything written, and bad input as one line naming the file."""

import pytest

pytest.importorskip("pandas")

from handmade import S  # noqa: E402
from synth import model_results, write_variant  # noqa: E402

from harness import analysis  # noqa: E402


def test_cli_writes_everything(tmp_path, capsys):
    model_results(tmp_path / "raw")
    assert analysis.main(["--raw", str(tmp_path / "raw"), "--out", str(tmp_path)]) == 0
    for name in ("benchmarks.csv", "ratios.csv", "summary.csv", "scaling.csv", "claims.csv", "flavours.csv",
                 "REPORT.md"):
        assert (tmp_path / name).stat().st_size > 0
    report = (tmp_path / "REPORT.md").read_text()
    for heading in ("## Headline", "## The lecture's claims", "### Hosts", "## How to read it",
                    "Known-truth", "## Measurement hygiene",
                    "### Interpreters and provenance", "93e583f2", "--disable-gil"):
        assert heading in report
    assert "figures/headline_h1.png" in report


def test_cli_error_is_one_line_naming_the_file(tmp_path, capsys):
    write_variant(tmp_path, "h", "3.13", [S("sequential", 1, 1.0, 1.0)])
    (tmp_path / "h" / "3.13.json").write_text("{")
    assert analysis.main(["--raw", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ftbench: error: ") and "h/3.13.json" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out" / "summary.csv").exists()
