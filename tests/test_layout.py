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


# --- one way in: no import circle, no metadata key around the registry, readable functions ----------


def import_graph(root: Path = HARNESS) -> dict[str, set[str]]:
    """module -> the harness modules it imports, anywhere in its body (a lazy import is still an edge).

    ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg`` (its
    ``__init__``). Importing a submodule also runs its parents' ``__init__``; that implicit step is
    not an edge, or every package facade would close a circle with the modules it re-exports.
    """
    def name_of(path: Path) -> str:
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    modules = {name_of(p): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        edges = set()
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                for a in node.names:
                    target = f"{base}.{a.name}"
                    edges.add(target if target in modules else base)
        graph[mod] = {e for e in edges if e in modules and e != mod}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan): each is an import circle."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_inside_harness():
    assert circles(import_graph()) == []


def test_the_circle_check_can_fail(tmp_path):
    pkg = tmp_path / "harness"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from harness.sub.a import A\n")
    (pkg / "sub" / "a.py").write_text("A = 1\ndef f():\n    from harness.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from .a import A\n")
    (pkg / "sub" / "c.py").write_text("from harness.sub import B\n")
    graph = import_graph(pkg)
    assert circles(graph) == [["harness.sub.a", "harness.sub.b"]]
    assert "harness.sub" in graph["harness.sub.c"]  # a name of the facade is an edge to the facade


def raw_metadata_keys(path: Path) -> list[str]:
    """String literals (docstrings excepted) that spell a stored ``ftbench_`` metadata key."""
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    return [f"{path.name}:{node.lineno}: {node.value[:40]!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            and re.search(r"(?<![A-Za-z0-9])ftbench_", node.value)]


def test_every_metadata_key_goes_through_the_registry():
    files = [p for p in HARNESS.rglob("*.py") if p != HARNESS / "metadata.py"]
    assert [hit for p in sorted(files) for hit in raw_metadata_keys(p)] == []


def test_the_raw_key_check_can_fail(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text('"""Docstrings may name ftbench_round."""\nA = meta["ftbench_round"]\nB = f"ftbench_{x}"\n'
                      'C = "FTBENCH_WORKLOAD_PATH"\nD = "ftbench-provenance.json"\n')
    assert [h.split(": ", 1)[1] for h in raw_metadata_keys(sample)] == ["'ftbench_round'", "'ftbench_'"]


def test_harness_functions_are_readable_and_documented():
    """ruff C901 (complexity at most 15) and D1 (a docstring on every public name) over harness/."""
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed beside this Python (nox -s tests installs it)")
    r = subprocess.run([str(ruff), "check", "--select", "C901,D1", "--ignore", "D105,D107",
                        "--output-format", "concise", "harness"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]


def test_no_test_directory_takes_the_name_of_a_top_level_package():
    """The tests directory is on ``sys.path`` (its conftest) and the project is an editable install.

    A directory there named like a package of the project (``tests/workloads``) is a namespace
    package that the import system finds before the editable install's finder: ``import workloads``
    then yields the tests, not the workloads, whenever pytest is started as ``pytest`` (nox) rather
    than ``python -m pytest`` from the repository.
    """
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    clashes = sorted(d.name for d in (ROOT / "tests").iterdir() if d.is_dir() and d.name in packages)
    assert not clashes, f"rename tests/{clashes[0]}: it shadows the package {clashes[0]!r}"
