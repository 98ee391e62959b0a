"""A new user's own code, end to end on the real builds: a workload outside the repo, its requirements from the
package index, a requirement without a wheel for the free-threaded build, an import that turns the GIL back
on, and a scaffolded workload measured through the nox sessions.

Slow (run in CI): every campaign is --quick over the three variants of the default version, with
the requirements installed into a cache private to the test (PyPI must be reachable).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import REPO, bench_venv

from harness import variants

pytestmark = pytest.mark.slow

NAMES = tuple(variants.registry())  # baseline, free-threaded, control
BASELINE, FREE, CONTROL = NAMES

SIX = '''"""Squares, written as text by a small pure-Python package the benchmark venvs do not hold."""
import six

from harness import SIZES, CheckFailed, Workload, paired


def make_tasks(params, ctx):
    return list(range(40))


def task(x):
    return six.ensure_str(str(x * x))


def check(tasks, results, shared):
    for t, r in paired(tasks, results):
        if r != str(t * t):
            raise CheckFailed(f"{t} -> {r!r}")


WORKLOAD = Workload(name="own_six", kind="cpu", description="six.ensure_str of squares", sizes={s: {} for s in SIZES},
                    make_tasks=make_tasks, task=task, check=check, requires=["six==1.17.0"],
                    strategies=("sequential", "threads", "processes", "interpreters"))
'''

YAML = '''"""YAML parsing with PyYAML 6.0.2: cp313 wheels, none for the free-threaded build."""
import yaml

from harness import SIZES, CheckFailed, Workload, paired


def make_tasks(params, ctx):
    return [f"a: {i}" for i in range(20)]


def task(text):
    return yaml.safe_load(text)["a"]


def check(tasks, results, shared):
    for t, r in paired(tasks, results):
        if r != int(t.split()[1]):
            raise CheckFailed(f"{t} -> {r!r}")


WORKLOAD = Workload(name="own_yaml", kind="cpu", description="yaml.safe_load", sizes={s: {} for s in SIZES},
                    make_tasks=make_tasks, task=task, check=check, requires=["pyyaml==6.0.2"],
                    strategies=("sequential", "threads"))
'''

NOFT = '''"""Imports an extension module that does not declare free-threading support."""
import ftownnoft

from harness import SIZES, CheckFailed, Workload


def task(x):
    return ftownnoft.answer() + x


def check(tasks, results, shared):
    if results != [42 + t for t in tasks]:
        raise CheckFailed(f"{results}")


WORKLOAD = Workload(name="own_noft", kind="cpu", description="an extension without Py_mod_gil",
                    sizes={s: {} for s in SIZES}, make_tasks=lambda p, c: [0, 1, 2, 3], task=task, check=check,
                    strategies=("sequential", "threads"))
'''

# Single-phase init and no Py_mod_gil slot: a free-threaded build turns the GIL on when it loads this.
EXTENSION = r"""
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *unused) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ftownnoft", NULL, -1, methods};
PyMODINIT_FUNC PyInit_ftownnoft(void) { return PyModule_Create(&def); }
"""


@pytest.fixture(scope="module")
def pythons() -> dict[str, Path]:
    """variant -> the python of its benchmark venv (the two builds' test venvs)."""
    builds = {b: bench_venv(b) for b in dict.fromkeys(variants.get(v).build.name for v in NAMES)}
    return {v: builds[variants.get(v).build.name] for v in NAMES}


class Campaign:
    """``python -m harness.measure.bench`` over the three variants, orchestrated on the baseline's venv."""

    def __init__(self, pythons: dict[str, Path], root: Path):
        self.pythons, self.root = pythons, root
        self.results, self.host = root / "results", f"own{uuid.uuid4().hex[:10]}"
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "XDG_CACHE_HOME": str(root / "cache"), "TMPDIR": str(root / "tmp")}
        for key in ("PYTHON_GIL", "FTBENCH_WORKLOAD_PATH"):
            self.env.pop(key, None)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.pythons[BASELINE]), "-m", "harness.measure.bench", "--variants", ",".join(NAMES),
               *[f"--python={v}={p}" for v, p in self.pythons.items()], "--quick", "--results", str(self.results),
               "--host", self.host, *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=REPO, timeout=900)

    def rows(self, variant: str) -> dict[str, dict]:
        with open(self.results / "raw" / self.host / f"{variant}.csv", newline="") as f:
            return {row["name"]: row for row in csv.DictReader(f)}

    def runs_metadata(self, variant: str, name: str) -> list[dict]:
        script = ("import json, sys, pyperf; b = pyperf.BenchmarkSuite.load(sys.argv[1]).get_benchmark(sys.argv[2]); "
                  "print(json.dumps([{**b.get_metadata(), **r.get_metadata()} for r in b.get_runs() if r.values]))")
        r = subprocess.run([str(self.pythons[variant]), "-c", script,
                            str(self.results / "raw" / self.host / f"{variant}.json"), name],
                           capture_output=True, text=True, check=True)
        return json.loads(r.stdout)

    def report(self, out: Path) -> str:
        r = subprocess.run([sys.executable, "-m", "harness.analysis", "--raw", str(self.results / "raw"),
                            "--out", str(out)], capture_output=True, text=True, cwd=REPO)
        assert r.returncode == 0, r.stderr[-3000:]
        return (out / "REPORT.md").read_text()


def _mine(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / "mine" / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    return path


def test_a_workload_outside_the_repo_imports_the_package_it_declares(pythons, tmp_path):
    for python in set(pythons.values()):  # the benchmark venvs do not hold it: the overlay does
        assert subprocess.run([str(python), "-c", "import six"], capture_output=True).returncode != 0
    path = _mine(tmp_path, "own_six", SIX)
    c = Campaign(pythons, tmp_path)
    r = c.run("--workload-path", str(path), "--workers", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    installs = [ln for ln in r.stdout.splitlines() if ln.startswith("ftbench: installing six==1.17.0")]
    assert len(installs) == 2  # once per build (the control shares the free-threaded build's)
    for v in NAMES:
        rows = c.rows(v)
        assert set(rows) == {f"own_six/{s}" for s in ("sequential/1", "threads/2", "processes/2", "interpreters/2")}
        assert all(row["status"] == "ok" and row["check"] == "ok" for row in rows.values()), rows
        meta = c.runs_metadata(v, "own_six/interpreters/2")[0]
        assert meta["ftbench_requirements"] == "six==1.17.0" and meta["ftbench_workload_file"] == str(path)
        assert meta["ftbench_gil_enabled"] == ("no" if v == FREE else "yes")

    again = c.run("--workload-path", str(path), "--workers", "2")
    assert again.returncode == 0 and "installing" not in again.stdout  # the cache: pip does not run
    assert "4 benchmarks, 4 already measured" in again.stdout

    path.write_text(SIX.replace("list(range(40))", "list(range(44))"))
    changed = c.run("--workload-path", str(path), "--workers", "2")
    assert changed.returncode == 0, changed.stdout[-3000:] + changed.stderr[-3000:]
    assert f"{FREE}: workload own_six changed since it was measured" in changed.stdout
    assert "4 benchmarks, 0 already measured" in changed.stdout


def test_a_requirement_without_a_free_threaded_wheel_fails_there_only(pythons, tmp_path):
    yaml_path, six_path = _mine(tmp_path, "own_yaml", YAML), _mine(tmp_path, "own_six", SIX)
    c = Campaign(pythons, tmp_path)
    r = c.run("--workload-path", str(yaml_path), "--workload-path", str(six_path), "--strategies",
              "sequential,threads", "--workers", "2")
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]
    reason = ("requirement pyyaml==6.0.2: no binary wheel for cp313t (binary wheels only; --allow-source-builds "
              "to build it from source)")
    said = [ln for ln in r.stdout.splitlines() if "not measured" in ln]
    assert said == [f"ftbench: own_yaml on {v}: not measured: {reason}" for v in (FREE, CONTROL)]
    yaml_rows = {v: {n: r for n, r in c.rows(v).items() if n.startswith("own_yaml/")} for v in NAMES}
    assert {row["status"] for row in yaml_rows[BASELINE].values()} == {"ok"}
    for v in (FREE, CONTROL):
        assert {(row["status"], row["error"]) for row in yaml_rows[v].values()} == {("failed", reason)}
        assert len(yaml_rows[v]) == 2
    for v in NAMES:  # the other workload goes on everywhere
        assert {row["status"] for n, row in c.rows(v).items() if n.startswith("own_six/")} == {"ok"}
    assert f"  own_yaml@{FREE}: failed: {reason}" in r.stderr
    report = c.report(tmp_path / "analysis")
    assert f"| {FREE} | own_yaml | sequential, threads | 1, 2 | failed | {reason} |" in report


def test_a_workload_whose_import_turns_the_gil_on_is_not_measured_as_free_threaded(pythons, tmp_path):
    ext = tmp_path / "mine"
    ext.mkdir()
    (ext / "ftownnoft.c").write_text(EXTENSION)
    for python in set(pythons.values()):  # a real extension ships for both builds
        include, suffix = subprocess.run([str(python), "-c", "import sysconfig as s; print(s.get_paths()['include']);"
                                          " print(s.get_config_var('EXT_SUFFIX'))"],
                                         capture_output=True, text=True, check=True).stdout.split()
        subprocess.run([*os.environ.get("CC", "cc").split(), "-shared", "-fPIC", f"-I{include}",
                        "-o", str(ext / f"ftownnoft{suffix}"), str(ext / "ftownnoft.c")], check=True,
                       capture_output=True)
    path = _mine(tmp_path, "own_noft", NOFT)
    c = Campaign(pythons, tmp_path)
    r = c.run("--workload-path", str(path), "--workers", "2")
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]
    reason = "gil re-enabled by ftownnoft when the workload loads (--allow-gil to measure it with the GIL)"
    assert f"ftbench: own_noft on {FREE}: not measured: {reason}" in r.stdout
    assert {(row["status"], row["error"]) for row in c.rows(FREE).values()} == {("failed", reason)}
    for v in (BASELINE, CONTROL):
        assert all(row["status"] == "ok" for row in c.rows(v).values())
    assert f"| {FREE} | own_noft | sequential, threads | 1, 2 | failed | {reason} |" in c.report(tmp_path / "an")

    allowed = Campaign(pythons, tmp_path / "allowed")
    r = allowed.run("--workload-path", str(path), "--workers", "2", "--allow-gil")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (f"ftbench: own_noft on {FREE}: gil re-enabled by ftownnoft when the workload loads; measured with the "
            "GIL (--allow-gil)") in r.stdout
    metas = allowed.runs_metadata(FREE, "own_noft/threads/2")
    assert metas and all(m["ftbench_gil_enabled"] == "yes" and m["ftbench_gil_reenabled_by"] == "ftownnoft"
                         for m in metas)


def test_a_scaffolded_workload_is_measured_end_to_end_through_the_sessions(tmp_path):
    """As a new user: nox -s new-workload from their own directory, then the command it prints (at --quick)."""
    nox = [sys.executable, "-m", "nox", "-f", str(REPO / "noxfile.py")]
    env = {**os.environ, "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))}
    env.pop("FTBENCH_WORKLOAD_PATH", None)
    made = subprocess.run([*nox, "-s", "new-workload", "--", "own_first"], cwd=tmp_path, capture_output=True,
                          text=True, env=env, timeout=1800)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    path = tmp_path / "own_first.py"
    command = f"nox -s bench -- --workload-path {path}"
    assert command in made.stdout + made.stderr and "SCALE = " in made.stdout + made.stderr
    results = tmp_path / "results"
    r = subprocess.run([*nox, "-s", "bench", "--", "--workload-path", "own_first.py", "--quick", "--results",
                        str(results), "--host", "own-e2e"], cwd=tmp_path, capture_output=True, text=True, env=env,
                       timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for v in NAMES:
        with open(results / "raw" / "own-e2e" / f"{v}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and {row["workload"] for row in rows} == {"own_first"}
        assert all(row["status"] == "ok" and row["check"] == "ok" for row in rows), rows
