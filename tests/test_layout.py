"""The layout says where code runs, and the variant registry is the only place that names a version.

- ``harness.provision`` and the shared registries import with the standard library alone (``-S``:
  no site-packages), since they run on the host Python before any venv exists;
- ``harness.measure`` never imports pandas or matplotlib (the benchmark venvs do not have them);
- no string or number literal in ``harness/`` or ``noxfile.py`` names a CPython version, except in
  ``harness/variants.py``: adding a version is a change of ``FTBENCH_CPYTHON_VERSION`` alone.
"""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "harness"
VERSION_TEXT = re.compile(r"(?<![\d.])3\.1[3-9](?![\d])")  # 3.13, 3.13t, 3.14.0 ...


def _modules(package: str) -> list[str]:
    path = ROOT / package.replace(".", "/")
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)]) if m.name != "__main__"]


def _run(code: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("module", ["harness", "harness.variants", "harness.metadata", "harness.files",
                                    *_modules("harness.provision")])
def test_host_side_imports_with_the_standard_library_alone(module):
    r = _run(f"import {module}", "-S")
    assert r.returncode == 0, r.stderr


def test_measuring_code_never_imports_the_analysis_stack():
    mods = _modules("harness.measure")
    code = ("import sys\nfor m in ('pandas', 'matplotlib', 'seaborn'): sys.modules[m] = None\n"
            + "".join(f"import {m}\n" for m in mods))
    r = _run(code)
    assert r.returncode == 0, r.stderr


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def version_literals(path: Path) -> list[str]:
    """Literals naming a CPython version: "3.13t", "3.14.0", a (3, 13) tuple (docstrings excepted)."""
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if VERSION_TEXT.search(node.value):
                found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Tuple) and len(node.elts) >= 2 and all(
                isinstance(e, ast.Constant) and type(e.value) is int for e in node.elts[:2]):
            if node.elts[0].value == 3 and 13 <= node.elts[1].value <= 19:
                found.append(f"{path.name}:{node.lineno}: (3, {node.elts[1].value})")
    return found


def test_no_literal_interpreter_version_outside_the_registry():
    files = [p for p in HARNESS.rglob("*.py") if p != HARNESS / "variants.py"] + [ROOT / "noxfile.py"]
    found = [hit for p in sorted(files) for hit in version_literals(p)]
    assert found == []


def test_the_literal_check_can_fail(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text('"""Docstrings may say 3.13t."""\nBASE = "3.13"\nif sys.version_info >= (3, 14):\n    pass\n')
    assert [h.split(": ", 1)[1] for h in version_literals(sample)] == ["'3.13'", "(3, 14)"]
