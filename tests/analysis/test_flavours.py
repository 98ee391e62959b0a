"""Plain vs optimized builds of one machine, and a rerun beside a results set (known truth)."""

import json
import math

import pytest

pytest.importorskip("pandas")

from synth import SLOWDOWN, model_specs, write_variant  # noqa: E402

from harness import analysis  # noqa: E402
from harness.analysis import flavours  # noqa: E402

PLAIN = "--prefix=/cache/cpython/3.13.5 --with-ensurepip=install"


def _set(raw, host, slowdown_ft, machine, optimized, seed):
    old = dict(SLOWDOWN)
    try:
        SLOWDOWN["3.13t"] = slowdown_ft
        for i, v in enumerate(("3.13", "3.13t")):
            specs = model_specs(v, seed=seed + i, runs=4, values=2)
            if not optimized:
                for s in specs:
                    s.meta = {"ftbench_configure_args": PLAIN + (" --disable-gil" if v == "3.13t" else "")}
            write_variant(raw, host, v, specs)
            (raw / host / f"{v}.state.json").write_text(json.dumps({"machine": {"id": machine}, "benchmarks": {}}))
    finally:
        SLOWDOWN.update(old)


def test_the_flavour_of_a_build_comes_from_its_configure_arguments():
    assert flavours.flavour_from_configure_args(PLAIN) == "plain"
    assert flavours.flavour_from_configure_args(PLAIN + " --enable-optimizations --with-lto") == "optimized"
    assert flavours.flavour_from_configure_args(None) == "plain"


def test_plain_and_optimized_sets_of_one_machine_are_compared_and_never_across_machines(tmp_path):
    raw = tmp_path / "raw"
    _set(raw, "m-plain", 1.3, "aaaa", optimized=False, seed=1)
    _set(raw, "m-opt", 1.1, "aaaa", optimized=True, seed=3)
    _set(raw, "other-opt", 1.0, "bbbb", optimized=True, seed=5)  # another machine: never paired
    res = analysis.analyse(raw)
    df = res.flavours
    assert set(df["plain_host"]) == {"m-plain"} and set(df["optimized_host"]) == {"m-opt"}
    row = df[(df["workload"] == "cpu_sum_squares") & (df["variant"] == "3.13t")].iloc[0]
    truth = 1.1 / 1.3
    assert math.isclose(row["slowdown_plain"], 1.3, rel_tol=0.03)
    assert math.isclose(row["slowdown_optimized"], 1.1, rel_tol=0.03)
    assert row["optimized_vs_plain_ci_low"] <= truth <= row["optimized_vs_plain_ci_high"]
    assert row["verdict"] == "less"  # PGO + LTO made the price smaller, beyond the margin
    lines = "\n".join(flavours.section_markdown(df))
    assert "plain vs optimized" in lines and "m-plain vs m-opt" in lines


def test_a_rerun_beside_the_published_set_is_compared_in_the_report(tmp_path, capsys):
    results = tmp_path / "results"
    _set(results / "raw", "h1", 1.3, "aaaa", optimized=True, seed=1)
    _set(results / "reruns" / "raw", "h1-rerun", 1.3, "aaaa", optimized=True, seed=11)
    res = analysis.regenerate(results / "raw", results, figures=False)
    assert [(h, r) for h, r, _ in res.reruns] == [("h1", "h1-rerun")]
    got = res.reruns[0][2]
    assert got["headline_n"] > 0 and got["headline_agree"] >= 0.75 and got["a_inside_b"] >= 0.75
    report = (results / "REPORT.md").read_text()
    assert "## Reproducibility: a rerun of the same machine" in report and "h1 vs h1-rerun" in report
    assert (results / "reproducibility.csv").exists()
    # the command line takes a host's directory as well
    assert analysis.main(["reproduce", str(results / "raw" / "h1"), str(results / "reruns" / "raw" / "h1-rerun")]) == 0
    assert "headline verdicts agree" in capsys.readouterr().out


def test_reproduce_refuses_a_directory_of_several_hosts_in_one_line(tmp_path, capsys):
    raw = tmp_path / "raw"
    _set(raw, "a", 1.3, "aaaa", optimized=True, seed=1)
    _set(raw, "b", 1.3, "aaaa", optimized=True, seed=3)
    assert analysis.main(["reproduce", str(raw), str(raw / "a")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds 2 hosts" in err[0]
