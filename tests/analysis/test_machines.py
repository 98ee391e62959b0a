"""harness.analysis.machines and ``reproduce``: one machine (a rerun) or two, said before any agreement.

Issue 31 (14): ``reproduce`` of an Intel set and an AMD set reported "75% agree" as if it were a rerun.
"""

import json

from conftest import REPO
from synth import model_specs, write_variant

from harness.analysis import cli, machines

INTEL = {"arch": "x86_64", "cores": 2, "cpu_model": "Intel(R) Xeon(R) Processor", "cpu_vendor": "GenuineIntel",
         "cpu_family": "6", "cpu_model_number": "167", "cpu_stepping": "1", "cpu_mhz": 2600,
         "cpu_cache": "491520 KB", "affinity": "0-1", "kernel": "6.18.44-fc-v1045", "memory_gib": 23.5,
         "system": "Linux", "id": "intel"}
EPYC = {**INTEL, "cpu_model": "AMD EPYC", "cpu_vendor": "AuthenticAMD", "cpu_family": "25", "cpu_model_number": "1",
        "cpu_mhz": 2250, "cpu_cache": "512 KB", "id": "epyc-2250"}


def _set(root, host: str, machine: dict, seed: int = 0):
    """A small synthetic results set of two variants whose state files carry ``machine``."""
    for variant in ("3.13", "3.13t"):
        write_variant(root, host, variant, model_specs(variant, seed=seed, runs=3,
                                                       workloads=(("cpu_sum_squares", "cpu", 1.0),)))
        (root / host / f"{variant}.state.json").write_text(json.dumps({"settings": {}, "benchmarks": {},
                                                                         "machine": machine}))
    return root / host


def test_the_published_amd_and_intel_sets_are_two_machines_and_the_amd_rerun_one():
    raw = REPO / "results" / "raw"
    two = machines.compare_sets(raw / "vm-106a85", raw / "vm-471cc7")
    assert two.verdict == "two machines" and two.other_cpu and not two.rerun
    assert "cpu_model 'AMD EPYC' vs 'Intel(R) Xeon(R) Processor'" in two.differences
    assert "pyperf's clock 2,250 vs 2,600 MHz" in two.differences
    one = machines.compare_sets(raw / "vm-106a85", REPO / "results" / "reruns" / "raw" / "vm-106a85-rerun")
    assert one.verdict == "same machine" and one.rerun
    assert one.lines()[-1] == "one machine (fingerprint 106a85fe2aaa): B is a rerun of A"


def test_two_epyc_vms_of_one_model_string_at_other_clocks_are_two_cpus(tmp_path):
    a = machines.Machine("a", EPYC)
    b = machines.Machine("b", {**EPYC, "cpu_mhz": 2450, "id": "epyc-2450"})
    got = machines.compare(a, b)
    assert got.verdict == "two machines" and got.other_cpu and got.differences == "cpu_mhz 2250 vs 2450"
    pinned = machines.compare(machines.Machine("a", EPYC), machines.Machine("b", {**EPYC, "affinity": "0", "id": "x"}))
    assert pinned.verdict == "two machines" and not pinned.other_cpu and "affinity '0-1' vs '0'" in pinned.differences


def test_a_set_without_a_fingerprint_is_said_unknown(tmp_path):
    got = machines.compare(machines.Machine("a", EPYC), machines.Machine("b", {}))
    assert got.verdict == "unknown" and got.rerun and "cannot tell" in got.lines()[-1]


def test_reproduce_of_an_intel_and_an_amd_set_says_two_machines_first(tmp_path, capsys):
    a, b = _set(tmp_path / "a", "intel-vm", INTEL), _set(tmp_path / "b", "amd-vm", EPYC, seed=1)
    assert cli.main(["reproduce", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("A = intel-vm: Intel(R) Xeon(R) Processor (GenuineIntel family 6 model 167")
    assert out[1].startswith("B = amd-vm: AMD EPYC (AuthenticAMD family 25 model 1")
    assert out[2].startswith("two machines, with different CPUs (") and "not a rerun's" in out[2]
    assert out[3].startswith("headline verdicts agree")


def test_reproduce_of_a_rerun_says_one_machine(tmp_path, capsys):
    a, b = _set(tmp_path / "a", "vm", INTEL), _set(tmp_path / "b", "vm-rerun", INTEL, seed=1)
    assert cli.main(["reproduce", str(tmp_path / "a"), str(b)]) == 0  # a raw directory of one host, too
    out = capsys.readouterr().out.splitlines()
    assert out[2] == "one machine (fingerprint intel): B is a rerun of A"
    assert machines.set_dir(tmp_path / "a") == a


def test_the_reports_rerun_section_says_when_a_rerun_is_another_machine():
    got = machines.compare(machines.Machine("vm", INTEL), machines.Machine("vm-rerun", EPYC))
    (line,) = machines.report_lines(got)
    assert line.startswith("- **two machines**, different CPUs: vm: Intel")
    assert "not how reproducible one machine is" in line
    assert machines.report_lines(None) == []
