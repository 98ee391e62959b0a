"""The campaign workflow (.github/workflows/bench.yml): its structure, its input checks, and its jobs run.

The job test runs the bench job's and the merge job's own ``run:`` steps, read from the YAML, for
every leg the plan job's matrix names: two runners x two CPython versions, each version a fake
CPython tarball (conftest.FAKE_CONFIGURE) that the real ``nox -s build`` builds and verifies. What
GitHub or the network provides is stood in for: ``${{ ... }}`` references are filled from the
inputs, the matrix, the runner and earlier steps' outputs; actions (checkout, caches, artifacts)
are copies between directories; ``curl`` serves the fake tarballs by their python.org URL;
``apt-get`` and ``pip install nox`` are skipped (nox is in the test venv). The campaign itself
cannot run on a fake interpreter: ``nox -s bench`` writes synthetic results (tests/synth.py) for
the registry's variants of the leg's version, after checking that the leg's builds are the ones
made from its tarball. ``nox -s analysis`` then runs for real (harness.analysis, jupytext, the
notebook) on the merged legs, offline.
"""

from __future__ import annotations

import hashlib
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
from conftest import fake_cpython_members, make_tarball  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "bench.yml"
SHA_PIN = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
PYTHON_ORG = re.compile(r"https://www\.python\.org/ftp/python/(\d+\.\d+\.\d+)/Python-\1\.tar\.xz")
RUNNER_ARCH = {"ubuntu-latest": "X64", "ubuntu-24.04-arm": "ARM64"}
ARM_FACTOR = 3.0  # the arm runner is 3x slower on everything: a ratio across machines would show it
# The fake campaign's truth per version: the speed of the version's default build (against the model's),
# and the free-threaded build's single-thread time and peak memory against the default build of its
# own version. A ratio taken across versions would show the speed factor.
TRUTH = {"3.13.99": {"speed": 1.0, "slowdown": 1.30, "memory": 1.30},
         "3.14.0": {"speed": 0.8, "slowdown": 1.08, "memory": 1.15}}
BASE_MEMORY = 40_000_000  # bytes: the default build's peak tree memory in the fake campaign


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
    from harness import variants

    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert json.loads(inputs["runners"]["default"]) == ["ubuntu-latest", "ubuntu-24.04-arm"]
    assert inputs["profile"]["options"] == ["quick", "default", "rigorous"]
    assert inputs["workloads"]["required"] is False
    # the default version is the registry's, whose checksum it knows: no checksum input needed
    assert inputs["cpython_versions"]["default"] == variants.DEFAULT_VERSION in variants.KNOWN_SHA256
    assert inputs["cpython_sha256"]["default"] == "" and inputs["cpython_sha256"]["required"] is False


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


def test_one_leg_per_runner_and_version(wf):
    jobs = wf["jobs"]
    parse = _step(jobs["plan"], id="parse")
    assert parse["env"] == {"RUNNERS": "${{ inputs.runners }}",
                            "CPYTHON_VERSIONS": "${{ inputs.cpython_versions }}",
                            "CPYTHON_SHA256": "${{ inputs.cpython_sha256 }}",
                            "FTBENCH_FLAVOUR": "${{ inputs.flavour }}"}
    assert jobs["plan"]["outputs"]["matrix"] == "${{ steps.parse.outputs.matrix }}"
    bench = jobs["bench"]
    assert bench["needs"] == "plan"
    assert bench["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert bench["strategy"]["fail-fast"] is False
    assert bench["runs-on"] == "${{ matrix.runner }}"
    # every step of a leg, nox's sessions included, sees the leg's version and its checksum
    assert bench["env"] == {"FTBENCH_CPYTHON_VERSION": "${{ matrix.version }}",
                            "FTBENCH_CPYTHON_SHA256": "${{ matrix.sha256 }}"}


def test_one_artifact_per_leg(wf):
    bench = wf["jobs"]["bench"]
    host = "${{ steps.host.outputs.host }}"
    source = "${{ steps.source.outputs.path }}"
    run = _step(bench, run="nox -s bench")
    assert run["env"] == {"PROFILE": "${{ inputs.profile }}", "WORKLOADS": "${{ inputs.workloads }}",
                          "HOST": host, "FTBENCH_FLAVOUR": "${{ inputs.flavour }}", "FTBENCH_CPYTHON_SOURCE": source}
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
    assert "-py${FTBENCH_CPYTHON_VERSION}" in key_step["run"]  # the results set is named by its version
    assert _step(bench, run="nox -s build")["env"] == {"FTBENCH_FLAVOUR": "${{ inputs.flavour }}",
                                                       "FTBENCH_CPYTHON_SOURCE": source}
    steps = [s.get("id") or s.get("run", s.get("uses", "")) for s in bench["steps"]]
    assert steps.index("source") < steps.index("nox -s build")


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
    # runs when legs failed, but not when cancelled or when an input was invalid
    assert "!cancelled()" in merge["if"] and "always()" not in merge["if"]
    assert "needs.plan.result == 'success'" in merge["if"]
    download = _step(merge, uses="actions/download-artifact@")
    assert download["with"] == {"pattern": "ftbench-raw-*", "merge-multiple": True, "path": "results/raw"}
    assert _step(merge, run="nox -s analysis")
    uploaded = _step(merge, uses="actions/upload-artifact@")["with"]["path"].split()
    assert {"results/*.csv", "results/figures/", "results/REPORT.md"} <= set(uploaded)


# --- the plan job: its input checks -------------------------------------------------------------


def _plan(wf, tmp_path: Path, runners: str = '["ubuntu-latest", "ubuntu-24.04-arm"]', versions: str = "3.13.5",
          sha256: str = "", flavour: str = "plain") -> tuple[subprocess.CompletedProcess, dict | None]:
    """The plan job's parse step, run as GitHub runs a ``shell: python`` step: a script file, in the checkout."""
    script = tmp_path / "parse.py"
    script.write_text(_step(wf["jobs"]["plan"], id="parse")["run"])
    out = tmp_path / "github_output"
    out.write_text("")
    env = {**os.environ, "RUNNERS": runners, "CPYTHON_VERSIONS": versions, "CPYTHON_SHA256": sha256,
           "FTBENCH_FLAVOUR": flavour, "GITHUB_OUTPUT": str(out)}
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, env=env)
    text = out.read_text()
    return proc, json.loads(text.removeprefix("matrix=")) if text else None


def test_plan_of_the_default_inputs(wf, tmp_path):
    from harness import variants

    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    proc, matrix = _plan(wf, tmp_path, inputs["runners"]["default"], inputs["cpython_versions"]["default"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sha = variants.KNOWN_SHA256[variants.DEFAULT_VERSION]
    assert matrix == {"include": [
        {"runner": "ubuntu-latest", "slug": "ubuntu-latest", "version": variants.DEFAULT_VERSION, "sha256": sha},
        {"runner": "ubuntu-24.04-arm", "slug": "ubuntu-24.04-arm", "version": variants.DEFAULT_VERSION,
         "sha256": sha}]}


def test_plan_of_two_versions_one_unknown_to_the_registry(wf, tmp_path):
    from harness import variants

    proc, matrix = _plan(wf, tmp_path, '["ubuntu-latest"]', "3.13.5, 3.14.0", "3.14.0=" + "AB" * 32)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [(leg["version"], leg["sha256"]) for leg in matrix["include"]] == [
        ("3.13.5", variants.KNOWN_SHA256["3.13.5"]), ("3.14.0", "ab" * 32)]


@pytest.mark.parametrize(("title", "kwargs", "message"), [
    ("runners", {"runners": "[]"}, "names no runner"),
    ("runners", {"runners": ""}, "is not JSON"),
    ("runners", {"runners": "ubuntu-latest"}, "is not JSON"),
    ("runners", {"runners": '{"runner": "ubuntu-latest"}'}, "must be a JSON list"),
    ("runners", {"runners": '["ubuntu-latest", ""]'}, "must be a JSON list"),
    ("runners", {"runners": '["ubuntu-latest", "Ubuntu-Latest"]'}, "give the same host label"),
    ("runners", {"runners": json.dumps(["r" * 48]), "flavour": "optimized"}, "host labels of up to 67 characters"),
    ("cpython_versions", {"versions": " , "}, "names no version"),
    ("cpython_versions", {"versions": "3.12.8"}, "X.Y.Z with X.Y >= 3.13"),
    ("cpython_versions", {"versions": "3.14"}, "X.Y.Z with X.Y >= 3.13"),
    ("cpython_versions", {"versions": "3.13.5,3.13.5"}, "named twice"),
    ("cpython_sha256", {"versions": "3.14.0"},
     "CPython 3.14.0 is not in harness/variants.py's KNOWN_SHA256: give the sha256 of python.org's "
     "Python-3.14.0.tar.xz in cpython_sha256"),
    ("cpython_sha256", {"versions": "3.13.5,3.14.0", "sha256": "3.13.5=" + "ab" * 32},
     "the registry knows its sha256 as"),
    ("cpython_sha256", {"versions": "3.13.5", "sha256": "3.14.0=" + "ab" * 32}, "which cpython_versions (3.13.5)"),
    ("cpython_sha256", {"versions": "3.14.0", "sha256": "3.14.0=abc"}, "expected VERSION=SHA256"),
    ("cpython_sha256", {"versions": "3.14.0", "sha256": "ab" * 32}, "expected VERSION=SHA256"),
    ("cpython_sha256", {"versions": "3.14.0", "sha256": f"3.14.0={'ab' * 32},3.14.0={'cd' * 32}"},
     "two checksums for 3.14.0"),
])
def test_a_bad_input_is_one_error_line(wf, tmp_path, title, kwargs, message):
    proc, matrix = _plan(wf, tmp_path, **kwargs)
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith(f"::error title={title} input::"), proc.stdout
    assert message in errors[0] and proc.stderr == ""
    assert matrix is None  # no leg starts


# --- the jobs, run ------------------------------------------------------------------------------


def _expand(text, ctx: dict) -> str:
    """``${{ a.b.c }}`` filled from ``ctx``; anything the test does not stand in for raises KeyError."""
    def value(m):
        obj = ctx
        for part in m[1].split("."):
            obj = obj[part]
        return str(obj)

    return EXPRESSION.sub(value, str(text))


def _run_steps(job: dict, ctx: dict, cwd: Path, env: dict, stand_in, tmp: Path) -> list[str]:
    """Run a job's ``run:`` steps as GitHub does (bash -eo pipefail, or a python script file), with the
    job's and the step's env expanded; ``stand_in(step)`` plays each action. The names of the steps run."""
    ran = []
    ctx["steps"] = {}
    job_env = {k: _expand(v, ctx) for k, v in job.get("env", {}).items()}
    for step in job["steps"]:
        if "uses" in step:
            stand_in(step)
            continue
        if "apt-get" in step["run"] or "pip install" in step["run"]:
            continue  # what the runner image provides here
        assert "if" not in step, step["name"]  # a condition would need evaluating
        output = tmp / "github_output"
        output.write_text("")
        step_env = {**env, **job_env, **{k: _expand(v, ctx) for k, v in step.get("env", {}).items()},
                    "GITHUB_OUTPUT": str(output)}
        if step.get("shell") == "python":
            (tmp / "step.py").write_text(step["run"])
            cmd = [sys.executable, str(tmp / "step.py")]
        else:
            cmd = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
        proc = subprocess.run(cmd, cwd=cwd, env=step_env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{step['name']}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        ran.append(step["name"])
        if "id" in step:
            pairs = (line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
            ctx["steps"][step["id"]] = {"outputs": dict(pairs), "stdout": proc.stdout}
    return ran


def _project_copy(dest: Path) -> Path:
    """What a job checks out: the sessions, the harness, the analysis and the notebook."""
    dest.mkdir(parents=True)
    for name in ("noxfile.py", "pyproject.toml", "README.md", "analysis.py", "analysis.ipynb"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "harness", dest / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def fake_campaign(argv: list[str]) -> int:
    """``nox -s bench -- ...`` of a leg: synthetic results for the registry's variants of the leg's version,
    measured (so to speak) on the leg's builds, which must be the verified builds of its tarball."""
    from harness import variants
    from harness.provision import interpreters

    args = argv[argv.index("--") + 1:]
    host, results = args[args.index("--host") + 1], Path(args[args.index("--results") + 1])
    table = variants.registry()
    version = next(iter(table.values())).build.version
    truth = TRUTH[version]
    machine = ARM_FACTOR if "-arm64-" in host else 1.0
    for v, variant in enumerate(table.values()):
        build = variant.build
        made = interpreters.provenance(build.version, build.free_threaded)
        if made.get("source_sha256") != os.environ["FTBENCH_CPYTHON_SHA256"]:
            print(f"fake campaign: {variant.name} is not built from the leg's tarball: {made}", file=sys.stderr)
            return 1
        # the model's 3.13 variants stand for the roles; each version scales them by its truth
        model = {"baseline": "3.13", "free-threaded": "3.13t", "control": "3.13t-gil"}[variant.role]
        price = 1.0 if variant.role == "baseline" else truth["slowdown"] / synth.SLOWDOWN["3.13t"]
        memory = BASE_MEMORY * (1.0 if variant.role == "baseline" else truth["memory"])
        specs = synth.model_specs(model, seed=v + (10 if machine != 1 else 0), runs=4)
        for i, spec in enumerate(specs):
            spec.runs = [[x * truth["speed"] * price * machine for x in run] for run in spec.runs]
            spec.meta = {"python_version": f"{build.version} (64-bit)", "ftbench_source_sha256": made["source_sha256"],
                         "ftbench_configure_args": " ".join(made["configure_args"]),
                         "ftbench_free_threaded": "yes" if build.free_threaded else "no",
                         "ftbench_gil_enabled": "yes" if variant.gil_expected else "no",
                         "ftbench_memory_method": "pss"}
            # one process per round, the variants of a benchmark side by side in each round
            spec.run_meta = [{"ftbench_round": r + 1, "ftbench_invocation": f"{host}-1",
                              "ftbench_peak_tree_memory": int(memory * (1 + 0.002 * ((r + i + v) % 3)))}
                             for r in range(len(spec.runs))]
        synth.write_variant(results / "raw", host, variant.name, specs)
    print(f"fake campaign: {', '.join(table)} on {host}")
    return 0


def _shims(bin_dir: Path, tarballs: Path, fetched: Path) -> None:
    """nox (the real one, except the campaign) and curl (python.org's tarballs, from ``tarballs``)."""
    bin_dir.mkdir()
    tests = Path(__file__).parent
    (bin_dir / "nox").write_text(f"""#!{sys.executable}
import os, sys
if sys.argv[1:3] == ["-s", "bench"]:
    sys.path[:0] = [os.getcwd(), {str(tests)!r}]
    import test_workflow
    sys.exit(test_workflow.fake_campaign(sys.argv[1:]))
os.execv(sys.executable, [sys.executable, "-m", "nox", "--no-venv", "--no-install", *sys.argv[1:]])
""")
    (bin_dir / "curl").write_text(f"""#!{sys.executable}
import re, shutil, sys
args = sys.argv[1:]
url = next(a for a in args if a.startswith("https://"))
with open({str(fetched)!r}, "a") as log:
    log.write(url + "\\n")
found = re.fullmatch({PYTHON_ORG.pattern!r}, url)
if not found:
    sys.exit("curl: (22) The requested URL returned error: 404")
shutil.copy({str(tarballs)!r} + "/Python-" + found[1] + ".tar.xz", args[args.index("--output") + 1])
""")
    for shim in ("nox", "curl"):
        (bin_dir / shim).chmod(0o755)


def _run_leg(wf, leg: dict, inputs: dict, tmp: Path, env: dict, artifacts: Path) -> str:
    """One matrix leg of the bench job in its own checkout, runner and build cache: its host label."""
    ctx, ran = _run_leg_steps(wf["jobs"]["bench"], leg, inputs, tmp, env, artifacts)
    assert ran == ["Host label and build cache key", "Fetch the CPython source from python.org",
                   "Build (or reuse) and verify the default and the free-threaded build",
                   "Benchmark the default build, the free-threaded build and the latter with the GIL on"]
    return ctx["steps"]["host"]["outputs"]["host"]


def _run_leg_steps(job: dict, leg: dict, inputs: dict, tmp: Path, env: dict, artifacts: Path):
    """(context, names of the steps run) of ``job``'s steps for ``leg``."""
    work = _project_copy(tmp / "checkout")
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir()
    ctx = {"inputs": inputs, "matrix": leg, "runner": {"arch": RUNNER_ARCH[leg["runner"]], "temp": str(runner_temp)}}
    leg_env = {**env, "RUNNER_TEMP": str(runner_temp), "XDG_CACHE_HOME": str(tmp / "xdg")}

    def stand_in(step):
        uses = step["uses"].split("@")[0]
        if uses == "actions/upload-artifact" and step["name"] == "Upload the raw results":
            name = _expand(step["with"]["name"], ctx)
            shutil.copytree(work / step["with"]["path"], artifacts / name)
        elif uses not in ("actions/checkout", "actions/setup-python", "actions/cache/restore",
                          "actions/cache/save", "actions/upload-artifact"):
            raise AssertionError(f"no stand-in for {uses}")

    return ctx, _run_steps(job, ctx, work, leg_env, stand_in, tmp)


def test_a_tarball_that_is_not_the_checksummed_one_fails_the_leg(wf, tmp_path):
    """python.org's file is checked against the matrix's sha256 before anything is built."""
    tarballs = tmp_path / "python.org"
    tarballs.mkdir()
    make_tarball(tarballs / "Python-3.14.0.tar.xz", fake_cpython_members("3.14.0"))
    _shims(tmp_path / "bin", tarballs, tmp_path / "fetched.txt")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FTBENCH_", "GITHUB_"))}
    env["PATH"] = os.pathsep.join([str(tmp_path / "bin"), str(Path(sys.executable).parent), env["PATH"]])
    job = dict(wf["jobs"]["bench"])
    job["steps"] = job["steps"][:job["steps"].index(_step(job, run="nox -s build")) + 1]
    leg = {"runner": "ubuntu-latest", "slug": "ubuntu-latest", "version": "3.14.0", "sha256": "ab" * 32}
    inputs = {"flavour": "plain"}
    with pytest.raises(AssertionError, match=r"checksum mismatch .*expected (ab){32} for CPython 3\.14\.0"):
        _run_leg_steps(job, leg, inputs, tmp_path, env, tmp_path / "artifacts")
    assert not (tmp_path / "xdg" / "ftbench" / "cpython").exists()


def test_two_versions_on_two_runners_through_the_workflow(wf, tmp_path):
    """Two fake CPython versions (3.13.99 and 3.14.0: the registry knows neither's checksum) on two
    runners: four legs, each building its version from python.org's (fake) tarball and naming its
    results set by it, merged into one analysis where each free-threaded build is compared with the
    default build of its own version on its own machine only."""
    tarballs = tmp_path / "python.org"
    tarballs.mkdir()
    sha = {}
    for version in TRUTH:
        tarball = make_tarball(tarballs / f"Python-{version}.tar.xz", fake_cpython_members(version))
        sha[version] = hashlib.sha256(tarball.read_bytes()).hexdigest()
    inputs = {name: spec.get("default", "") for name, spec in wf["on"]["workflow_dispatch"]["inputs"].items()}
    inputs |= {"profile": "quick", "cpython_versions": ",".join(TRUTH),
               "cpython_sha256": ",".join(f"{v}={s}" for v, s in sha.items())}
    fetched = tmp_path / "fetched.txt"
    _shims(tmp_path / "bin", tarballs, fetched)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FTBENCH_", "GITHUB_"))}
    env["PATH"] = os.pathsep.join([str(tmp_path / "bin"), str(Path(sys.executable).parent), env["PATH"]])

    (tmp_path / "plan").mkdir()
    proc, matrix = _plan(wf, tmp_path / "plan", inputs["runners"], inputs["cpython_versions"],
                         inputs["cpython_sha256"], inputs["flavour"])
    assert proc.returncode == 0, proc.stdout
    legs = matrix["include"]
    assert len(legs) == 4
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    hosts = {}
    for i, leg in enumerate(legs):
        (tmp_path / f"leg{i}").mkdir()
        hosts[_run_leg(wf, leg, inputs, tmp_path / f"leg{i}", env, artifacts)] = leg["version"]
    assert hosts == {"ubuntu-latest-x64-py3.13.99": "3.13.99", "ubuntu-latest-x64-py3.14.0": "3.14.0",
                     "ubuntu-24.04-arm-arm64-py3.13.99": "3.13.99", "ubuntu-24.04-arm-arm64-py3.14.0": "3.14.0"}
    assert sorted(fetched.read_text().split()) == sorted(
        f"https://www.python.org/ftp/python/{v}/Python-{v}.tar.xz" for v in 2 * list(TRUTH))
    assert sorted(p.name for p in artifacts.iterdir()) == sorted(f"ftbench-raw-{h}" for h in hosts)

    work = _project_copy(tmp_path / "merge" / "checkout")
    synth.model_results(work / "results" / "raw", hosts=("vm",))  # committed results: the merge sets them aside
    summary_md = tmp_path / "step_summary.md"

    def download(step):
        if step["uses"].startswith("actions/download-artifact@"):
            for artifact in artifacts.iterdir():  # merge-multiple: every artifact's <host>/ side by side
                shutil.copytree(artifact, work / step["with"]["path"], dirs_exist_ok=True)

    ctx = {"inputs": inputs}
    ran = _run_steps(wf["jobs"]["merge"], ctx, work, {**env, "GITHUB_STEP_SUMMARY": str(summary_md)}, download,
                     tmp_path / "merge")
    assert "Analyse (CSVs, figures, REPORT.md, executed notebook)" in ran
    listed = subprocess.run(["bash", "-c", _step(wf["jobs"]["merge"], name="List the results sets")["run"]],
                            cwd=work, capture_output=True, text=True).stdout
    assert f"hosts: {' '.join(sorted(hosts))}" in listed
    _check_merged_analysis(work, hosts, sha, summary_md)


def _check_merged_analysis(work: Path, hosts: dict, sha: dict, summary_md: Path) -> None:
    import pandas as pd

    from harness import variants

    summary = pd.read_csv(work / "results" / "summary.csv", dtype={"variant": str, "baseline": str})
    assert set(summary["host"]) == set(hosts)  # every leg, and not the set-aside "vm"
    assert "# " in summary_md.read_text()  # REPORT.md reached the job summary
    for host, version in hosts.items():
        rows = summary[summary["host"] == host]
        assert set(rows["variant"]) == set(variants.registry(version))  # the leg measured its own version
        assert all(str(v).startswith(version) for v in rows["python_version"])
    report = (work / "results" / "REPORT.md").read_text()
    assert all(sha[v][:12] in report for v in sha)  # each set's provenance: the tarball it was built from
    assert all(f"| {host} | cpu_sum_squares | cpu | {variants.minor_of(v)}t |" in report
               for host, v in hosts.items())  # side by side in one headline table

    # Every comparison is within one results set: the baseline of each row is its own set's default
    # build of its own version. The arm legs are 3x slower, 3.14 is 0.8x 3.13's time: a baseline
    # from another set would be off by one of those factors.
    base = summary[summary["role"] == "baseline"].set_index(["host", "workload"])
    others = summary[summary["role"] != "baseline"]
    assert len(others) == len(hosts) * 2 * 2  # sets x workloads x (free-threaded, control)
    for row in others.itertuples():
        own = base.loc[(row.host, row.workload)]
        assert row.baseline == own.variant == variants.minor_of(hosts[row.host])
        assert row.baseline_best_time == pytest.approx(own.best_time, rel=1e-4)
        truth = TRUTH[hosts[row.host]]
        expected = truth["slowdown"] * (1 if row.role == "free-threaded" else synth.SLOWDOWN["3.13t-gil"] / 1.3)
        assert row.slowdown == pytest.approx(expected, rel=0.05)
    # The memory price, side by side: each free-threaded build's peak over its own version's default build.
    ratios = pd.read_csv(work / "results" / "ratios.csv", dtype={"variant": str})
    mem = ratios[ratios["metric"] == "memory_ratio"]
    assert len(mem) == len(hosts) * 2 * 2
    for row in mem.itertuples():
        assert row.baseline == f"{variants.minor_of(hosts[row.host])} sequential x1"
        assert row.value == pytest.approx(TRUTH[hosts[row.host]]["memory"], rel=0.01)
    assert "## The memory price" in report
    speed = summary[summary["role"] == "baseline"].groupby("host")["seq_time"].mean()
    x64, arm = "ubuntu-latest-x64-py{}", "ubuntu-24.04-arm-arm64-py{}"
    for v in TRUTH:
        assert speed[arm.format(v)] / speed[x64.format(v)] == pytest.approx(ARM_FACTOR, rel=0.05)
    assert speed[x64.format("3.14.0")] / speed[x64.format("3.13.99")] == pytest.approx(0.8, rel=0.05)
