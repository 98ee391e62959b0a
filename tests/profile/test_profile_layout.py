"""harness.profile runs where perf runs and wherever its text is read: the standard library is enough."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = [f"harness.profile.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "harness" / "profile")])
           if m.name != "__main__"]


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_with_the_standard_library_alone(module):
    r = subprocess.run([sys.executable, "-S", "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr


def test_the_campaign_never_reads_a_profile():
    """Profiles are a lens apart: nothing under harness/measure names harness.profile or its files."""
    hits = [p.name for p in (ROOT / "harness" / "measure").rglob("*.py")
            if "harness.profile" in p.read_text() or "profiles/" in p.read_text()]
    assert hits == []
