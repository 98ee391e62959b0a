"""Where profiles are written, what their files hold, and the summary the analysis reads.

Beside the results set, never in its timing files::

    <results>/raw/<host>/profiles/<workload>/<variant>-<strategy>-<workers>.folded   folded stacks (ns of CPU)
    <results>/raw/<host>/profiles/<workload>/<variant>-<strategy>-<workers>.svg      flame graph
    <results>/raw/<host>/profiles/<workload>/<variant>-<strategy>-<workers>.json     attribution of the run
    <results>/raw/<host>/profiles/<workload>/<variant>-<strategy>-<workers>-diff.svg N workers against 1
    <results>/raw/<host>/profiles/summary.csv                                        one row per profile x category

A run's JSON holds CPU seconds by category, its top functions, how it was sampled (event,
frequency, unwinding, samples, lost samples), the sampling overhead as a ratio (profiled wall time
over an unprofiled run's) and busy cores (CPU over wall time): ratios, never a run's seconds,
so nothing here can be taken for a benchmark's timing. An N-worker run's JSON also holds its
extra CPU over the sequential run (:class:`harness.profile.attribution.Extra`). ``summary.csv`` is
rebuilt from every JSON under ``profiles/`` after each run, so runs of several workloads add up.
Stdlib only: the analysis reads the summary through :func:`read_summary` and :func:`causes`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from harness.files import write_atomic, write_json_atomic

FORMAT = 1
PROFILES = "profiles"
SUMMARY = "summary.csv"
SUMMARY_COLUMNS = (
    "host", "workload", "variant", "strategy", "workers", "size", "cpu_count", "event", "frequency_hz",
    "call_graph", "samples_1", "samples_n", "lost_samples", "overhead_1", "overhead_n", "busy_cores_1",
    "busy_cores_n", "extra_cpu_share", "resolved", "cause", "note",
    "category", "label", "cpu_1_s", "cpu_n_s", "extra_s", "share", "category_samples_1", "category_samples_n",
    "enough_samples", "top_c_function", "top_python_function", "profile",
)
KEY = ("host", "workload", "variant", "strategy", "workers")


def profiles_dir(results: str | Path, host: str) -> Path:
    """``<results>/raw/<host>/profiles``."""
    return Path(results) / "raw" / host / PROFILES


def stem(variant: str, strategy: str, workers: int) -> str:
    """The file name of a run without its suffix."""
    return f"{variant}-{strategy}-{workers}"


def write_run(directory: Path, name: str, document: dict) -> Path:
    """Write one run's JSON atomically; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    write_json_atomic(path, {"format": FORMAT, **document})
    return path


def _documents(root: Path) -> list[tuple[Path, dict]]:
    out = []
    for path in sorted(root.glob("*/*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("format") == FORMAT and "extra" in doc:
            out.append((path, doc))
    return out


def summary_rows(root: Path) -> list[dict]:
    """One row per N-worker profile under ``root`` (a host's profiles folder) and category, in file order."""
    rows = []
    for path, doc in _documents(root):
        x, s = doc["extra"], doc["sampling"]
        base = {
            "host": doc["host"], "workload": doc["workload"], "variant": doc["variant"], "strategy": doc["strategy"],
            "workers": doc["workers"], "size": doc["size"], "cpu_count": doc["cpu_count"], "event": s["event"],
            "frequency_hz": s["frequency_hz"], "call_graph": s["call_graph"], "samples_1": x["samples_1"],
            "samples_n": x["samples_n"], "lost_samples": s["lost"] + doc.get("sequential_lost", 0),
            "overhead_1": doc.get("sequential_overhead"), "overhead_n": s["overhead"],
            "busy_cores_1": doc.get("sequential_busy_cores"), "busy_cores_n": doc["busy_cores"],
            "extra_cpu_share": x["extra_s"] / x["cpu_1_s"] if x["cpu_1_s"] else None,
            "resolved": x["resolved"], "cause": x["cause"] or "", "note": x["note"],
            "profile": str(path.relative_to(root.parent.parent.parent)),
        }
        for c in x["categories"]:
            rows.append({**base, "category": c["category"], "label": c["label"], "cpu_1_s": c["cpu_1_s"],
                         "cpu_n_s": c["cpu_n_s"], "extra_s": c["extra_s"], "share": c["share"],
                         "category_samples_1": c["samples_1"], "category_samples_n": c["samples_n"],
                         "enough_samples": c["enough"],
                         "top_c_function": c["top_c"][0][0] if c["top_c"] else "",
                         "top_python_function": c["top_python"][0][0] if c["top_python"] else ""})
    return rows


def write_summary(root: Path) -> Path:
    """Rebuild ``summary.csv`` of a host's profiles folder from its JSON files."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in summary_rows(root):
        w.writerow({k: "" if v is None else v for k, v in row.items()})
    path = root / SUMMARY
    write_atomic(path, buf.getvalue())
    return path


def read_summary(raw_root: str | Path) -> list[dict]:
    """Every host's ``profiles/summary.csv`` under ``raw_root`` (``results/raw``), rows as dicts of text.

    Each row also says ``results_dir``, the directory its ``profile`` path is relative to.
    """
    rows = []
    for path in sorted(Path(raw_root).glob(f"*/{PROFILES}/{SUMMARY}")):
        with open(path, newline="") as f:
            rows.extend({**row, "results_dir": str(path.parents[3])} for row in csv.DictReader(f))
    return rows


def causes_of(rows: list[dict]) -> dict[tuple, str]:
    """(host, workload, variant, strategy, workers) -> the profile's cause, for profiles that name one."""
    return {(r["host"], r["workload"], r["variant"], r["strategy"], int(r["workers"])): r["cause"]
            for r in rows if r.get("cause")}


def causes(raw_root: str | Path) -> dict[tuple, str]:
    """:func:`causes_of` every summary under ``raw_root``."""
    return causes_of(read_summary(raw_root))
