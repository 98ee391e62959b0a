"""The attribution table as a reader sees it: on the console after a run, and in REPORT.md.

Per profile: CPU seconds by category for 1 and N workers, the extra, its share (or "too few
samples"), the idle cores beside them, the cause line, the top C and Python functions of the
extra, and how it was sampled (rate, samples, lost samples, overhead). Stdlib only; the
markdown reads the rows of ``profiles/summary.csv`` (:func:`harness.profile.outputs.summary_rows`).
"""

from __future__ import annotations

from collections import defaultdict

from harness.profile import categories
from harness.profile.attribution import MIN_SAMPLES, Extra


def _share(share, enough: bool) -> str:
    if not enough:
        return f"too few samples (< {MIN_SAMPLES})"
    return "-" if share in (None, "") else f"{float(share):.0%}"


def console(extra: Extra, head: str, idle: tuple[float, float], sampling: str) -> str:
    """The table printed after profiling one variant: ``idle`` is the idle cores at 1 and at N workers."""
    lines = [head, f"  {'category':30s} {'CPU 1 (s)':>10s} {'CPU N (s)':>10s} {'extra (s)':>10s}  share"]
    for c in extra.categories:
        lines.append(f"  {c.label:30s} {c.cpu_1_s:10.3f} {c.cpu_n_s:10.3f} {c.extra_s:+10.3f}  "
                     f"{_share(c.share, c.enough)}")
    lines.append(f"  {'total':30s} {extra.cpu_1_s:10.3f} {extra.cpu_n_s:10.3f} {extra.extra_s:+10.3f}")
    lines.append(f"  {'idle cores (not sampled)':30s} {idle[0]:10.2f} {idle[1]:10.2f}")
    lines.append(f"  why: {extra.note()}")
    if extra.top_c:
        lines.append("  top C functions of the extra: " + "; ".join(f"{f} {x:+.3f} s" for f, x in extra.top_c))
    if extra.top_python:
        lines.append("  top Python functions of the extra: "
                     + "; ".join(f"{f} {x:+.3f} s" for f, x in extra.top_python))
    lines.append(f"  sampling: {sampling}")
    return "\n".join(lines)


def _num(x, fmt: str) -> str:
    try:
        return format(float(x), fmt)
    except (TypeError, ValueError):
        return "n/a"


def markdown(rows: list[dict], link_base: str = "") -> str:
    """One markdown table per profile from the summary rows; ``link_base`` prefixes the files' paths."""
    profiles: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        profiles[(row["host"], row["workload"], row["variant"], row["strategy"], str(row["workers"]))].append(row)
    out = []
    for (host, workload, variant, strategy, workers), group in profiles.items():
        first = group[0]
        profile = first["profile"].removesuffix(".json")
        out += [f"**{workload}** on {variant}, {strategy} x{workers} against sequential ({host}): "
                f"{first['cause'] or first['note']}", "",
                f"| category | CPU 1 worker (s) | CPU {workers} workers (s) | extra (s) | share of the extra "
                "| top C function of the extra | top Python function of the extra |",
                "|---|---:|---:|---:|---:|---|---|"]
        for row in sorted(group, key=lambda r: categories.CATEGORIES.index(r["category"])):
            enough = str(row["enough_samples"]) == "True"
            c, py = (f"`{row['top_c_function']}`" if row["top_c_function"] else "",
                     row["top_python_function"]) if enough else ("", "")
            out.append(f"| {row['label']} | {_num(row['cpu_1_s'], '.3f')} | {_num(row['cpu_n_s'], '.3f')} | "
                       f"{_num(row['extra_s'], '+.3f')} | {_share(row['share'], enough)} | {c} | {py} |")
        out += ["", f"Sampled with {first['event']} at {first['frequency_hz']} Hz ({first['call_graph']} call "
                    f"stacks): {first['samples_1']} and {first['samples_n']} samples, {first['lost_samples']} lost; "
                    f"sampling overhead x{_num(first['overhead_1'], '.2f')} and x{_num(first['overhead_n'], '.2f')} "
                    f"(profiled wall time over an unprofiled run's); busy cores {_num(first['busy_cores_1'], '.2f')} "
                    f"and {_num(first['busy_cores_n'], '.2f')}. Flame graphs: "
                    f"[1 worker]({link_base}{_sibling(profile, variant, 'sequential', '1')}.svg), "
                    f"[{workers} workers]({link_base}{profile}.svg), "
                    f"[difference]({link_base}{profile}-diff.svg).", ""]
    return "\n".join(out)


def _sibling(profile: str, variant: str, strategy: str, workers: str) -> str:
    """The path of another run of the same workload: same folder, other file name."""
    folder = profile.rsplit("/", 1)[0]
    return f"{folder}/{variant}-{strategy}-{workers}"
