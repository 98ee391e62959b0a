"""A user's own workload files (--workload-path): found, checked, named and fingerprinted like the built-in ones.

Fast: discovery, the bench CLI in this process (refusals in one line, exit 2, nothing written), the
measuring script on the host Python importing one file alone, and a campaign with a fake pyperf
process for what the preflight decided. The real builds are in tests/e2e/test_own_code.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pyperf
import pytest
from conftest import REPO

from harness import metadata, variants
from harness.measure import bench, campaign, planned, preflight
from harness.measure.config import PRECISION, Campaign
from harness.measure.planned import Planned
from harness.measure.workload import LoadError, Workload, declared_requirements, discover, load

SOURCE = '''
from harness import SIZES, CheckFailed, Workload, paired

def make_tasks(params, ctx):
    return [1, 2, 3, 4]

def task(x):
    return x * x

def check(tasks, results, shared):
    for t, r in paired(tasks, results):
        if r != t * t:
            raise CheckFailed(f"{{t}} -> {{r}}")

WORKLOAD = Workload(name={name!r}, kind="cpu", description="d", sizes={{s: {{}} for s in SIZES}},
                    make_tasks=make_tasks, task=task, check=check, strategies=("sequential", "threads"){extra})
'''


@pytest.fixture
def own(tmp_path, monkeypatch):
    """write(name, extra='', stem=None, directory='mine') -> path of a workload file outside the repo.

    Module names are unique per test (``sys.modules`` caches by name); they are forgotten afterwards.
    """
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("FTBENCH_WORKLOAD_PATH", raising=False)
    tag = uuid.uuid4().hex[:8]
    written = []

    def write(name: str, extra: str = "", stem: str | None = None, directory: str = "mine",
              source: str | None = None) -> Path:
        stem = stem or f"{name}_{tag}"
        path = tmp_path / directory / f"{stem}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(source if source is not None else SOURCE.format(name=name, extra=extra))
        written.append(stem)
        return path

    yield write
    for stem in written:
        sys.modules.pop(stem, None)


def test_a_file_and_a_directory_are_found_like_the_built_in_ones(own):
    one = own("own_one")
    two = own("own_two", directory="dir")
    found = discover(paths=[str(one), str(two.parent)])
    assert found.problems == ()
    assert {"own_one", "own_two", "cpu_sum_squares"} <= set(found)
    assert found.given == ("own_one", "own_two")  # the user's, in the order given
    assert found.origins["own_one"] == str(one) and found.origins["own_two"] == str(two)
    assert found.origins["cpu_sum_squares"].endswith(os.path.join("workloads", "cpu_sum_squares.py"))
    assert planned.workload_hash(found["own_one"])  # fingerprinted from its own file


def test_the_same_file_named_twice_or_inside_workloads_is_one_workload(own):
    one = own("own_twice")
    found = discover(paths=[str(one), str(one.parent), str(REPO / "workloads" / "nbody.py")])
    assert found.problems == () and found.given == ("own_twice", "nbody")
    assert found["nbody"].task.__module__ == "workloads.nbody"  # the built-in module, not a second copy


@pytest.mark.parametrize(("kind", "expected"), [
    ("syntax", "SyntaxError: invalid syntax (line 1)"),
    ("empty", "defines no WORKLOAD or WORKLOADS"),
    ("clash", "workload name 'cpu_sum_squares' already defined in"),
    ("import", "ModuleNotFoundError: No module named 'ftbench_not_installed_anywhere'"),
    ("missing", "no such file or directory"),
    ("not_python", "not a Python file (*.py) or a directory of them"),
    ("requires", "requires= must be a literal list of strings"),
])
def test_a_bad_file_is_one_line_naming_it_and_exit_2_before_anything_is_measured(own, tmp_path, capsys, kind,
                                                                                    expected):
    path = {
        "syntax": lambda: own("x", source="def broken(:\n"),
        "empty": lambda: own("x", source="X = 1\n"),
        "clash": lambda: own("cpu_sum_squares"),
        "import": lambda: own("x", source="import ftbench_not_installed_anywhere\n"),
        "missing": lambda: tmp_path / "nowhere.py",
        "not_python": lambda: (tmp_path / "notes.txt", (tmp_path / "notes.txt").write_text("x"))[0],
        "requires": lambda: own("own_req", extra=", requires=['six==' + '1.0']"),
    }[kind]()
    results = tmp_path / "results"
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = bench.main(["--variant", "3.13", "--workload-path", str(path), "--results", str(results)])
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"ftbench bench: error: --workload-path: {path}: ") and expected in line, line
    assert not results.exists()


def test_a_directory_without_workload_files_is_bad_input(tmp_path):
    (tmp_path / "empty").mkdir()
    args = bench.parse_args(["--variant", "3.13", "--workload-path", str(tmp_path / "empty")])
    with pytest.raises(bench.UsageError, match="no workload file there"):
        bench.discover_workloads(args)


def test_only_the_given_workloads_are_planned_unless_workloads_names_others(own):
    path = own("own_plan")
    args = bench.parse_args(["--variant", "3.13", "--workload-path", str(path)])
    found = bench.discover_workloads(args)
    assert [p.name for p in bench.plan(args, found, 2)] == [
        "own_plan/sequential/1", "own_plan/threads/2", "own_plan/threads/4"]
    args = bench.parse_args(["--variant", "3.13", "--workload-path", str(path), "--workloads", "own_plan,nbody",
                             "--strategies", "sequential"])
    assert [p.name for p in bench.plan(args, found, 2)] == ["own_plan/sequential/1", "nbody/sequential/1"]
    config = bench.make_config(args, None, found)
    assert config.file_of("own_plan") == str(path) and config.requirements_of("own_plan") == ()


def test_relative_paths_are_made_absolute_once(own, monkeypatch):
    path = own("own_rel")
    monkeypatch.chdir(path.parent)
    args = bench.parse_args(["--variant", "3.13", "--workload-path", path.name, "--workload-path", str(path)])
    assert args.workload_path == [str(path)]


# --- requirements are read before the file is imported ----------------------------------------------


@pytest.mark.parametrize(("extra", "expected"), [
    ("", ()),
    (", requires=['six==1.17.0', 'attrs>=23']", ("six==1.17.0", "attrs>=23")),
    (", requires=REQS", ("tomli-w==1.1.0",)),
])
def test_requirements_are_read_from_the_source(own, extra, expected):
    path = own("own_static", extra=extra)
    if "REQS" in extra:
        path.write_text("REQS = ['tomli-w==1.1.0']\n" + path.read_text())
    assert declared_requirements(str(path)) == expected


def test_computed_requirements_are_refused_in_one_line(own):
    path = own("own_dyn", extra=", requires=[f'six=={1}']")
    with pytest.raises(LoadError, match=r"requires= must be a literal list of strings"):
        declared_requirements(str(path))


def test_a_file_is_imported_with_its_requirements_installed_first(own, tmp_path):
    """The provider installs before the import: the file imports a package only the overlay has."""
    overlay = tmp_path / "overlay"
    (overlay / "ftbench_only_in_overlay").mkdir(parents=True)
    (overlay / "ftbench_only_in_overlay" / "__init__.py").write_text("VALUE = 7\n")
    path = own("own_needs", source="import ftbench_only_in_overlay\n" + SOURCE.format(
        name="own_needs", extra=", requires=['ftbench-only-in-overlay==1.0']"))
    asked = []
    found = discover(paths=[str(path)], provide=lambda req: asked.append(req) or str(overlay))
    assert found.problems == () and asked == [("ftbench-only-in-overlay==1.0",)]
    assert found.requirements["own_needs"] == ("ftbench-only-in-overlay==1.0",)
    assert str(overlay) not in sys.path  # first on the path for the import only
    sys.modules.pop("ftbench_only_in_overlay", None)


def test_a_requirement_that_cannot_be_installed_here_names_the_file_and_the_package(own):
    path = own("own_nowheel", source="import yaml\n" + SOURCE.format(name="own_nowheel",
                                                                   extra=", requires=['pyyaml==6.0.2']"))

    def provide(requires):
        raise RuntimeError("requirement pyyaml==6.0.2: no binary wheel for cp313t")

    found = discover(paths=[str(path)], provide=provide)
    (problem,) = found.problems
    assert problem.given and str(problem) == f"{path}: requirement pyyaml==6.0.2: no binary wheel for cp313t"


def test_requires_must_be_a_list_of_requirements():
    kw = dict(name="x", kind="cpu", description="d", sizes={s: {} for s in ("tiny", "quick", "default", "rigorous")},
              make_tasks=lambda p, c: [], task=abs, check=lambda t, r, s: None)
    with pytest.raises(ValueError, match="requires must be a list of pip requirements"):
        Workload(**kw, requires="six")
    with pytest.raises(ValueError, match="requires must be a list of pip requirements"):
        Workload(**kw, requires=["six", ""])
    assert Workload(**kw, requires=[" six==1.17.0 "]).requires == ("six==1.17.0",)


# --- the measuring process imports the workload's file alone ---------------------------------------


def test_load_imports_one_file_and_names_it_as_discovery_does(own):
    path = own("own_alone")
    other = own("own_other", source="raise RuntimeError('imported, but nobody asked for me')\n")
    w = load(str(path), "own_alone")
    assert w.task.__module__ == path.stem and other.stem not in sys.modules
    assert load(str(REPO / "workloads" / "nbody.py"), "nbody").task.__module__ == "workloads.nbody"
    with pytest.raises(LoadError, match="defines no workload named 'nope'"):
        load(str(path), "nope")


def test_the_measuring_script_runs_a_file_from_anywhere_and_imports_nothing_else(own, tmp_path):
    """Real process: beside the file, another that raises at import is never imported."""
    path = own("own_proc")
    own("own_bomb", source="raise SystemExit('imported: every workload of the directory was loaded')\n")
    out = tmp_path / "out.json"
    r = subprocess.run([sys.executable, "-m", "harness.measure.run", "--workload", "own_proc",
                        "--workload-file", str(path), "--strategy", "threads", "--workers", "2",
                        "--variant", "3.13", "--size", "tiny", "--processes", "1", "--values", "1",
                        "--warmups", "0", "--loops", "1", "-o", str(out)],
                       capture_output=True, text=True, cwd=REPO, timeout=120,
                       env={k: v for k, v in os.environ.items() if k != "FTBENCH_WORKLOAD_PATH"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(out.read_text())["benchmarks"]


def test_the_campaign_passes_each_process_its_file_and_overlay():
    from harness.measure import worker

    config = Campaign(variants=("3.13",), pythons=(("3.13", "/py"),), workload_files=(("w", "/home/u/w.py"),))
    p = Planned(SimpleNamespace(name="w"), "sequential", 1)
    cmd = worker.command(p, config, "3.13", [], "", Path("out.json"), overlay="/cache/overlay")
    assert cmd[cmd.index("--workload-file") + 1] == "/home/u/w.py"
    assert cmd[cmd.index("--requirements-path") + 1] == "/cache/overlay"
    bare = worker.command(p, Campaign(variants=("3.13",), pythons=(("3.13", "/py"),)), "3.13", [], "",
                          Path("o.json"))
    assert "--workload-file" not in bare and "--requirements-path" not in bare


# --- fingerprints and the campaign's record of a workload that cannot run on a variant -----------------


def test_the_installed_versions_are_part_of_the_definition_hash():
    w = discover()["cpu_sum_squares"]
    plain = planned.workload_hash(w)
    assert planned.workload_hash(w, ()) == plain  # no requirements: the hash every results set holds
    six = planned.workload_hash(w, (("six", "1.17.0"),))
    assert six != plain and six != planned.workload_hash(w, (("six", "1.16.0"),))


def test_where_workloads_come_from_is_not_a_setting_a_resume_compares():
    a = Campaign(variants=("3.13",), pythons=(("3.13", "/py"),))
    b = Campaign(variants=("3.13",), pythons=(("3.13", "/py"),), workload_files=(("w", "/x/w.py"),),
                 requirements=(("w", ("six==1.17.0",)),), allow_source_builds=True)
    assert a.settings() == b.settings()


NAMES = tuple(variants.registry())


def _fake_bench(value: float, v: str, name: str):
    meta = {"name": name, "loops": 1}
    metadata.put(meta, "gil_enabled", "no" if variants.get(v).role == "free-threaded" else "yes")
    metadata.put(meta, "foreign_flagged", "no")
    return pyperf.Benchmark([pyperf.Run([value, value], metadata=meta, collect_metadata=False)])


def test_a_workload_refused_on_one_variant_is_recorded_there_and_measured_on_the_others(tmp_path, capsys):
    w = discover()["cpu_sum_squares"]
    items = [Planned(w, "sequential", 1), Planned(w, "threads", 2)]
    config = Campaign(variants=NAMES, pythons=tuple((v, sys.executable) for v in NAMES), profile="quick",
                      size="tiny", results=tmp_path, host="h", precision=PRECISION["quick"],
                      workload_files=(("cpu_sum_squares", "/src/cpu_sum_squares.py"),))
    reason = "requirement pyyaml==6.0.2: no binary wheel for cp313t (binary wheels only; --allow-source-builds ...)"
    ready = {(NAMES[0], w.name): preflight.Ready("/cache/o", (("pyyaml", "6.0.2"),)),
             (NAMES[1], w.name): preflight.Ready(refused=reason),
             (NAMES[2], w.name): preflight.Ready(refused=reason)}
    calls = []

    def measure(p, v, r, pyperf_args, url):
        calls.append(v)
        return "ok", "", _fake_bench(1.0, v, p.name)

    assert campaign.run(config, items, measure=measure, ready=ready) == 1
    assert set(calls) == {NAMES[0]}
    err = capsys.readouterr().err
    assert [ln for ln in err.splitlines() if "pyyaml" in ln] == [
        f"  cpu_sum_squares@{NAMES[1]}: failed: {reason}", f"  cpu_sum_squares@{NAMES[2]}: failed: {reason}"]
    raw = tmp_path / "raw" / "h"
    for v in NAMES[1:]:
        state = json.loads((raw / f"{v}.state.json").read_text())
        assert {(e["status"], e["error"]) for e in state["benchmarks"].values()} == {("failed", reason)}
        assert len(state["benchmarks"]) == 2  # every planned benchmark, each listed with the reason
    suite = pyperf.BenchmarkSuite.load(str(raw / f"{NAMES[0]}.json"))
    meta = suite.get_benchmark("cpu_sum_squares/threads/2").get_metadata()
    digest = planned.workload_hash(w, (("pyyaml", "6.0.2"),))
    assert metadata.get(meta, "requirements") == "pyyaml==6.0.2" and metadata.get(meta, "workload_hash") == digest
    assert metadata.get(meta, "workload_file") == "/src/cpu_sum_squares.py"
    assert json.loads((raw / f"{NAMES[0]}.state.json").read_text())["workloads"] == {"cpu_sum_squares": digest}


def test_the_report_lists_a_workload_a_variant_could_not_run_in_one_line():
    import pandas as pd

    from harness.analysis.report import failures_table

    reason = "gil re-enabled by ftnoft when the workload loads (--allow-gil to measure it with the GIL)"
    rows = [dict(host="h", variant="3.13t", workload="w", strategy=s, workers=n, status="failed", error=reason)
            for s, n in (("sequential", 1), ("threads", 2), ("threads", 4))]
    rows.append(dict(host="h", variant="3.13t", workload="v", strategy="threads", workers=2, status="timeout",
                     error="killed after 600 s"))
    rows.append(dict(host="h", variant="3.13", workload="w", strategy="threads", workers=2, status="ok", error=""))
    table = failures_table(pd.DataFrame(rows))
    assert table.to_dict("records") == [
        dict(host="h", variant="3.13t", workload="w", strategy="sequential, threads", workers="1, 2, 4",
             status="failed", error=reason),
        dict(host="h", variant="3.13t", workload="v", strategy="threads", workers="2", status="timeout",
             error="killed after 600 s")]
