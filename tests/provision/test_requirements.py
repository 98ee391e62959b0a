"""harness.provision.requirements: a workload's requirements in a cached overlay, pip's failures in one line.

Fast and offline: pip installs a wheel made by the test (and finds nothing on a disabled index);
the package index is used by the slow tests of tests/e2e/test_own_code.py.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from harness.provision import requirements


def make_wheel(directory, name: str = "ftbench_tiny", version: str = "1.0") -> str:
    """A pure-Python wheel of one module ``name`` (``VALUE = version``), built by hand."""
    dist = f"{name}-{version}.dist-info"
    files = {f"{name}.py": f"VALUE = {version!r}\n",
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: ftbench-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{dist}/RECORD"] = "".join(f"{f},,\n" for f in files) + f"{dist}/RECORD,,\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for member, text in files.items():
            z.writestr(member, text)
    return str(path)


@pytest.fixture
def offline(cache, monkeypatch):
    """The cache in tmp_path (fixture ``cache``), pip without the package index."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    return cache


def test_an_overlay_is_installed_once_then_found_in_the_cache(offline, tmp_path, monkeypatch):
    wheel = make_wheel(tmp_path)
    said = []
    first = requirements.ensure(sys.executable, [wheel], log=said.append)
    assert first.installed_now and first.versions == (("ftbench_tiny", "1.0"),)
    assert first.describe() == "ftbench_tiny==1.0" and len(said) == 1 and "installing" in said[0]
    r = subprocess.run([sys.executable, "-c", "import sys, ftbench_tiny; print(ftbench_tiny.VALUE)"],
                       env={"PYTHONPATH": first.path}, capture_output=True, text=True)
    assert r.stdout.strip() == "1.0"
    pips = []
    real = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: (pips.append(cmd) if "pip" in cmd else None)
                        or real(cmd, **kw))
    again = requirements.ensure(sys.executable, [wheel], log=said.append)
    assert again == requirements.Overlay(first.path, first.versions) and pips == [] and len(said) == 1


def test_the_overlay_depends_on_the_interpreter_the_requirements_and_source_builds(offline):
    ident = {"abi": "cp313t", "platform": "linux-x86_64", "version": "3.99.0"}
    base = requirements.overlay_dir(ident, ("a==1",), False)
    assert base.parent.name == "cp313t-linux-x86_64-3.99.0" and base.is_relative_to(offline)
    assert requirements.overlay_dir(ident, ("a==1",), False) == base
    assert requirements.overlay_dir({**ident, "abi": "cp313"}, ("a==1",), False) != base
    assert requirements.overlay_dir(ident, ("a==2",), False) != base
    assert requirements.overlay_dir(ident, ("a==1",), True) != base


def test_a_requirement_pip_cannot_find_is_one_line_naming_it(offline):
    with pytest.raises(requirements.RequirementError) as e:
        requirements.ensure(sys.executable, ["ftbench-no-such-package==1.0"])
    (line,) = str(e.value).splitlines()
    assert line.startswith("requirement ftbench-no-such-package==1.0: no binary wheel for cp")
    assert "--allow-source-builds" in line
    log = e.value.log
    assert log and "ftbench-no-such-package" in open(log).read()  # pip's whole output, kept for a reader
    left = sorted(p.name.split(".", 1)[1] for p in offline.glob("requirements/*/*"))
    assert left == ["lock", "pip.log"]  # no overlay, not even a half-installed one: pip's log and the lock


@pytest.mark.parametrize(("output", "source_builds", "expected"), [
    ("ERROR: Could not find a version that satisfies the requirement pyyaml==6.0.2 (from versions: none)\n"
     "ERROR: No matching distribution found for pyyaml==6.0.2", False,
     "requirement pyyaml==6.0.2: no binary wheel for cp313t (binary wheels only; --allow-source-builds to build "
     "it from source)"),
    ("ERROR: Could not find a version that satisfies the requirement numpy==0.0.1 (from versions: 2.3.0)", True,
     "requirement numpy==0.0.1: no version of it matches (pip found no distribution it can use)"),
    ("  error: subprocess-exited-with-error\n  ERROR: Failed building wheel for msgpack\n"
     "ERROR: Failed to build installable wheels for some pyproject.toml based projects (msgpack)", True,
     "requirement msgpack: building it from source failed"),
    ("WARNING: Retrying ... NewConnectionError('...'): /simple/six/\nERROR: Could not find a version that "
     "satisfies the requirement six==1.17.0", False, "requirement six==1.17.0: the package index could not be reached"),
    ("ERROR: Invalid requirement: 'six==='", False, "requirement six: Invalid requirement: 'six==='"),
])
def test_pips_failures_become_one_line_with_the_package_and_the_cause(output, source_builds, expected):
    requires = ("six===",) if "Invalid" in output else ("pkg",)
    if "Retrying" in output:
        requires = ("six==1.17.0",)
    assert requirements.cause(output, requires, "cp313t", source_builds) == expected


def test_the_package_of_a_requirement():
    assert requirements.package_of("pyyaml[extra]>=6.0 ; python_version>'3'") == "pyyaml"
    assert requirements.package_of("six==1.17.0") == "six"
