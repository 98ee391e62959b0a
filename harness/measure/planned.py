"""A planned benchmark, and the names and hashes its results are stored under.

A campaign measures :class:`Planned` benchmarks: one workload under one strategy with one worker
count, named ``workload/strategy/workers`` (a pyperf benchmark name, a CSV row, a state entry).
A best option or a sequential reference measured again after its workload's sweep is stored
apart, as ``workload/strategy/workers/confirm`` (:func:`confirm_name`), so the sweep's processes
that chose it stay as they were measured. A resumed results set compares each workload's
:func:`workload_hash` (its code and sizes, not its comments): a changed workload is measured
again, never mixed with its old runs.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from dataclasses import dataclass

from harness import metadata


@dataclass(frozen=True)
class Planned:
    """One benchmark to measure: ``workload`` (a :class:`~harness.measure.workload.Workload`) x strategy x workers."""

    workload: object
    strategy: str
    workers: int

    @property
    def name(self) -> str:
        """``workload/strategy/workers``: the benchmark's name in pyperf's JSON, the CSV and the state file."""
        return f"{self.workload.name}/{self.strategy}/{self.workers}"

    def identity(self) -> dict:
        """What the results state records about the benchmark, beside its status."""
        return {"workload": self.workload.name, "kind": self.workload.kind,
                "strategy": self.strategy, "workers": self.workers}


def confirm_name(p: Planned) -> str:
    """The name of ``p``'s confirmation: its own benchmark, so the sweep's stays as it was measured."""
    return f"{p.name}/{metadata.CONFIRM}"


def workload_hash(workload, installed: tuple[tuple[str, str], ...] = ()) -> str:
    """sha256 (12 hex) of the workload's code, its sizes and its installed requirements: a changed
    definition is re-measured.

    The code is its module as the parser reads it, without docstrings (:func:`code_of`): a comment,
    a docstring or the layout can be edited without forcing a re-measure; any change to what runs can not.
    ``installed``: the (distribution, version) pairs of the workload's requirements overlay on the
    variant (another version of a package it imports is another workload); none for a workload
    without requirements, whose hash stays what it always was.
    """
    h = hashlib.sha256()
    module = sys.modules.get(getattr(workload.task, "__module__", ""), None)
    path = getattr(module, "__file__", None)
    if path:
        with open(path, "rb") as f:
            h.update(code_of(f.read()).encode())
    h.update(json.dumps(workload.sizes, sort_keys=True, default=repr).encode())
    if installed:
        h.update(json.dumps(sorted(map(list, installed))).encode())
    return h.hexdigest()[:12]


def code_of(source: bytes) -> str:
    """``source`` with comments, docstrings and layout left out (``ast.unparse``); as is if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source.decode(errors="replace")
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)
