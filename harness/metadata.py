"""The registry of every metadata key ftbench writes into pyperf's JSON, in the spirit of pyperf's _metadata.

Each key is declared once with its type, unit, scope and how its values over a benchmark's runs
combine. Writers (the runner, the measuring script, the probe) go through :func:`put`, which checks
the type and refuses non-finite numbers (pyperf's JSON must stay strict JSON); readers (the results
store, the analysis) go through :func:`get` and :func:`merge`. Stored names carry the ``ftbench_``
prefix so they never collide with pyperf's own keys. Stdlib only.

Scopes: ``benchmark`` keys describe what was measured and are the same on every run;
``run`` keys are measured by each pyperf worker process (the unit of replication).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PREFIX = "ftbench_"
CONFIRM = "confirm"  # the "stage" of a confirmation benchmark, and the last part of its name
FIGURE_PREFIX = "figure_"  # check() figures: ftbench_figure_<name>, float


@dataclass(frozen=True)
class Key:
    """One declared metadata key: how it is typed, what it measures, and how its values over runs combine."""

    name: str
    kind: type  # str, int or float
    unit: str  # "s", "bytes", "cores", "" ...
    scope: str  # "benchmark" or "run"
    merge: str  # over runs: "same", "max", "any_yes", "join", "mean", "sum"
    doc: str

    @property
    def stored(self) -> str:
        """Its name in pyperf's JSON: prefixed, so it never collides with pyperf's own keys."""
        return PREFIX + self.name


_KEYS = (
    # what was measured (benchmark scope: written by harness.measure.run from the campaign config)
    Key("workload", str, "", "benchmark", "same", "workload name"),
    Key("kind", str, "", "benchmark", "same", "cpu, io or mixed"),
    Key("strategy", str, "", "benchmark", "same", "sequential, threads, processes, ..."),
    Key("workers", int, "", "benchmark", "same", "pool size or coroutines in flight"),
    Key("scaling", str, "", "benchmark", "same", "strong (fixed total work) or weak (work per worker)"),
    Key("tasks", int, "", "benchmark", "same", "tasks per run"),
    Key("variant", str, "", "benchmark", "same", "variant name (harness.variants)"),
    Key("role", str, "", "benchmark", "same", "baseline, free-threaded or control"),
    Key("free_threaded", str, "", "benchmark", "same", "yes if the build is --disable-gil"),
    Key("start_method", str, "", "benchmark", "same", "multiprocessing start method"),
    Key("profile", str, "", "benchmark", "same", "quick, default or rigorous"),
    Key("size", str, "", "benchmark", "same", "task size"),
    Key("host", str, "", "benchmark", "same", "host label of the results set"),
    Key("machine", str, "", "benchmark", "same", "fingerprint of the machine (cpu, cores, memory, kernel)"),
    Key("interpreter", str, "", "benchmark", "same", "fingerprint of the interpreter build"),
    Key("workload_hash", str, "", "benchmark", "same", "sha256 of the workload's file and sizes"),
    Key("workload_file", str, "", "benchmark", "same", "the file that defines the workload"),
    Key("requirements", str, "", "benchmark", "same",
        "the workload's installed requirements (its overlay's distributions), name==version, comma-separated"),
    Key("accelerators", str, "", "benchmark", "same", "pure or native aiohttp stack"),
    Key("c_extensions", str, "", "benchmark", "same", "which aiohttp-stack C extensions were active"),
    Key("cpu_count", int, "cores", "benchmark", "same", "cores this process may run on"),
    Key("options", str, "", "benchmark", "same", "workload KEY=VALUE options"),
    Key("server_latency", str, "s", "benchmark", "same", "latency range of the embedded server, LO:HI"),
    Key("server_python", str, "", "benchmark", "same", "interpreter the embedded server ran on"),
    Key("numpy", str, "", "benchmark", "same", "numpy version"),
    Key("aiohttp", str, "", "benchmark", "same", "aiohttp version"),
    Key("requests", str, "", "benchmark", "same", "requests version"),
    Key("pyperf", str, "", "benchmark", "same", "pyperf version"),
    Key("source_sha256", str, "", "benchmark", "same", "sha256 of the CPython source tarball"),
    Key("source_origin", str, "", "benchmark", "same", "where the source came from"),
    Key("configure_args", str, "", "benchmark", "same", "configure arguments of the build"),
    Key("flavour", str, "", "benchmark", "same", "plain or optimized (PGO + LTO)"),
    Key("build_date", str, "", "benchmark", "same", "when the build was made"),
    Key("compiler", str, "", "benchmark", "same", "compiler of the build"),
    # how the sample was gathered (benchmark scope: written by the campaign)
    Key("precision", float, "", "benchmark", "same", "95% CI half-width of the mean over processes, relative"),
    Key("stop_reason", str, "", "benchmark", "same", "target, cap, budget, fixed, options or planned"),
    Key("stage", str, "", "benchmark", "same",
        "confirm: a best option or its sequential reference measured again after its workload's sweep "
        "(name .../confirm)"),
    Key("planned_rounds", int, "", "benchmark", "same",
        "rounds of a confirmation, fixed before it from the sweep's data (so its t interval holds at 95%)"),
    Key("plan_reason", str, "", "benchmark", "same", "how planned_rounds was sized"),
    # measured by each worker process (run scope: harness.measure.probe)
    Key("round", int, "", "run", "join", "interleaving round this process ran in"),
    Key("invocation", str, "", "run", "join",
        "the campaign call this process ran in: rounds pair only within one invocation"),
    Key("gil_enabled", str, "", "run", "any_yes", "yes if the GIL was enabled after the run"),
    Key("gil_reenabled_by", str, "", "run", "join", "modules whose import re-enabled the GIL"),
    Key("check", str, "", "run", "same", "ok: every value's results were checked"),
    Key("peak_rss", int, "bytes", "run", "max", "peak RSS: max(own, largest child)"),
    Key("peak_rss_self", int, "bytes", "run", "max", "peak RSS of the worker process"),
    Key("peak_rss_children", int, "bytes", "run", "max", "peak RSS of its largest waited-for child"),
    Key("peak_tree_memory", int, "bytes", "run", "max", "peak of the summed memory of the process tree"),
    Key("memory_method", str, "", "run", "same", "pss or rss: what peak_tree_memory sums"),
    Key("wall_seconds", float, "s", "run", "sum", "wall time of the timed runs of this process"),
    Key("cpu_seconds", float, "s", "run", "sum", "CPU time of the process tree during them"),
    Key("busy_cores", float, "cores", "run", "mean", "cpu_seconds / wall_seconds"),
    Key("foreign_cores", float, "cores", "run", "max",
        "machine busy minus own, server and steal, per second of wall (at most the machine's cores)"),
    Key("steal_cores", float, "cores", "run", "max", "CPU the hypervisor gave to others, per second of wall"),
    Key("foreign_flagged", str, "", "run", "any_yes",
        "yes, no, unknown (no /proc) or short (too short for the tick counts): foreign + steal above threshold"),
    Key("foreign_threshold", float, "cores", "run", "max", "foreign load that flags a run"),
    Key("foreign_resolution", float, "cores", "run", "max",
        "foreign load the tick counts can tell from their rounding over this run's wall time"),
    Key("server_cores", float, "cores", "run", "mean", "CPU of the embedded HTTP server per second of wall"),
    Key("memory_samples", int, "", "run", "sum", "samples behind peak_tree_memory"),
    Key("sampler_cores", float, "cores", "run", "max", "CPU of the memory sampler per second of wall"),
    Key("leftover_processes", int, "", "run", "max",
        "processes of the benchmark's group still running after it ended (killed then): a task left them"),
    # the speed canary (harness.measure.canary): timed before and after every value of the process
    Key("canary_seconds", float, "s", "run", "mean", "mean time of the Python speed canary in this process"),
    Key("canary_times", str, "s", "run", "same", "every Python canary time of this process, in order"),
    Key("canary_c_seconds", float, "s", "run", "mean", "mean time of the C speed canary (sha256) in this process"),
    Key("canary_c_times", str, "s", "run", "same", "every C canary time of this process, in order"),
    Key("canary", str, "", "benchmark", "same", "what the canaries run (loop length, buffer size)"),
    # the GIL probe of harness.provision.pyperformance (its own temporary file, never a result)
    Key("probe_process", str, "", "run", "same", "main or worker: which pyperf process wrote the probe's value"),
)
KEYS = {k.name: k for k in _KEYS}


ANY_YES_ORDER = ("yes", "unknown", "short")  # merge rule "any_yes": the first of these any run says


class MetadataError(ValueError):
    """A value that cannot be written: wrong type or not a finite number."""


def key(name: str) -> Key:
    """The declaration of ``name`` (a check figure is declared by its prefix); unknown names raise KeyError."""
    if name.startswith(FIGURE_PREFIX):
        return Key(name, float, "", "run", "mean", "a figure returned by the workload's check")
    try:
        return KEYS[name]
    except KeyError:
        raise KeyError(f"unknown metadata key {name!r}: declare it in harness.metadata") from None


def stored(name: str) -> str:
    """The name ``name`` is stored under (``ftbench_<name>``), for code that cannot go through put/get.

    A reader that needs the value as written, and a script that runs where harness is not
    importable (the pyperformance GIL probe), spell keys with this; unknown names raise, as in :func:`put`.
    """
    return key(name).stored


def put_extra(meta: dict, name: str, value) -> None:
    """Write a key a workload declares for itself (``Workload.extra_metadata``), as text.

    The registry cannot list them (each workload has its own, e.g. BLAS thread settings); they are
    recorded for a reader of the JSON and never merged or compared, so only the prefix is added.
    """
    meta[PREFIX + name] = str(value)


def put(meta: dict, name: str, value) -> None:
    """Write ``value`` under the stored name of ``name``, checked against its declared type."""
    k = key(name)
    if k.kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise MetadataError(f"{name}: expected a finite number, got {value!r}")
        value = float(value)
    elif k.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise MetadataError(f"{name}: expected an integer, got {value!r}")
    else:
        value = str(value)
    meta[k.stored] = value


def of(**values) -> dict:
    """A metadata dict of ``values``, each written by :func:`put` (for ``Benchmark.update_metadata``)."""
    meta: dict = {}
    for name, value in values.items():
        put(meta, name, value)
    return meta


def get(meta: dict, name: str, default=None):
    """Read ``name`` from a pyperf metadata dict, parsed to its declared type (``default`` if absent)."""
    k = key(name)
    if k.stored not in meta:
        return default
    raw = meta[k.stored]
    try:
        return k.kind(raw)
    except (TypeError, ValueError):
        return default


def figures(meta: dict) -> dict[str, float]:
    """The check() figures of a metadata dict, by name."""
    start = PREFIX + FIGURE_PREFIX
    out = {}
    for stored, raw in meta.items():
        if stored.startswith(start):
            try:
                out[stored[len(start):]] = float(raw)
            except (TypeError, ValueError):
                continue
    return out


def merge(runs: list[dict], names=None) -> dict:
    """Combine the run metadata of one benchmark by each key's rule; only keys present are returned."""
    out = {}
    for name in names or KEYS:
        k = KEYS[name]
        values = [get(m, name) for m in runs if k.stored in m]
        values = [v for v in values if v is not None]
        if not values:
            continue
        if k.merge == "max":
            out[name] = max(values)
        elif k.merge == "sum":
            out[name] = sum(values)
        elif k.merge == "mean":
            out[name] = sum(values) / len(values)
        elif k.merge == "any_yes":  # the most telling answer of any run: yes, then unknown, then short
            out[name] = next((w for w in ANY_YES_ORDER if w in values), values[0])
        elif k.merge == "join":
            out[name] = ",".join(sorted({x for v in values for x in str(v).split(",") if x}))
        else:
            out[name] = values[0] if len(set(values)) == 1 else "; ".join(sorted(set(map(str, values))))
    return out
