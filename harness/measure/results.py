"""Raw results of one host x variant on disk, written so that nothing measured is ever lost.

Three files per variant under ``results/raw/<host>/``:

- ``<variant>.json``: a pyperf BenchmarkSuite of every benchmark that completed with its check ok
  (pyperf's own format: ``python -m pyperf compare_to a.json b.json`` works on it); a benchmark
  measured again by a resumed campaign keeps its earlier runs, each run tagged with its invocation;
- ``<variant>.csv``: the tidy table, one row per planned benchmark, failed and timed-out ones too;
- ``<variant>.state.json``: what the file was measured with (settings, the machine's and the
  interpreter's fingerprints, each workload's definition hash) and each benchmark's status, so an
  interrupted run resumes where it stopped and nothing measured otherwise can mix in.

State format history: 1 (no ``format`` key): settings + benchmarks; still loads for reading, but a
resume into it is refused (it records no fingerprint). 2: adds ``format``, ``machine``,
``interpreter`` and ``workloads`` (workload name -> definition hash); later ``calibrations`` (one
noise calibration per invocation, harness.measure.calibration), which a reader may lack.

Whatever ``--fresh`` says, a set holding a ``PUBLISHED`` file is never written, and a set is one
machine's: a state file of any variant in it that records another machine (or none) refuses the
set. A resume then compares the interpreter fingerprint and the settings (any difference:
:class:`ResultsError`, one line, nothing written; ``--fresh`` starts the variant over instead); then
each planned workload's definition hash: a workload whose definition changed has its old
benchmarks dropped and is measured again (never kept beside new ones). One run writes a host x
variant at a time: its lock is ``results/.locks/<host>/<variant>.lock``, beside the results.

Every write goes to a temporary file that is then renamed over the old one: a kill at any moment
leaves either the previous or the new complete file, never half of one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

from harness import metadata
from harness.files import Busy, results_lock, write_atomic
from harness.provision import fingerprint

STATE_FORMAT = 2
CSV_COLUMNS = ("host", "variant", "name", "workload", "kind", "strategy", "workers", "status",
               "error", "n_values", "mean", "median", "stdev", "min", "max", "gil_enabled",
               "peak_rss", "check", "processes", "precision", "stop_reason", "flagged_runs")


class ResultsError(Exception):
    """A raw results file cannot be used (corrupt, or measured with other settings)."""


def run_metadata(bench) -> dict:
    """Metadata combined over a benchmark's runs: the worst case wins (max RSS, GIL on if any)."""
    runs = [r.get_metadata() for r in bench.get_runs() if r.values]
    merged = dict(bench.get_metadata())
    if runs:
        gil = any(metadata.get(m, "gil_enabled") == "yes" for m in runs)
        metadata.put(merged, "gil_enabled", "yes" if gil else "no")
        metadata.put(merged, "peak_rss", max(metadata.get(m, "peak_rss", 0) for m in runs))
        reenabled = sorted({x for m in runs for x in metadata.get(m, "gil_reenabled_by", "").split(",") if x})
        if reenabled:
            metadata.put(merged, "gil_reenabled_by", ",".join(reenabled))
    return merged


def row_for(bench, host: str, variant: str) -> dict:
    """The CSV row of a measured benchmark: its identity, its summary statistics, how its sample was gathered."""
    meta = run_metadata(bench)
    values = bench.get_values()
    return {
        "host": host, "variant": variant, "name": bench.get_name(),
        "workload": metadata.get(meta, "workload"), "kind": metadata.get(meta, "kind"),
        "strategy": metadata.get(meta, "strategy"), "workers": metadata.get(meta, "workers"),
        "status": "ok", "error": "", "n_values": len(values),
        "mean": bench.mean(), "median": bench.median(),
        "stdev": bench.stdev() if len(values) > 1 else 0.0,
        "min": min(values), "max": max(values),
        "gil_enabled": metadata.get(meta, "gil_enabled"), "peak_rss": metadata.get(meta, "peak_rss"),
        "check": metadata.get(meta, "check", "ok"),
        "processes": sum(1 for r in bench.get_runs() if r.values),
        "precision": metadata.get(meta, "precision", ""), "stop_reason": metadata.get(meta, "stop_reason", ""),
        "flagged_runs": sum(1 for r in bench.get_runs()
                            if r.values and metadata.get(r.get_metadata(), "foreign_flagged") == "yes"),
    }


def _valid_state(state) -> bool:
    return (isinstance(state, dict) and isinstance(state.get("settings"), dict)
            and isinstance(state.get("benchmarks"), dict)
            and all(isinstance(e, dict) and "status" in e for e in state["benchmarks"].values()))


class VariantStore:
    """The raw results of one host x variant, loaded for resuming and saved after each benchmark."""

    def __init__(self, root: Path, host: str, variant: str):
        self.dir = Path(root) / "raw" / host
        self.host, self.variant = host, variant
        self.json_path = self.dir / f"{variant}.json"
        self.csv_path = self.dir / f"{variant}.csv"
        self.state_path = self.dir / f"{variant}.state.json"
        self.suite = None
        self.state = {"settings": None, "benchmarks": {}}
        self._lock_file = None

    def paths(self) -> list[Path]:
        """The three files of this host x variant (written and backed up together)."""
        return [self.json_path, self.csv_path, self.state_path]

    def load(self, settings: dict, fresh: bool, machine: dict | None = None, interpreter: dict | None = None,
             workloads: dict[str, str] | None = None) -> list[str]:
        """Load what is already measured, refusing anything measured otherwise; return what was dropped.

        ``machine``/``interpreter``: fingerprints (harness.provision.fingerprint; None: not compared).
        ``workloads``: name -> definition hash of the planned workloads.
        """
        self.check(settings, fresh, machine, interpreter)
        return self.apply(settings, fresh, machine, interpreter, workloads or {})

    def check(self, settings: dict, fresh: bool, machine: dict | None = None,
              interpreter: dict | None = None) -> None:
        """Raise :class:`ResultsError` if these files cannot be resumed; writes nothing."""
        import pyperf

        self._lock()
        self._check_set(machine)
        if fresh or not any(p.exists() for p in self.paths()):
            return
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError) as e:
            raise ResultsError(f"{self.state_path}: unreadable ({e}); use --fresh to start over "
                               "(the old files are kept as .bak)") from None
        if not _valid_state(state):
            raise ResultsError(f"{self.state_path}: not an ftbench state file (no settings/benchmarks); "
                               "use --fresh to start over (the old files are kept as .bak)")
        if interpreter is not None and (state.get("interpreter") or {}).get("id") != interpreter["id"]:
            why = fingerprint.describe_difference(state.get("interpreter"), interpreter)
            raise ResultsError(f"{self.json_path} was measured on another interpreter ({why}); "
                               "use --host NAME (or no --host) to measure into another results set, "
                               "or --fresh to start over (the old files are kept as .bak)")
        old = state["settings"]
        if old != settings:
            keys = [k for k in sorted(old.keys() | settings.keys()) if old.get(k) != settings.get(k)]
            if "profile" in keys and "precision" in keys:
                keys.remove("precision")  # a profile's precision follows from it: name the cause only
            diff = ", ".join(f"{k}: {old.get(k)!r} then, {settings.get(k)!r} now" for k in keys)
            raise ResultsError(f"{self.json_path} was measured with other settings ({diff}); "
                               "use --fresh to start over (the old files are kept as .bak) "
                               "or --results DIR to write elsewhere")
        if self.json_path.exists():
            try:
                self.suite = pyperf.BenchmarkSuite.load(str(self.json_path))
            except Exception as e:  # noqa: BLE001 - pyperf raises many kinds on bad JSON
                raise ResultsError(f"{self.json_path}: not valid pyperf JSON ({e}); use --fresh to start over "
                                   "(the old files are kept as .bak)") from None
        self.state = state

    def apply(self, settings: dict, fresh: bool, machine: dict | None, interpreter: dict | None,
              workloads: dict[str, str]) -> list[str]:
        """After :meth:`check`: back up on --fresh, drop workloads whose definition changed."""
        import pyperf

        for p in self.paths():  # a run killed between writing and renaming leaves its temporary file
            for stale in self.dir.glob(f".{p.name}.tmp*"):
                stale.unlink(missing_ok=True)
        existing = [p for p in self.paths() if p.exists()]
        if fresh and existing:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            while any(p.with_name(f"{p.stem}.bak-{stamp}{p.suffix}").exists() for p in existing):
                stamp += "x"  # two --fresh within one second must not overwrite the older backup
            for p in existing:  # --fresh starts over, but keeps the old files beside the new ones
                os.replace(p, p.with_name(f"{p.stem}.bak-{stamp}{p.suffix}"))
            existing = []
        if not existing:
            self.suite = None
            self.state = {"settings": settings, "benchmarks": {}}
        self.state.update(format=STATE_FORMAT, settings=settings)
        if machine is not None:
            self.state["machine"] = machine
        if interpreter is not None:
            self.state["interpreter"] = interpreter
        known = self.state.setdefault("workloads", {})
        dropped = []
        for name, digest in workloads.items():
            stale = [b for b, e in self.state["benchmarks"].items() if e.get("workload") == name]
            if stale and known.get(name) != digest:
                for b in stale:
                    del self.state["benchmarks"][b]
                kept = [b for b in self.suite or () if b.get_name() not in stale]
                self.suite = pyperf.BenchmarkSuite(kept) if kept else None
                dropped.append(f"{self.variant}: workload {name} changed since it was measured (definition "
                               f"{known.get(name, 'unrecorded')} then, {digest} now): its {len(stale)} "
                               "benchmark(s) are dropped and measured again")
            known[name] = digest
        if dropped:
            self.save()
        return dropped

    def _check_set(self, machine: dict | None) -> None:
        """Refuse a results set this machine must not write into, whatever ``--fresh`` says.

        Published, or another machine's (:func:`harness.provision.fingerprint.set_refusal`):
        ``--fresh`` starts a variant over but never changes whose set it is.
        """
        if why := fingerprint.set_refusal(self.dir, machine):
            raise ResultsError(f"{why}; use --host NAME (or no --host) to measure into another results set")

    def _lock(self) -> None:
        """One run per host x variant at a time: two would each overwrite the other's benchmarks."""
        if self._lock_file is not None:
            return
        try:  # held open until the process ends
            self._lock_file = results_lock(self.dir.parent.parent, f"{self.host}/{self.variant}")
        except Busy as e:
            raise ResultsError(f"{self.json_path} is being written by another ftbench run (pid {e.holder}); "
                               "wait for it to end or use --results DIR") from None

    def benchmark(self, name: str):
        """The stored pyperf Benchmark called ``name``, or None."""
        return next((b for b in self.suite or () if b.get_name() == name), None)

    def done(self, name: str) -> bool:
        """Is ``name`` measured and stored (a failed or missing benchmark is measured again on resume)?"""
        entry = self.state["benchmarks"].get(name)
        return bool(entry) and entry["status"] == "ok" and self.suite is not None and \
            name in self.suite.get_benchmark_names()

    def record(self, name: str, identity: dict, status: str, error: str = "", bench=None,
               seconds: float = 0.0, process_seconds: float = 0.0) -> None:
        """Record one finished benchmark and write all three files at once.

        A benchmark measured again (a resumed workload) keeps its earlier runs: ``bench``'s runs are
        added to them, each run tagged with the invocation it ran in, so nothing measured is lost
        and the analysis pairs rounds only within one invocation. ``process_seconds``: the mean wall
        time of one of its processes in this invocation (it sizes the confirmation's rounds).
        """
        import pyperf

        if bench is not None:
            old = self.benchmark(name)
            if old is not None:
                bench = pyperf.Benchmark(old.get_runs() + bench.get_runs())
            kept = [b for b in self.suite or () if b.get_name() != name]
            self.suite = pyperf.BenchmarkSuite(kept + [bench])
        self.state["benchmarks"][name] = {**identity, "status": status, "error": error,
                                          "seconds": round(seconds, 2),
                                          "process_seconds": round(process_seconds, 3),
                                          "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.save()

    def process_seconds(self, name: str) -> float:
        """The recorded mean wall seconds of one process of ``name`` (0 when not recorded)."""
        return float(self.state["benchmarks"].get(name, {}).get("process_seconds", 0.0) or 0.0)

    def save(self) -> None:
        """Write all three files, each atomically; a failed write (a full disk) is one :class:`ResultsError`.

        Each file is replaced whole or not at all, so after a failure the files hold every benchmark
        recorded before (the one being recorded may be missing from the state: it is measured again).
        """
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if self.suite is not None:
                buf = io.StringIO()
                self.suite.dump(buf)
                write_atomic(self.json_path, buf.getvalue())
            write_atomic(self.csv_path, self.csv_text())
            write_atomic(self.state_path, json.dumps(self.state, indent=1, sort_keys=True, allow_nan=False) + "\n")
        except OSError as e:
            raise ResultsError(f"cannot write in {self.dir} ({e.strerror or e}); its files "
                               "are intact and hold every benchmark recorded before this one: free the space "
                               "(or fix the directory) and run the same command again to resume") from None

    def csv_text(self) -> str:
        """The CSV: one row per planned benchmark, failed and timed-out ones too (their statistics empty)."""
        rows = {}
        for name, entry in self.state["benchmarks"].items():
            rows[name] = {c: "" for c in CSV_COLUMNS} | {
                "host": self.host, "variant": self.variant, "name": name,
                **{k: entry.get(k, "") for k in ("workload", "kind", "strategy", "workers", "status", "error")},
            }
        for bench in self.suite or ():
            name = bench.get_name()
            if self.state["benchmarks"].get(name, {}).get("status") == "ok":
                rows[name] = row_for(bench, self.host, self.variant)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[n] for n in sorted(rows))
        return buf.getvalue()
