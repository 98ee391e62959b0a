"""harness.measure.scaffold: a new workload file that loads, passes ruff and its own check, sized on this machine.

Fast, on the host Python (the calibration times real sequential runs: about two seconds). The
nox session and a campaign of the scaffolded workload on the real builds are in
tests/e2e/test_own_code.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from harness.measure import scaffold
from harness.measure.workload import discover


@pytest.fixture
def name(monkeypatch):
    """A workload name unique to the test (module names are cached in sys.modules), forgotten afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    n = f"mine_{uuid.uuid4().hex[:8]}"
    yield n
    sys.modules.pop(n, None)


def test_a_new_workload_is_written_sized_and_given_its_command(tmp_path, name, capsys):
    assert scaffold.main([name, "--dir", str(tmp_path)]) == 0
    path = tmp_path / f"{name}.py"
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"ftbench: wrote {path}"
    assert out[1].startswith("ftbench: SCALE = ") and "on this machine" in out[1]
    assert out[2] == f"measure it on every variant: nox -s bench -- --workload-path {path}"
    scale = int(scaffold.SCALE_LINE.search(path.read_text())[1].replace("_", ""))
    sys.modules.pop(name)  # calibrating imported the file before it set SCALE: read it afresh
    found = discover(paths=[str(path)])
    assert found.problems == () and found.given == (name,)
    w = found[name]
    assert w.sizes["default"]["scale"] == scale and w.requires == ()
    module = sys.modules[w.task.__module__]
    seconds = scaffold.sequential_seconds(w, module, scale)  # checked, as in a campaign
    assert 0.2 < seconds < 1.5  # about 0.5 s on this (shared, noisy) machine


def test_the_template_passes_the_projects_lint(tmp_path, name):
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        ruff = shutil.which("ruff")
    if not ruff:
        pytest.skip("ruff is not installed beside this python")
    path = scaffold.write(name, str(tmp_path))
    r = subprocess.run([str(ruff), "check", "--no-cache", "--config", str(Path(__file__).parents[2] / "pyproject.toml"),
                        path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(("argv", "expected"), [
    (["Bad-Name"], "workload name 'Bad-Name' must match"),
    (["cpu_sum_squares"], "workload name 'cpu_sum_squares' is a built-in workload's"),
    (["fine", "--dir", "/nonexistent/ftbench"], "--dir /nonexistent/ftbench: no such directory"),
    ([], "give a NAME for a new workload, or --calibrate FILE"),
])
def test_bad_input_is_one_line_and_exit_2(argv, expected, capsys):
    assert scaffold.main(argv) == 2
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith("ftbench new-workload: error: ") and expected in line and out == ""


def test_an_existing_file_is_never_overwritten(tmp_path, name, capsys):
    (tmp_path / f"{name}.py").write_text("mine\n")
    assert scaffold.main([name, "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err and (tmp_path / f"{name}.py").read_text() == "mine\n"


def test_calibrate_sizes_an_edited_file_and_changes_nothing_else(tmp_path, name, capsys):
    path = Path(scaffold.write(name, str(tmp_path)))
    text = path.read_text().replace("total += (i + seed) % 10", "total += (i + seed) % 10 + 0 * len(str(i))")
    text = text.replace("SCALE = 500_000", "SCALE = 1_000")
    path.write_text(text)
    assert scaffold.main(["--calibrate", str(path)]) == 0
    after = path.read_text()
    line = scaffold.SCALE_LINE.search(after)
    assert after.replace(line[0], "SCALE = 1_000") == text  # only the SCALE line changed
    assert int(line[1].replace("_", "")) > 1_000 and "sequential default run:" in line[0]


def test_a_check_that_fails_is_said_in_one_line(tmp_path, name, capsys):
    path = Path(scaffold.write(name, str(tmp_path)))
    path.write_text(path.read_text().replace("return total", "return total + 1"))
    assert scaffold.main(["--calibrate", str(path)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"ftbench new-workload: error: {path}: the check failed: task (0, ")


def test_a_file_without_a_scale_cannot_be_sized(tmp_path, capsys):
    path = tmp_path / "other.py"
    path.write_text("X = 1\n")
    assert scaffold.main(["--calibrate", str(path)]) == 2
    assert "no 'SCALE = <integer>' line" in capsys.readouterr().err


def test_the_scale_steps_towards_the_target():
    assert scaffold.next_scale(1000, 0.05) == 10_000  # ten times too fast: ten times the work
    assert scaffold.next_scale(1000, 1e-9) == 100_000  # at most x100 a step
    assert scaffold.next_scale(123_456, 1.0) == 62_000  # two significant digits
    assert scaffold.next_scale(1, 10.0) == 1
