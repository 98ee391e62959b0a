"""harness.measure.preflight: each workload's requirements and imports, checked on each variant before measuring.

Fast: the load check's processes on the host Python (a default build: its GIL never turns on, so
the turn is simulated in-process for the parsing, and by a scripted process for the restarts); the
real free-threaded build and a C extension that re-enables its GIL are in tests/e2e/test_own_code.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from harness import variants
from harness.measure import preflight, probe
from harness.measure.config import Campaign
from harness.provision import requirements

GOOD = '''
from harness import SIZES, Workload
def task(x):
    return x
WORKLOAD = Workload(name={name!r}, kind="cpu", description="d", sizes={{s: {{}} for s in SIZES}},
                    make_tasks=lambda p, c: [1], task=task, check=lambda t, r, s: None)
'''
NAMES = tuple(variants.registry())


@pytest.fixture
def files(tmp_path, monkeypatch):
    """write(name, prefix='') -> (path, name): a workload file whose module name is unique to the test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    tag = uuid.uuid4().hex[:8]

    def write(name: str, prefix: str = "") -> tuple[str, str]:
        path = tmp_path / f"{name}_{tag}.py"
        path.write_text(prefix + GOOD.format(name=name))
        return str(path), name

    return write


def test_each_file_is_loaded_by_the_variants_python_and_a_failure_is_its_own_line(files):
    good = files("pf_good")
    broken = files("pf_broken", prefix="import ftbench_absent_here\n")
    dead = files("pf_dead", prefix="import os\nos._exit(3)\n")
    after = files("pf_after")
    out = preflight.load_check(sys.executable, dict(os.environ), "", [good, broken, dead, after])
    assert out["pf_good"]["error"] == "" and out["pf_after"]["error"] == ""  # a fresh process after the dead one
    assert out["pf_broken"]["error"] == f"{broken[0]}: ModuleNotFoundError: No module named 'ftbench_absent_here'"
    assert out["pf_dead"]["error"].startswith(f"{dead[0]}: the interpreter failed loading it (exit status 3")
    assert all(r["gil_reenabled_by"] == [] for r in out.values())  # a default build's GIL never turns on


def test_an_import_that_turns_the_gil_on_is_named_and_ends_the_process(files, monkeypatch):
    """In-process: the interpreter's warning and sys._is_gil_enabled(), as a free-threaded build gives them."""
    state = {"on": False}
    monkeypatch.setattr(probe, "gil_enabled", lambda: state["on"])
    warn = ("import warnings, tests_gil_switch\ntests_gil_switch['on'] = True\nwarnings.warn(\"The global "
            "interpreter lock (GIL) has been enabled to load module 'ftnoft', which has not declared that it can "
            "run safely without the GIL.\", RuntimeWarning)\n")
    sys.modules["tests_gil_switch"] = state
    try:
        lines = []
        entries = [files("pf_before"), files("pf_noft", prefix=warn), files("pf_never_reached")]
        preflight.check(entries, emit=lines.append)
    finally:
        del sys.modules["tests_gil_switch"]
    answers = [json.loads(ln.removeprefix(preflight.PREFIX)) for ln in lines]
    assert [(a["name"], a["error"], a["gil_reenabled_by"]) for a in answers] == [
        ("pf_before", "", []), ("pf_noft", "", ["ftnoft"])]


def test_after_the_gil_turned_on_the_remaining_files_get_a_fresh_interpreter(monkeypatch):
    """A scripted check process: it answers file by file and ends after ``b``, whose import turns the GIL on."""
    calls = []

    def run(cmd, **kw):
        args = cmd[cmd.index("harness.measure.preflight") + 1:]
        calls.append(args)
        lines = []
        for name in args[3::2]:  # after --requirements-path DIR: FILE NAME pairs
            turned = ["ext"] if name == "b" else []
            lines.append(preflight.PREFIX + json.dumps({"name": name, "error": "", "gil_reenabled_by": turned}))
            if turned:
                break
        return subprocess.CompletedProcess(cmd, 0, "noise printed by a workload\n" + "\n".join(lines) + "\n", "")

    monkeypatch.setattr(subprocess, "run", run)
    out = preflight.load_check("py", {}, "/o", [("fa", "a"), ("fb", "b"), ("fc", "c")])
    assert calls == [["--requirements-path", "/o", "fa", "a", "fb", "b", "fc", "c"],
                     ["--requirements-path", "/o", "fc", "c"]]
    assert out["b"]["gil_reenabled_by"] == ["ext"] and out["c"]["gil_reenabled_by"] == [] and out["a"]["error"] == ""


@pytest.mark.parametrize(("result", "free_threaded", "allow_gil", "expected"), [
    ({"error": "", "gil_reenabled_by": ["ftnoft"]}, True, False,
     "gil re-enabled by ftnoft when the workload loads (--allow-gil to measure it with the GIL)"),
    ({"error": "", "gil_reenabled_by": ["ftnoft"]}, True, True, ""),
    ({"error": "", "gil_reenabled_by": []}, True, False, ""),
    ({"error": "f.py: ImportError: x", "gil_reenabled_by": []}, False, False, "f.py: ImportError: x"),
])
def test_the_verdict_of_a_load_check(result, free_threaded, allow_gil, expected):
    assert preflight.verdict(result, free_threaded, allow_gil) == expected


def test_requirements_are_installed_once_per_python_and_a_failure_stays_on_its_variants(monkeypatch):
    """3.13t and its control share one python: one install, refused on both; the baseline measures it."""
    pythons = {NAMES[0]: "/venv-default/python", NAMES[1]: "/venv-ft/python", NAMES[2]: "/venv-ft/python"}
    config = Campaign(variants=NAMES, pythons=tuple(pythons.items()),
                      workload_files=(("w", "/u/w.py"), ("plain", "/u/plain.py")),
                      requirements=(("w", ("pyyaml==6.0.2",)),))
    installs, checks, said = [], [], []

    def ensure(python, requires, allow_source_builds=False, log=print):
        installs.append((python, requires, allow_source_builds))
        if python == "/venv-ft/python":
            raise requirements.RequirementError("requirement pyyaml==6.0.2: no binary wheel for cp313t", "/c/x.log")
        return requirements.Overlay("/c/overlay", (("pyyaml", "6.0.2"),))

    def load_check(python, env, overlay, entries):
        checks.append((python, overlay, entries))
        return {n: {"name": n, "error": "", "gil_reenabled_by": []} for _, n in entries}

    monkeypatch.setattr(requirements, "ensure", ensure)
    monkeypatch.setattr(preflight, "load_check", load_check)
    ready = preflight.prepare(config, ["w", "plain"], {v: {} for v in NAMES}, log=said.append)
    assert installs == [("/venv-default/python", ("pyyaml==6.0.2",), False),
                        ("/venv-ft/python", ("pyyaml==6.0.2",), False)]
    assert ready[(NAMES[0], "w")] == preflight.Ready("/c/overlay", (("pyyaml", "6.0.2"),))
    assert ready[(NAMES[0], "w")].describe() == "pyyaml==6.0.2"
    for v in NAMES[1:]:
        assert ready[(v, "w")].refused == "requirement pyyaml==6.0.2: no binary wheel for cp313t"
        assert (v, "plain") not in ready  # nothing to say: measured as is
    assert checks == [("/venv-default/python", "/c/overlay", [("/u/w.py", "w")]),
                      ("/venv-default/python", "", [("/u/plain.py", "plain")]),
                      ("/venv-ft/python", "", [("/u/plain.py", "plain")]),
                      ("/venv-ft/python", "", [("/u/plain.py", "plain")])]  # w is not loaded where it cannot be
    refusals = [s for s in said if "not measured" in s]
    assert refusals == [f"ftbench: w on {v}: not measured: requirement pyyaml==6.0.2: no binary wheel for cp313t"
                        for v in NAMES[1:]]
    assert sum("pip's output" in s and "/c/x.log" in s for s in said) == 1
