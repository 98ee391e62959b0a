"""Raw results of one host x variant on disk, written so that nothing measured is ever lost.

Three files per variant under ``results/raw/<host>/``:

- ``<variant>.json``: a pyperf BenchmarkSuite of every benchmark that completed with its check ok
  (pyperf's own format: ``python -m pyperf compare_to a.json b.json`` works on it);
- ``<variant>.csv``: the tidy table, one row per planned benchmark, failed and timed-out ones too;
- ``<variant>.state.json``: the settings the file was measured with and each benchmark's status,
  so an interrupted run resumes where it stopped and a run with other settings cannot mix in.

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

from harness.files import Busy, try_lock, write_atomic

CSV_COLUMNS = ("host", "variant", "name", "workload", "kind", "strategy", "workers", "status",
               "error", "n_values", "mean", "median", "stdev", "min", "max", "gil_enabled",
               "peak_rss", "check")


class ResultsError(Exception):
    """A raw results file cannot be used (corrupt, or measured with other settings)."""


def run_metadata(bench) -> dict:
    """Metadata combined over a benchmark's runs: the worst case wins (max RSS, GIL on if any)."""
    runs = [r.get_metadata() for r in bench.get_runs() if r.values]
    merged = dict(bench.get_metadata())
    if runs:
        merged["ftbench_gil_enabled"] = "yes" if any(
            m.get("ftbench_gil_enabled") == "yes" for m in runs) else "no"
        merged["ftbench_peak_rss"] = max(int(m.get("ftbench_peak_rss", 0)) for m in runs)
        reenabled = sorted({x for m in runs for x in m.get("ftbench_gil_reenabled_by", "").split(",") if x})
        if reenabled:
            merged["ftbench_gil_reenabled_by"] = ",".join(reenabled)
    return merged


def row_for(bench, host: str, variant: str) -> dict:
    meta = run_metadata(bench)
    values = bench.get_values()
    return {
        "host": host, "variant": variant, "name": bench.get_name(),
        "workload": meta.get("ftbench_workload"), "kind": meta.get("ftbench_kind"),
        "strategy": meta.get("ftbench_strategy"), "workers": meta.get("ftbench_workers"),
        "status": "ok", "error": "", "n_values": len(values),
        "mean": bench.mean(), "median": bench.median(),
        "stdev": bench.stdev() if len(values) > 1 else 0.0,
        "min": min(values), "max": max(values),
        "gil_enabled": meta.get("ftbench_gil_enabled"), "peak_rss": meta.get("ftbench_peak_rss"),
        "check": meta.get("ftbench_check", "ok"),
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
        return [self.json_path, self.csv_path, self.state_path]

    def load(self, settings: dict, fresh: bool) -> None:
        """Load what is already measured; refuse to mix in results measured with other settings."""
        import pyperf

        self._lock()
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
            self.state = {"settings": settings, "benchmarks": {}}
            return
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError) as e:
            raise ResultsError(f"{self.state_path}: unreadable ({e}); use --fresh to start over "
                               "(the old files are kept as .bak)") from None
        if not _valid_state(state):
            raise ResultsError(f"{self.state_path}: not an ftbench state file (no settings/benchmarks); "
                               "use --fresh to start over (the old files are kept as .bak)")
        self.state = state
        old = self.state["settings"]
        if old != settings:
            diff = ", ".join(f"{k}: {old.get(k)!r} then, {settings.get(k)!r} now"
                             for k in sorted(old.keys() | settings.keys()) if old.get(k) != settings.get(k))
            raise ResultsError(f"{self.json_path} was measured with other settings ({diff}); "
                               "use --fresh to start over (the old files are kept as .bak) "
                               "or --results DIR to write elsewhere")
        if self.json_path.exists():
            try:
                self.suite = pyperf.BenchmarkSuite.load(str(self.json_path))
            except Exception as e:  # noqa: BLE001 - pyperf raises many kinds on bad JSON
                raise ResultsError(f"{self.json_path}: not valid pyperf JSON ({e}); use --fresh to start over "
                                   "(the old files are kept as .bak)") from None

    def _lock(self) -> None:
        """One run per host x variant at a time: two would each overwrite the other's benchmarks."""
        import hashlib
        import tempfile

        if self._lock_file is not None:
            return
        locks = Path(tempfile.gettempdir()) / f"ftbench-locks-{os.getuid()}"
        key = hashlib.sha256(str(self.json_path.resolve()).encode()).hexdigest()[:16]
        try:
            self._lock_file = try_lock(locks / f"{key}.lock")  # held open until the process ends
        except Busy as e:
            raise ResultsError(f"{self.json_path} is being written by another ftbench run (pid {e.holder}); "
                               "wait for it to end or use --results DIR") from None

    def done(self, name: str) -> bool:
        entry = self.state["benchmarks"].get(name)
        return bool(entry) and entry["status"] == "ok" and self.suite is not None and \
            name in self.suite.get_benchmark_names()

    def record(self, name: str, identity: dict, status: str, error: str = "", bench=None,
               seconds: float = 0.0) -> None:
        """Record one finished benchmark and write all three files at once."""
        import pyperf

        if bench is not None:
            kept = [b for b in self.suite or () if b.get_name() != name]
            self.suite = pyperf.BenchmarkSuite(kept + [bench])
        self.state["benchmarks"][name] = {**identity, "status": status, "error": error,
                                          "seconds": round(seconds, 2),
                                          "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.save()

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.suite is not None:
            buf = io.StringIO()
            self.suite.dump(buf)
            write_atomic(self.json_path, buf.getvalue())
        write_atomic(self.csv_path, self.csv_text())
        write_atomic(self.state_path, json.dumps(self.state, indent=1, sort_keys=True) + "\n")

    def csv_text(self) -> str:
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
