"""python -m harness.analysis on input the probes found unguarded: a set without threads, bad
--out/--readme/--margin, directory names that are not host labels. One line and a non-zero exit,
or a complete output; never a traceback, never a formula or a broken line in what is written.
"""

import pytest

pytest.importorskip("pandas")

from handmade import S  # noqa: E402
from synth import write_variant  # noqa: E402

from harness import analysis  # noqa: E402


def _two_variants(raw, host="h", strategies=(("sequential", 1), ("threads", 2))):
    for variant, scale in (("3.13", 1.0), ("3.13t", 1.2)):
        write_variant(raw, host, variant, [S(s, w, scale / w, scale / w * 1.01) for s, w in strategies])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("strategies", [(("sequential", 1),), (("sequential", 1), ("processes", 2))],
                         ids=["sequential-only", "processes-only"])
def test_a_set_without_a_threads_benchmark_still_gets_its_report(tmp_path, capsys, strategies):
    _two_variants(tmp_path / "raw", strategies=strategies)
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- headline:start -->\n<!-- headline:end -->\n")
    assert analysis.main(["--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out"),
                          "--readme", str(readme)]) == 0
    report = (tmp_path / "out" / "REPORT.md").read_text()
    assert "## Headline" in report
    assert "slowdown vs best option's speedup (no threads benchmark) on h" in report  # said, not hidden
    assert (tmp_path / "out" / "figures" / "headline_h.png").stat().st_size > 0


def test_out_that_is_a_file_is_one_line(tmp_path, capsys):
    _two_variants(tmp_path / "raw")
    (tmp_path / "afile").write_text("x")
    assert analysis.main(["--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "afile")]) == 2
    assert "--out" in _one_line(capsys)
    assert (tmp_path / "afile").read_text() == "x"


def test_a_missing_readme_is_one_line_before_anything_is_written(tmp_path, capsys):
    _two_variants(tmp_path / "raw")
    assert analysis.main(["--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out"),
                          "--readme", str(tmp_path / "nope.md")]) == 2
    assert "--readme" in _one_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("margin", ["-1", "nan", "5", "1", "inf", "x"])
@pytest.mark.parametrize("command", [[], ["reproduce"]], ids=["main", "reproduce"])
def test_a_margin_outside_0_1_is_refused_by_both_commands(tmp_path, capsys, command, margin):
    _two_variants(tmp_path / "raw")
    raw = str(tmp_path / "raw" / "h")
    argv = [*command, raw, raw] if command else ["--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_:
        analysis.main([*argv, f"--margin={margin}"])
    assert exit_.value.code == 2
    assert "--margin" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("host", ["=1+2", "bad\nname", "-x", "a b"], ids=["formula", "newline", "dash", "space"])
def test_a_directory_name_that_is_not_a_host_label_is_refused_and_never_written(tmp_path, capsys, host):
    _two_variants(tmp_path / "raw")
    (tmp_path / "raw" / "h").rename(tmp_path / "raw" / host)  # as a user might name a copied set
    assert analysis.main(["--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out")]) == 1
    line = _one_line(capsys)
    assert line.startswith("ftbench: error: ") and "host label" in line
    assert not (tmp_path / "out" / "summary.csv").exists()

