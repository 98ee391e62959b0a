"""Python functions of a profile, named as a reader finds them: ``name`` at ``file:line``.

CPython's perf support names a Python frame ``py::QUALNAME:FILENAME`` (one trampoline per code
object, so perf sees functions, not lines). The line shown is the function's own (where its
``def`` is), found by parsing the file: the profile says *which* function, the reader's editor
goes there. A file that cannot be read (``<frozen ...>``, a deleted file) keeps its name alone.
Stdlib only.
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass

from harness.profile.stacks import PYTHON_PREFIX


@dataclass(frozen=True)
class PyFunction:
    """One Python function as perf names it, and where it is defined."""

    qualname: str
    filename: str
    line: int | None

    @property
    def where(self) -> str:
        """``file:line`` with the file relative to the working directory when inside it, else its base name."""
        name = self.filename
        if os.path.isabs(name):
            rel = os.path.relpath(name)
            name = rel if not rel.startswith("..") else os.path.basename(name)
        return f"{name}:{self.line}" if self.line else name

    def __str__(self) -> str:
        return f"{self.qualname} at {self.where}"


def split(symbol: str) -> tuple[str, str]:
    """``py::QUALNAME:FILENAME`` -> (qualname, filename); the qualname never holds a colon, a file may."""
    body = symbol[len(PYTHON_PREFIX):] if symbol.startswith(PYTHON_PREFIX) else symbol
    qualname, _, filename = body.partition(":")
    return qualname, filename


@functools.lru_cache(maxsize=256)
def _definitions(filename: str) -> dict[str, int]:
    """qualname -> line of its ``def``/``class`` in one source file ({} if unreadable)."""
    try:
        with open(filename, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return {}
    out: dict[str, int] = {"<module>": 1}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                out.setdefault(name, child.lineno)
                inner = name + (".<locals>." if not isinstance(child, ast.ClassDef) else ".")
                visit(child, inner)
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def resolve(symbol: str) -> PyFunction:
    """The function a ``py::`` frame names, with the line of its definition when the file says it."""
    qualname, filename = split(symbol)
    return PyFunction(qualname, filename, _definitions(filename).get(qualname))
