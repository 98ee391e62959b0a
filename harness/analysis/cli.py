"""The command line: ``python -m harness.analysis`` regenerates everything, ``... reproduce A B``
compares two result sets of one machine.

Raw results the analysis cannot use print as one line ``ftbench: error: ...`` and exit 1; usage
errors exit 2, before anything is read or written: a ``--margin`` outside [0, 1) (argparse, both
commands), an ``--out`` that is not a directory, a ``--readme`` that is not a file with the
headline markers (one line).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from harness.analysis import machines
from harness.analysis.load import AnalysisError
from harness.analysis.pipeline import analyse_set, regenerate
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


def main(argv: list[str] | None = None) -> int:
    """Regenerate the CSVs, figures and REPORT.md (and a README headline); 1 on unusable raw results."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["reproduce"]:
        return reproduce_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m harness.analysis", description=DESCRIPTION)
    parser.add_argument("--raw", default="results/raw", help="raw results directory")
    parser.add_argument("--out", default="results", help="where CSVs, figures and REPORT.md go")
    parser.add_argument("--readme", help="also refresh the headline block of this README.md")
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
        print(f"refreshed the headline of {args.readme}")
    return 0
