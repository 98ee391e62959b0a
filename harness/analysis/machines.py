"""One machine or two? What two results sets were measured on, read before their verdicts are compared.

A rerun of the same machine says how reproducible a campaign is; two machines (another CPU, another
clock, another core count, even under the same model string) say how far verdicts carry from one
machine to another, a different question. Each set's machine is read from its state files (the
fingerprint of harness.provision.fingerprint: CPU vendor, family, model, stepping, frequency, cache,
cores and affinity, memory, kernel) and from pyperf's own metadata (its ``cpu_freq``, which sets
fingerprinted before the CPU facts existed still carry). Two sets are one machine when their
fingerprints are the same; otherwise they are two machines, and the facts that differ are named.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.provision import fingerprint


@dataclass(frozen=True)
class Machine:
    """The machine of one results set: its fingerprint (or {}) and pyperf's clock reading."""

    label: str
    facts: dict = field(default_factory=dict)
    pyperf_mhz: int | None = None  # the highest clock in pyperf's cpu_freq ("0-1=2250 MHz")

    @property
    def known(self) -> bool:
        """A fingerprint was recorded."""
        return bool(self.facts.get("id"))

    def describe(self) -> str:
        """'vm-106a85: AMD EPYC (..., 2,250 MHz ...), 2 cores, kernel 6.18.44-fc-v857'."""
        if not self.known:
            return f"{self.label}: no machine fingerprint recorded"
        cpu = fingerprint.describe_cpu(self.facts)
        if "cpu_mhz" not in self.facts and self.pyperf_mhz:
            cpu += f" at {self.pyperf_mhz:,} MHz (pyperf)"
        cores = f"{self.facts.get('cores')} cores" + (f" (affinity {self.facts['affinity']})"
                                                        if "affinity" in self.facts else "")
        return f"{self.label}: {cpu}, {cores}, kernel {self.facts.get('kernel')}"


def set_dir(path: str | Path) -> Path:
    """The host directory of a results set given either it or a raw directory holding one host."""
    path = Path(path)
    if any(path.glob("*.state.json")) or any(path.glob("*.json")):
        return path
    hosts = [p for p in sorted(path.iterdir()) if p.is_dir() and not p.name.startswith(".")] if path.is_dir() else []
    return hosts[0] if len(hosts) == 1 else path


def _mhz(cpu_freq) -> int | None:
    """The highest MHz figure of pyperf's ``cpu_freq`` metadata ('0-1=2250 MHz'), to MHZ_STEP."""
    found = [int(m) for m in re.findall(r"(\d+)\s*MHz", str(cpu_freq or ""))]
    return int(round(max(found) / fingerprint.MHZ_STEP) * fingerprint.MHZ_STEP) if found else None


def machine_of(path: str | Path) -> Machine:
    """The machine a results set was measured on (its first state file with a fingerprint)."""
    d = set_dir(path)
    facts: dict = {}
    for state in sorted(d.glob("*.state.json")):
        try:
            facts = json.loads(state.read_text()).get("machine") or {}
        except (OSError, ValueError):
            continue
        if facts:
            break
    mhz = None
    for suite in sorted(p for p in d.glob("*.json") if not p.name.endswith(".state.json")):
        try:
            meta = json.loads(suite.read_text()).get("metadata") or {}
        except (OSError, ValueError):
            continue
        if (mhz := _mhz(meta.get("cpu_freq"))) is not None:
            break
    return Machine(d.name, facts, mhz)


@dataclass(frozen=True)
class Comparison:
    """Two sets' machines: one machine, two machines (and whether their CPUs differ), or unknown."""

    a: Machine
    b: Machine
    verdict: str  # "same machine", "two machines" or "unknown"
    other_cpu: bool
    differences: str

    @property
    def rerun(self) -> bool:
        """Comparable as a rerun: the same machine (or not known to differ)."""
        return self.verdict != "two machines"

    def lines(self) -> list[str]:
        """What ``reproduce`` says first, before any agreement."""
        out = [f"A = {self.a.describe()}", f"B = {self.b.describe()}"]
        if self.verdict == "same machine":
            out.append(f"one machine (fingerprint {self.a.facts['id']}): B is a rerun of A")
        elif self.verdict == "two machines":
            out.append(("two machines, with different CPUs" if self.other_cpu else "two machines")
                       + f" ({self.differences}): the agreement below is between two machines, not a rerun's; "
                       "verdicts that differ may differ because the machines do")
        else:
            out.append("machine unknown for a set (no fingerprint recorded): cannot tell a rerun from another machine")
        return out


def compare(a: Machine, b: Machine) -> Comparison:
    """One machine or two, and which of their facts differ."""
    if not (a.known and b.known):
        return Comparison(a, b, "unknown", False, "")
    clocks = a.pyperf_mhz is not None and b.pyperf_mhz is not None and a.pyperf_mhz != b.pyperf_mhz
    other_cpu = not fingerprint.same_cpu(a.facts, b.facts) or clocks
    if a.facts["id"] == b.facts["id"] and not clocks:
        return Comparison(a, b, "same machine", False, "")
    keys = sorted((a.facts.keys() & b.facts.keys()) - {"id"})
    diffs = [f"{k} {a.facts[k]!r} vs {b.facts[k]!r}" for k in keys if a.facts[k] != b.facts[k]]
    if clocks:
        diffs.append(f"pyperf's clock {a.pyperf_mhz:,} vs {b.pyperf_mhz:,} MHz")
    return Comparison(a, b, "two machines", other_cpu, "; ".join(diffs) or "fingerprints differ")


def compare_sets(path_a: str | Path, path_b: str | Path) -> Comparison:
    """:func:`compare` of the machines of two results sets (host directories or raw directories of one host)."""
    return compare(machine_of(path_a), machine_of(path_b))


def in_a_few_words(comparison: Comparison | None) -> str:
    """A compared pair's machines in a few words, for a table's note: the same, or two (and how they differ)."""
    if comparison is None or comparison.verdict not in ("same machine", "two machines"):
        return "machines not recorded"
    if comparison.verdict == "same machine":
        return "the same machine"
    return f"two machines{', different CPUs' if comparison.other_cpu else ''} ({comparison.differences})"


def report_lines(comparison: Comparison | None) -> list[str]:
    """REPORT.md's line on a compared pair's machines (nothing when not compared)."""
    if comparison is None:
        return []
    if comparison.verdict == "same machine":
        return [f"- machine: the same ({comparison.a.describe()}): a rerun"]
    if comparison.verdict == "two machines":
        return [f"- **two machines**{', different CPUs' if comparison.other_cpu else ''}: "
                f"{comparison.a.describe()}; {comparison.b.describe()} ({comparison.differences}). The figures below "
                "say how far the verdicts carry across machines, not how reproducible one machine is"]
    return ["- machine: not recorded for a set: cannot tell a rerun from another machine"]
