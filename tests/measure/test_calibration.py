"""harness.measure.calibration: the noise figure, what it means for a campaign, where it is recorded.

The arithmetic is checked on hand-made samples; one real calibration runs the worker on this
interpreter (two processes of two values, about a second); the campaign's hook is run against
real VariantStores with a small calibration.
"""

import json
import math
import sys

import pytest

from harness.measure import calibration
from harness.measure.config import PRECISION, Campaign
from harness.measure.planned import Planned
from harness.measure.results import VariantStore
from harness.measure.workload import discover


def _sample(kernel, canary_scale=1.0):
    """A worker's output whose canaries are ``canary_scale`` x 0.1 of each value (perfect tracking)."""
    return {"kernel": list(kernel), "canary": [[k * 0.1 * canary_scale] * 2 for k in kernel],
            "canary_c": [[0.003, 0.003 + 1e-6 * i] for i, _ in enumerate(kernel)]}


def test_the_noise_is_the_spread_of_process_means():
    samples = [_sample([1.0, 1.0]), _sample([1.2, 1.2]), _sample([0.8, 0.8])]
    got = calibration.variant_summary(samples)
    assert got["processes"] == 3 and got["values"] == 6
    assert got["process_cv"] == pytest.approx(0.2) and got["value_cv"] == 0.0
    assert got["canary_r"] == pytest.approx(1.0) and got["canary_seconds"] == pytest.approx(0.1)


def test_the_record_pools_the_variants_and_reads_the_machine():
    measured = {"samples": {"3.13": [_sample([1.0, 1.1]), _sample([1.2, 1.3])],
                            "3.13t": [_sample([2.0, 2.0]), _sample([2.0, 2.0])],
                            "3.13t-gil": [_sample([1.0, 1.0])]},  # one process: no spread, left out
                "errors": {}, "seconds": 3.0, "steal_cores": 0.01, "foreign_cores": 0.02}
    rec = calibration.summarise(measured, checks={"warnings": []})
    cv = calibration.variant_summary(measured["samples"]["3.13"])["process_cv"]
    assert set(rec["variants"]) == {"3.13", "3.13t"}
    assert rec["noise"] == pytest.approx(math.sqrt((cv ** 2 + 0.0) / 2))
    assert rec["steal_cores"] == 0.01 and rec["foreign_cores"] == 0.02
    json.dumps(calibration.json_safe(rec), allow_nan=False)


def test_rounds_needed_follow_the_paired_interval():
    for noise in (0.02, 0.04, 0.14):
        n = calibration.rounds_needed(noise, 0.05)
        assert calibration.half_width_at(noise, n) <= 0.025 < calibration.half_width_at(noise, n - 1)
    assert calibration.rounds_needed(0.04, 0.05) < 30 < calibration.rounds_needed(0.14, 0.05)


def _record(noise: float) -> dict:
    per = {"processes": 10, "process_cv": noise}
    return {"noise": noise, "variants": {"3.13": per, "3.13t": per}, "errors": {}, "canary_r": 0.6,
            "canary_c_r": 0.2, "steal_cores": 0.01, "foreign_cores": 0.0,
            "checks": {"frequency_scaling": "no cpufreq driver", "aslr": "full randomization", "warnings": []}}


def test_the_advice_says_what_the_noise_means():
    noisy = "\n".join(calibration.advice(_record(0.14), 0.05, 30, 240.0, 9))
    assert noisy.startswith("machine noise 14.0%")
    n = calibration.rounds_needed(0.14, 0.05)
    assert f"needs ~{n} rounds, more than its cap of 30" in noisy and "36 min for the 9 references" in noisy
    assert "more inconclusive verdicts" in noisy and f"+-{calibration.half_width_at(0.14, 30):.1%}" in noisy
    quiet = "\n".join(calibration.advice(_record(0.03), 0.05, 30, 240.0, 9))
    assert f"needs ~{calibration.rounds_needed(0.03, 0.05)} rounds to decide" in quiet
    assert "inconclusive" not in quiet and "r = 0.60 (Python loop), 0.20 (sha256)" in quiet
    busy = "\n".join(calibration.advice({**_record(0.03), "foreign_cores": 1.5}, 0.05, 30, 240.0, 9))
    assert "1.51 cores of other load or steal during the calibration" in busy
    failed = calibration.advice({**_record(math.nan), "errors": {"3.13t": "exit status 1"}}, 0.05, 30, 240.0, 9)
    assert failed == ["machine noise: not measured (3.13t: exit status 1)"]


def test_the_system_checks_warn_of_a_scaling_governor(tmp_path, monkeypatch):
    cpu = tmp_path / "cpu"
    for c in range(2):
        (cpu / f"cpu{c}" / "cpufreq").mkdir(parents=True)
        (cpu / f"cpu{c}" / "cpufreq" / "scaling_governor").write_text("powersave\n")
    (cpu / "intel_pstate").mkdir()
    (cpu / "intel_pstate" / "no_turbo").write_text("0\n")
    (tmp_path / "sys" / "kernel").mkdir(parents=True)
    (tmp_path / "sys" / "kernel" / "randomize_va_space").write_text("2\n")
    monkeypatch.setattr(calibration, "SYSFS_CPU", str(cpu))
    monkeypatch.setattr(calibration, "PROC", str(tmp_path))
    monkeypatch.setattr(calibration.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(calibration.os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    got = calibration.system_checks()
    assert got["frequency_scaling"] == "governor powersave" and got["turbo"] == "on"
    assert got["aslr"] == "full randomization"
    assert any("frequency scaling is on" in w for w in got["warnings"])
    assert any("turbo" in w for w in got["warnings"])
    assert not any("load average" in w for w in got["warnings"])
    monkeypatch.setattr(calibration.os, "getloadavg", lambda: (1.5, 0.1, 0.1))
    assert any("load average 1.50" in w for w in calibration.system_checks()["warnings"])


def test_a_real_calibration_of_this_interpreter():
    rec = calibration.calibrate({"here": sys.executable}, None, 0.05, 30, 240.0, 1, processes=2, values=2)
    assert rec["variants"]["here"]["processes"] == 2 and rec["noise"] >= 0 and not rec["errors"]
    assert rec["seconds"] < 20 and rec["advice"][0].startswith("machine noise ")
    assert set(rec["checks"]) >= {"aslr", "frequency_scaling", "turbo", "load_avg_1min", "warnings"}


def test_a_python_that_fails_is_said_and_the_calibration_goes_on():
    rec = calibration.calibrate({"gone": "/nonexistent/python", "here": sys.executable}, None, 0.05, 30, 240.0, 1,
                                processes=2, values=2)
    assert "gone" in rec["errors"] and rec["variants"]["here"]["processes"] == 2


def test_no_process_starts_that_would_not_fit_the_time(monkeypatch):
    ticks = iter(range(0, 1000, 10))  # each clock reading 10 s later: a round "takes" 20 s
    monkeypatch.setattr(calibration, "_run_worker", lambda python, env, values: (_sample([1.0, 1.0]), ""))
    got = calibration.measure({"a": "x"}, processes=10, seconds=20.0, clock=lambda: next(ticks))
    assert len(got["samples"]["a"]) == calibration.MIN_PROCESSES


def test_the_campaigns_hook_records_the_calibration_in_every_variants_state(tmp_path, monkeypatch):
    names = ("3.13", "3.13t")
    config = Campaign(variants=names, pythons=tuple((v, sys.executable) for v in names), profile="default",
                      results=tmp_path, host="h", precision=PRECISION["default"])
    planned = [Planned(discover()["cpu_sum_squares"], "sequential", 1)]
    stores = {v: VariantStore(tmp_path, "h", v) for v in names}
    for v, s in stores.items():
        s.load({"profile": "default"}, False, {"id": "m"}, {"id": v})
    monkeypatch.setattr(calibration, "calibrate", lambda *a, **k: {"noise": 0.05, "advice": ["machine noise 5.0%"],
                                                                    "variants": {}, "canary_r": math.nan})
    lines = []
    assert calibration.at_start(config, planned, {}, stores, log=lines.append)["noise"] == 0.05
    assert lines[-1] == "ftbench: machine noise 5.0%"
    for v in names:
        state = json.loads((tmp_path / "raw" / "h" / f"{v}.state.json").read_text())
        assert state["calibrations"] == [{"noise": 0.05, "advice": ["machine noise 5.0%"], "variants": {},
                                          "canary_r": None}]
    quick = Campaign(variants=names, pythons=config.pythons, profile="quick", results=tmp_path, host="h",
                     precision=PRECISION["quick"])
    assert calibration.at_start(quick, planned, {}, stores, log=lines.append) is None  # a fixed sample: no need


@pytest.mark.slow
def test_a_real_calibration_of_the_three_variants_within_its_time():
    from conftest import bench_venv

    from harness import variants
    from harness.measure.environment import variant_env

    names = tuple(variants.registry())
    pythons = {v: str(bench_venv(variants.get(v).build.name)) for v in names}
    config = Campaign(variants=names, pythons=tuple(pythons.items()))
    envs = {v: variant_env(config, v) for v in names}
    rec = calibration.calibrate(pythons, envs, 0.05, 30, 240.0, 9)
    print("\n" + "\n".join(rec["advice"]))
    assert not rec["errors"] and set(rec["variants"]) == set(names)
    assert rec["seconds"] <= calibration.CALIBRATION_SECONDS + 5
    assert all(p["processes"] >= calibration.MIN_PROCESSES for p in rec["variants"].values())
    assert 0 <= rec["noise"] < 1 and rec["advice"][0].startswith(f"machine noise {rec['noise']:.1%}")
