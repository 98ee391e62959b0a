"""The command line: ``python -m harness.analysis`` regenerates everything, ``... reproduce A B``
compares two result sets of one machine, ``... findings`` prints the verdict sentences of one set.

Raw results the analysis cannot use print as one line ``ftbench: error: ...`` and exit 1; usage
errors exit 2, before anything is read or written: a ``--margin`` outside [0, 1) (argparse, every
command), an ``--out`` that is not a directory, a ``--readme`` that is not a file with the
headline markers (one line; its findings block is refreshed where it has those markers too); for
``findings``, every usage error in one line: a ``--raw`` that holds no results set (or several),
a ``--workload`` the set does not hold, a bad ``--since``.

``findings`` writes nothing: a bench session ends with it (noxfile.py), and the published CSVs
must not change because a campaign ran.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from harness.analysis import findings, machines
from harness.analysis.load import AnalysisError, NoResults
from harness.analysis.pipeline import analyse_set, regenerate, verdict_tables
from harness.analysis.report import README_END, README_START, update_readme
from harness.analysis.reproduce import best_option_lines, reproduce
from harness.analysis.stats import MARGIN
from harness.analysis.values import fmt_pct

DESCRIPTION = "From raw pyperf results to the answer: does the free-threaded build pay off, and for which work?"


def margin(text: str) -> float:
    """argparse type of ``--margin``: a practical equivalence margin in [0, 1), e.g. 0.05 for +-5%."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value < 1):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction in [0, 1), e.g. 0.05 for +-5%")
    return value


def path_problem(out: str, readme: str | None) -> str:
    """What is wrong with ``--out`` (not a directory) or ``--readme`` (no file with the headline markers), or ''."""
    here = Path(out)
    while not here.exists() and here != here.parent:
        here = here.parent
    if here.exists() and not here.is_dir():
        return f"--out {out}: {here} is not a directory"
    if readme is None:
        return ""
    try:
        text = Path(readme).read_text()
    except (OSError, UnicodeDecodeError) as e:
        return f"--readme {readme}: cannot read it ({getattr(e, 'strerror', None) or e})"
    if README_START not in text or README_END not in text:
        return f"--readme {readme}: no headline markers ({README_START} ... {README_END})"
    return ""


def reproduce_main(argv: list[str]) -> int:
    """``reproduce RAW_A RAW_B``: print how far the verdicts of two result sets of one machine agree."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.analysis reproduce",
        description="Compare the verdicts of two result sets: a rerun of one machine, or (said first) two machines.")
    parser.add_argument("raw_a", help="the first run: a host's results set (results/raw/<host>) or a raw "
                                      "directory holding one host")
    parser.add_argument("raw_b", help="the rerun, likewise")
    parser.add_argument("--margin", type=margin, default=MARGIN, help="equivalence margin in [0, 1) (default 0.05)")
    args = parser.parse_args(argv)
    try:
        a, b = analyse_set(args.raw_a, args.margin), analyse_set(args.raw_b, args.margin)
    except AnalysisError as exc:
        print(f"ftbench: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    for line in machines.compare_sets(args.raw_a, args.raw_b).lines():  # one machine or two, said first
        print(line)
    got = reproduce(a, b)
    print(f"headline verdicts agree (slowdown and best gain, three-valued against the +-{100 * args.margin:g}% "
          f"margin): {fmt_pct(got['headline_agree'])} of {got['headline_n']}")
    print("  by metric: " + "; ".join(f"{m} {k} of {n}" for m, (k, n) in got["by_metric"].items()))
    print(f"direction and significance (CI excludes 1) of the same ratios agree: "
          f"{fmt_pct(got['significance_agree'])} of {got['headline_n']}")
    print(f"headline verdicts that contradict (both decided, different): {got['contradictions']} of "
          f"{got['headline_n']}")
    for line in best_option_lines(got):
        print(line)
    print(f"all ratio verdicts agree: {fmt_pct(got['ratio_verdicts_agree'])} of {got['ratios_n']}")
    print(f"estimates of A inside B's 95% CIs: {fmt_pct(got['a_inside_b'])}; of B inside A's: "
          f"{fmt_pct(got['b_inside_a'])} (of {got['ci_n']} ratios with CIs on both sides)")
    print("  by metric (A in B, B in A, ratios): " + "; ".join(
        f"{mt} {fmt_pct(x)}, {fmt_pct(y)} ({n})" for mt, (x, y, n) in got["inside_by_metric"].items()))
    diff = got["table"][~got["table"]["agree"]]
    if len(diff):
        print("disagreements:")
        for r in diff.to_dict("records"):
            print(f"  {r['workload']} {r['variant']} {r['metric']}: {r['verdict_a']} vs {r['verdict_b']}")
    return 0


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line ``ftbench: error: ...`` and exit status 2."""

    def error(self, message):
        """Print the one line and exit 2, without the usage block."""
        print(f"ftbench: error: {self.prog.split()[-1]}: {message}", file=sys.stderr)
        sys.exit(2)


def since(text: str) -> float:
    """argparse type of ``--since``: seconds since the epoch (``time.time()`` when the run started)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds since the epoch, e.g. 1767225600")
    return value


def _host_dirs(raw: Path) -> list[Path]:
    """``raw`` itself when it is one host's results set, else the results sets under it."""
    def is_set(d: Path) -> bool:
        return any(p.suffix in (".json", ".csv") and not p.name.endswith(".state.json") for p in d.iterdir())

    if is_set(raw):
        return [raw]
    return sorted(d for d in raw.iterdir() if d.is_dir() and not d.name.startswith(".") and is_set(d))


def measured_since(host_dir: Path, start: float) -> list[str] | None:
    """The workloads of ``host_dir`` with a benchmark finished at or after ``start`` (its state files say
    when each finished, to the second, in local time); None when no state file records it."""
    import json
    import time

    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(int(start)))
    names, recorded = [], False
    for state in sorted(host_dir.glob("*.state.json")):
        try:
            benchmarks = json.loads(state.read_text()).get("benchmarks") or {}
        except (OSError, ValueError, AttributeError):
            continue
        for rec in benchmarks.values():
            if isinstance(rec, dict) and rec.get("finished") and rec.get("workload"):
                recorded = True
                if str(rec["finished"]) >= stamp:
                    names.append(str(rec["workload"]))
    return list(dict.fromkeys(names)) if recorded else None


def _written_since(host_dir: Path, start: float) -> bool:
    return any(p.stat().st_mtime >= int(start) for p in host_dir.iterdir() if p.suffix in (".json", ".csv"))


def findings_main(argv: list[str]) -> int:
    """``findings [--raw DIR] [--workload NAME ...] [--since T]``: the verdict sentences, nothing written."""
    parser = OneLineParser(
        prog="python -m harness.analysis findings",
        description="Print the verdict sentences of one results set (what a bench session ends with); writes nothing.")
    parser.add_argument("--raw", default="results/raw",
                        help="a host's results set (results/raw/<host>), or a raw directory holding one")
    parser.add_argument("--workload", action="append", default=[], metavar="NAME",
                        help="only this workload (repeatable; default: every workload of the set)")
    parser.add_argument("--since", type=since, metavar="SECONDS",
                        help="only the sets written and the workloads measured since this time (seconds since "
                             "the epoch): a bench session passes the time it started")
    parser.add_argument("--margin", type=margin, default=MARGIN, help="equivalence margin in [0, 1) (default 0.05)")
    parser.add_argument("--keep-flagged", action="store_true", help="keep runs flagged for foreign load")
    args = parser.parse_args(argv)
    raw = Path(args.raw)
    if not raw.is_dir():
        return _usage(f"--raw {args.raw}: no such directory")
    sets = _host_dirs(raw)
    if args.since is not None:
        sets = [d for d in sets if _written_since(d, args.since)]
        if not sets:
            print(f"No results set under {raw} was written since the run started: nothing to say.")
            return 0
    elif not sets:
        return _usage(f"--raw {args.raw}: no results set (<host>/<variant>.json) there")
    elif len(sets) > 1:
        return _usage(f"--raw {args.raw}: holds {len(sets)} results sets ({', '.join(d.name for d in sets)}); "
                      f"give one, e.g. --raw {sets[0]}")
    out = []
    for d in sets:
        try:
            res = verdict_tables(d.parent, args.margin, args.keep_flagged, host=d.name)
        except NoResults as exc:
            return _usage(" ".join(str(exc).split()))
        except AnalysisError as exc:
            print(f"ftbench: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        held = res.workloads
        unknown = [w for w in args.workload if w not in held]
        if unknown:
            return _usage(f"--workload {unknown[0]}: not in {d} (it holds {', '.join(held)})")
        wanted = args.workload or (measured_since(d, args.since) if args.since is not None else None)
        wanted = [w for w in wanted if w in held] if wanted else None
        out += [f"Findings of {d} (`nox -s analysis` writes the tables and REPORT.md):", "",
                *findings.text_lines(res, wanted)]
    print("\n".join(out).rstrip())
    return 0


def _usage(message: str) -> int:
    print(f"ftbench: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Regenerate the CSVs, figures and REPORT.md (and a README headline); 1 on unusable raw results."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["reproduce"]:
        return reproduce_main(argv[1:])
    if argv[:1] == ["findings"]:
        return findings_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m harness.analysis", description=DESCRIPTION)
    parser.add_argument("--raw", default="results/raw", help="raw results directory")
    parser.add_argument("--out", default="results", help="where CSVs, figures and REPORT.md go")
    parser.add_argument("--readme", help="also refresh the findings and headline blocks of this README.md")
    parser.add_argument("--margin", type=margin, default=MARGIN,
                        help="practical equivalence margin of the verdicts, in [0, 1) (default 0.05: +-5%%)")
    parser.add_argument("--keep-flagged", action="store_true",
                        help="keep runs flagged for foreign load (left out by default)")
    args = parser.parse_args(argv)
    if problem := path_problem(args.out, args.readme):  # before anything is read or written
        print(f"ftbench: error: {problem}", file=sys.stderr)
        return 2
    try:
        res = regenerate(args.raw, args.out, margin=args.margin, keep_flagged=args.keep_flagged)
    except AnalysisError as exc:
        print(f"ftbench: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except OSError as exc:  # --out not writable, a full disk
        print(f"ftbench: error: cannot write in {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    print(f"wrote {out / 'benchmarks.csv'}, {out / 'ratios.csv'}, {out / 'summary.csv'}, "
          f"{out / 'scaling.csv'}, {out / 'claims.csv'}, {len(res.figures)} figures in "
          f"{out / 'figures'}, {res.report}")
    if args.readme:
        if not update_readme(args.readme, res):
            print(f"ftbench: error: {args.readme} has no headline markers", file=sys.stderr)
            return 1
        print(f"refreshed the headline (and findings) of {args.readme}")
    return 0
