"""Bad command-line input is refused before anything is measured: one line, exit 2, nothing written.

``harness.measure.bench.main`` runs in this process for every refusal (every check comes before
the interpreter check, so bad input is named on any Python, and the host Python is then refused
as no variant's build); one test runs the real ``python -m harness.measure.bench`` to show the
process exits the same way. The slow tests repeat the refusals on ftbench's real 3.13t build,
where a benchmark could otherwise have been measured before the runner died.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import FAKE_BARE, FAKE_DEFAULT, FAKE_FT, FAULT_WORKLOADS, REPO, fake_python

from harness import variants
from harness.measure import bench
from harness.measure.workload import ALL_STRATEGIES

ERROR = "ftbench bench: error: "
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
STRATEGIES = ", ".join(ALL_STRATEGIES)  # the valid strategies, named in every refusal
VARIANTS = "valid: 3.13, 3.13t, 3.13t-gil"


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a directory): 'nothing written' is equality."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


@pytest.fixture
def cli(monkeypatch, capsys):
    """``cli(cwd, *args, env=...)``: bench.main in this process, its exit status and output.

    The fault workloads are visible; the signal handlers main() installs are put back afterwards.
    """
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setenv("FTBENCH_WORKLOAD_PATH", str(FAULT_WORKLOADS))
    monkeypatch.delenv("PYTHON_GIL", raising=False)

    def run(cwd: Path, *args: str, env: dict | None = None):
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = bench.main(list(args))
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    yield run
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


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


@pytest.mark.parametrize(("args", "message"), [
    (["--variant", "3.14t"], f"unknown variant '3.14t'; {VARIANTS}"),
    (["--variants", "3.13,3.13x"], f"unknown variant '3.13x'; {VARIANTS}"),
    (["--variants", "3.13,"], f"--variants '3.13,': empty item; {VARIANTS}"),
    (["--variant", "3.13", "--variants", "3.13t"], "give --variant or --variants, not both; valid: 3.13, 3.13t"),
    ([], f"the following arguments are required: --variant or --variants; {VARIANTS}"),
    (["--variant", "3.13", "--python", "3.12=/usr/bin/python3"], "unknown variant '3.12'; valid: 3.13, 3.13t"),
    (["--variant", "3.13", "--python", "/usr/bin/python3"], "--python '/usr/bin/python3': expected VARIANT=PATH"),
    (["--variant", "3.13", "--python", "3.13=/a", "--python", "3.13=/b"], "--python 3.13: given twice (/a and /b)"),
    (["--variant", "3.13t", "--profile", "nope"], "unknown profile 'nope'; valid: quick, default, rigorous"),
    (["--variant", "3.13t", "--quick", "--profile", "rigorous"], "--profile rigorous contradicts --quick"),
    (["--variant", "3.13t", "--size", "huge"], "unknown size 'huge'; valid: tiny, quick, default, rigorous"),
    (["--variant", "3.13", "--scaling", "linear"], "unknown scaling 'linear'; valid: strong, weak"),
    (["--variant", "3.13t", "--workloads", "nope"], "unknown workload 'nope'; valid: "),
    (["--variant", "3.13t", "--workloads", "cpu_sum_squares,"], "--workloads 'cpu_sum_squares,': empty item"),
    (["--variant", "3.13t", "--strategies", "threads,greenlets"], f"unknown strategy 'greenlets'; valid: {STRATEGIES}"),
    (["--variant", "3.13t", "--strategies", ""], f"--strategies '': empty item; valid: {STRATEGIES}"),
    (["--variant", "3.13t", "--workers", "0"], "--workers '0': expected integers >= 1, e.g. 1,2,4"),
    (["--variant", "3.13t", "--workers", "1.5"], "--workers '1.5': expected integers >= 1, e.g. 1,2,4"),
    (["--variant", "3.13t", "--workers", ""], "--workers '': empty item; valid: integers >= 1"),
    (["--variant", "3.13t", "--workers", "1,,2"], "--workers '1,,2': empty item; valid: integers >= 1"),
    (["--variant", "3.13", "--option", "unsafe"], "--option 'unsafe': expected KEY=VALUE"),
    (["--variant", "3.13", "--option", "=1"], "--option '=1': expected KEY=VALUE"),
    (["--variant", "3.13", "--option", "n=1", "--option", "n=2"], "--option n: given twice ('1' and '2')"),
    (["--variant", "3.13t", "--bogus"], "unrecognized arguments: --bogus"),
    ([*GOOD, "--latency=0.05:0.02"], "--latency '0.05:0.02': LO must be <= HI (min <= max); did you mean 0.02:0.05?"),
    ([*GOOD, "--latency=inf"], "--latency 'inf': expected LO:HI seconds with 0 <= LO <= HI <= 60, e.g. 0.02:0.05"),
    ([*GOOD, "--latency=a:b"], "--latency 'a:b': expected LO:HI"),
    *[([*GOOD, f"--timeout={t}"], f"--timeout {t!r}: expected a finite number > 0")
      for t in ("soon", "0", "-1", "inf", "nan", "1e999")],
    *[([*GOOD, f"--host={h}"], f"--host {h!r}: expected a label of letters, digits")
      for h in ("../../x", "..", ".", "a/b", "/abs", "", "-x", ".hidden", "x y", "é", "a" * 65)],
    ([*GOOD, "--results", ""], "--results '': empty; give a directory"),
    (["--variant", "3.13t", "--workloads", "cpu_sum_squares", "--strategies", "processes", "--workers", "300"],
     "--workers '300': at most 256 workers per benchmark on this"),
])
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(cli, sandbox, args, message):
    before = _snapshot(sandbox)
    if "--results" not in args:
        args = [*args, "--results", str(sandbox / "results")]
    _refused(cli(sandbox / "cwd", *args), message)
    assert _snapshot(sandbox) == before


def test_an_unknown_workload_lists_every_workload_and_group(cli, sandbox):
    line = _refused(cli(sandbox / "cwd", "--variant", "3.13", "--workloads", "cpu_sum_squares,nope"))
    valid = line.split("valid: ")[1].split(", ")
    assert {"cpu_sum_squares", "io_download", "ftfault_ok", "pitfalls (group)"} <= set(valid)


@pytest.mark.parametrize("version", ["3.12.1", "3.13", "banana"])
def test_an_unknown_cpython_version_names_what_is_expected(cli, sandbox, version):
    _refused(cli(sandbox / "cwd", "--variant", "3.13t", env={variants.VERSION_ENV: version}),
             f"unknown CPython version {version!r}: give X.Y.Z with X.Y >= 3.13", "e.g. 3.13.5")


def test_the_variants_follow_the_registry(cli, sandbox):
    r = cli(sandbox / "cwd", "--variant", "3.13t", env={variants.VERSION_ENV: "3.13.5,3.14.0"})
    assert "unknown variant" not in r.stderr  # 3.13t is still known (the interpreter check refuses the host)
    r = cli(sandbox / "cwd", "--variant", "3.15t", env={variants.VERSION_ENV: "3.13.5,3.14.0"})
    _refused(r, "unknown variant '3.15t'; valid: 3.13, 3.13t, 3.13t-gil, 3.14, 3.14t, 3.14t-gil")


def test_a_python_that_is_not_the_variant_is_refused_after_the_input_checks(cli, sandbox):
    # The host Python is neither build of 3.13: refused after every input check passed.
    r = cli(sandbox / "cwd", "--variant", "3.13t", "--quick", "--workloads", "cpu_sum_squares", "--results",
            str(sandbox / "results"))
    assert r.returncode == 2 and r.stderr.splitlines() == [
        f"{ERROR}variant 3.13t cannot run on this default Python "
        f"{'.'.join(map(str, sys.version_info[:3]))} ({sys.executable}); give --python 3.13t=PATH, "
        "or use nox -s bench-3.13t (or nox -s bench for every variant)"]
    assert not (sandbox / "results" / "raw").exists()


@pytest.mark.parametrize("args", [["--variant", "nope"], ["--variant", "3.13t", "--workers", "0"]])
def test_the_real_command_exits_2_with_one_line(sandbox, args):
    """The same refusal from ``python -m harness.measure.bench``: exit status, one line, nothing written."""
    before = _snapshot(sandbox)
    env = {**os.environ, "FTBENCH_WORKLOAD_PATH": str(FAULT_WORKLOADS)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    r = subprocess.run([sys.executable, "-m", "harness.measure.bench", *args, "--results", str(sandbox / "results")],
                       capture_output=True, text=True, cwd=sandbox / "cwd", env=env, timeout=60)
    _refused(r)
    assert _snapshot(sandbox) == before


def test_help_documents_the_cap_and_the_variants(cli, sandbox, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(sandbox / "cwd", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert exit_.value.code == 0
    assert "max(256, 4 x cores)" in text and "--variants" in text and "--python VARIANT=PATH" in text
    assert "0 <= LO <= HI <= 60" in text and "strong, weak" in text


# --- the results directory: unwritable places are found before anything is measured ----------------------


def test_results_naming_a_regular_file_is_refused_and_left_as_it_was(cli, sandbox):
    target = sandbox / "results.txt"
    target.write_bytes(b"precious\n")
    before = _snapshot(sandbox)
    line = _refused(cli(sandbox / "cwd", *GOOD, "--results", str(target)), f"--results '{target}'",
                    "is a file", "give a directory")
    assert line.endswith("give a directory (it is created if missing)")
    assert _snapshot(sandbox) == before


def test_results_below_a_regular_file_is_refused(cli, sandbox):
    (sandbox / "results" / "raw").write_text("a file where raw/ should be\n")
    before = _snapshot(sandbox)
    _refused(cli(sandbox / "cwd", *GOOD, "--results", str(sandbox / "results"), "--host", "h1"),
             f"{sandbox / 'results' / 'raw'} is a file")
    assert _snapshot(sandbox) == before


def _chattr(path: Path, flag: str) -> bool:
    r = subprocess.run(["chattr", flag, str(path)], capture_output=True)
    return r.returncode == 0


@pytest.mark.parametrize("existing", ["results", "host-dir"], ids=["results-dir", "raw-host-dir"])
def test_an_immutable_results_directory_is_refused_before_measuring(cli, sandbox, existing):
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
        _refused(cli(sandbox / "cwd", *GOOD, "--results", str(results), "--host", "h1"),
                 f"cannot write in {immutable}", "give a writable directory")
        assert _snapshot(sandbox) == before
    finally:
        _chattr(immutable, "-i")


@pytest.mark.skipif(ROOT, reason="root writes into a read-only directory anyway")
def test_a_read_only_results_directory_is_refused(cli, sandbox):
    results = sandbox / "results"
    results.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        _refused(cli(sandbox / "cwd", *GOOD, "--results", str(results)), f"cannot write in {results}")
    finally:
        results.chmod(stat.S_IRWXU)


def test_the_write_probe_leaves_no_file(tmp_path):
    (tmp_path / "raw" / "h1").mkdir(parents=True)
    bench.check_results(str(tmp_path), "h1")
    bench.check_results(str(tmp_path / "not" / "yet"), "h1")  # created later, by the campaign
    assert _snapshot(tmp_path) == {"raw": None, "raw/h1": None}


# --- --python: a python of another build is refused in one line --------------------------------------------


@pytest.mark.parametrize(("reply", "mode", "fragment"), [
    (FAKE_DEFAULT, 0o755, "a default Python 3.13.5, but variant 3.13t runs on the free-threaded 3.13 build"),
    ('{"version": "3.14.0", "minor": "3.14", "free_threaded": true, "missing": []}', 0o755,
     "a free-threaded Python 3.14.0, but variant 3.13t runs on the free-threaded 3.13 build"),
    (FAKE_BARE, 0o755, "cannot import pyperf (not a benchmark venv)"),
    ("hello", 0o755, "not a Python ftbench can ask"),
    (FAKE_FT, 0o644, "no executable file there"),
])
def test_a_python_of_another_build_is_refused_in_one_line(cli, sandbox, reply, mode, fragment):
    python = fake_python(sandbox, "python", reply, mode)
    before = _snapshot(sandbox)
    line = _refused(cli(sandbox / "cwd", *GOOD, "--python", f"3.13t={python}", "--results",
                         str(sandbox / "results")), f"--python 3.13t={python}: ", fragment)
    assert line.endswith("; use nox -s bench-3.13t")
    assert _snapshot(sandbox) == before


def test_a_missing_python_is_refused(cli, sandbox):
    _refused(cli(sandbox / "cwd", *GOOD, "--python", "3.13t=/nonexistent/python"),
             "--python 3.13t=/nonexistent/python: no executable file there; use nox -s bench-3.13t")


# --- the same refusals on the real 3.13t build --------------------------------------------------------------


def _real(runner, *args):
    cmd = [str(runner.python), "-m", "harness.measure.bench", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=runner.env, cwd=REPO, timeout=120)


@pytest.mark.slow
def test_bad_input_on_the_real_build_measures_nothing(runner, tmp_path):
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
    table = [ln for ln in r.stdout.splitlines() if re.match(r"  ftfault_ok +\w+ +\d+: ", ln)]  # the speedup table
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

