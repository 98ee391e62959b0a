"""harness.measure.campaign: interleaved rounds, the precision rule, foreign-load re-measures, resumes.

Fast: the pyperf process is replaced by a fake ``measure`` that returns synthetic pyperf
Benchmarks, and the clock by a counter, so the rules are asserted exactly in milliseconds. The
slow test runs a real interleaved campaign of the three variants on ftbench's builds.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest
from conftest import REPO

from harness import intervals, metadata, variants
from harness.measure import campaign, config, environment, planned, sizing, stopping
from harness.measure.config import PRECISION, Campaign, Precision
from harness.measure.planned import Planned
from harness.measure.rounds import Group, Outcome, interleave_groups, round_order
from harness.measure.stopping import half_width
from harness.measure.workload import discover
from harness.provision import fingerprint

NAMES = tuple(variants.registry())  # the default version's three variants
CPU = discover()["cpu_sum_squares"]


def fake_bench(value: float, variant: str = "x", flagged: str = "no", cores: float = 0.0, name: str = "b/s/1"):
    meta = {"name": name, "loops": 1}
    role = variants.get(variant).role if variant in NAMES else "baseline"
    metadata.put(meta, "gil_enabled", "no" if role == "free-threaded" else "yes")
    metadata.put(meta, "foreign_flagged", flagged)
    metadata.put(meta, "foreign_cores", cores)
    metadata.put(meta, "workload", name.split("/")[0])
    return pyperf.Benchmark([pyperf.Run([value, value], metadata=meta, collect_metadata=False)])


def interleave(names, measure, prec, label="", clock=None, log=print, **group):
    """One benchmark on ``names`` (its variants): the one-group case of interleave_groups."""
    kw = {"clock": clock} if clock is not None else {}
    return interleave_groups({label: Group(list(names), prec, **group)}, measure, log=log,
                             labels={v: f"{label} on {v}" for v in names}, **kw)


class Clock:
    def __init__(self, step: float = 1.0):
        self.t, self.step = 0.0, step

    def __call__(self):
        self.t += self.step
        return self.t


def test_rounds_alternate_abc_cba():
    assert round_order(["A", "B", "C"], 0) == ["A", "B", "C"]
    assert round_order(["A", "B", "C"], 1) == ["C", "B", "A"]
    assert round_order(["A", "B", "C"], 2) == ["A", "B", "C"]
    calls = []
    prec = Precision(min_processes=4, max_processes=4, target=None, budget=1e9, values=2, warmups=1)
    out = interleave(["A", "B", "C"], lambda v, r: (calls.append((v, r)), ("ok", "", fake_bench(1.0)))[1], prec,
                     log=lambda m: None)
    assert [v for v, _ in calls] == list("ABCCBAABCCBA")
    assert [r for _, r in calls] == [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3
    assert all(o.stop_reason == "fixed" and o.processes == 4 for o in out.values())
    rounds = [metadata.get(r.get_metadata(), "round") for r in out["A"].bench.get_runs()]
    assert rounds == [1, 2, 3, 4]


def test_half_width_is_t_based_over_process_means():
    assert half_width([1.0, 2.0, 3.0]) == pytest.approx(4.3027 * 1.0 / math.sqrt(3) / 2.0)
    assert half_width([1.0, 1.0]) == 0.0
    assert half_width([5.0]) == math.inf  # one process: no interval
    assert intervals.t_quantile(1) == 12.7062 and intervals.t_quantile(30) == 2.0423
    assert intervals.t_quantile(200) == pytest.approx(1.972, abs=0.002)
    # over process means, not values: one process of values 1 and 3 is one mean of 2
    bench = pyperf.Benchmark([pyperf.Run([1.0, 3.0], metadata={"name": "b", "loops": 1}, collect_metadata=False),
                              pyperf.Run([2.0, 2.0], metadata={"name": "b", "loops": 1}, collect_metadata=False)])
    assert stopping.process_means(bench) == [2.0, 2.0]


def _noisy(values):
    it = iter(values)
    return lambda v, r: ("ok", "", fake_bench(next(it)))


def test_precision_stops_at_the_target():
    prec = Precision(min_processes=3, max_processes=10, target=0.02, budget=1e9, values=2, warmups=1)
    out = interleave(["A"], _noisy([1.0, 1.0, 1.001, 5.0]), prec, log=lambda m: None)
    assert out["A"].stop_reason == "target" and out["A"].processes == 3
    assert out["A"].precision <= 0.02


def test_precision_adds_rounds_then_stops_at_the_cap():
    prec = Precision(min_processes=3, max_processes=6, target=0.02, budget=1e9, values=2, warmups=1)
    out = interleave(["A", "B"], _noisy([1.0, 2.0] * 10), prec, log=lambda m: None)
    assert all(o.stop_reason == "cap" and o.processes == 6 for o in out.values())


def test_a_budget_too_small_for_the_target_says_so_and_stops():
    prec = Precision(min_processes=3, max_processes=100, target=0.001, budget=10.0, values=2, warmups=1)
    calls = []

    def measure(v, r):
        calls.append(r)
        return "ok", "", fake_bench(1.0 + (r % 2))

    out = interleave(["A"], measure, prec, clock=Clock(1.0), log=lambda m: None)  # 1 s a process
    assert out["A"].stop_reason == "budget" and out["A"].processes == 10  # an 11th would overrun 10 s
    assert len(calls) == out["A"].processes and out["A"].seconds == 10.0


def test_a_failed_variant_leaves_the_rounds_and_the_others_go_on():
    prec = Precision(min_processes=3, max_processes=3, target=None, budget=1e9, values=2, warmups=1)

    def measure(v, r):
        return ("failed", "CheckFailed: wrong", None) if v == "B" and r == 2 else ("ok", "", fake_bench(1.0))

    out = interleave(["A", "B"], measure, prec, log=lambda m: None)
    assert out["B"].status == "failed" and out["B"].error == "CheckFailed: wrong"
    assert out["A"].status == "ok" and out["A"].processes == 3


def test_foreign_load_is_said_and_re_measured_at_most_twice_per_variant():
    prec = Precision(min_processes=3, max_processes=3, target=None, budget=1e9, values=2, warmups=1)
    calls, lines = [], []

    def measure(v, r):
        calls.append((v, r))
        return "ok", "", fake_bench(1.0, flagged="yes" if v == "A" else "no", cores=0.35)

    out = interleave(["A", "B"], measure, prec, label="w/s/1", log=lines.append)
    assert calls.count(("A", 1)) == 3 and [v for v, _ in calls].count("A") == 5  # 3 rounds + 2 re-measures
    assert [v for v, _ in calls].count("B") == 3
    assert lines[0] == "  run 1 of w/s/1 on A flagged: foreign load 0.35 cores; re-measuring"
    assert sum("re-measuring" in ln for ln in lines) == 2
    assert out["A"].remeasured == 2 and len(out["A"].bench.get_runs()) == 5  # flagged runs stay in the JSON
    assert stopping.process_means(out["A"].bench) == []  # ...but not in the precision


def test_effective_precision_takes_the_workloads_pyperf_overrides():
    quick = stopping.effective_precision(PRECISION["quick"], {"processes": 2, "values": 3, "warmups": 0})
    assert (quick.min_processes, quick.max_processes, quick.values, quick.warmups) == (2, 2, 3, 0)
    default = stopping.effective_precision(PRECISION["default"], None)
    assert default == PRECISION["default"]
    # with a precision target a workload's processes only raise the floor, never lower it
    low = stopping.effective_precision(PRECISION["default"], {"processes": 2, "values": 2})
    assert low.min_processes == PRECISION["default"].min_processes and low.values == 2
    high = stopping.effective_precision(PRECISION["default"], {"processes": 12})
    assert high.min_processes == 12 and high.max_processes == 12


def test_a_reference_goes_on_as_long_as_any_option_of_its_workload():
    """The reference is precise at once (target after 3 rounds), threads x2 is not (cap at 6): the
    reference takes part in every round of threads x2, so every option round has its reference."""
    prec = Precision(min_processes=3, max_processes=6, target=0.02, budget=1e9, values=2, warmups=1)
    groups = {"seq": Group([("A", "seq"), ("B", "seq")], prec, follows=("thr",)),
              "thr": Group([("A", "thr"), ("B", "thr")], prec)}

    def measure(key, r):
        return "ok", "", fake_bench(1.0 if key[1] == "seq" else 1.0 + 0.5 * (r % 2))

    out = interleave_groups(groups, measure, log=lambda m: None)
    assert [out[(v, "thr")].processes for v in "AB"] == [6, 6] and out[("A", "thr")].stop_reason == "cap"
    assert [out[(v, "seq")].processes for v in "AB"] == [6, 6] and out[("A", "seq")].stop_reason == "options"
    assert stopping.HELD == "options"


def test_a_reference_still_imprecise_when_its_options_stop_goes_on_by_its_own_rule():
    prec = Precision(min_processes=3, max_processes=6, target=0.02, budget=1e9, values=2, warmups=1)
    groups = {"seq": Group(["seq"], prec, follows=("thr",)), "thr": Group(["thr"], prec)}

    def measure(key, r):
        return "ok", "", fake_bench(1.0 if key == "thr" else 1.0 + 0.5 * (r % 2))

    out = interleave_groups(groups, measure, log=lambda m: None)
    assert out["thr"].processes == 3 and out["thr"].stop_reason == "target"
    assert out["seq"].processes == 6 and out["seq"].stop_reason == "cap"


def test_a_planned_group_runs_exactly_its_rounds_whatever_its_values_say():
    prec = PRECISION["default"]
    out = interleave(["A", "B"], _noisy([1.0, 1.0] * 3 + [1.0, 9.0] * 20), prec, planned=7, log=lambda m: None)
    assert all(o.processes == 7 and o.stop_reason == "planned" for o in out.values())
    out = interleave(["A"], _noisy([1.0] * 3), prec, planned=3, log=lambda m: None)
    assert out["A"].processes == 3  # below the sweep's minimum too: the plan is the rule
    ticks = iter(range(10**6))
    out = interleave(["A", "B"], _noisy([1.0] * 100), prec, planned=30, limit=100.0,
                     clock=lambda: 10.0 * next(ticks), log=lambda m: None)  # 10 s a process, 20 s a round
    assert out["A"].stop_reason == "budget" and out["A"].processes == 5  # a 6th round would pass 100 s
    assert out["A"].process_seconds == 10.0 and out["A"].own_seconds == 50.0


def test_the_campaign_plans_on_the_analysis_s_margin_and_paired_interval():
    """One margin, one verdict rule and one paired interval for the campaign's plan and the analysis's report."""
    from harness.analysis import stats

    assert intervals.MARGIN == stats.MARGIN and intervals.ratio_verdict is stats.ratio_verdict
    a, b = {1: 1.0, 2: 1.1, 3: 1.05, 4: 0.98}, {1: 1.2, 2: 1.25, 3: 1.22}
    value, low, high, _ = intervals.paired_ratio_interval(a, b)
    c = stats.paired_contrast(a, b)
    assert (value, low, high) == pytest.approx((c.value, c.low, c.high))
    assert value == pytest.approx((1.0 + 1.1 + 1.05) / (1.2 + 1.25 + 1.22))  # the rounds both sides have


# --- the campaign with a fake pyperf process ---------------------------------------------------------


def _config(tmp_path, **kw) -> Campaign:
    base = dict(variants=NAMES, pythons=tuple((v, sys.executable) for v in NAMES), profile="quick", size="tiny",
                results=tmp_path / "results", host="h", precision=PRECISION["quick"])
    return Campaign(**{**base, **kw})


class FakeMeasure:
    def __init__(self):
        self.calls = []

    def __call__(self, p, v, r, pyperf_args, url):
        self.calls.append((p.name, v, r))
        assert "--processes=1" in pyperf_args
        return "ok", "", fake_bench(0.5 if p.strategy == "threads" else 1.0, v, name=p.name)


PLANNED = [Planned(CPU, "sequential", 1), Planned(CPU, "threads", 2)]


def test_a_campaign_interleaves_records_and_summarises(tmp_path, capsys):
    fake = FakeMeasure()
    assert campaign.run(_config(tmp_path), PLANNED, measure=fake) == 0
    first = [v for name, v, _ in fake.calls if name == "cpu_sum_squares/sequential/1"]
    assert first == ["3.13", "3.13t", "3.13t-gil", "3.13t-gil", "3.13t", "3.13"]  # quick: 2 processes
    raw = tmp_path / "results" / "raw" / "h"
    for v in NAMES:
        suite = pyperf.BenchmarkSuite.load(str(raw / f"{v}.json"))
        bench = suite.get_benchmark("cpu_sum_squares/threads/2")
        assert [metadata.get(r.get_metadata(), "round") for r in bench.get_runs()] == [1, 2]
        assert metadata.get(bench.get_metadata(), "stop_reason") == "fixed"
        assert metadata.get(bench.get_metadata(), "precision") == 0.0
        state = json.loads((raw / f"{v}.state.json").read_text())
        assert state["format"] == 2 and state["machine"]["id"] and state["interpreter"]["id"]
        assert state["workloads"] == {"cpu_sum_squares": planned.workload_hash(CPU)}
    out = capsys.readouterr().out
    assert "3 benchmarks" not in out and "2 benchmarks, 0 already measured" in out
    for v in NAMES:
        assert f"speedup vs sequential on {v}" in out
    assert "threads          2: 2.00x" in out and str(raw) in out
    assert "cpu_sum_squares done; 1 of 1 workload(s) in " in out


def test_the_plan_says_roughly_how_long_before_anything_is_timed(tmp_path):
    """Issue 26.6's budget: one workload of ten benchmarks on three variants at the default profile is
    planned at about 5 minutes (3 rounds of 30 processes of ~2 s, and a confirmation of at most 120 s)."""
    ten = [Planned(CPU, s, w) for s, w in [("sequential", 1)] + [(s, w) for s in ("threads", "processes", "asyncio")
                                                                 for w in (1, 2, 4)]]
    config = _config(tmp_path, profile="default", precision=PRECISION["default"])
    stores, _ = campaign.open_stores(config, ten)
    text = campaign.CampaignRun(config, ten, stores, measure=FakeMeasure()).rough_duration()
    assert text.startswith("roughly 5 min for workloads of ~0.5 s (3 round(s) of 30 processes, a confirmation "
                           "of at most 120 s a workload)")
    quick = _config(tmp_path / "q")
    stores, _ = campaign.open_stores(quick, ten)
    assert campaign.CampaignRun(quick, ten, stores, measure=FakeMeasure()).rough_duration().startswith(
        "roughly 1 min for workloads of ~0.5 s (1 round(s) of 30 processes)")


def test_a_default_campaign_measures_the_reference_by_the_precision_rule_beside_its_options(tmp_path):
    """3.13t and the control 1.05x the baseline, on the margin: the sweep's reference follows the
    precision rule, whatever its slowdown's verdict (the headline slowdown is the confirmation's),
    and goes on as long as its options: threads x2 is noisy and runs to the cap, the reference with it."""
    calls = []

    def measure(p, v, r, pyperf_args, url):
        calls.append((p.name, v, r))
        factor = 1.0 if v == "3.13" else 1.05
        noise = 0.002 if p.strategy == "sequential" else 0.2
        return "ok", "", fake_bench((1 + noise * (-1) ** (r + (v == "3.13"))) * factor, v, name=p.name)

    assert campaign.run(_config(tmp_path, profile="default", precision=PRECISION["default"]), PLANNED,
                        measure=measure) == 0
    raw = tmp_path / "results" / "raw" / "h"
    for v in NAMES:
        suite = pyperf.BenchmarkSuite.load(str(raw / f"{v}.json"))
        seq, thr = (suite.get_benchmark(p.name) for p in PLANNED)
        assert seq.get_nrun() == thr.get_nrun() == PRECISION["default"].max_processes
        assert metadata.get(seq.get_metadata(), "stop_reason") == "options"
        assert metadata.get(thr.get_metadata(), "stop_reason") == "cap"
        keys = {p.name: {(metadata.get(r.get_metadata(), "invocation"), metadata.get(r.get_metadata(), "round"))
                         for r in b.get_runs()} for p, b in zip(PLANNED, (seq, thr), strict=True)}
        assert keys[PLANNED[1].name] <= keys[PLANNED[0].name]  # every option run has its reference's round
    state = json.loads((raw / "3.13.state.json").read_text())
    assert state["settings"]["rounds"] == config.ROUNDS


def test_the_summary_is_printed_when_everything_was_already_measured(tmp_path, capsys):
    assert campaign.run(_config(tmp_path), PLANNED, measure=FakeMeasure()) == 0
    capsys.readouterr()
    again = FakeMeasure()
    assert campaign.run(_config(tmp_path), PLANNED, measure=again) == 0
    out = capsys.readouterr().out
    assert again.calls == [] and "2 benchmarks, 2 already measured" in out
    assert out.count("threads          2: 2.00x") == 3  # one table per variant
    assert "slowdown vs 3.13" in out


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_another_machines_results_are_refused_in_one_line_and_left_byte_identical(tmp_path, capsys):
    raw = tmp_path / "results" / "raw" / "vm"
    shutil.copytree(REPO / "tests" / "data" / "old-format" / "vm", raw)  # the first format: no fingerprint
    before = _snapshot(raw)
    fake = FakeMeasure()
    assert campaign.run(_config(tmp_path, host="vm", profile="default", size="default",
                                precision=PRECISION["default"]), PLANNED, measure=fake) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "measured on another machine" in err[0] and "--host" in err[0]
    assert fake.calls == [] and _snapshot(raw) == before


def test_another_build_is_refused_and_left_byte_identical(tmp_path, capsys, monkeypatch):
    assert campaign.run(_config(tmp_path), PLANNED, measure=FakeMeasure()) == 0
    raw = tmp_path / "results" / "raw" / "h"
    before = _snapshot(raw)
    real = campaign.fingerprint.interpreter
    monkeypatch.setattr(campaign.fingerprint, "interpreter",
                        lambda py: {**real(py), "build_date": "tomorrow", "id": "0123456789ab"})
    capsys.readouterr()
    assert campaign.run(_config(tmp_path), PLANNED, measure=FakeMeasure()) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another interpreter" in err[0] and "build_date" in err[0]
    assert _snapshot(raw) == before


def test_allow_gil_changes_what_was_measured_so_it_is_not_resumed(tmp_path, capsys):
    assert campaign.run(_config(tmp_path, allow_gil=True), PLANNED, measure=FakeMeasure()) == 0
    raw = tmp_path / "results" / "raw" / "h"
    before = _snapshot(raw)
    fake = FakeMeasure()
    capsys.readouterr()
    assert campaign.run(_config(tmp_path), PLANNED, measure=fake) == 2
    err = capsys.readouterr().err
    assert "other settings (allow_gil: True then, False now)" in err
    assert fake.calls == [] and _snapshot(raw) == before


def test_a_changed_workload_is_measured_again_never_kept_beside(tmp_path, capsys, monkeypatch):
    assert campaign.run(_config(tmp_path), PLANNED, measure=FakeMeasure()) == 0
    monkeypatch.setattr(campaign, "workload_hash", lambda w, installed=(): "feedfacecafe")
    capsys.readouterr()
    fake = FakeMeasure()
    assert campaign.run(_config(tmp_path), PLANNED, measure=fake) == 0
    out = capsys.readouterr().out
    assert "workload cpu_sum_squares changed since it was measured" in out and "2 benchmark(s)" in out
    assert len(fake.calls) == 2 * 3 * 2  # both benchmarks, 3 variants, 2 processes each
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "results" / "raw" / "h" / "3.13t.json"))
    assert all(len(b.get_runs()) == 2 for b in suite)  # the old runs are gone, not merged in


def test_workload_hash_follows_the_code_and_the_sizes_not_the_comments(tmp_path, monkeypatch):
    import dataclasses
    import importlib

    h = planned.workload_hash(CPU)
    assert h == planned.workload_hash(CPU) and len(h) == 12
    other = dataclasses.replace(CPU, sizes={**CPU.sizes, "quick": {"n": 10_000}})
    assert planned.workload_hash(other) != h

    source = Path(sys.modules[CPU.task.__module__].__file__).read_text()
    edits = {
        "comments": source.replace('"""', '"""Reworded. ', 1).replace("\ndef ", "\n# a new comment\n\n\ndef ", 1),
        "code": source.replace("\ndef ", "\nEXTRA = 1\n\n\ndef ", 1),
    }
    monkeypatch.syspath_prepend(str(tmp_path))
    hashes = {}
    for what, text in edits.items():
        assert text != source
        (tmp_path / f"ftbench_hash_{what}.py").write_text(text)
        hashes[what] = planned.workload_hash(importlib.import_module(f"ftbench_hash_{what}").WORKLOAD)
    assert hashes == {"comments": h, "code": hashes["code"]} and hashes["code"] != h


def test_the_control_gets_the_gil_from_the_registry_not_its_name(tmp_path):
    config = _config(tmp_path)
    envs = {v: environment.variant_env(config, v, {"PYTHON_GIL": "0", "PATH": "/bin"}) for v in NAMES}
    roles = {v: variants.get(v).role for v in NAMES}
    for v, env in envs.items():
        assert env.get("PYTHON_GIL") == ("1" if roles[v] == "control" else None)
        assert env["AIOHTTP_NO_EXTENSIONS"] == "1"


def test_the_server_runs_on_the_baseline_for_every_variant(tmp_path):
    pythons = tuple((v, f"/py/{v}") for v in NAMES)
    assert environment.server_python(_config(tmp_path, pythons=pythons)) == f"/py/{NAMES[0]}"
    ft_only = _config(tmp_path, variants=NAMES[1:], pythons=pythons[1:], server_python="/srv/python")
    assert environment.server_python(ft_only) == "/srv/python"
    assert environment.server_python(_config(tmp_path, variants=NAMES[1:], pythons=pythons[1:])) == f"/py/{NAMES[1]}"


def test_the_default_host_label_carries_the_machine_and_the_profile(monkeypatch):
    from harness.measure import bench

    monkeypatch.setattr(bench.platform, "node", lambda: "vm")
    label = bench.host_label(None)
    assert label.startswith("vm-") and label != "vm" and len(label) == len("vm-") + 6
    assert bench.host_label(None, "quick") == label + "-quick"
    assert bench.host_label(None, "rigorous", "optimized") == label + "-opt-rigorous"


def test_the_optimized_flavour_is_chosen_by_the_environment_and_measured_apart(tmp_path, monkeypatch):
    """FTBENCH_FLAVOUR=optimized: the same variant names on the -opt builds, their own venvs and results set."""
    from harness.measure import bench

    monkeypatch.setenv(variants.FLAVOUR_ENV, "optimized")
    table = variants.registry()
    assert list(table) == list(NAMES) and {v.build.flavour for v in table.values()} == {"optimized"}
    assert [b.session for b in variants.builds(table).values()] == [f"{NAMES[0]}-opt", f"{NAMES[1]}-opt"]
    args = bench.parse_args(["--variant", NAMES[1], "--results", str(tmp_path)])
    assert args.host.endswith("-opt") and args.host == bench.host_label(None, flavour="optimized")
    nox_list = subprocess.run([sys.executable, "-m", "nox", "--list"], capture_output=True, text=True, cwd=REPO,
                              timeout=60, env={**os.environ, variants.FLAVOUR_ENV: "optimized"})
    sessions = {ln.split()[1] for ln in nox_list.stdout.splitlines() if ln[:2] in ("- ", "* ")}
    assert {f"build-{NAMES[1]}-opt", f"venv-{NAMES[1]}-opt", f"bench-{NAMES[1]}", "bench"} <= sessions, nox_list.stdout
    assert f"venv-{NAMES[1]}" not in sessions  # the plain venv is never reused for an optimized build

    monkeypatch.setenv(variants.FLAVOUR_ENV, "fast")
    with pytest.raises(variants.VariantError, match="unknown build flavour 'fast'"):
        variants.registry()
    monkeypatch.delenv(variants.FLAVOUR_ENV)
    with pytest.raises(bench.UsageError, match="FTBENCH_FLAVOUR=optimized"):
        bench.parse_args(["--variant", NAMES[1], "--optimized", "--results", str(tmp_path)])


def test_outcome_defaults():
    assert Outcome().status == "ok" and math.isinf(Outcome().precision)


# --- slow: a real interleaved campaign of the three variants --------------------------------------------


@pytest.mark.slow
def test_a_real_interleaved_campaign_of_three_variants(tmp_path):
    from conftest import bench_venv

    builds = {v: bench_venv(variants.get(v).build.name) for v in NAMES}
    script = f"""
import sys
from pathlib import Path
from harness import variants
from harness.measure import campaign
from harness.measure.config import PRECISION, Campaign
from harness.measure.planned import Planned
from harness.measure.workload import discover
names = {NAMES!r}
pythons = {tuple((v, str(p)) for v, p in builds.items())!r}
config = Campaign(variants=names, pythons=pythons, profile="quick", size="tiny", results=Path({str(tmp_path)!r}),
                  host="real", precision=PRECISION["quick"], latency=(0.0, 0.0))
w = discover()["cpu_sum_squares"]
sys.exit(campaign.run(config, [Planned(w, "sequential", 1), Planned(w, "threads", 2)]))
"""
    r = subprocess.run([str(builds[NAMES[1]]), "-c", script], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    raw = tmp_path / "raw" / "real"
    suites = {v: pyperf.BenchmarkSuite.load(str(raw / f"{v}.json")) for v in NAMES}
    for name in ("cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2"):
        spans = {}
        for v, suite in suites.items():
            dates = sorted(r.get_metadata()["date"] for r in suite.get_benchmark(name).get_runs())
            spans[v] = (dates[0], dates[-1])
        for v, (first, last) in spans.items():  # each variant's first and last run inside the others' span
            for w, (lo, hi) in spans.items():
                if w != v:
                    assert not (last < lo or first > hi), spans
        gil = {v: {r.get_metadata().get("ftbench_gil_enabled") for r in suites[v].get_benchmark(name).get_runs()}
               for v in NAMES}
        for v in NAMES:
            assert gil[v] == ({"no"} if variants.get(v).role == "free-threaded" else {"yes"}), gil
    cmp = subprocess.run([str(builds[NAMES[1]]), "-m", "pyperf", "compare_to", str(raw / f"{NAMES[0]}.json"),
                          str(raw / f"{NAMES[1]}.json"), str(raw / f"{NAMES[2]}.json")], capture_output=True, text=True)
    assert cmp.returncode == 0 and "cpu_sum_squares/threads/2" in cmp.stdout, cmp.stderr
    assert "speedup vs sequential on" in r.stdout


def test_a_published_run_of_this_machine_is_measured_beside_not_resumed(tmp_path):
    from harness.measure import bench

    label = bench.host_label(None)
    (tmp_path / "raw" / label).mkdir(parents=True)
    args = bench.parse_args(["--variant", "3.13t", "--results", str(tmp_path)])
    assert args.host == label  # not published: the default label, resumed as usual
    (tmp_path / "raw" / label / fingerprint.PUBLISHED).write_text("published\n")
    args = bench.parse_args(["--variant", "3.13t", "--results", str(tmp_path)])
    assert args.host == f"{label}-local"
    args = bench.parse_args(["--variant", "3.13t", "--results", str(tmp_path), "--host", label])
    assert args.host == label  # an explicit --host is the user's choice (a resume then checks the fingerprints)


def test_each_variants_best_option_and_reference_are_confirmed_in_planned_rounds(tmp_path, capsys):
    calls = []

    def measure(p, v, r, pyperf_args, url):  # threads x2 is the best everywhere; 3.13t's 1.5x slower
        calls.append((p.name, v, r))
        t = (0.5 if p.strategy == "threads" else 1.0) * (1.5 if v == "3.13t" else 1.0)
        return "ok", "", fake_bench(t * (1 + 0.01 * (-1) ** r), v, name=p.name)

    config = _config(tmp_path, profile="default", precision=PRECISION["default"])
    assert campaign.run(config, PLANNED, measure=measure) == 0
    raw = tmp_path / "results" / "raw" / "h"
    invocations = set()
    for v in NAMES:
        suite = pyperf.BenchmarkSuite.load(str(raw / f"{v}.json"))
        sweep = suite.get_benchmark("cpu_sum_squares/threads/2")
        assert metadata.get(sweep.get_metadata(), "stage", "") == ""  # the sweep's runs as they were
        for name in ("cpu_sum_squares/threads/2/confirm", "cpu_sum_squares/sequential/1/confirm"):
            confirm = suite.get_benchmark(name)
            meta = confirm.get_metadata()
            assert metadata.get(meta, "stage") == "confirm" and metadata.get(meta, "stop_reason") == "planned"
            # every round moves every benchmark alike: no spread, so the minimum of 5 rounds
            assert confirm.get_nrun() == metadata.get(meta, "planned_rounds") == sizing.MIN_CONFIRM_ROUNDS
            assert "raised to the minimum of 5" in metadata.get(meta, "plan_reason")
            runs = [r.get_metadata() for r in confirm.get_runs()]
            assert [metadata.get(m, "round") for m in runs] == [1, 2, 3, 4, 5]
            invocations |= {metadata.get(m, "invocation") for m in runs}
            invocations |= {metadata.get(r.get_metadata(), "invocation") for r in sweep.get_runs()}
            state = json.loads((raw / f"{v}.state.json").read_text())
            assert state["benchmarks"][name]["stage"] == "confirm"
    assert len(invocations) == 1 and None not in invocations  # one campaign call: one invocation on every run
    out = capsys.readouterr().out
    assert "confirming cpu_sum_squares: 5 rounds planned from the sweep's 0.0% round-to-round spread" in out
    assert "best options: 3.13 threads x2, 3.13t threads x2, 3.13t-gil threads x2" in out
    assert "    cpu_sum_squares confirmation round 5 of 5: 0 s\n" in out
    assert [v for n, v, r in calls if n == "cpu_sum_squares/sequential/1" and r == 1][-3:] == list(NAMES)
    calls.clear()
    assert campaign.run(config, PLANNED, measure=measure) == 0  # resumed: nothing left, not even the confirmation
    assert calls == []


def test_a_variant_whose_best_is_sequential_confirms_its_reference_alone(tmp_path):
    def measure(p, v, r, pyperf_args, url):  # threads x2 helps on 3.13t only
        t = 0.5 if p.strategy == "threads" and v == "3.13t" else 1.0 + (0.2 if p.strategy == "threads" else 0.0)
        return "ok", "", fake_bench(t * (1 + 0.01 * (-1) ** r), v, name=p.name)

    config = _config(tmp_path, profile="default", precision=PRECISION["default"])
    assert campaign.run(config, PLANNED, measure=measure) == 0
    raw = tmp_path / "results" / "raw" / "h"
    names = {v: {b.get_name() for b in pyperf.BenchmarkSuite.load(str(raw / f"{v}.json"))} for v in NAMES}
    assert "cpu_sum_squares/threads/2/confirm" in names["3.13t"]
    for v in ("3.13", "3.13t-gil"):
        assert f"{PLANNED[0].name}/confirm" in names[v] and f"{PLANNED[1].name}/confirm" not in names[v]


def test_a_single_variant_run_has_no_confirmation_stage(tmp_path):
    calls = []

    def measure(p, v, r, pyperf_args, url):
        calls.append(p.name)
        return "ok", "", fake_bench(1.0 + 0.01 * (-1) ** r, v, name=p.name)

    config = _config(tmp_path, variants=("3.13t",), pythons=(("3.13t", sys.executable),), profile="default",
                     precision=PRECISION["default"])
    assert campaign.run(config, PLANNED, measure=measure) == 0
    assert set(calls) == {"cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2"}


def test_a_sweep_flagged_throughout_chooses_no_best_option_and_says_so(tmp_path, capsys):
    def measure(p, v, r, pyperf_args, url):
        return "ok", "", fake_bench(1.0, v, flagged="yes", cores=1.5, name=p.name)

    config = _config(tmp_path, profile="default", precision=PRECISION["default"])
    assert campaign.run(config, PLANNED, measure=measure) == 0
    assert "cpu_sum_squares: no confirmation: a variant has no sweep process to choose its best option on" \
        in capsys.readouterr().out
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "results" / "raw" / "h" / "3.13.json"))
    assert not [b for b in suite if b.get_name().endswith("/confirm")]
