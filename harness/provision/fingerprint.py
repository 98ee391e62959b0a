"""Where a result comes from: fingerprints of the machine and of each interpreter build.

A results set (``results/raw/<host>/``) is keyed by its host label plus the machine fingerprint,
and each variant file in it by the fingerprint of the interpreter that measured it; a campaign
never resumes into, or appends to, results whose fingerprints differ (harness.measure.results).

- machine: the CPU (model string, vendor, family, model number, stepping, frequency, cache size:
  two VMs that both say "AMD EPYC" can be different CPUs at different clocks), cores, the cores
  this process may run on (its affinity: ``taskset -c 0`` measures a 1-core machine), total
  memory, kernel release, architecture;
- interpreter: source sha256, configure arguments, build date and executable, read from the
  build's ``ftbench-provenance.json`` beside ``sys.base_prefix`` (written by
  harness.provision.interpreters), else what the running Python says of itself.

Each fingerprint is a dict of those facts plus ``id``, the first 12 hex digits of the sha256 of
the facts (what is compared). Stdlib only: the host Python and the benchmark venvs import it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

PROVENANCE = "ftbench-provenance.json"


def _digest(facts: dict) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:12]


CPUINFO = "/proc/cpuinfo"
CPUFREQ_MAX = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"  # kHz, where a cpufreq driver runs
MHZ_STEP = 10  # the frequency is rounded to this: a VM's clock calibrates a little differently per boot
# fact -> the /proc/cpuinfo fields that say it (x86 names first, then ARM's); the first CPU's block
CPU_FIELDS = {
    "cpu_model": ("model name", "Hardware", "cpu model"),
    "cpu_vendor": ("vendor_id", "CPU implementer"),
    "cpu_family": ("cpu family", "CPU architecture"),
    "cpu_model_number": ("model", "CPU part"),
    "cpu_stepping": ("stepping", "CPU revision"),
    "cpu_cache": ("cache size",),
}


def _first_cpu(path: str | None = None) -> dict:
    """The fields of the first processor block of /proc/cpuinfo ({} without it)."""
    fields: dict = {}
    try:
        with open(path or CPUINFO) as f:
            for line in f:
                if not line.strip():
                    if fields:
                        break
                    continue
                name, _, value = line.partition(":")
                fields.setdefault(name.strip(), value.strip())
    except OSError:
        pass
    return fields


def _mhz(fields: dict) -> int | None:
    """The CPU's frequency in MHz, rounded to MHZ_STEP: cpufreq's maximum where a driver runs (a scaled
    core's current clock moves), else /proc/cpuinfo's ``cpu MHz`` (a VM's constant clock)."""
    try:
        with open(CPUFREQ_MAX) as f:
            mhz = int(f.read().strip()) / 1000
    except (OSError, ValueError):
        try:
            mhz = float(fields["cpu MHz"])
        except (KeyError, ValueError):
            return None
    return int(round(mhz / MHZ_STEP) * MHZ_STEP)


def _darwin_cpu() -> dict:
    """What macOS says of its CPU (sysctl), under the facts' names."""
    names = {"cpu_model": "machdep.cpu.brand_string", "cpu_vendor": "machdep.cpu.vendor",
             "cpu_family": "machdep.cpu.family", "cpu_model_number": "machdep.cpu.model",
             "cpu_stepping": "machdep.cpu.stepping", "cpu_hz": "hw.cpufrequency", "cpu_cache": "hw.l2cachesize"}
    out = {}
    for fact, name in names.items():
        try:
            r = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0 and r.stdout.strip():
            out[fact] = r.stdout.strip()
    hz = out.pop("cpu_hz", "")
    if hz.isdigit():
        out["cpu_mhz"] = int(round(int(hz) / 1e6 / MHZ_STEP) * MHZ_STEP)
    return out


def cpu(path: str | None = None) -> dict:
    """The CPU's identity: model string, vendor, family, model number, stepping, MHz, cache ("unknown" if not said)."""
    fields = _first_cpu(path)
    facts: dict = {fact: next((fields[n] for n in names if n in fields), "unknown")
                   for fact, names in CPU_FIELDS.items()}
    facts["cpu_mhz"] = _mhz(fields) if fields else None
    if not fields and platform.system() == "Darwin":
        facts.update(_darwin_cpu())
    if facts["cpu_model"] == "unknown":
        facts["cpu_model"] = platform.processor() or "unknown"
    if facts["cpu_mhz"] is None:
        facts["cpu_mhz"] = "unknown"
    return facts


def cpu_list(cores) -> str:
    """Core numbers as the kernel writes a CPU list: {0, 1, 2, 5} -> '0-2,5'."""
    ranges: list[list[int]] = []
    for c in sorted(cores):
        if ranges and c == ranges[-1][1] + 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def affinity() -> str:
    """The cores this process may run on (its CPU list), or 'all' where the platform cannot say."""
    if hasattr(os, "sched_getaffinity"):
        return cpu_list(os.sched_getaffinity(0))
    return "all"


def describe_cpu(fp: dict) -> str:
    """'AMD EPYC (AuthenticAMD family 25 model 1 stepping 1, 2,450 MHz, cache 512 KB)' from a fingerprint."""
    mhz = fp.get("cpu_mhz")
    mhz = f"{mhz:,} MHz" if isinstance(mhz, int) else "MHz not recorded"
    if "cpu_family" not in fp:
        return f"{fp.get('cpu_model', 'unknown')} (family, model, frequency not recorded)"
    return (f"{fp.get('cpu_model')} ({fp.get('cpu_vendor')} family {fp.get('cpu_family')} model "
            f"{fp.get('cpu_model_number')} stepping {fp.get('cpu_stepping')}, {mhz}, cache {fp.get('cpu_cache')})")


def _memory() -> int:
    """Total memory in bytes (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def machine() -> dict:
    """The machine's facts and their ``id``. Memory is rounded to 0.1 GiB (the kernel's count moves a little)."""
    facts = {
        **cpu(),
        "cores": os.cpu_count() or 1,
        "affinity": affinity(),
        "memory_gib": round(_memory() / 2**30, 1),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "system": platform.system(),
    }
    return {**facts, "id": _digest(facts)}


# Run by the interpreter under test (any Python >= 3.8): its own provenance, or what it says of itself.
_SELF = r"""
import json, os, platform, sys, sysconfig
facts = {"executable": os.path.realpath(sys.executable), "version": platform.python_version(),
         "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED"))}
try:
    with open(os.path.join(sys.base_prefix, "PROVENANCE")) as f:
        prov = json.load(f)
    facts.update(source_sha256=prov.get("source_sha256", "unknown"),
                 configure_args=" ".join(prov.get("configure_args", [])),
                 build_date=prov.get("build_date", "unknown"))
except (OSError, ValueError):
    facts.update(source_sha256="unknown", configure_args=sysconfig.get_config_var("CONFIG_ARGS") or "",
                 build_date=" ".join(platform.python_build()))
print(json.dumps(facts))
""".replace("PROVENANCE", PROVENANCE)


def interpreter(python: str | None = None) -> dict:
    """The facts of an interpreter build (``python``: its executable, default this one) and their ``id``.

    A venv's python is resolved to its base build's (the venv is not part of the fingerprint:
    two venvs of one build measure the same interpreter).
    """
    if python is None or os.path.realpath(python) == os.path.realpath(sys.executable):
        ns: dict = {}
        out = _run_here(ns)
    else:
        r = subprocess.run([python, "-I", "-c", _SELF], capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")})
        if r.returncode:
            raise OSError(f"{python} does not run: {r.stderr.strip()[-300:]}")
        out = r.stdout
    facts = json.loads(out)
    return {**facts, "id": _digest(facts)}


def _run_here(ns: dict) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(_SELF, ns)  # noqa: S102 - our own constant script, as the subprocess would run it
    return buf.getvalue()


def short(fp: dict) -> str:
    """The few characters of a fingerprint that go into a default host label."""
    return fp["id"][:6]


# A results set holding this file is a published run (committed to the repository): a run that was
# not given a host label measures beside it, into <label>-local, so a fresh clone always measures.
PUBLISHED = "PUBLISHED"
MAX_HOST_LABEL = 64  # characters: a directory name, and a label pyperf records in every run
# A host label names a directory under results/raw/ and is written into CSV cells and README lines:
# no path separator, no leading '.', '_' or '-', nothing a spreadsheet reads as a formula.
HOST_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def is_host_label(text: str) -> bool:
    """Is ``text`` a valid host label (see :data:`HOST_LABEL`, at most :data:`MAX_HOST_LABEL` characters)?"""
    return bool(HOST_LABEL.fullmatch(text)) and len(text) <= MAX_HOST_LABEL


def default_label(flavour: str = "plain", suffix: str = "") -> str:
    """The label of a run given none: ``<hostname>-<machine>[-opt][suffix]``.

    The machine fingerprint keeps another machine's results (even under the same hostname) apart,
    and the flavour keeps optimized builds apart from plain ones.
    """
    host = re.sub(r"[^A-Za-z0-9._-]", "_", platform.node()).lstrip("._-")[:MAX_HOST_LABEL - 24] or "host"
    return f"{host}-{short(machine())}{'-opt' if flavour == 'optimized' else ''}{suffix}"


def beside_published(results: str, label: str) -> str:
    """``label``, or ``label-local`` when ``results/raw/<label>`` is a published set (read, never resumed)."""
    return f"{label}-local" if os.path.exists(os.path.join(results, "raw", label, PUBLISHED)) else label


def set_refusal(set_dir: Path, machine: dict | None) -> str:
    """Why this machine must not write into the results set ``set_dir`` ('' if it may), whatever ``--fresh`` says.

    A published set (a :data:`PUBLISHED` file) is read, never written. A set is one machine's: the
    state file of every campaign variant and the status file of every pyperformance variant in it
    must record ``machine`` (None: not compared); one recording another machine, or none, refuses it.
    """
    set_dir = Path(set_dir)
    if (set_dir / PUBLISHED).exists():
        return f"{set_dir} is a published results set (it holds {PUBLISHED}): it is read, never written"
    if machine is None or not set_dir.is_dir():
        return ""
    for path in sorted([*set_dir.glob("*.state.json"), *set_dir.glob("pyperformance/*.status.json")]):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a damaged file is refused by the check of its own variant
        if not (isinstance(state, dict) and isinstance(state.get("settings"), dict)
                and isinstance(state.get("benchmarks"), dict)):
            continue  # not a state or status file: likewise
        recorded = state.get("machine") if isinstance(state.get("machine"), dict) else None
        if (recorded or {}).get("id") != machine["id"]:
            return f"{path} was measured on another machine ({describe_difference(recorded, machine)})"
    return ""


def describe_difference(old: dict | None, new: dict) -> str:
    """'kernel: 6.1 then, 6.18 now' for the facts that differ (or 'none recorded then').

    A fact the older fingerprint did not record yet (the CPU's family, the affinity) is said so:
    the set cannot be shown to come from this CPU and these cores.
    """
    if not old:
        return "no fingerprint recorded then"
    keys = sorted((old.keys() | new.keys()) - {"id"})

    def said(fp: dict, k: str) -> str:
        return repr(fp[k]) if k in fp else "not recorded"

    return ", ".join(f"{k}: {said(old, k)} then, {said(new, k)} now" for k in keys if old.get(k) != new.get(k)) \
        or "fingerprint ids differ"


def same_cpu(a: dict, b: dict) -> bool:
    """Do two machine fingerprints describe the same CPU (model string, and where both record them
    the vendor, family, model number, stepping, frequency and cache)?"""
    facts = ("cpu_model", *(f for f in (*CPU_FIELDS, "cpu_mhz") if f in a and f in b))
    return all(a.get(f) == b.get(f) for f in facts)


if __name__ == "__main__":
    print(json.dumps({"machine": machine(), "interpreter": interpreter(sys.argv[1] if len(sys.argv) > 1 else None)},
                     indent=1))
