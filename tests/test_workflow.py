"""The campaign workflow (.github/workflows/bench.yml): its structure, its input check, its merge job.

The merge test runs the merge job's own ``run:`` steps, read from the YAML, on two synthetic hosts
(tests/synth.py) in a copy of the project. What GitHub provides is stood in for: the download
step by copying each host's directory into results/raw/, ``pip install nox`` is skipped (nox is in
the test venv), and ``nox`` is the real nox with ``--no-venv --no-install``, so ``nox -s analysis``
runs its real commands (harness.analysis, jupytext, the notebook) on this interpreter, offline
(about 15 s; the analysis alone is about 7 s).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import synth  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "bench.yml"
HOSTS = ("ubuntu-latest-x64", "ubuntu-24.04-arm-arm64")
ARM_FACTOR = 3.0  # the second host is 3x slower on everything: a cross-host ratio would show it
SHA_PIN = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")


def _load():
    try:
        import yaml
    except ImportError:
        try:
            from ruamel.yaml import YAML
        except ImportError:
            pytest.skip("no YAML parser (PyYAML comes with the analysis extra, ruamel.yaml with "
                        "check-jsonschema): install '.[analysis]' to test the workflow")
        return YAML(typ="safe").load(WORKFLOW.read_text())
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def wf() -> dict:
    data = _load()
    data["on"] = data.pop(True, None) or data["on"]  # YAML 1.1 reads the key `on` as True
    return data


def _step(job: dict, **match) -> dict:
    found = [s for s in job["steps"] if all(k in s and v in str(s[k]) for k, v in match.items())]
    assert len(found) == 1, f"expected one step with {match}, found {len(found)}"
    return found[0]


# --- structure --------------------------------------------------------------------------------


def test_inputs(wf):
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert json.loads(inputs["runners"]["default"]) == ["ubuntu-latest", "ubuntu-24.04-arm"]
    assert inputs["profile"]["options"] == ["quick", "default", "rigorous"]
    assert inputs["workloads"]["required"] is False


def test_least_privilege_timeouts_concurrency(wf):
    assert wf["permissions"] == {}
    assert wf["concurrency"]["cancel-in-progress"] is False
    for name, job in wf["jobs"].items():
        assert job["timeout-minutes"] > 0, name
        assert job["permissions"] in ({}, {"contents": "read"}), name


def test_actions_pinned_without_credentials(wf):
    uses = [line for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert uses and all(SHA_PIN.match(line) for line in uses), [u for u in uses if not SHA_PIN.match(u)]
    for job in wf["jobs"].values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_no_expression_inside_scripts(wf):
    """Inputs (and every other expression) reach scripts through env:, never spliced into them."""
    for name, job in wf["jobs"].items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{name}: {step.get('name')}"


def test_matrix_from_the_input(wf):
    jobs = wf["jobs"]
    parse = _step(jobs["runners"], id="parse")
    assert parse["env"]["RUNNERS"] == "${{ inputs.runners }}"
    assert jobs["runners"]["outputs"]["matrix"] == "${{ steps.parse.outputs.matrix }}"
    bench = jobs["bench"]
    assert bench["needs"] == "runners"
    assert bench["strategy"]["matrix"] == "${{ fromJSON(needs.runners.outputs.matrix) }}"
    assert bench["strategy"]["fail-fast"] is False
    assert bench["runs-on"] == "${{ matrix.runner }}"


def test_one_artifact_per_host(wf):
    bench = wf["jobs"]["bench"]
    host = "${{ steps.host.outputs.host }}"
    run = _step(bench, run="nox -s bench")
    assert run["env"] == {"PROFILE": "${{ inputs.profile }}", "WORKLOADS": "${{ inputs.workloads }}",
                          "HOST": host, "FTBENCH_FLAVOUR": "${{ inputs.flavour }}"}
    assert '--host "$HOST"' in run["run"] and "--results campaign" in run["run"]
    upload = _step(bench, uses="actions/upload-artifact@", name="raw results")
    assert upload["with"]["name"] == f"ftbench-raw-{host}"
    assert upload["with"]["path"] == "campaign/raw/"  # holds only <host>/
    assert "!cancelled()" in upload["if"]  # partial results of a failed leg are kept
    cache = [s for s in bench["steps"] if s.get("uses", "").startswith("actions/cache/")]
    assert {s["with"]["key"] for s in cache} == {"${{ steps.host.outputs.cache-key }}"}
    assert {s["with"]["path"] for s in cache} == {"~/.cache/ftbench"}
    key_step = _step(bench, id="host")
    assert "python -m harness.provision.interpreters cache-key" in key_step["run"]
    assert _step(bench, run="nox -s build")["env"] == {"FTBENCH_FLAVOUR": "${{ inputs.flavour }}"}


def test_the_cache_key_changes_exactly_with_what_a_build_stamp_holds(monkeypatch):
    """Same sources and configure arguments: same key; another flavour, version or checksum: another key."""
    from harness import variants
    from harness.provision import interpreters

    def key(**env):
        for k in ("FTBENCH_FLAVOUR", "FTBENCH_CPYTHON_VERSION", "FTBENCH_CPYTHON_SHA256"):
            monkeypatch.delenv(k, raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        return interpreters.cache_key(variants.builds().values())

    plain = key()
    assert plain == key() and plain.startswith("ftbench-cpython-")
    assert len({plain, key(FTBENCH_FLAVOUR="optimized"),
                key(FTBENCH_CPYTHON_VERSION="3.14.0", FTBENCH_CPYTHON_SHA256="ab" * 32),
                key(FTBENCH_CPYTHON_VERSION="3.14.0", FTBENCH_CPYTHON_SHA256="cd" * 32)}) == 4


def test_merge_needs_every_leg(wf):
    merge = wf["jobs"]["merge"]
    assert "bench" in merge["needs"]
    # runs when legs failed, but not when cancelled or when the input was invalid
    assert "!cancelled()" in merge["if"] and "always()" not in merge["if"]
    assert "needs.runners.result == 'success'" in merge["if"]
    download = _step(merge, uses="actions/download-artifact@")
    assert download["with"] == {"pattern": "ftbench-raw-*", "merge-multiple": True, "path": "results/raw"}
    assert _step(merge, run="nox -s analysis")
    uploaded = _step(merge, uses="actions/upload-artifact@")["with"]["path"].split()
    assert {"results/*.csv", "results/figures/", "results/REPORT.md"} <= set(uploaded)


# --- the runners input ------------------------------------------------------------------------


def _parse_runners(wf, tmp_path: Path, value: str) -> tuple[subprocess.CompletedProcess, str]:
    script = _step(wf["jobs"]["runners"], id="parse")["run"]
    out = tmp_path / "github_output"
    out.write_text("")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "RUNNERS": value, "GITHUB_OUTPUT": str(out)})
    return proc, out.read_text()


def test_runners_default(wf, tmp_path):
    proc, out = _parse_runners(wf, tmp_path, wf["on"]["workflow_dispatch"]["inputs"]["runners"]["default"])
    assert proc.returncode == 0, proc.stdout
    assert out.startswith("matrix=")
    assert json.loads(out.removeprefix("matrix=")) == {"include": [
        {"runner": "ubuntu-latest", "slug": "ubuntu-latest"},
        {"runner": "ubuntu-24.04-arm", "slug": "ubuntu-24.04-arm"}]}


@pytest.mark.parametrize(("value", "message"), [
    ("[]", "names no runner"),
    ("", "is not JSON"),
    ("ubuntu-latest", "is not JSON"),
    ('{"runner": "ubuntu-latest"}', "must be a JSON list"),
    ('["ubuntu-latest", ""]', "must be a JSON list"),
    ('["ubuntu-latest", "Ubuntu-Latest"]', "give the same host label"),
])
def test_runners_rejected(wf, tmp_path, value, message):
    proc, out = _parse_runners(wf, tmp_path, value)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error title=runners input::") and message in proc.stdout
    assert out == ""


# --- the merge job ----------------------------------------------------------------------------


def _host_results(raw: Path, host: str, factor: float, seed: int) -> None:
    for v, variant in enumerate(("3.13", "3.13t", "3.13t-gil")):
        specs = synth.model_specs(variant, seed=seed + v)
        for spec in specs:
            spec.runs = [[x * factor for x in run] for run in spec.runs]
        synth.write_variant(raw, host, variant, specs)


def _project_copy(dest: Path) -> Path:
    """What the merge job checks out: the sessions, the analysis and the notebook."""
    for name in ("noxfile.py", "pyproject.toml", "README.md", "analysis.py", "analysis.ipynb"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "harness", dest / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_merge_job_on_two_hosts(wf, tmp_path):
    (tmp_path / "checkout").mkdir()
    work = _project_copy(tmp_path / "checkout")
    # The committed results of this machine: the merge job must set them aside.
    _host_results(work / "results" / "raw", "vm", 1.0, seed=90)
    downloads = tmp_path / "artifacts"  # one artifact per host, each holding <host>/
    _host_results(downloads, HOSTS[0], 1.0, seed=0)
    _host_results(downloads, HOSTS[1], ARM_FACTOR, seed=10)

    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "nox").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m nox --no-venv --no-install "$@"\n')
    (shims / "nox").chmod(0o755)
    summary_md = tmp_path / "step_summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary_md),
           "PATH": os.pathsep.join([str(shims), str(Path(sys.executable).parent), os.environ["PATH"]])}

    ran = []
    for step in wf["jobs"]["merge"]["steps"]:
        if step.get("uses", "").startswith("actions/download-artifact@"):
            for host in HOSTS:
                shutil.copytree(downloads / host, work / step["with"]["path"] / host)
        elif "run" in step and "pip install" not in step["run"]:
            proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"{step['name']}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            ran.append(step["name"])
            if step["name"] == "List the hosts":
                assert f"hosts: {' '.join(sorted(HOSTS))}" in proc.stdout
    assert any("nox -s analysis" in s["run"] for s in wf["jobs"]["merge"]["steps"] if s["name"] in ran)

    import pandas as pd

    summary = pd.read_csv(work / "results" / "summary.csv")
    assert set(summary["host"]) == set(HOSTS)  # both hosts, and not the set-aside "vm"
    assert "# " in summary_md.read_text()  # REPORT.md reached the job summary
    for name in ("benchmarks.csv", "claims.csv", "REPORT.md"):
        assert (work / "results" / name).is_file()
    figures = [p.stem for p in (work / "results" / "figures").glob("*.png")]
    assert all(any(host in f for f in figures) for host in HOSTS)
    assert not any("vm" in f.split("_") for f in figures)

    # Every comparison is within one host: the baseline of each row is its own host's 3.13.
    # Host 2 is 3x slower throughout, so a baseline taken from the other host would be off by 3x.
    base = summary[summary["variant"] == "3.13"].set_index(["host", "workload"])
    others = summary[summary["variant"] != "3.13"]
    assert len(others) == 2 * 2 * 2  # hosts x workloads x (3.13t, 3.13t-gil)
    for row in others.itertuples():
        own = base.loc[(row.host, row.workload)]
        assert row.baseline_best_time == pytest.approx(own.best_time, rel=1e-4)
        assert row.slowdown == pytest.approx(row.seq_time / own.seq_time, rel=1e-4)  # the CSV keeps ~6 digits
        assert row.slowdown == pytest.approx(synth.SLOWDOWN[row.variant], rel=0.05)
        # the gain is estimated on the processes the best option was not chosen on: close, not equal
        assert row.gain_best == pytest.approx(own.best_time / row.best_time, rel=0.05)
    seq = base["seq_time"]
    assert seq.loc[HOSTS[1]].mean() / seq.loc[HOSTS[0]].mean() == pytest.approx(ARM_FACTOR, rel=0.05)
