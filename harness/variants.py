"""The variant registry: every interpreter under test is declared here and nowhere else.

A *build* is one CPython compiled by ``harness.provision`` (a version, free-threaded or not, a
flavour); a *variant* is a build plus how it is run (its environment) and the role it plays in a
comparison. For each CPython version there are three variants::

    3.13        baseline        the default build (GIL)
    3.13t       free-threaded   the --disable-gil build, GIL off
    3.13t-gil   control         the same free-threaded binary with PYTHON_GIL=1

The versions come from ``FTBENCH_CPYTHON_VERSION`` (default 3.13.5; a comma-separated list, e.g.
``3.13.5,3.14.0``, gives a campaign over several versions). Adding a version is that one change:
nox sessions, the runner, the GIL check, the analysis and the plots all iterate this registry.
``FTBENCH_FLAVOUR`` (plain or optimized, i.e. PGO + LTO) picks the builds behind the same names:
the flavours are built, cached and measured apart, never mixed in one campaign.
Stdlib only: the host Python, the benchmark venvs and the analysis all import it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

DEFAULT_VERSION = "3.13.5"
# sha256 of python.org's Python-X.Y.Z.tar.xz (Debian's pythonX.Y_X.Y.Z.orig.tar.xz is the same file).
# A version not listed here is checked against FTBENCH_CPYTHON_SHA256 (or taken as given with --source).
KNOWN_SHA256 = {
    "3.13.5": "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640",
}
VERSION_ENV = "FTBENCH_CPYTHON_VERSION"
FLAVOUR_ENV = "FTBENCH_FLAVOUR"  # plain (default) or optimized: which builds the sessions use
ROLES = ("baseline", "free-threaded", "control")
FLAVOURS = ("plain", "optimized")  # optimized: PGO + LTO


class VariantError(ValueError):
    """An unknown variant or version: the message names the known ones."""


@dataclass(frozen=True)
class Build:
    """One CPython build of ``harness.provision``: what is compiled, not how it is run."""

    version: str  # "3.13.5"
    free_threaded: bool
    flavour: str = "plain"

    @property
    def minor(self) -> str:
        """"3.13" of "3.13.5": what a venv's python reports and a variant's name starts with."""
        return minor_of(self.version)

    @property
    def name(self) -> str:
        """The Python name nox knows it by: "3.13" or "3.13t"."""
        return self.minor + ("t" if self.free_threaded else "")

    @property
    def key(self) -> str:
        """Its directory in the build cache: one per version, GIL mode and flavour."""
        return self.version + ("t" if self.free_threaded else "") + ("" if self.flavour == "plain" else "-opt")

    @property
    def session(self) -> str:
        """Its nox session suffix: the name, plus -opt for the optimized flavour (a venv of its own)."""
        return self.name + ("" if self.flavour == "plain" else "-opt")

    @property
    def optimized(self) -> bool:
        """Built with PGO and LTO (the optimized flavour)."""
        return self.flavour == "optimized"


@dataclass(frozen=True)
class Variant:
    """A build, the environment it runs in, and its role in a comparison."""

    name: str  # "3.13t-gil"
    build: Build
    role: str  # one of ROLES
    env: tuple[tuple[str, str | None], ...]  # forced variables; None removes one

    @property
    def gil_expected(self) -> bool:
        """Must the GIL be enabled during its runs? (the GIL check of every benchmark)"""
        return self.role != "free-threaded"

    @property
    def minor(self) -> str:
        """The minor version of its build."""
        return self.build.minor

    def apply_env(self, env: dict) -> dict:
        """A copy of ``env`` with this variant's variables forced (a stray PYTHON_GIL cannot leak in)."""
        out = dict(env)
        for key, value in self.env:
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
        return out


def minor_of(version: str) -> str:
    """"3.13" of "3.13.5"; a version that is not X.Y.Z with X.Y >= 3.13 is a :class:`VariantError` naming the form."""
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version or "")
    if not m or (int(m[1]), int(m[2])) < (3, 13):
        raise VariantError(f"unknown CPython version {version!r}: give X.Y.Z with X.Y >= 3.13 "
                           f"(the first release with a free-threaded build), e.g. {DEFAULT_VERSION}")
    return f"{m[1]}.{m[2]}"


def versions(text: str | None = None) -> tuple[str, ...]:
    """The CPython versions of a campaign: ``text``, else FTBENCH_CPYTHON_VERSION, else the default."""
    text = text if text is not None else os.environ.get(VERSION_ENV) or DEFAULT_VERSION
    out = tuple(v.strip() for v in text.split(","))
    for v in out:
        minor_of(v)
    if len({minor_of(v) for v in out}) != len(out):
        raise VariantError(f"{text!r}: one version per X.Y (variant names are X.Y, X.Yt, X.Yt-gil)")
    return out


def flavour_of(text: str | None = None) -> str:
    """The build flavour of a campaign: ``text``, else FTBENCH_FLAVOUR, else plain."""
    flavour = text or os.environ.get(FLAVOUR_ENV) or "plain"
    if flavour not in FLAVOURS:
        raise VariantError(f"unknown build flavour {flavour!r} (from {FLAVOUR_ENV}); "
                           f"valid: {', '.join(FLAVOURS)}")
    return flavour


def variants_of(version: str, flavour: str | None = None) -> tuple[Variant, ...]:
    """The three variants of one CPython version, baseline first."""
    flavour = flavour_of(flavour)
    default, free = Build(version, False, flavour), Build(version, True, flavour)
    # PYTHON_GIL is removed for the first two so a stray setting in the user's shell cannot change
    # what they measure; the control forces the GIL on in the very same free-threaded binary.
    return (Variant(default.name, default, "baseline", (("PYTHON_GIL", None),)),
            Variant(free.name, free, "free-threaded", (("PYTHON_GIL", None),)),
            Variant(f"{free.name}-gil", free, "control", (("PYTHON_GIL", "1"),)))


def registry(version_list: str | tuple[str, ...] | None = None, flavour: str | None = None) -> dict[str, Variant]:
    """Every variant of the campaign's versions, by name, in a stable order (version, then role).

    One flavour per registry (``flavour``, else FTBENCH_FLAVOUR, else plain): variant names stay
    3.13, 3.13t, 3.13t-gil, and the builds behind them are all plain or all optimized.
    """
    if version_list is None or isinstance(version_list, str):
        version_list = versions(version_list)
    return {v.name: v for version in version_list for v in variants_of(version, flavour)}


def get(name: str, table: dict[str, Variant] | None = None) -> Variant:
    """The variant called ``name`` (of ``table``, else the registry's); unknown: a :class:`VariantError` naming all."""
    table = registry() if table is None else table
    if name not in table:
        raise VariantError(f"unknown variant {name!r}; valid: {', '.join(table)}")
    return table[name]


def builds(table: dict[str, Variant] | None = None) -> dict[str, Build]:
    """The distinct builds of the variants, by nox Python name ("3.13", "3.13t"), default build first."""
    table = registry() if table is None else table
    out: dict[str, Build] = {}
    for v in table.values():
        out.setdefault(v.build.name, v.build)
    return out


def baseline_of(variant: Variant | str, table: dict[str, Variant] | None = None) -> Variant | None:
    """The baseline every ratio of ``variant`` is taken against: the default build of its version."""
    table = registry() if table is None else table
    minor = variant.minor if isinstance(variant, Variant) else _minor_of_name(variant)
    return next((v for v in table.values() if v.role == "baseline" and v.minor == minor), None)


def role_of(name: str) -> str | None:
    """The role a variant name plays, by its shape (for result files of a version not in the registry)."""
    m = re.fullmatch(r"\d+\.\d+(t?)(-gil)?", name)
    if not m:
        return None
    if m[2]:
        return "control" if m[1] else None
    return "free-threaded" if m[1] else "baseline"


def _minor_of_name(name: str) -> str:
    m = re.match(r"(\d+\.\d+)", name)
    return m[1] if m else name


def order_key(name: str) -> tuple:
    """Sort key for variant names: by version, then baseline, free-threaded, control."""
    role = role_of(name)
    minor = tuple(int(x) for x in _minor_of_name(name).split(".")) if role else (99, 99)
    return (minor, ROLES.index(role) if role else 9, name)
