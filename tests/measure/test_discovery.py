"""Discovery: one broken workload file is reported in one line, and every other file still loads.

Each test writes workload files into its own directory on FTBENCH_WORKLOAD_PATH, with module names
unique to the test (``sys.modules`` caches by name).
"""

from __future__ import annotations

import sys
import uuid

import pytest
from conftest import REPO

from harness import SIZES, Workload
from harness.measure.workload import EXTRA_PATH_ENV, discover, discover_with_problems

GOOD = '''
from harness import SIZES, Workload

def make_tasks(params, ctx):
    return [1, 2]

def task(x):
    return x

def check(tasks, results, shared):
    return None

WORKLOAD = Workload(name={name!r}, kind={kind!r}, description="d", sizes={{s: {{}} for s in SIZES}},
                    make_tasks=make_tasks, task=task, check=check)
'''


@pytest.fixture
def extra(tmp_path, monkeypatch):
    """write(stem, source) -> module name; the directory is FTBENCH_WORKLOAD_PATH."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv(EXTRA_PATH_ENV, str(tmp_path))
    tag = uuid.uuid4().hex[:8]
    written = []

    def write(stem: str, source: str) -> str:
        name = f"ftlens_{stem}_{tag}"
        (tmp_path / f"{name}.py").write_text(source)
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


def good(name: str, kind: str = "cpu") -> str:
    return GOOD.format(name=name, kind=kind)


def _problems_for(problems, module: str) -> list[str]:
    return [str(p) for p in problems if module in p.source]


def test_the_shipped_workloads_load_without_problems(monkeypatch):
    monkeypatch.delenv(EXTRA_PATH_ENV, raising=False)
    found = discover()
    assert found.problems == () and {"cpu_sum_squares", "io_download"} <= set(found)  # the lecture's tasks
    assert isinstance(found, dict)  # name -> Workload


@pytest.mark.parametrize(("source", "expected"), [
    ("def broken(:\n", "SyntaxError: invalid syntax (line 1)"),
    ("import ftbench_no_such_module_here\n", "ModuleNotFoundError: No module named 'ftbench_no_such_module_here'"),
    ("raise RuntimeError('exploded\\nat import')\n", "RuntimeError: exploded at import"),
    (GOOD.format(name="bad_kind_x", kind="gpu"), "ValueError: bad_kind_x: kind 'gpu' not in"),
    (GOOD.format(name="a/b", kind="cpu"), "ValueError: workload name 'a/b' must match [a-z][a-z0-9_]*"),
    ("WORKLOAD = {'name': 'x'}\n", "WORKLOAD(S) holds dict, not a Workload"),
    ("X = 1\n", "defines no WORKLOAD or WORKLOADS"),
])
def test_a_broken_file_is_one_line_and_the_others_load(extra, source, expected):
    ok = extra("ok", good(f"lens_ok_{uuid.uuid4().hex[:6]}"))
    bad = extra("bad", source)
    found, problems = discover_with_problems()
    lines = _problems_for(problems, bad)
    assert len(lines) == 1 and expected in lines[0], problems
    assert "\n" not in lines[0]
    assert lines[0].split(": ", 1)[0].endswith(f"{bad}.py")  # the file is named first
    assert "cpu_sum_squares" in found  # the package's files still load
    assert any(w.task.__module__ == ok for w in found.values())  # and so does the good extra file
    assert _problems_for(problems, ok) == []


def test_a_duplicate_name_is_reported_and_the_first_one_kept(extra):
    dup = extra("dup", good("cpu_sum_squares"))
    found, problems = discover_with_problems()
    (line,) = _problems_for(problems, dup)
    assert "workload name 'cpu_sum_squares' already defined in" in line and "cpu_sum_squares.py" in line
    assert found["cpu_sum_squares"].task.__module__ == "workloads.cpu_sum_squares"


def test_a_module_shadowed_by_another_of_the_same_name_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv(EXTRA_PATH_ENV, str(tmp_path))
    (tmp_path / "json.py").write_text(good("lens_json"))  # `import json` finds the stdlib's
    found, problems = discover_with_problems()
    (line,) = [str(p) for p in problems]
    assert line.startswith(str(tmp_path / "json.py")) and "already taken" in line
    assert "lens_json" not in found


def test_a_missing_workload_path_directory_is_a_problem_not_silence(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(EXTRA_PATH_ENV, str(missing))
    found = discover()
    assert [str(p) for p in found.problems] == [f"{EXTRA_PATH_ENV}={missing}: no such directory"]
    assert "cpu_sum_squares" in found


def test_discover_keeps_its_problems_beside_the_workloads(extra):
    bad = extra("bad", "def broken(:\n")
    found = discover()
    assert bad in " ".join(str(p) for p in found.problems)
    assert set(found) == set(discover_with_problems()[0])


@pytest.mark.parametrize("name", ["a/b", "../x", "Cpu", "1st", "with-dash", "with space", "", "é"])
def test_workload_names_are_checked(name):
    with pytest.raises(ValueError, match="must match"):
        Workload(name=name, kind="cpu", description="d", sizes={s: {} for s in SIZES},
                 make_tasks=lambda p, c: [], task=abs, check=lambda t, r, s: None)


def test_not_applicable_names_known_strategies():
    with pytest.raises(ValueError, match="unknown strategies"):
        Workload(name="x", kind="cpu", description="d", sizes={s: {} for s in SIZES},
                 make_tasks=lambda p, c: [], task=abs, check=lambda t, r, s: None,
                 not_applicable={"fibers": "no"})


def test_a_broken_file_does_not_stop_a_benchmark_of_another_workload(tmp_path):
    """Real process: the measuring script runs cpu_sum_squares beside a file with a syntax error."""
    import json
    import os
    import subprocess

    (tmp_path / "ftlens_broken_proc.py").write_text("def broken(:\n")
    out = tmp_path / "out.json"
    env = {**os.environ, EXTRA_PATH_ENV: str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "harness.measure.run", "--workload", "cpu_sum_squares",
                        "--strategy", "sequential", "--workers", "1", "--variant", "3.13", "--size", "tiny",
                        "--processes", "1", "--values", "1", "--warmups", "0", "--loops", "1", "-o", str(out)],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(out.read_text())["benchmarks"]
