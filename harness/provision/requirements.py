"""A workload's requirements, installed once per interpreter into a cached overlay directory.

``Workload(requires=["pkg==1.2"])`` names packages the benchmark venvs do not hold. They are
installed with the interpreter's own pip (``pip install --target``) into an overlay directory of
the cache, ``$XDG_CACHE_HOME/ftbench/requirements/<interpreter>/<key>``, that only that workload's
processes put first on ``sys.path``: the shared benchmark venv, and every other workload, stay as
they are. ``--target`` installs every dependency into the overlay too, so what the workload imports
is exactly what the overlay lists, whatever the venv holds.

The key is the requirements, the interpreter (its ABI tag, platform and version) and whether
source builds were allowed: a second campaign finds the overlay and runs no pip at all. Binary
wheels only by default (``--only-binary :all:``): a package without a wheel for an interpreter (the
free-threaded build has fewer) fails there in one line, rather than compiling whatever the machine
allows; ``allow_source_builds`` lets pip build it. The installed versions (every distribution of
the overlay) are written beside it and returned, to be recorded with each run and hashed into the
workload's definition. Stdlib only: runs in the orchestrator's venv and in the scaffold's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.files import locked, write_json_atomic
from harness.provision.interpreters import cache_root

MANIFEST = "ftbench-overlay.json"  # written last: an overlay without it is incomplete
PIP_TIMEOUT = 1800.0  # seconds for one pip install (a source build can be long; a hang must end)
ASK_TIMEOUT = 60.0
# What an interpreter is asked: the parts of its identity a wheel depends on.
IDENTITY = """
import json, platform, sys, sysconfig
abi = "cp%d%d" % sys.version_info[:2] + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "")
print(json.dumps({"abi": abi, "platform": sysconfig.get_platform(), "version": platform.python_version()}))
"""
VERSIONS = """
import json, sys
from importlib import metadata
print(json.dumps(sorted({d.metadata["Name"]: d.version for d in metadata.distributions(path=[sys.argv[1]])}.items())))
"""
NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class RequirementError(Exception):
    """A requirement that cannot be installed for an interpreter: one line naming the package and the cause.

    ``log``: the file holding pip's whole output, when pip ran (said on the console, never recorded
    with the results: it is a path of this machine).
    """

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.log = log


@dataclass(frozen=True)
class Overlay:
    """An installed overlay: the directory to put first on ``sys.path``, and what it holds."""

    path: str
    versions: tuple[tuple[str, str], ...]  # (distribution, version), sorted
    installed_now: bool = False  # False: found in the cache

    def describe(self) -> str:
        """``pkg==1.2,dep==3.4``: the overlay's distributions, as recorded with every run."""
        return ",".join(f"{n}=={v}" for n, v in self.versions)


def identity(python: str) -> dict:
    """The interpreter's ABI tag (``cp313t`` style), platform and version: what its wheels depend on."""
    try:
        r = subprocess.run([python, "-I", "-c", IDENTITY], capture_output=True, text=True, timeout=ASK_TIMEOUT)
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as e:
        raise RequirementError(f"cannot ask {python} what it is ({e})") from None


def overlay_dir(ident: dict, requires: tuple[str, ...], allow_source_builds: bool) -> Path:
    """Where the overlay of ``requires`` for the interpreter ``ident`` is cached."""
    key = json.dumps({"requires": sorted(requires), "source_builds": allow_source_builds, **ident}, sort_keys=True)
    where = f"{ident['abi']}-{ident['platform']}-{ident['version']}"
    return cache_root() / "requirements" / where / hashlib.sha256(key.encode()).hexdigest()[:16]


def cached(directory: Path) -> Overlay | None:
    """The overlay at ``directory`` if it was completely installed, else None."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        return Overlay(str(directory), tuple((n, v) for n, v in manifest["versions"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ensure(python: str, requires, allow_source_builds: bool = False, log=print) -> Overlay:
    """The overlay of ``requires`` for ``python``: from the cache, else installed now (``log`` says so).

    Raises :class:`RequirementError` (one line: the package and the cause) when pip cannot install
    them for this interpreter; nothing is left in the cache then but pip's log (its ``log``).
    """
    requires = tuple(dict.fromkeys(r.strip() for r in requires))
    ident = identity(python)
    target = overlay_dir(ident, requires, allow_source_builds)
    if (found := cached(target)) is not None:
        return found
    with locked(target.with_name(target.name + ".lock")):  # two campaigns at once install it once
        if (found := cached(target)) is not None:
            return found
        log(f"ftbench: installing {', '.join(requires)} for {ident['abi']} into {target}")
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)  # an incomplete one (no manifest) from a killed run
        pip_log = target.with_name(target.name + ".pip.log")
        cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
               "--no-warn-script-location", "--target", str(tmp),
               *([] if allow_source_builds else ["--only-binary", ":all:"]), *requires]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT)
            output, code = r.stdout + r.stderr, r.returncode
        except subprocess.TimeoutExpired:
            output, code = f"ERROR: pip did not finish within {PIP_TIMEOUT:g} s", -1
        except OSError as e:
            output, code = f"ERROR: cannot run {python} -m pip ({e.strerror or e})", -1
        if code != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            pip_log.write_text(" ".join(cmd) + "\n" + output)
            raise RequirementError(cause(output, requires, ident["abi"], allow_source_builds), str(pip_log))
        versions = installed_versions(python, tmp)
        write_json_atomic(tmp / MANIFEST, {"requires": list(requires), "versions": [list(v) for v in versions],
                                           "interpreter": ident, "source_builds": allow_source_builds})
        os.replace(tmp, target)
        pip_log.unlink(missing_ok=True)
        return Overlay(str(target), versions, installed_now=True)


def installed_versions(python: str, directory: Path) -> tuple[tuple[str, str], ...]:
    """(distribution, version) of every distribution installed in ``directory``, asked of ``python``."""
    r = subprocess.run([python, "-I", "-c", VERSIONS, str(directory)], capture_output=True, text=True,
                       timeout=ASK_TIMEOUT)
    try:
        return tuple((n, v) for n, v in json.loads(r.stdout))
    except ValueError:
        raise RequirementError(f"cannot list what was installed in {directory}: {r.stderr.strip()[-200:]}") from None


def package_of(requirement: str) -> str:
    """The distribution name a requirement starts with (``pkg`` of ``pkg[extra]>=1.2``)."""
    m = NAME.match(requirement)
    return m[1] if m else requirement


def cause(output: str, requires: tuple[str, ...], abi: str, allow_source_builds: bool) -> str:
    """pip's failure as one line: ``requirement <pkg>: <cause>``, the package being the one pip names."""
    def named(pattern: str) -> str | None:
        m = re.search(pattern, output)
        return m[1] if m else None

    unreachable = re.search(r"NewConnectionError|Could not fetch URL|Temporary failure in name resolution|"
                            r"Network is unreachable", output)
    if unreachable:
        return f"requirement {', '.join(requires)}: the package index could not be reached"
    if pkg := named(r"Could not find a version that satisfies the requirement (\S+)"):
        if allow_source_builds:
            return f"requirement {pkg}: no version of it matches (pip found no distribution it can use)"
        return (f"requirement {pkg}: no binary wheel for {abi} (binary wheels only; "
                "--allow-source-builds to build it from source)")
    if pkg := named(r"Failed (?:building wheel for|to build) (\S+)") or \
            named(r"Building wheel for (\S+) \S+ did not run successfully"):
        return f"requirement {pkg}: building it from source failed"
    if pkg := named(r"No matching distribution found for (\S+)"):
        return f"requirement {pkg}: no distribution found"
    errors = [ln.strip() for ln in output.splitlines() if ln.strip().startswith("ERROR:")]
    last = (errors or [ln.strip() for ln in output.splitlines() if ln.strip()] or ["pip failed"])[-1]
    pkg = next((package_of(r) for r in requires if package_of(r).lower() in last.lower()), package_of(requires[0]))
    return f"requirement {pkg}: {' '.join(last.removeprefix('ERROR:').split())[:300]}"
