"""harness.provision.interpreters: source resolution, the build cache and its stamp, variants, provenance, CLI.

Fast tests point XDG_CACHE_HOME into tmp_path and build a fake CPython (a configure script that
writes a Makefile installing a shell script as python; see conftest.FAKE_CONFIGURE), so the real
ensure() runs tar, configure, make, make install, verify and the stamp in milliseconds. The slow
test reuses (or builds) the real 3.13.5 and 3.13.5t.
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import REPO, fake_cpython_members, make_tarball

from harness.provision import interpreters
from harness.provision.interpreters import ProvisionError

VERSION = "3.13.99"  # not in KNOWN_SHA256: the tests choose the expected checksum
HOST_PYTHON = sys.executable


def _sha(path):
    return interpreters.sha256_of(path)


# --- source resolution ----------------------------------------------------------------------------


def test_explicit_local_tarball_is_accepted_without_copying_it(cache, fake_source):
    path, origin, digest = interpreters.resolve_source(VERSION, str(fake_source))
    assert path == fake_source.resolve() and origin == str(fake_source.resolve())
    assert digest == _sha(fake_source)
    assert not cache.exists()


def test_explicit_source_from_the_environment(cache, fake_source, monkeypatch):
    monkeypatch.setenv("FTBENCH_CPYTHON_SOURCE", str(fake_source))
    assert interpreters.resolve_source(VERSION)[0] == fake_source.resolve()


def test_missing_path_names_it(cache, tmp_path):
    missing = tmp_path / "nowhere" / "Python-3.13.99.tar.xz"
    with pytest.raises(ProvisionError, match=f"source tarball not found: {missing}"):
        interpreters.resolve_source(VERSION, str(missing))


def test_checksum_mismatch_is_refused_and_the_cache_untouched(cache, fake_source, monkeypatch):
    monkeypatch.setenv("FTBENCH_CPYTHON_SHA256", "0" * 64)
    with pytest.raises(ProvisionError, match=r"checksum mismatch .*expected 0{64}.*refusing"):
        interpreters.resolve_source(VERSION, str(fake_source))
    with pytest.raises(ProvisionError, match="checksum mismatch"):
        interpreters.ensure(VERSION, True, str(fake_source), log=lambda m: None)
    assert not cache.exists()
    monkeypatch.setenv("FTBENCH_CPYTHON_SHA256", _sha(fake_source))
    assert interpreters.resolve_source(VERSION, str(fake_source))[2] == _sha(fake_source)


def test_known_sha256_table_wins_over_the_environment(cache, fake_source, monkeypatch):
    monkeypatch.setitem(interpreters.KNOWN_SHA256, VERSION, "f" * 64)
    monkeypatch.setenv("FTBENCH_CPYTHON_SHA256", _sha(fake_source))
    with pytest.raises(ProvisionError, match="checksum mismatch"):
        interpreters.resolve_source(VERSION, str(fake_source))


def test_truncated_tarball_is_refused_and_the_cache_untouched(cache, fake_source, tmp_path):
    data = fake_source.read_bytes()
    truncated = tmp_path / "truncated.tar.xz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProvisionError, match=f"corrupt or truncated tarball {truncated}"):
        interpreters.resolve_source(VERSION, str(truncated))
    with pytest.raises(ProvisionError, match="corrupt or truncated tarball"):
        interpreters.ensure(VERSION, True, str(truncated), log=lambda m: None)
    assert not cache.exists()


def test_garbage_file_is_refused(cache, tmp_path):
    garbage = tmp_path / "Python-3.13.99.tar.xz"
    garbage.write_bytes(b"<html>404 not found</html>\n" * 50)
    with pytest.raises(ProvisionError, match="corrupt or truncated tarball"):
        interpreters.resolve_source(VERSION, str(garbage))


@pytest.mark.parametrize("members", [{"Python-3.13.98/configure": "#!/bin/sh\n", "README": "not it\n"},
                                     {"../../configure": "#!/bin/sh\n"}], ids=["another-version", "path-escape"])
def test_a_tarball_that_is_not_cpython_is_refused(cache, tmp_path, members):
    other = make_tarball(tmp_path / "Python-3.13.99.tar.xz", members)
    with pytest.raises(ProvisionError, match=r"is not the CPython 3\.13\.99 source \(no Python-3\.13\.99/configure"):
        interpreters.resolve_source(VERSION, str(other))
    with pytest.raises(ProvisionError, match="is not the CPython 3.13.99 source"):
        interpreters.ensure(VERSION, True, str(other), log=lambda m: None)
    assert not cache.exists()


def test_a_damaged_cached_source_is_refused_naming_the_file_and_kept(cache, fake_source, monkeypatch):
    digest = interpreters.sha256_of(fake_source)
    monkeypatch.setenv("FTBENCH_CPYTHON_SHA256", digest)
    kept = interpreters._keep(fake_source, VERSION, digest, "test")[0]
    with open(kept, "r+b") as f:  # a bit flipped on disk
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    damaged = kept.read_bytes()
    with pytest.raises(ProvisionError, match=f"checksum mismatch for {kept}.*delete {kept} to fetch it again"):
        interpreters.ensure(VERSION, True, log=lambda m: None)
    assert kept.read_bytes() == damaged and not (cache / "cpython").exists()


def test_gzip_tarball_is_accepted(cache, tmp_path):
    gz = make_tarball(tmp_path / "Python-3.13.99.tgz", fake_cpython_members(VERSION), mode="w:gz")
    assert interpreters.resolve_source(VERSION, str(gz))[2] == _sha(gz)


def test_unreachable_url_fails_in_one_line_and_leaves_no_temporary_dir(cache, monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(interpreters.tempfile, "tempdir", None)  # re-read TMPDIR
    with pytest.raises(ProvisionError, match=r"cannot download http://127\.0\.0\.1:9/") as e:
        interpreters.resolve_source(VERSION, "http://127.0.0.1:9/Python-3.13.99.tar.xz")
    assert "\n" not in str(e.value)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not cache.exists()


def test_no_source_anywhere_lists_the_three_ways(cache, monkeypatch, tmp_path):
    monkeypatch.setattr(interpreters, "PYTHON_ORG_URL", "http://127.0.0.1:9/Python-{v}.tar.xz")
    monkeypatch.setattr(interpreters, "DEBIAN_KEYRING", str(tmp_path / "no-keyring.gpg"))
    with pytest.raises(ProvisionError) as e:
        interpreters.resolve_source(VERSION)
    msg = str(e.value)
    assert "\n" not in msg
    for way in ("--source PATH_OR_URL", "FTBENCH_CPYTHON_SOURCE", "python.org", "apt access to Debian"):
        assert way in msg
    assert "python_org:" in msg and "debian:" in msg  # what each way said
    assert not (cache / "sources").exists()


def test_verified_copy_in_the_cache_is_used_before_the_network(cache, fake_source, monkeypatch):
    monkeypatch.setattr(interpreters, "PYTHON_ORG_URL", "http://127.0.0.1:9/never-{v}")
    digest = _sha(fake_source)
    kept, origin, got = interpreters._keep(fake_source, VERSION, digest, "test:origin")
    assert kept == cache / "sources" / "Python-3.13.99.tar.xz" and got == digest
    assert interpreters.resolve_source(VERSION) == (kept, "test:origin", digest)
    assert [p.name for p in kept.parent.iterdir() if ".tmp" in p.name] == []


# --- configure arguments, variants, versions -----------------------------------------------------


@pytest.mark.parametrize("optimized", [False, True])
def test_configure_args_identical_but_disable_gil(tmp_path, optimized):
    default = interpreters.configure_args(tmp_path, False, optimized)
    free = interpreters.configure_args(tmp_path, True, optimized)
    assert [a for a in free if a != "--disable-gil"] == default
    assert free.count("--disable-gil") == 1 and "--disable-gil" not in default
    pgo_lto = {"--enable-optimizations", "--with-lto"}
    assert (pgo_lto <= set(default)) is optimized and (pgo_lto <= set(free)) is optimized


def test_the_two_prefixes_differ_only_by_t(cache):
    assert interpreters.prefix_for("3.13.5", False) == cache / "cpython" / "3.13.5"
    assert interpreters.prefix_for("3.13.5", True) == cache / "cpython" / "3.13.5t"
    assert interpreters.executable("3.13.5", True).name == "python3.13t"
    assert interpreters.executable("3.13.5", False).name == "python3.13"


def test_variants_come_from_the_registry_with_their_environment():
    from harness import variants

    table = variants.registry("3.13.5")
    assert list(table) == ["3.13", "3.13t", "3.13t-gil"]
    assert [v.build.free_threaded for v in table.values()] == [False, True, True]
    assert [v.build.name for v in table.values()] == ["3.13", "3.13t", "3.13t"]
    assert table["3.13"].apply_env({"PYTHON_GIL": "1"}) == table["3.13t"].apply_env({"PYTHON_GIL": "1"}) == {}
    assert table["3.13t-gil"].apply_env({}) == {"PYTHON_GIL": "1"}
    assert [v.role for v in table.values()] == ["baseline", "free-threaded", "control"]
    assert variants.get("3.14t", variants.registry("3.14.0")).minor == "3.14"
    assert not hasattr(interpreters, "get_variant") and not hasattr(interpreters, "Variant")


def test_unknown_variant_names_the_choices():
    r = _cli("build", "nope")
    assert "unknown variant 'nope'; valid: 3.13, 3.13t, 3.13t-gil" in r.stderr
    r = _cli("build", "3.13t", "--cpython-version", "3.14.0")  # 3.14's variants are 3.14*
    assert "unknown variant '3.13t'; valid: 3.14, 3.14t, 3.14t-gil" in r.stderr


@pytest.mark.parametrize("version", ["3.12.1", "abc", "", "3.13", "3.13.5.1", " 3.13.5", None])
def test_bad_versions_are_refused(version):
    with pytest.raises(ProvisionError, match=r"unknown CPython version .*X\.Y\.Z with X\.Y >= 3\.13"):
        interpreters.minor_of(version)


def test_minor_of_good_versions():
    assert interpreters.minor_of("3.13.5") == "3.13"
    assert interpreters.minor_of("3.14.0") == "3.14"
    assert interpreters.minor_of("4.0.1") == "4.0"


# --- stamp, cache and lock ------------------------------------------------------------------------


def test_stamp_matches_only_the_same_source_and_args(tmp_path):
    args = interpreters.configure_args(tmp_path, True, False)
    assert not interpreters.stamp_matches(tmp_path, "a" * 64, args)  # no stamp: never reused
    interpreters.write_json_atomic(tmp_path / interpreters.STAMP,
                                   {"source_sha256": "a" * 64, "configure_args": args, "version": VERSION})
    assert interpreters.stamp_matches(tmp_path, "a" * 64, args)
    assert not interpreters.stamp_matches(tmp_path, "b" * 64, args)
    assert not interpreters.stamp_matches(tmp_path, "a" * 64, interpreters.configure_args(tmp_path, True, True))
    assert not interpreters.stamp_matches(tmp_path, "a" * 64, args[:-1])


@pytest.mark.parametrize("content", ["", "{", "[]", "null", '{"source_sha256": "aaa"}'])
def test_a_broken_stamp_never_matches(tmp_path, content):
    (tmp_path / interpreters.STAMP).write_text(content)
    assert not interpreters.stamp_matches(tmp_path, "aaa", ["--prefix=x"])


def test_write_json_atomic_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "x.json"
    target.write_text("old")
    interpreters.write_json_atomic(target, {"b": 1, "a": [2]})
    assert json.loads(target.read_text()) == {"a": [2], "b": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_lock_is_exclusive_and_released(tmp_path):
    path = tmp_path / "locks" / "3.13.5t.lock"
    with interpreters.locked(path), open(path) as other:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(path) as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again


def test_ensure_builds_verifies_stamps_then_reuses(cache, fake_source, no_header_checks, monkeypatch):
    builds, logs = [], []
    real_build = interpreters._build

    def build(*args, **kwargs):
        lock = cache / "locks" / f"{args[5]}.lock"  # the target: 3.13.99t, then 3.13.99t-opt
        with open(lock) as f, pytest.raises(BlockingIOError):  # ensure holds the target's lock
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        builds.append(args[3])
        return real_build(*args, **kwargs)

    monkeypatch.setattr(interpreters, "_build", build)
    python = interpreters.ensure(VERSION, True, str(fake_source), log=logs.append)
    prefix = cache / "cpython" / "3.13.99t"
    assert python == prefix / "bin" / "python3.13t" and len(builds) == 1
    stamp = json.loads((prefix / interpreters.STAMP).read_text())
    assert stamp == {"source_sha256": _sha(fake_source), "configure_args": builds[0], "version": VERSION}
    assert (cache / "logs" / "3.13.99t-build.log").read_text().count("fake configure") == 1
    assert not (cache / "build" / "3.13.99t").exists()  # the work tree is removed after the build

    assert interpreters.ensure(VERSION, True, str(fake_source), log=logs.append) == python
    assert len(builds) == 1 and "reusing" in logs[-1]

    optimized = interpreters.ensure(VERSION, True, str(fake_source), optimized=True, log=logs.append)
    assert len(builds) == 2  # another flavour: its own directory, the plain build stays cached
    assert optimized == cache / "cpython" / "3.13.99t-opt" / "bin" / "python3.13t"
    opt_stamp = json.loads((optimized.parent.parent / interpreters.STAMP).read_text())
    assert "--enable-optimizations" in opt_stamp["configure_args"]
    assert interpreters.ensure(VERSION, True, str(fake_source), log=logs.append) == python and len(builds) == 2


def test_provenance_is_written_beside_the_install(cache, fake_source, no_header_checks):
    interpreters.ensure(VERSION, True, str(fake_source), log=lambda m: None)
    interpreters.ensure(VERSION, False, str(fake_source), log=lambda m: None)
    ft, default = interpreters.provenance(VERSION, True), interpreters.provenance(VERSION, False)
    assert {"version", "build", "free_threaded", "source_sha256", "source_origin", "configure_args",
            "optimized", "compiler", "cc_version", "build_date", "build_seconds", "build_host"} <= set(ft)
    assert ft["source_sha256"] == default["source_sha256"] == _sha(fake_source)
    assert ft["source_origin"] == str(fake_source.resolve())
    assert (ft["build"], default["build"]) == ("3.13t", "3.13")
    assert ft["compiler"] == "fake cc 1.0" and ft["version"] == VERSION
    differ = set(ft["configure_args"]) ^ set(default["configure_args"])
    assert differ == {"--disable-gil", f"--prefix={cache}/cpython/3.13.99t", f"--prefix={cache}/cpython/3.13.99"}


def test_provenance_missing_or_corrupt_reads_as_empty(cache):
    assert interpreters.provenance(VERSION, True) == {}
    prefix = interpreters.prefix_for(VERSION, True)
    prefix.mkdir(parents=True)
    (prefix / interpreters.PROVENANCE).write_text("{trunc")
    assert interpreters.provenance(VERSION, True) == {}


def test_measure_records_the_provenance_of_the_running_interpreter(tmp_path, monkeypatch):
    from harness.measure import run as measure

    monkeypatch.setattr(sys, "base_prefix", str(tmp_path))
    assert measure.interpreter_provenance() == {"ftbench_source_sha256": "unknown"}
    interpreters.write_json_atomic(tmp_path / interpreters.PROVENANCE, {
        "source_sha256": "ab" * 32, "source_origin": "debian:trixie:python3.13",
        "configure_args": ["--prefix=/p", "--disable-gil"], "build_date": "2026-01-01T00:00:00+00:00",
        "compiler": "GCC 12.2.0"})
    assert measure.interpreter_provenance() == {
        "ftbench_source_sha256": "ab" * 32, "ftbench_source_origin": "debian:trixie:python3.13",
        "ftbench_configure_args": "--prefix=/p --disable-gil",
        "ftbench_build_date": "2026-01-01T00:00:00+00:00", "ftbench_compiler": "GCC 12.2.0",
        "ftbench_flavour": "plain"}
    interpreters.write_json_atomic(tmp_path / interpreters.PROVENANCE, {
        "configure_args": ["--enable-optimizations", "--with-lto"], "optimized": True})
    assert measure.interpreter_provenance()["ftbench_flavour"] == "optimized"


def test_a_prefix_without_stamp_is_not_reused(cache, fake_source, no_header_checks):
    python = interpreters.executable(VERSION, True)
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 99\n")  # a leftover of a build killed before its stamp
    python.chmod(0o755)
    logs = []
    interpreters.ensure(VERSION, True, str(fake_source), log=logs.append)
    assert any("building" in m for m in logs) and not any("reusing" in m for m in logs)
    assert "exit 99" not in python.read_text()


def test_a_build_killed_half_way_is_never_reused(cache, fake_source, tmp_path, no_header_checks):
    configuring = tmp_path / "configuring"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache.parent), "FTFAKE_HANG": str(configuring)}
    proc = subprocess.Popen([sys.executable, "-m", "harness.provision.interpreters", "build", "3.13t",
                             "--cpython-version", VERSION, "--source", str(fake_source)],
                            cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not configuring.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the build never reached configure"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build, its configure and its sleep
        proc.wait()
    prefix = interpreters.prefix_for(VERSION, True)
    python = interpreters.executable(VERSION, True)
    assert python.read_text() == "half\n"  # something that looks like an install is there...
    assert not (prefix / interpreters.STAMP).exists()  # ...but no stamp
    assert not interpreters.stamp_matches(prefix, interpreters.sha256_of(fake_source),
                                          interpreters.configure_args(prefix, True, False))
    logs = []
    assert interpreters.ensure(VERSION, True, str(fake_source), log=logs.append) == python  # lock free again
    assert any("building" in m for m in logs) and not any("reusing" in m for m in logs)
    assert python.read_text() != "half\n" and (prefix / interpreters.STAMP).exists()


def test_a_build_that_fails_verification_is_rejected_and_not_stamped(cache, fake_source, no_header_checks,
                                                                       monkeypatch):
    monkeypatch.setenv("FTFAKE_LIE", "1")  # the --disable-gil build claims Py_GIL_DISABLED=0
    with pytest.raises(ProvisionError, match=r"rejected: Py_GIL_DISABLED=0, _is_gil_enabled\(\)=True; "
                                             r"expected \(1, False\)"):
        interpreters.ensure(VERSION, True, str(fake_source), log=lambda m: None)
    prefix = interpreters.prefix_for(VERSION, True)
    assert not (prefix / interpreters.STAMP).exists() and not (prefix / interpreters.PROVENANCE).exists()


def test_a_failing_build_prints_the_log_tail_and_path(cache, fake_source, no_header_checks, monkeypatch):
    monkeypatch.setenv("FTFAKE_FAIL", "1")
    with pytest.raises(ProvisionError) as e:
        interpreters.ensure(VERSION, True, str(fake_source), log=lambda m: None)
    log = cache / "logs" / "3.13.99t-build.log"
    assert "configure: error: no acceptable C compiler (fake)" in str(e.value)
    assert f"full log: {log}" in str(e.value) and log.exists()
    assert not (interpreters.prefix_for(VERSION, True) / interpreters.STAMP).exists()


def test_two_builds_of_one_target_at_once_build_once(cache, fake_source, no_header_checks, monkeypatch):
    monkeypatch.setenv("FTFAKE_SLEEP", "0.5")  # the first build is still running when the second asks
    builds, logs, errors = [], [], []
    real_build = interpreters._build
    monkeypatch.setattr(interpreters, "_build", lambda *a, **k: (builds.append(1), real_build(*a, **k)))

    def one():
        try:
            interpreters.ensure(VERSION, True, str(fake_source), log=logs.append)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and len(builds) == 1
    assert sum("reusing" in m for m in logs) == 1


def test_missing_build_dependency_names_header_and_package_and_leaves_cache_alone(
        cache, fake_source, monkeypatch):
    monkeypatch.setattr(interpreters, "REQUIRED_HEADERS", {"ftbench_nonexistent.h": "libftbench-dev"})
    monkeypatch.setattr(interpreters, "OPTIONAL_HEADERS", {})
    with pytest.raises(ProvisionError) as e:
        interpreters.ensure(VERSION, True, str(fake_source), log=lambda m: None)
    assert str(e.value) == ("missing build dependencies: ftbench_nonexistent.h (libftbench-dev); "
                            "install them (apt-get install libftbench-dev)")
    assert not cache.exists()


# --- command line ---------------------------------------------------------------------------------


def _cli(*args, env_cache=None):
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(env_cache)} if env_cache else None
    return subprocess.run([HOST_PYTHON, "-m", "harness.provision.interpreters", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=60)


@pytest.mark.parametrize(("args", "message"), [
    (["build", "nope"], "unknown variant 'nope'; valid: 3.13, 3.13t, 3.13t-gil"),
    (["build", "3.13t", "--cpython-version", "3.12.1"], "unknown CPython version '3.12.1'"),
    (["path", "3.13t", "--cpython-version", "abc"], "unknown CPython version 'abc'"),
    (["build", "3.13t", "--cpython-version", "3.13.99", "--source", "/nonexistent/Python.tar.xz"],
     "source tarball not found: /nonexistent/Python.tar.xz"),
    (["path", "3.13t", "--cpython-version", "3.13.99"], "3.13t is not built yet: run `nox -s build-3.13t`"),
])
def test_cli_bad_input_is_one_line_and_nonzero(tmp_path, args, message):
    r = _cli(*args, env_cache=tmp_path)
    assert r.returncode == 1, r
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("ftbench: error: ")
    assert message in r.stderr and r.stdout == ""
    assert list(tmp_path.iterdir()) == []  # the cache untouched


def test_cli_builds_the_fake_source_and_prints_figures(tmp_path, fake_source):
    r = _cli("build", "3.13t", "3.13t-gil", "--cpython-version", VERSION, "--source", str(fake_source),
             env_cache=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("figure: 3.13.99t ready in") == 1  # 3.13t-gil is the same build
    assert "figure: harness time for 3.13t, 3.13t-gil:" in r.stdout
    path = _cli("path", "3.13t", "--cpython-version", VERSION, env_cache=tmp_path)
    assert path.stdout.strip() == str(tmp_path / "ftbench" / "cpython" / "3.13.99t" / "bin" / "python3.13t")


# --- the real builds --------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_builds_are_verified_and_share_one_source():
    version = interpreters.DEFAULT_VERSION
    infos = {}
    for ft in (False, True):
        python = interpreters.ensure(version, ft, log=print)
        assert python == interpreters.executable(version, ft) and python.exists()
        infos[ft] = interpreters.verify(python, version, ft)
    assert (infos[True]["gil_disabled"], infos[True]["gil_enabled"]) == (1, False)
    assert (infos[False]["gil_disabled"] or 0, infos[False]["gil_enabled"]) == (0, True)
    for info in infos.values():
        assert info["version"] == version
        assert all(ok is True for ok in info["imports"].values()), info["imports"]
        assert set(info["imports"]) == set(interpreters.VERIFY_IMPORTS)
    ft, default = interpreters.provenance(version, True), interpreters.provenance(version, False)
    assert ft["source_sha256"] == default["source_sha256"]
    if version in interpreters.KNOWN_SHA256:
        assert ft["source_sha256"] == interpreters.KNOWN_SHA256[version]
    strip = [a for a in ft["configure_args"] if not a.startswith("--prefix=")]
    assert [a for a in strip if a != "--disable-gil"] == \
        [a for a in default["configure_args"] if not a.startswith("--prefix=")]
    assert "--disable-gil" in strip and ft["compiler"] == default["compiler"]
    # the PYTHON_GIL=1 control: the very same 3.13t binary, with the GIL forced on
    r = subprocess.run([str(interpreters.executable(version, True)), "-c",
                        "import sys; print(sys._is_gil_enabled())"], capture_output=True, text=True,
                       env={"PYTHON_GIL": "1", "PATH": "/usr/bin:/bin"})
    assert r.stdout.strip() == "True"


@pytest.mark.slow
def test_cached_optimized_builds_are_pgo_lto_builds_of_the_same_source():
    """The optimized flavour, when one is cached (``nox -s build -- --optimized``; too slow for CI to make)."""
    version = interpreters.DEFAULT_VERSION
    prefixes = {ft: interpreters.prefix_for(version, ft, optimized=True) for ft in (False, True)}
    missing = [str(p) for p in prefixes.values() if not (p / interpreters.STAMP).exists()]
    if missing:
        pytest.skip(f"no optimized build cached ({', '.join(missing)}): nox -s build -- --optimized")
    prov = {ft: interpreters.provenance(version, ft, optimized=True) for ft in (False, True)}
    plain = interpreters.provenance(version, False)
    for ft, p in prov.items():
        assert p["optimized"] is True and {"--enable-optimizations", "--with-lto"} <= set(p["configure_args"])
        assert p["configure_args"][0] == f"--prefix={prefixes[ft]}"  # its own directory, never the plain one
        python = interpreters.executable(version, ft, optimized=True)
        info = interpreters.verify(python, version, ft)
        assert (info["gil_disabled"] or 0, info["gil_enabled"]) == ((1, False) if ft else (0, True))
        r = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_config_var('PY_CFLAGS_NODIST'))"],
                           capture_output=True, text=True, check=True)
        assert "-fprofile-use" in r.stdout and "-flto" in r.stdout, r.stdout  # PGO data used, LTO on
    assert prov[True]["source_sha256"] == prov[False]["source_sha256"]
    if plain:
        assert plain["source_sha256"] == prov[False]["source_sha256"]  # one source for both flavours
    strip = {ft: [a for a in p["configure_args"] if not a.startswith("--prefix=")] for ft, p in prov.items()}
    assert [a for a in strip[True] if a != "--disable-gil"] == strip[False]


# --- another CPython version needs no code change ------------------------------------------------------


def test_another_version_goes_through_build_cache_nox_variants_and_result_files(tmp_path, monkeypatch):
    """A fake CPython labelled 3.14.0: FTBENCH_CPYTHON_VERSION is the only change."""
    import os

    from harness import variants

    source = make_tarball(tmp_path / "Python-3.14.0.tar.xz", fake_cpython_members("3.14.0"))
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "xdg"), "FTBENCH_CPYTHON_VERSION": "3.14.0",
           "FTBENCH_CPYTHON_SHA256": _sha(source)}
    r = subprocess.run([HOST_PYTHON, "-m", "harness.provision.interpreters", "build", "3.14", "3.14t", "3.14t-gil",
                        "--source", str(source)], capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    for stage in ("configure", "compile", "install", "verify"):  # progress: each stage and its time
        assert f"3.14.0t: {stage}... (elapsed" in r.stdout and f"3.14.0t: {stage} done in" in r.stdout
    assert r.stdout.count("ready in") == 2  # two builds for three variants
    cache = tmp_path / "xdg" / "ftbench" / "cpython"
    assert sorted(p.name for p in cache.iterdir()) == ["3.14.0", "3.14.0t"]
    assert (cache / "3.14.0t" / "bin" / "python3.14t").exists()

    nox_list = subprocess.run([sys.executable, "-m", "nox", "--list"], capture_output=True, text=True, cwd=REPO,
                              env={**os.environ, "FTBENCH_CPYTHON_VERSION": "3.14.0"}, timeout=60)
    sessions = {ln.split()[1] for ln in nox_list.stdout.splitlines() if ln[:2] in ("- ", "* ")}
    assert {"build-3.14", "build-3.14t", "venv-3.14t", "bench-3.14", "bench-3.14t", "bench-3.14t-gil", "bench"} \
        <= sessions, nox_list.stdout
    assert not any("3.13" in s for s in sessions)

    monkeypatch.setenv("FTBENCH_CPYTHON_VERSION", "3.14.0")
    names = list(variants.registry())
    assert names == ["3.14", "3.14t", "3.14t-gil"]
    assert variants.baseline_of("3.14t").name == "3.14" and variants.get("3.14t-gil").apply_env({}) == \
        {"PYTHON_GIL": "1"}

    import pyperf

    from harness import metadata
    from harness.measure import campaign
    from harness.measure.config import PRECISION, Campaign
    from harness.measure.workload import discover

    def measure(p, v, r, args, url):
        meta = {"name": p.name, "loops": 1}
        metadata.put(meta, "gil_enabled", "no" if variants.get(v).role == "free-threaded" else "yes")
        return "ok", "", pyperf.Benchmark([pyperf.Run([1.0, 1.0], metadata=meta, collect_metadata=False)])

    config = Campaign(variants=tuple(names), pythons=tuple((v, sys.executable) for v in names), profile="quick",
                      size="tiny", results=tmp_path / "results", host="h", precision=PRECISION["quick"])
    w = discover()["cpu_sum_squares"]
    assert campaign.run(config, [campaign.Planned(w, "sequential", 1)], measure=measure) == 0
    assert sorted(p.name for p in (tmp_path / "results" / "raw" / "h").glob("*.json")) == \
        ["3.14.json", "3.14.state.json", "3.14t-gil.json", "3.14t-gil.state.json", "3.14t.json", "3.14t.state.json"]


def _chattr(path, flag: str) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@pytest.mark.parametrize("lock_file", ["absent", "immutable"])
def test_a_read_only_cache_serves_a_warm_build_and_refuses_a_cold_one_in_one_line(
        cache, fake_source, no_header_checks, lock_file):
    """A cache mounted read-only (here: chattr +i, which binds root too) still serves the builds it holds."""
    python = interpreters.ensure(VERSION, True, str(fake_source), log=lambda m: None)
    locks = cache / "locks"
    frozen = [cache]
    if lock_file == "absent":  # a cache copied without its lock files
        for lock in locks.iterdir():
            lock.unlink()
        locks.rmdir()
    else:
        frozen += [locks, *locks.iterdir()]
    if not all(_chattr(p, "+i") for p in frozen):
        for p in frozen:
            _chattr(p, "-i")
        pytest.skip("chattr +i is not available here")
    try:
        logs = []
        assert interpreters.ensure(VERSION, True, str(fake_source), log=logs.append) == python
        assert "reusing" in logs[-1] and "read-only" in logs[-1]
        with pytest.raises(ProvisionError, match="cannot build 3.13.99t-opt: the build cache .* is not writable"):
            interpreters.ensure(VERSION, True, str(fake_source), optimized=True, log=lambda m: None)
    finally:
        for p in frozen:
            _chattr(p, "-i")
