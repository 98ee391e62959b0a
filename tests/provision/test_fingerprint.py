"""harness.provision.fingerprint: which CPU, which cores. Two VMs that both say "AMD EPYC" at other
clocks are two machines, and a run under ``taskset -c 0`` is a 1-core machine (issue 31, item 4)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from harness.measure.results import ResultsError, VariantStore
from harness.provision import fingerprint

EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: {mhz}
cache size\t: 512 KB

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: 9999.000
cache size\t: 512 KB
"""
GRAVITON = """processor\t: 0
BogoMIPS\t: 243.75
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x1
CPU part\t: 0xd0c
CPU revision\t: 1
"""


def _machine(monkeypatch, tmp_path, text: str, cores=frozenset({0, 1})) -> dict:
    info = tmp_path / "cpuinfo"
    info.write_text(text)
    monkeypatch.setattr(fingerprint, "CPUINFO", str(info))
    monkeypatch.setattr(fingerprint, "CPUFREQ_MAX", str(tmp_path / "no-cpufreq"))
    monkeypatch.setattr(fingerprint.os, "sched_getaffinity", lambda pid: set(cores), raising=False)
    monkeypatch.setattr(fingerprint.platform, "release", lambda: "6.18.44-fc-v857")
    return fingerprint.machine()


def test_the_cpu_is_read_from_the_first_processor_block(monkeypatch, tmp_path):
    m = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2249.998"))
    assert {k: m[k] for k in ("cpu_model", "cpu_vendor", "cpu_family", "cpu_model_number", "cpu_stepping",
                              "cpu_mhz", "cpu_cache")} == {
        "cpu_model": "AMD EPYC", "cpu_vendor": "AuthenticAMD", "cpu_family": "25", "cpu_model_number": "1",
        "cpu_stepping": "1", "cpu_mhz": 2250, "cpu_cache": "512 KB"}
    assert fingerprint.describe_cpu(m) == ("AMD EPYC (AuthenticAMD family 25 model 1 stepping 1, 2,250 MHz, "
                                           "cache 512 KB)")


def test_two_epyc_vms_at_other_clocks_are_two_machines(monkeypatch, tmp_path):
    """Issue 29: the published AMD VM ran at 2,250 MHz, a later one of the same model string at 2,445 MHz."""
    a = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2250.000"))
    b = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2445.406"))
    again = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2250.003"))  # the clock calibrated at another boot
    assert a["cpu_model"] == b["cpu_model"] and a["kernel"] == b["kernel"]
    assert a["id"] != b["id"] and not fingerprint.same_cpu(a, b)
    assert "cpu_mhz: 2250 then, 2450 now" in fingerprint.describe_difference(a, b)
    assert again["id"] == a["id"] and fingerprint.same_cpu(a, again)


def test_an_arm_cpu_is_told_by_its_implementer_and_part(monkeypatch, tmp_path):
    m = _machine(monkeypatch, tmp_path, GRAVITON)
    assert (m["cpu_vendor"], m["cpu_family"], m["cpu_model_number"], m["cpu_stepping"]) == ("0x41", "8", "0xd0c", "1")
    assert m["cpu_mhz"] == "unknown" and m["cpu_cache"] == "unknown"


def test_cpufreqs_maximum_wins_over_a_scaled_cores_current_clock(monkeypatch, tmp_path):
    m = _machine(monkeypatch, tmp_path, EPYC.format(mhz="1500.000"))
    (tmp_path / "max").write_text("3700000\n")
    monkeypatch.setattr(fingerprint, "CPUFREQ_MAX", str(tmp_path / "max"))
    assert fingerprint.cpu()["cpu_mhz"] == 3700 and m["cpu_mhz"] == 1500


def test_cpu_lists_are_written_as_the_kernel_does():
    assert fingerprint.cpu_list({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert fingerprint.cpu_list({0}) == "0"


def test_the_affinity_is_part_of_the_machine(monkeypatch, tmp_path):
    both = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2250"), cores={0, 1})
    one = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2250"), cores={0})
    assert (both["affinity"], one["affinity"]) == ("0-1", "0") and both["id"] != one["id"]
    assert "affinity: '0-1' then, '0' now" in fingerprint.describe_difference(both, one)


def test_a_campaign_under_taskset_is_refused_resuming_a_two_core_set(monkeypatch, tmp_path):
    """Issue 31 (4): ``taskset -c 0`` resumed into a set measured on 2 cores, mixing 1- and 2-core runs."""
    settings = {"profile": "quick"}
    interp = {"id": "interp"}
    two = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2250"), cores={0, 1})
    raw = tmp_path / "results" / "raw" / "h"
    raw.mkdir(parents=True)
    (raw / "3.13.state.json").write_text(json.dumps({"format": 2, "settings": settings, "benchmarks": {},
                                                     "machine": two, "interpreter": interp}))
    one = _machine(monkeypatch, tmp_path, EPYC.format(mhz="2250"), cores={0})
    with pytest.raises(ResultsError, match=r"measured on another machine \(affinity: '0-1' then, '0' now\)"):
        VariantStore(tmp_path / "results", "h", "3.13").check(settings, False, one, interp)


def test_a_set_fingerprinted_before_the_cpu_facts_says_what_it_did_not_record():
    old = {"arch": "x86_64", "cores": 2, "cpu_model": "AMD EPYC", "id": "106a85fe2aaa", "kernel": "6.18.44-fc-v857",
           "memory_gib": 23.5, "system": "Linux"}
    new = {**old, "cpu_family": "25", "id": "other"}
    assert fingerprint.describe_difference(old, new) == "cpu_family: not recorded then, '25' now"
    assert fingerprint.describe_cpu(old) == "AMD EPYC (family, model, frequency not recorded)"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs two cores and sched_setaffinity")
def test_a_process_pinned_to_one_core_fingerprints_another_machine():
    code = "import json; from harness.provision import fingerprint; print(json.dumps(fingerprint.machine()))"
    first = min(os.sched_getaffinity(0))
    pinned = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, {first}))
    free = fingerprint.machine()
    got = json.loads(pinned.stdout)
    assert got["affinity"] == str(first) and got["cores"] == free["cores"] and got["id"] != free["id"]
