"""harness.provision.pyperformance: command construction, interleaving, merging, failure recording.

A fake ``pyperformance`` (a small script) stands in for the real one: it logs every call with the
PYTHON_GIL it was given, writes pyperf JSON, and fails on cue (an install failure everywhere, a
crash on the free-threaded build only, a hang). Its fake venv python answers the GIL probe from
the environment. One slow test runs the real pyperformance on the real 3.13t build.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from harness import variants
from harness.provision import interpreters
from harness.provision import pyperformance as ppf

FAKE = textwrap.dedent('''
    import json, os, sys, time
    args = sys.argv[1:]
    opt = lambda name: args[args.index(name) + 1]
    if args[0] == "list":
        print("- alpha\\n- broken_on_ft\\n- needs_missing_dep")
        sys.exit(0)
    if args[:2] == ["venv", "show"]:
        fake_venv = os.environ["FAKE_VENV_PYTHON"] + ("t" if opt("--python").endswith("t") else "")
        print(f"Virtual environment path: {fake_venv}.venv (already created)")
        sys.exit(0)
    bench, python, out = opt("--benchmarks"), opt("--python"), opt("--output")
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(json.dumps({"bench": bench, "python": python, "gil": os.environ.get("PYTHON_GIL"),
                              "argv": args}) + "\\n")
    print("creating venv ... lots of pip output")
    if bench == "needs_missing_dep":
        print("ERROR: Benchmark needs_missing_dep failed: could not install requirements")
        sys.exit(1)
    if bench == "broken_on_ft" and python.endswith("t"):
        print("Traceback (most recent call last):\\nRuntimeError: boom on free-threading")
        print("ERROR: Benchmark broken_on_ft failed: Benchmark died")
        sys.exit(1)
    if bench == os.environ.get("FAKE_REENABLES") and python.endswith("t") and os.environ.get("PYTHON_GIL") != "1":
        print("<frozen importlib._bootstrap>:488: RuntimeWarning: The global interpreter lock (GIL) has been "
              "enabled to load module 'fake_ext', which has not declared that it can run safely without the GIL.",
              file=sys.stderr)
    if bench == "hang":
        time.sleep(60)
    venv_python = os.environ["FAKE_VENV_PYTHON"] + ("t" if python.endswith("t") else "")
    meta = {"name": bench, "loops": 8}
    if bench != os.environ.get("FAKE_COMMAND_BENCH"):  # a command benchmark's pyperf names no python
        meta["python_executable"] = venv_python
    data = {"version": "1.0", "metadata": {"performance_version": "1.14.0", "hostname": "fake"},
            "benchmarks": [{"metadata": meta, "runs": [
                {"metadata": {"date": "2026-11-25 12:00:00", "duration": 0.5}, "warmups": [[8, 0.1]],
                 "values": [0.1, 0.11]}]}]}
    with open(out, "w") as f:
        json.dump(data, f)
''')

FAKE_VENV_PYTHON = textwrap.dedent('''
    import json, os, sys
    # Answers harness.provision.pyperformance.GIL_PROBE as a pyperf worker would.
    out = sys.argv[sys.argv.index("-o") + 1]
    gil = "no" if os.environ.get("FAKE_FREE_THREADED") == "1" and os.environ.get("PYTHON_GIL") != "1" else "yes"
    meta = {"name": "gil-probe", "ftbench_gil_enabled": os.environ.get("FAKE_FORCE_GIL", gil),
            "ftbench_probe_process": "worker"}
    json.dump({"version": "1.0", "metadata": meta, "benchmarks": [{"runs": [{"values": [1e-7]}]}]}, open(out, "w"))
''')


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake pyperformance command and venv python; returns the path of the call log."""
    (tmp_path / "fake_pyperformance.py").write_text(FAKE)
    (tmp_path / "fake_venv.py").write_text(FAKE_VENV_PYTHON)
    for suffix, free_threaded in (("", "0"), ("t", "1")):  # the venv python of each build
        venv_python = tmp_path / f"venv-python{suffix}"
        venv_python.write_text(f"#!/bin/sh\nFAKE_FREE_THREADED={free_threaded} exec {sys.executable} "
                               f"{tmp_path / 'fake_venv.py'} \"$@\"\n")
        venv_python.chmod(0o755)
        (tmp_path / f"venv-python{suffix}.venv" / "bin").mkdir(parents=True)  # what `venv show` names
        (tmp_path / f"venv-python{suffix}.venv" / "bin" / "python").symlink_to(venv_python)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_VENV_PYTHON", str(tmp_path / "venv-python"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(ppf.COMMAND_ENV, f"{sys.executable} {tmp_path / 'fake_pyperformance.py'}")
    monkeypatch.setenv("PYTHON_GIL", "0")  # a stray setting in the user's shell must not leak into a variant
    return log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_run_command():
    cmd = ppf.run_command(["pyperformance"], "/py/bin/python3.13t", "nbody", Path("/tmp/o.json"), "fast", False)
    assert cmd == ["pyperformance", "run", "--python", "/py/bin/python3.13t", "--benchmarks", "nbody",
                   "--output", "/tmp/o.json", "--verbose", "--fast"]
    offline = ppf.run_command(["pp"], "py", "nbody", Path("o"), "debug", True)
    assert offline[-2:] == ["--debug-single-value", "--inherit-environ=PIP_NO_INDEX"]
    assert ppf.run_command(["pp"], "py", "x", Path("o"), "default", False)[-1] == "--verbose"


def test_command_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(ppf.COMMAND_ENV, raising=False)
    assert ppf.command() == [sys.executable, "-m", "pyperformance"]
    monkeypatch.setenv(ppf.COMMAND_ENV, "/opt/pp venv/bin/pyperformance --x")
    assert ppf.command() == ["/opt/pp", "venv/bin/pyperformance", "--x"]
    assert ppf.command("a b") == ["a", "b"]


def test_plan_is_benchmark_major_and_rotates_the_variants():
    assert ppf.plan(["a", "b", "c"], ["x", "y", "z"]) == [
        ("a", "x"), ("a", "y"), ("a", "z"), ("b", "y"), ("b", "z"), ("b", "x"), ("c", "z"), ("c", "x"), ("c", "y")]


@pytest.mark.parametrize(("rc", "output", "produced", "status"), [
    (0, "fine", True, "ok"),
    (0, "fine", False, "failed"),
    (1, "x\nERROR: Benchmark a failed: could not install requirements\n", False, "install-failed"),
    (1, "Traceback\nRuntimeError: boom\nERROR: Benchmark a failed: Benchmark died\n", False, "failed"),
    (None, "", False, "timeout"),
])
def test_classify(rc, output, produced, status):
    got, error = ppf.classify(rc, output, produced)
    assert got == status and (error == "") == (status == "ok")
    if rc == 1:
        assert error in ("ERROR: Benchmark a failed: could not install requirements", "RuntimeError: boom")


def test_the_error_line_is_the_telling_one():
    pip = ("Collecting chameleon==4.6.0\n"
           "ERROR: Could not find a version that satisfies the requirement chameleon==4.6.0 (from versions: none)\n"
           "ERROR: No matching distribution found for chameleon==4.6.0\n(benchmark will be skipped)\n"
           "ERROR: Benchmark chameleon failed: could not install requirements\nERROR: No benchmark was run\n")
    assert ppf.classify(1, pip, False) == ("install-failed", "ERROR: Could not find a version that satisfies "
                                           "the requirement chameleon==4.6.0 (from versions: none)")
    assert ppf.classify(1, "a\nsegfault\n", False) == ("failed", "segfault")


def test_a_failed_build_from_source_names_the_archive_and_its_first_error():
    # fastapi on 3.13t, offline from crates.io: pydantic-core has no cp313t wheel and needs Rust crates
    log = ("Collecting pydantic-core==2.50.5 (from pydantic<3.0.0,>=1.7.4->fastapi==0.121.0)\n"
           "  Downloading pydantic_core-2.50.5.tar.gz (523 kB)\n"
           "  error: subprocess-exited-with-error\n"
           "      warning: spurious network error (1 try remaining): [6] Could not resolve hostname\n"
           "      error: failed to get `ahash` as a dependency of package `pydantic-core v2.50.5 "
           "(/tmp/pip-install-r8w/pydantic-core_47)`\n"
           "      Error running maturin: Command '['maturin', 'pep517']' returned non-zero exit status 1.\n"
           "error: metadata-generation-failed\n"
           "(benchmark will be skipped)\n"
           "ERROR: Benchmark fastapi failed: could not install requirements\nERROR: No benchmark was run\n")
    assert ppf.classify(1, log, False) == (
        "install-failed", "building pydantic_core-2.50.5.tar.gz from source: metadata-generation-failed "
        "(error: failed to get `ahash` as a dependency of package `pydantic-core v2.50.5`)")


def test_merge_pushes_common_metadata_down_and_replaces_a_rerun():
    def suite(name, value, common):
        return {"version": "1.0", "metadata": common,
                "benchmarks": [{"metadata": {"name": name}, "runs": [{"metadata": {}, "values": [value]}]}]}

    merged = ppf.merge(None, suite("a", 1.0, {"hostname": "h"}), {"ftbench_variant": "3.13t"})
    merged = ppf.merge(merged, suite("b", 2.0, {"hostname": "h2"}), {"ftbench_variant": "3.13t"})
    merged = ppf.merge(merged, suite("a", 3.0, {"hostname": "h3"}), {"ftbench_variant": "3.13t"})
    by_name = {b["metadata"]["name"]: b for b in merged["benchmarks"]}
    assert sorted(by_name) == ["a", "b"] and merged["metadata"] == {}
    assert by_name["a"]["metadata"]["hostname"] == "h3" and by_name["a"]["runs"][0]["values"] == [3.0]
    assert by_name["b"]["metadata"] == {"name": "b", "hostname": "h2", "ftbench_variant": "3.13t"}


def test_fake_run_records_each_failure_for_its_variant_only(fake, tmp_path):
    pyperf = pytest.importorskip("pyperf")
    names = list(variants.registry())
    statuses = ppf.run(names, "default", "fast", tmp_path / "results", "box", log=lambda *a: None)
    made = calls(fake)
    # interleaved: every benchmark on every variant before the next benchmark
    assert [c["bench"] for c in made] == ["alpha"] * 3 + ["broken_on_ft"] * 3 + ["needs_missing_dep"] * 3
    assert all("--fast" in c["argv"] for c in made)
    gil_seen = {(c["python"].endswith("t"), c["gil"]) for c in made}
    assert gil_seen == {(False, None), (True, None), (True, "1")}  # the stray PYTHON_GIL=0 never got through
    base, ft, control = names
    assert {b: e["status"] for b, e in statuses[base]["benchmarks"].items()} == {
        "alpha": "ok", "broken_on_ft": "ok", "needs_missing_dep": "install-failed"}
    for name in (ft, control):
        entry = statuses[name]["benchmarks"]["broken_on_ft"]
        assert entry["status"] == "failed" and entry["error"] == "RuntimeError: boom on free-threading"
        log = tmp_path / "results/raw/box/pyperformance" / entry["log"]
        assert "RuntimeError: boom on free-threading" in log.read_text()
    out = tmp_path / "results/raw/box/pyperformance"
    assert sorted(p.name for p in out.glob("*.json")) == sorted(
        [f"{n}.json" for n in names] + [f"{n}.status.json" for n in names])
    assert json.loads((out / f"{ft}.status.json").read_text()) == statuses[ft]
    for name, expected in ((base, ["alpha", "broken_on_ft"]), (ft, ["alpha"]), (control, ["alpha"])):
        suite = pyperf.BenchmarkSuite.load(str(out / f"{name}.json"))  # pyperf's own format
        assert sorted(suite.get_benchmark_names()) == expected
        meta = suite.get_benchmarks()[0].get_metadata()
        assert meta["ftbench_variant"] == name and meta["ftbench_host"] == "box"
        assert meta["ftbench_gil_enabled"] == ("yes" if variants.get(name).gil_expected else "no")
        assert meta["hostname"] == "fake"  # pyperformance's common metadata kept


def test_a_rerun_skips_what_is_ok_and_retries_what_failed(fake, tmp_path):
    names = list(variants.registry())
    ppf.run(names, "default", "fast", tmp_path / "r", "box", log=lambda *a: None)
    fake.unlink()
    ppf.run(names, "default", "fast", tmp_path / "r", "box", log=lambda *a: None)
    assert sorted((c["bench"], c["python"].endswith("t")) for c in calls(fake)) == [
        ("broken_on_ft", True), ("broken_on_ft", True),
        ("needs_missing_dep", False), ("needs_missing_dep", True), ("needs_missing_dep", True)]
    with pytest.raises(ppf.PyperformanceError, match="--fresh"):
        ppf.run(names, "default", "rigorous", tmp_path / "r", "box", log=lambda *a: None)


def test_a_worker_with_the_wrong_gil_state_fails_the_benchmark(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_FORCE_GIL", "yes")  # e.g. an extension re-enabled the GIL on 3.13t
    ft = [n for n, v in variants.registry().items() if v.role == "free-threaded"]
    statuses = ppf.run(ft, "alpha", "fast", tmp_path / "r", "box", log=lambda *a: None)
    entry = statuses[ft[0]]["benchmarks"]["alpha"]
    assert entry["status"] == "failed" and "GIL enabled=yes" in entry["error"]


def test_a_hanging_call_is_killed_and_recorded(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(ppf, "list_benchmarks", lambda cmd, selection: ["hang"])
    statuses = ppf.run([next(iter(variants.registry()))], "hang", "fast", tmp_path / "r", "box", timeout=1.0,
                       log=lambda *a: None)
    (entry,) = statuses[next(iter(variants.registry()))]["benchmarks"].values()
    assert entry["status"] == "timeout" and entry["seconds"] < 30


def test_main_exit_status_and_unknown_variant(fake, tmp_path, capsys):
    assert ppf.main(["list", "--benchmarks", "default"]) == 0
    assert capsys.readouterr().out.split() == ["alpha", "broken_on_ft", "needs_missing_dep"]
    assert ppf.main(["run", "--variants", "2.7", "--results", str(tmp_path)]) == 2
    assert ppf.main(["run", "--results", str(tmp_path), "--host", "b"]) == 1  # some benchmarks failed
    assert "needs_missing_dep" in capsys.readouterr().err


@pytest.mark.slow
def test_real_pyperformance_on_the_free_threaded_build(tmp_path):
    """pyperformance 1.14.0 runs one benchmark on ftbench's 3.13t build, GIL off in its workers."""
    if not os.environ.get(ppf.COMMAND_ENV) and importlib.util.find_spec("pyperformance") is None:
        pytest.skip(f"pyperformance not installed here (pip install pyperformance=={ppf.PYPERFORMANCE_VERSION}, "
                    f"or set {ppf.COMMAND_ENV})")
    ft = next(v for v in variants.registry().values() if v.role == "free-threaded")
    if not interpreters.executable(ft.build.version, True).exists():
        pytest.skip(f"no {ft.name} build (nox -s build-{ft.build.name})")
    statuses = ppf.run([ft.name], "nbody", "debug", tmp_path, "test", log=print)
    assert statuses[ft.name]["benchmarks"]["nbody"]["status"] == "ok"
    suite = json.loads((tmp_path / "raw/test/pyperformance" / f"{ft.name}.json").read_text())
    meta = suite["benchmarks"][0]["metadata"]
    assert meta["ftbench_gil_enabled"] == "no" and meta["performance_version"] == ppf.PYPERFORMANCE_VERSION


def test_the_campaign_analysis_does_not_mistake_these_for_variants(fake, tmp_path):
    load = pytest.importorskip("harness.analysis.load")  # needs pandas
    ppf.run([next(iter(variants.registry()))], "alpha", "fast", tmp_path / "results", "box", log=lambda *a: None)
    with pytest.raises(load.NoResults):  # raw/box/ holds only the pyperformance/ subdirectory
        load.load_raw(tmp_path / "results" / "raw")


def test_an_import_that_re_enables_the_gil_is_recorded_on_the_free_threaded_variant_only(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_REENABLES", "alpha")
    names = list(variants.registry())
    statuses = ppf.run(names, "alpha", "fast", tmp_path / "r", "box", log=lambda *a: None)
    got = {n: s["benchmarks"]["alpha"]["status"] for n, s in statuses.items()}
    assert got == {n: "gil-reenabled" if v.role == "free-threaded" else "ok" for n, v in variants.registry().items()}
    ft = next(n for n, v in variants.registry().items() if v.role == "free-threaded")
    assert "fake_ext" in statuses[ft]["benchmarks"]["alpha"]["error"]
    kept = ppf.run([ft], "alpha", "fast", tmp_path / "r2", "box", allow_gil=True, log=lambda *a: None)
    assert kept[ft]["benchmarks"]["alpha"]["status"] == "ok"


def test_a_command_benchmark_without_python_executable_is_probed_in_the_venv_pyperformance_names(
        fake, tmp_path, monkeypatch):
    """2to3 and the startup benchmarks time a subprocess: pyperf records no python_executable, so the GIL
    probe asks `pyperformance venv show` (it once fell back to the bare build, which has no pyperf)."""
    monkeypatch.setenv("FAKE_COMMAND_BENCH", "alpha")
    statuses = ppf.run(list(variants.registry()), "alpha", "fast", tmp_path / "r", "box", log=lambda *a: None)
    assert {n: s["benchmarks"]["alpha"]["status"] for n, s in statuses.items()} == dict.fromkeys(statuses, "ok")
    gil = {n: json.loads((tmp_path / "r/raw/box/pyperformance" / f"{n}.json").read_text())["benchmarks"][0]
           ["metadata"]["ftbench_gil_enabled"] for n in statuses}
    assert gil == {n: "yes" if v.gil_expected else "no" for n, v in variants.registry().items()}


# --- the lens's guards: the campaign's, for its own files -------------------------------------------


@pytest.fixture
def alpha(fake, monkeypatch):
    """The fake pyperformance with a selection of one benchmark that passes everywhere."""
    monkeypatch.setattr(ppf, "list_benchmarks", lambda cmd, selection: ["alpha"])
    return fake


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _refused(capsys, argv: list[str], *needles: str) -> str:
    assert ppf.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert all(n in err[0] for n in needles), err[0]
    return err[0]


@pytest.mark.parametrize("host", ["../../x", "a/b", "", ".hidden", "x" * 65])
def test_a_host_that_is_not_a_label_is_refused_and_nothing_is_written(alpha, tmp_path, capsys, host):
    results = tmp_path / "deep" / "results"
    _refused(capsys, ["run", "--results", str(results), "--host", host, "--variants", "3.13"], "--host")
    assert calls(alpha) == [] and not (tmp_path / "deep").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("fresh", [[], ["--fresh"]], ids=["resume", "fresh"])
def test_a_published_set_is_never_written(alpha, tmp_path, capsys, fresh):
    results = tmp_path / "results"
    assert ppf.main(["run", "--results", str(results), "--host", "pub", "--variants", "3.13",
                     "--benchmarks", "alpha"]) == 0
    (results / "raw" / "pub" / "PUBLISHED").write_text("published\n")
    before = _files(results / "raw")
    _refused(capsys, ["run", "--results", str(results), "--host", "pub", "--variants", "3.13", "--speed", "debug",
                      "--benchmarks", "alpha", *fresh], "published results set", "--host")
    assert _files(results / "raw") == before


def test_another_machines_set_is_refused_even_with_fresh(alpha, tmp_path, capsys):
    results = tmp_path / "results"
    assert ppf.main(["run", "--results", str(results), "--host", "box", "--variants", "3.13",
                     "--benchmarks", "alpha"]) == 0
    status_path = results / "raw" / "box" / "pyperformance" / "3.13.status.json"
    status = json.loads(status_path.read_text())
    status["machine"] = {**status["machine"], "cpu_model": "Another CPU", "id": "0123456789ab"}
    status_path.write_text(json.dumps(status))
    before = _files(results / "raw")
    for variants_, fresh in (("3.13", ["--fresh"]), ("3.13t", [])):  # its own variant, or a new one beside it
        _refused(capsys, ["run", "--results", str(results), "--host", "box", "--variants", variants_,
                          "--benchmarks", "alpha", *fresh], "another machine", "Another CPU")
    assert _files(results / "raw") == before


def test_fresh_keeps_the_old_files_as_backups(alpha, tmp_path):
    results = tmp_path / "results"
    argv = ["run", "--results", str(results), "--host", "box", "--variants", "3.13", "--benchmarks", "alpha"]
    assert ppf.main(argv) == 0
    out = results / "raw" / "box" / "pyperformance"
    before = {p.name: p.read_bytes() for p in out.glob("3.13.*")}
    assert ppf.main([*argv, "--fresh"]) == 0
    backups = {p.name: p.read_bytes() for p in out.glob("3.13.bak-*")}
    assert sorted(backups.values()) == sorted(before.values())
    assert len(backups) == 2 and all(n.endswith((".json", ".status.json")) for n in backups)


HOLD = """
import sys
from pathlib import Path
from harness.provision import pyperformance as ppf
from harness import variants
store = ppf.Store(Path(sys.argv[1]), "box", variants.get("3.13"), {"pyperformance": ppf.PYPERFORMANCE_VERSION,
          "speed": "fast"})
print("locked", flush=True)
sys.stdin.read()
"""


def test_two_runs_into_one_set_at_once_the_second_is_refused(alpha, tmp_path, capsys):
    import subprocess

    results = tmp_path / "results"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(results)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "locked"
        _refused(capsys, ["run", "--results", str(results), "--host", "box", "--variants", "3.13",
                          "--benchmarks", "alpha"], "being written by another", f"pid {holder.pid}")
        assert calls(alpha) == []
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("damaged", ["3.13.status.json", "3.13.json"])
def test_a_truncated_file_is_one_line_and_left_as_it_was(alpha, tmp_path, capsys, damaged):
    results = tmp_path / "results"
    argv = ["run", "--results", str(results), "--host", "box", "--variants", "3.13", "--benchmarks", "alpha"]
    assert ppf.main(argv) == 0
    path = results / "raw" / "box" / "pyperformance" / damaged
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = _files(results / "raw")
    _refused(capsys, argv, str(path), "--fresh")
    assert _files(results / "raw") == before


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf", "soon"])
def test_a_timeout_that_is_not_a_finite_positive_number_is_refused(alpha, tmp_path, capsys, value):
    _refused(capsys, ["run", "--results", str(tmp_path), "--host", "box", "--timeout", value], "--timeout")
    assert calls(alpha) == []


def test_the_timeout_message_names_the_timeout_used(alpha, tmp_path, monkeypatch):
    monkeypatch.setattr(ppf, "list_benchmarks", lambda cmd, selection: ["hang"])
    name = next(iter(variants.registry()))
    statuses = ppf.run([name], "hang", "fast", tmp_path / "r", "box", timeout=1.5, log=lambda *a: None)
    assert statuses[name]["benchmarks"]["hang"]["error"] == "no result after 1.5 s: killed"


def test_a_variant_named_twice_is_run_once(alpha, tmp_path, capsys):
    assert ppf.main(["run", "--results", str(tmp_path), "--host", "box", "--variants", "3.13,3.13",
                     "--benchmarks", "alpha"]) == 0
    assert [c["bench"] for c in calls(alpha)] == ["alpha"]
    _refused(capsys, ["run", "--results", str(tmp_path), "--host", "box", "--variants", "3.13,,3.13t"],
             "--variants")
