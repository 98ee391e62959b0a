"""The results store's guards: one machine per results set, published sets never written, one writer
per host x variant wherever its temporary directory is, and a full disk said in one line.

Fast: the campaign runs with a fake ``measure`` (tests/measure/test_campaign.py's); the lock is
contended by a second real process.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from test_campaign import PLANNED, FakeMeasure, _config, _snapshot

from harness.measure import campaign, results
from harness.provision import fingerprint


def _measured(tmp_path, host="h") -> Path:
    assert campaign.run(_config(tmp_path, host=host), PLANNED, measure=FakeMeasure()) == 0
    return tmp_path / "results" / "raw" / host


def _all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("fresh", [False, True], ids=["resume", "fresh"])
def test_a_published_set_is_never_written_even_with_fresh(tmp_path, capsys, fresh):
    raw = _measured(tmp_path)
    (raw / fingerprint.PUBLISHED).write_text("published\n")
    before = _all_files(raw)
    fake = FakeMeasure()
    capsys.readouterr()
    assert campaign.run(_config(tmp_path, fresh=fresh), PLANNED, measure=fake) == 2
    line = _one_error_line(capsys)
    assert "published results set" in line and "--host" in line and "--fresh" not in line
    assert fake.calls == [] and _all_files(raw) == before  # no .bak, no new file


def _another_machine(raw: Path) -> None:
    for state_path in raw.glob("*.state.json"):
        state = json.loads(state_path.read_text())
        state["machine"] = {**state["machine"], "cpu_model": "Another CPU", "id": "0123456789ab"}
        state_path.write_text(json.dumps(state))


def test_fresh_never_writes_into_another_machines_set(tmp_path, capsys):
    raw = _measured(tmp_path)
    _another_machine(raw)
    before = _all_files(raw)
    capsys.readouterr()
    assert campaign.run(_config(tmp_path, fresh=True), PLANNED, measure=FakeMeasure()) == 2
    line = _one_error_line(capsys)
    assert "another machine" in line and "Another CPU" in line and "--host" in line and "--fresh" not in line
    assert _all_files(raw) == before


def test_a_variant_never_measured_here_is_not_added_to_another_machines_set(tmp_path, capsys):
    """Another machine measured 3.13 only: 3.13t of this machine must not land beside it."""
    raw = _measured(tmp_path)
    _another_machine(raw)
    for v in ("3.13t", "3.13t-gil"):
        for path in raw.glob(f"{v}.*"):
            path.unlink()
    before = _all_files(raw)
    capsys.readouterr()
    config = _config(tmp_path, variants=("3.13t",), pythons=(("3.13t", sys.executable),))
    assert campaign.run(config, PLANNED, measure=FakeMeasure()) == 2
    assert "another machine" in _one_error_line(capsys)
    assert _all_files(raw) == before


HOLD_LOCK = """
import sys, time
from harness.measure.results import VariantStore
store = VariantStore(sys.argv[1], "h", "3.13t")
store.check({}, True)
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_is_beside_the_results_not_in_the_temporary_directory(tmp_path, monkeypatch):
    """Two campaigns with different TMPDIR into one results set: the second is refused."""
    (tmp_path / "tmp-a").mkdir()
    (tmp_path / "tmp-b").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "results")], cwd=REPO,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path / "tmp-a")},
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp-b"))
        monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() reads TMPDIR again
        store = results.VariantStore(tmp_path / "results", "h", "3.13t")
        with pytest.raises(results.ResultsError, match=f"being written by another ftbench run \\(pid {holder.pid}\\)"):
            store.check({}, True)
        other = results.VariantStore(tmp_path / "results", "h", "3.13")  # another variant: its own lock
        other.check({}, True)
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "results" / "raw").exists()  # a lock is not a result: raw/ holds results only


def test_a_full_disk_stops_the_campaign_in_one_line_keeping_what_was_recorded(tmp_path, capsys, monkeypatch):
    real = results.write_atomic
    writes = []

    def fill_up(path, text):
        writes.append(path)
        if len(writes) > 9:  # the first benchmark's three files on each of three variants, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(results, "write_atomic", fill_up)
    assert campaign.run(_config(tmp_path), PLANNED, measure=FakeMeasure()) == 2
    line = _one_error_line(capsys)
    raw = tmp_path / "results" / "raw" / "h"
    assert line.startswith("ftbench bench: error: cannot write ") and "No space left on device" in line
    assert "intact" in line and "resume" in line
    for v in ("3.13", "3.13t", "3.13t-gil"):
        state = json.loads((raw / f"{v}.state.json").read_text())
        assert list(state["benchmarks"]) == ["cpu_sum_squares/sequential/1"]
    monkeypatch.setattr(results, "write_atomic", real)
    fake = FakeMeasure()
    assert campaign.run(_config(tmp_path), PLANNED, measure=fake) == 0  # the same command resumes
    # the interrupted workload is measured again whole (its ratios pair within one invocation)
    assert {name for name, _, _ in fake.calls} == {"cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2"}
    for v in ("3.13", "3.13t", "3.13t-gil"):
        state = json.loads((raw / f"{v}.state.json").read_text())
        assert sorted(state["benchmarks"]) == ["cpu_sum_squares/sequential/1", "cpu_sum_squares/threads/2"]
    assert _snapshot(raw)


def test_a_damaged_state_file_is_named_as_damaged_not_as_another_machines(tmp_path, capsys):
    raw = _measured(tmp_path)
    (raw / "3.13t.state.json").write_text('{"settings": null, "benchmarks": {}}')
    capsys.readouterr()
    assert campaign.run(_config(tmp_path), PLANNED, measure=FakeMeasure()) == 2
    line = _one_error_line(capsys)
    assert "3.13t.state.json: not an ftbench state file" in line and "another machine" not in line
