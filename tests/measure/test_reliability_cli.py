"""Bad command-line input is refused before anything is measured: one line, exit 2, nothing written.

The regression tests of the command-line probes of issue 15 (items 4, 5, 6 and the worker-cap and
duplicate-name parts of 9) and of issue 9's "an unknown variant or version names the known ones".
The original probes ran ``python -m harness.measure.bench`` as real processes; so do these. The
fast ones run it on the host Python (every check here comes before the interpreter check, so bad
input is named on any Python); the slow ones repeat the probes on ftbench's real 3.13t build, where
the old runner measured a benchmark before dying.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAULT_WORKLOADS, REPO

from harness import variants
from harness.measure import bench
from harness.measure.bench import UsageError, parse_args, plan
from harness.measure.workload import discover

ERROR = "ftbench bench: error: "
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a directory): 'nothing written' is equality."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


def _cli(cwd: Path, *args: str, python: str = sys.executable, env: dict | None = None):
    env = {**os.environ, "FTBENCH_WORKLOAD_PATH": str(FAULT_WORKLOADS), **(env or {})}
    env.pop("PYTHON_GIL", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    return subprocess.run([python, "-m", "harness.measure.bench", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60)


def _refused(r, *fragments: str) -> str:
    """Exit 2 and exactly one line on stderr (nothing on stdout) containing every fragment."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def sandbox(tmp_path):
    """A directory the CLI runs in (its cwd) and whose content must not change on refusal."""
    (tmp_path / "cwd").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "keep.txt").write_text("not ftbench's\n")
    return tmp_path


GOOD = ("--variant", "3.13t", "--quick", "--size", "tiny", "--workloads", "ftfault_ok")


# --- item 4: an unwritable --results is found before anything is measured ---------------------------------


def test_results_naming_a_regular_file_is_refused_and_left_as_it_was(sandbox):
    target = sandbox / "results.txt"
    target.write_bytes(b"precious\n")
    before = _snapshot(sandbox)
    line = _refused(_cli(sandbox / "cwd", *GOOD, "--results", str(target)), f"--results '{target}'",
                    "is a file", "give a directory")
    assert line.endswith("give a directory (it is created if missing)")
    assert _snapshot(sandbox) == before


def test_results_below_a_regular_file_is_refused(sandbox):
    (sandbox / "results" / "raw").write_text("a file where raw/ should be\n")
    before = _snapshot(sandbox)
    _refused(_cli(sandbox / "cwd", *GOOD, "--results", str(sandbox / "results"), "--host", "h1"),
             f"{sandbox / 'results' / 'raw'} is a file")
    assert _snapshot(sandbox) == before


def _chattr(path: Path, flag: str) -> bool:
    r = subprocess.run(["chattr", flag, str(path)], capture_output=True)
    return r.returncode == 0


@pytest.mark.parametrize("existing", ["results", "host-dir"], ids=["results-dir", "raw-host-dir"])
def test_an_immutable_results_directory_is_refused_before_measuring(sandbox, existing):
    results = sandbox / "results"
    immutable = results
    if existing == "host-dir":
        immutable = results / "raw" / "h1"
        immutable.mkdir(parents=True)
        (immutable / "3.13t.csv").write_text("host,variant\n")
    if not _chattr(immutable, "+i"):
        pytest.skip("chattr +i is not available here")
    try:
        before = _snapshot(sandbox)
        _refused(_cli(sandbox / "cwd", *GOOD, "--results", str(results), "--host", "h1"),
                 f"cannot write in {immutable}", "give a writable directory")
        assert _snapshot(sandbox) == before
    finally:
        _chattr(immutable, "-i")


@pytest.mark.skipif(ROOT, reason="root writes into a read-only directory anyway")
def test_a_read_only_results_directory_is_refused(sandbox):
    results = sandbox / "results"
    results.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        _refused(_cli(sandbox / "cwd", *GOOD, "--results", str(results)), f"cannot write in {results}")
    finally:
        results.chmod(stat.S_IRWXU)


def test_the_write_probe_leaves_no_file(tmp_path):
    (tmp_path / "raw" / "h1").mkdir(parents=True)
    bench.check_results(str(tmp_path), "h1")
    bench.check_results(str(tmp_path / "not" / "yet"), "h1")  # created later, by the campaign
    assert _snapshot(tmp_path) == {"raw": None, "raw/h1": None}


# --- item 5: --host cannot leave --results, --results "" cannot write into the cwd -----------------------


@pytest.mark.parametrize("host", ["../../x", "..", ".", "a/b", "/abs", "", "-x", ".hidden", "x y", "é", "a" * 65])
def test_a_host_label_that_is_not_a_plain_name_is_refused(sandbox, host):
    before = _snapshot(sandbox)
    _refused(_cli(sandbox / "cwd", *GOOD, "--results", str(sandbox / "results"), f"--host={host}"),
             f"--host {host!r}: expected a label of letters, digits")
    assert _snapshot(sandbox) == before


def test_empty_results_is_refused_and_nothing_appears_in_the_cwd(sandbox):
    before = _snapshot(sandbox)
    _refused(_cli(sandbox / "cwd", *GOOD, "--results", ""), "--results '': empty; give a directory")
    assert _snapshot(sandbox) == before


@pytest.mark.parametrize(("node", "label"), [
    ("lab-pc1.example.org", "lab-pc1.example.org"), ("../../evil host", "evil_host"), ("", "host"),
    ("..", "host"), ("日本", "host"), ("-x", "x"), ("a" * 100, "a" * 40)])
def test_the_default_host_label_is_sanitised(monkeypatch, node, label):
    monkeypatch.setattr(bench.platform, "node", lambda: node)
    got = bench.host_label(None)  # the sanitised hostname, then the machine's fingerprint
    assert re.fullmatch(re.escape(label) + r"-[0-9a-f]{6}", got)
    assert bench.HOST_LABEL.fullmatch(got) and len(got) <= bench.MAX_HOST_LABEL


def test_good_host_labels_pass():
    for host in ("vm", "lab-pc1", "ftbtest0123abcd", "a.b_c-d", "X" * 64):
        assert bench.host_label(host) == host


# --- item 6: latency and timeout --------------------------------------------------------------------------


@pytest.mark.parametrize(("latency", "fragment"), [
    ("0.05:0.02", "LO must be <= HI (min <= max); did you mean 0.02:0.05?"),
    ("inf", "expected LO:HI seconds with 0 <= LO <= HI <= 60"),
    ("0:inf", "expected LO:HI seconds with 0 <= LO <= HI <= 60"),
    ("nan", "expected LO:HI"), ("0.01:nan", "expected LO:HI"), ("-0.01:0.02", "expected LO:HI"),
    ("0:61", "expected LO:HI"), ("0.01:0.02:0.03", "expected LO:HI"), ("", "expected LO:HI"),
])
def test_a_bad_latency_is_refused_before_the_server_starts(sandbox, latency, fragment):
    before = _snapshot(sandbox)
    _refused(_cli(sandbox / "cwd", *GOOD, "--results", str(sandbox / "results"), f"--latency={latency}"),
             f"--latency {latency!r}: ", fragment)
    assert _snapshot(sandbox) == before


@pytest.mark.parametrize("timeout", ["inf", "-inf", "nan", "0", "-1", "1e999"])
def test_a_timeout_that_would_disable_the_hang_protection_is_refused(sandbox, timeout):
    _refused(_cli(sandbox / "cwd", *GOOD, "--results", str(sandbox / "results"), f"--timeout={timeout}"),
             f"--timeout {timeout!r}: expected a finite number > 0")


def test_good_latencies_and_timeouts_parse():
    args = parse_args(["--variant", "3.13t", "--latency", "0:60", "--timeout", "0.5"])
    assert (args.latency, args.timeout) == ((0.0, 60.0), 0.5)
    assert parse_args(["--variant", "3.13t", "--latency", "0.02"]).latency == (0.02, 0.02)


# --- issue 9's bad input: unknown variants and versions name the known ones --------------------------------


@pytest.mark.parametrize(("args", "fragment"), [
    (["--variant", "3.14t"], "unknown variant '3.14t'; valid: 3.13, 3.13t, 3.13t-gil"),
    (["--variants", "3.13,3.13x"], "unknown variant '3.13x'; valid: 3.13, 3.13t, 3.13t-gil"),
    (["--variants", "3.13,"], "--variants '3.13,': empty item; valid: 3.13, 3.13t, 3.13t-gil"),
    (["--variant", "3.13", "--variants", "3.13t"], "give --variant or --variants, not both; valid: 3.13, 3.13t"),
    (["--variant", "3.13", "--python", "3.12=/usr/bin/python3"], "unknown variant '3.12'; valid: 3.13, 3.13t"),
    (["--variant", "3.13", "--python", "/usr/bin/python3"], "--python '/usr/bin/python3': expected VARIANT=PATH"),
    (["--variant", "3.13", "--python", "3.13=/a", "--python", "3.13=/b"], "--python 3.13: given twice (/a and /b)"),
    (["--variant", "3.13", "--scaling", "linear"], "unknown scaling 'linear'; valid: strong, weak"),
    (["--variant", "3.13", "--option", "n=1", "--option", "n=2"], "--option n: given twice ('1' and '2')"),
    (["--variant", "3.13", "--option", "=1"], "--option '=1': expected KEY=VALUE"),
])
def test_unknown_names_are_refused_naming_the_valid_ones(sandbox, args, fragment):
    before = _snapshot(sandbox)
    _refused(_cli(sandbox / "cwd", *args, "--results", str(sandbox / "results")), fragment)
    assert _snapshot(sandbox) == before


@pytest.mark.parametrize("version", ["3.12.1", "3.13", "banana"])
def test_an_unknown_cpython_version_names_what_is_expected(sandbox, version):
    _refused(_cli(sandbox / "cwd", "--variant", "3.13t", env={variants.VERSION_ENV: version}),
             f"unknown CPython version {version!r}: give X.Y.Z with X.Y >= 3.13", "e.g. 3.13.5")


def test_the_variants_follow_the_registry(sandbox):
    r = _cli(sandbox / "cwd", "--variant", "3.13t", env={variants.VERSION_ENV: "3.13.5,3.14.0"})
    assert "unknown variant" not in r.stderr  # 3.13t is still known (the interpreter check refuses the host)
    r = _cli(sandbox / "cwd", "--variant", "3.15t", env={variants.VERSION_ENV: "3.13.5,3.14.0"})
    _refused(r, "unknown variant '3.15t'; valid: 3.13, 3.13t, 3.13t-gil, 3.14, 3.14t, 3.14t-gil")


# --- item 9: duplicate names, the worker cap -------------------------------------------------------------


@pytest.fixture(scope="module")
def workloads():
    old = os.environ.get("FTBENCH_WORKLOAD_PATH")
    os.environ["FTBENCH_WORKLOAD_PATH"] = str(FAULT_WORKLOADS)
    try:
        return discover()
    finally:
        if old is None:
            del os.environ["FTBENCH_WORKLOAD_PATH"]
        else:
            os.environ["FTBENCH_WORKLOAD_PATH"] = old


def test_duplicate_names_are_counted_once_in_order(workloads):
    args = parse_args(["--variants", "3.13t,3.13t-gil,3.13t", "--workloads", "ftfault_ok,cpu_sum_squares,ftfault_ok",
                       "--strategies", "threads,sequential,threads", "--workers", "2,2"])
    assert args.variant_names == ["3.13t", "3.13t-gil"]
    names = [p.name for p in plan(args, workloads, 2)]
    assert names == ["ftfault_ok/sequential/1", "ftfault_ok/threads/2",
                     "cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2"]
    config = bench.make_config(args, {"3.13t": "/py", "3.13t-gil": "/py"})
    assert config.variants == ("3.13t", "3.13t-gil") and config.pythons == (("3.13t", "/py"), ("3.13t-gil", "/py"))


@pytest.mark.parametrize(("cores", "cap"), [(1, 256), (2, 256), (64, 256), (100, 400)])
def test_the_worker_cap_is_max_256_or_4_per_core(workloads, cores, cap):
    ok = parse_args(["--variant", "3.13t", "--workloads", "ftfault_ok", "--workers", f"1,{cap}"])
    assert [p.workers for p in plan(ok, workloads, cores)][-1] == cap
    over = parse_args(["--variant", "3.13t", "--workloads", "ftfault_ok", "--workers", f"1,{cap + 1}"])
    with pytest.raises(UsageError, match=rf"at most {cap} workers per benchmark on this {cores}-core machine"):
        plan(over, workloads, cores)


def test_the_default_sweeps_stay_under_the_cap(workloads):
    for cores in (1, 2, 8, 64, 200):
        args = parse_args(["--variant", "3.13t"])
        assert max(p.workers for p in plan(args, workloads, cores)) <= bench.worker_cap(cores)


def test_300_processes_are_refused_in_one_line(sandbox):
    before = _snapshot(sandbox)
    _refused(_cli(sandbox / "cwd", "--variant", "3.13t", "--workloads", "cpu_sum_squares", "--strategies",
                  "processes", "--workers", "300", "--results", str(sandbox / "results")),
             "--workers '300': at most", "workers per benchmark on this", "(max(256, 4 x cores))")
    assert _snapshot(sandbox) == before


def test_oversubscribing_processes_gets_one_warning_line(workloads):
    def warnings(*argv):
        args = parse_args(["--variant", "3.13t", "--workloads", "cpu_sum_squares", *argv])
        return bench.warnings_for(args, plan(args, workloads, 2), 2)

    assert warnings("--strategies", "processes", "--workers", "2,16") == [
        "--workers 16 starts 16 worker processes per 'processes' benchmark on 2 cores "
        "(over 4 x cores: the times include the scheduler's work)"]
    assert warnings("--strategies", "processes", "--workers", "8") == []
    assert warnings("--strategies", "threads", "--workers", "64") == []
    assert warnings() == []  # the default sweeps are the design, not a mistake


# --- --python: each variant's benchmark venv, asked once what it is ---------------------------------------


def _fake_python(tmp_path: Path, name: str, reply: str, mode: int = 0o755) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\necho '{reply}'\n")
    path.chmod(mode)
    return str(path)


FT = '{"version": "3.13.5", "minor": "3.13", "free_threaded": true, "missing": []}'
DEFAULT = '{"version": "3.13.5", "minor": "3.13", "free_threaded": false, "missing": []}'
BARE = '{"version": "3.13.5", "minor": "3.13", "free_threaded": true, "missing": ["pyperf"]}'


def test_each_variant_gets_its_checked_python(tmp_path):
    ft, default = _fake_python(tmp_path, "ft", FT), _fake_python(tmp_path, "default", DEFAULT)
    args = parse_args(["--variants", "3.13,3.13t,3.13t-gil", "--python", f"3.13={default}", "--python",
                       f"3.13t={ft}", "--python", f"3.13t-gil={ft}", "--scaling", "weak"])
    pythons = bench.resolve_pythons(args)
    assert pythons == {"3.13": default, "3.13t": ft, "3.13t-gil": ft}
    config = bench.make_config(args, pythons)
    assert config.variants == ("3.13", "3.13t", "3.13t-gil") and config.scaling == "weak"
    assert config.python_of("3.13") == default and config.python_of("3.13t-gil") == ft


def test_a_variant_of_the_running_build_defaults_to_this_python(monkeypatch):
    monkeypatch.setattr(bench, "build_of_running_python", lambda: ("3.13", True))
    args = parse_args(["--variants", "3.13t,3.13t-gil"])
    assert bench.resolve_pythons(args) == {"3.13t": sys.executable, "3.13t-gil": sys.executable}
    with pytest.raises(UsageError, match=r"variant 3.13 cannot run on this free-threaded Python .*; give "
                                         r"--python 3.13=PATH, or use nox -s bench-3.13 \(or nox -s bench"):
        bench.resolve_pythons(parse_args(["--variants", "3.13t,3.13"]))


def test_a_python_for_a_variant_outside_the_campaign_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "build_of_running_python", lambda: ("3.13", True))
    monkeypatch.chdir(tmp_path)
    _fake_python(tmp_path, "ft", FT)
    args = parse_args(["--variant", "3.13t", "--python", "3.13=/nonexistent", "--python", "3.13t-gil=ft"])
    assert bench.resolve_pythons(args) == {"3.13t": sys.executable}
    args = parse_args(["--variant", "3.13t-gil", "--python", "3.13t-gil=ft"])  # relative: made absolute
    assert bench.resolve_pythons(args) == {"3.13t-gil": str(tmp_path / "ft")}


@pytest.mark.parametrize(("reply", "mode", "fragment"), [
    (DEFAULT, 0o755, "a default Python 3.13.5, but variant 3.13t runs on the free-threaded 3.13 build"),
    ('{"version": "3.14.0", "minor": "3.14", "free_threaded": true, "missing": []}', 0o755,
     "a free-threaded Python 3.14.0, but variant 3.13t runs on the free-threaded 3.13 build"),
    (BARE, 0o755, "cannot import pyperf (not a benchmark venv)"),
    ("hello", 0o755, "not a Python ftbench can ask"),
    (FT, 0o644, "no executable file there"),
])
def test_a_python_of_another_build_is_refused_in_one_line(sandbox, reply, mode, fragment):
    python = _fake_python(sandbox, "python", reply, mode)
    before = _snapshot(sandbox)
    line = _refused(_cli(sandbox / "cwd", *GOOD, "--python", f"3.13t={python}", "--results",
                         str(sandbox / "results")), f"--python 3.13t={python}: ", fragment)
    assert line.endswith("; use nox -s bench-3.13t")
    assert _snapshot(sandbox) == before


def test_a_missing_python_is_refused(sandbox):
    _refused(_cli(sandbox / "cwd", *GOOD, "--python", "3.13t=/nonexistent/python"),
             "--python 3.13t=/nonexistent/python: no executable file there; use nox -s bench-3.13t")


def test_help_documents_the_cap_and_the_variants():
    r = subprocess.run([sys.executable, "-m", "harness.measure.bench", "--help"], capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    text = " ".join(r.stdout.split())
    assert r.returncode == 0
    assert "max(256, 4 x cores)" in text and "--variants" in text and "--python VARIANT=PATH" in text
    assert "0 <= LO <= HI <= 60" in text and "strong, weak" in text


# --- the same probes on the real 3.13t build, where the old runner measured first ---------------------------


def _real(runner, *args):
    cmd = [str(runner.python), "-m", "harness.measure.bench", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=runner.env, cwd=REPO, timeout=120)


@pytest.mark.slow
def test_issue_15_probes_on_the_real_build_measure_nothing(runner, tmp_path):
    tiny = ("--variant", "3.13t", "--quick", "--size", "tiny", "--workloads", "ftfault_ok", "--strategies",
            "sequential")
    a_file = tmp_path / "results.txt"
    a_file.write_bytes(b"precious\n")
    before = _snapshot(tmp_path)
    probes = {
        "results-file": (["--results", str(a_file), "--host", runner.host], "is a file"),
        "host-escape": (["--results", str(runner.results), "--host", "../../x"], "--host '../../x'"),
        "results-empty": (["--results", "", "--host", runner.host], "--results '': empty"),
        "latency-reversed": (["--results", str(runner.results), "--host", runner.host, "--latency", "0.05:0.02"],
                             "did you mean 0.02:0.05?"),
        "latency-inf": (["--results", str(runner.results), "--host", runner.host, "--latency", "inf"],
                        "--latency 'inf'"),
        "timeout-inf": (["--results", str(runner.results), "--host", runner.host, "--timeout", "inf"],
                        "--timeout 'inf': expected a finite number > 0"),
        "workers-300": (["--results", str(runner.results), "--host", runner.host, "--strategies", "processes",
                         "--workers", "300"], "at most 256 workers"),
    }
    for name, (args, fragment) in probes.items():
        r = _real(runner, *tiny, *args)
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        assert r.stderr.splitlines() == [r.stderr.strip()] and fragment in r.stderr, (name, r.stderr)
        assert r.stdout == "" and _snapshot(tmp_path) == before, name
    assert not (REPO / "raw").exists() and not (tmp_path.parent / "x").exists()


@pytest.mark.slow
def test_duplicates_are_measured_and_printed_once(runner):
    r = runner.run("--quick", "--size", "tiny", "--workloads", "ftfault_ok,ftfault_ok", "--strategies",
                   "sequential,threads,sequential", "--workers", "2,2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 benchmarks, 0 already measured" in r.stdout
    progress = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("[")]
    assert progress == ["ftfault_ok/sequential/1", "ftfault_ok/threads/2"]
    table = [ln for ln in r.stdout.splitlines() if ln.startswith("  ftfault_ok ")]
    assert len(table) == 2 and sorted(runner.csv_rows()) == progress


@pytest.mark.slow
def test_variants_of_another_build_need_their_own_python(runner, ft_python):
    base = Path.home() / ".cache" / "ftbench" / "cpython" / variants.DEFAULT_VERSION / "bin" / "python3"
    common = ("--results", str(runner.results), "--host", runner.host, "--quick", "--workloads", "ftfault_ok")
    before = _snapshot(runner.results.parent)
    _refused(_real(runner, "--variants", "3.13t,3.13", *common),
             "variant 3.13 cannot run on this free-threaded Python 3.13", "give --python 3.13=PATH")
    _refused(_real(runner, "--variants", "3.13t,3.13", "--python", f"3.13={ft_python}", *common),
             f"--python 3.13={ft_python}: a free-threaded Python 3.13", "runs on the default 3.13 build")
    if base.exists():  # ftbench's own 3.13 build, without a benchmark venv: no pyperf
        _refused(_real(runner, "--variants", "3.13,3.13t", "--python", f"3.13={base}", *common),
                 f"--python 3.13={base}: cannot import pyperf (not a benchmark venv)")
    assert _snapshot(runner.results.parent) == before
