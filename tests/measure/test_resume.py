"""A resumed campaign: rounds pair only within one invocation, and a resumed workload gets a pair.

Round 1 of a resumed campaign is not the minute of round 1 before it: on a machine whose speed
moved between the two calls, pairing them compares two machines. Every run records its
``invocation``; a workload any variant still owes is measured again whole, on every variant, so
each ratio has a pair in the new invocation, and the earlier runs stay in the files beside it.
"""

from __future__ import annotations

import random

import pyperf
import pytest
from test_campaign import NAMES, PLANNED, _config, fake_bench

from harness import intervals, metadata
from harness.measure import campaign
from harness.measure.config import PRECISION
from harness.measure.stopping import round_means

SEQ, THR = (p.name for p in PLANNED)


class TwoCalls:
    """Every variant equally fast (a true slowdown of 1.00), on a machine ``slower`` times slower in
    the second campaign call; in the first, 3.13t's sequential run fails in its second round."""

    def __init__(self, slower: float = 1.34):
        self.call, self.slower, self.calls, self.failed = 1, slower, [], False
        self.rng = random.Random(5)

    def __call__(self, p, v, r, pyperf_args, url):
        self.calls.append((self.call, p.name, v, r))
        if self.call == 1 and p.name == SEQ and v == "3.13t" and r == 2 and not self.failed:
            self.failed = True  # once: the sweep's run, not the confirmation's
            return "failed", "RuntimeError: lost", None
        t = (0.5 if p.strategy == "threads" else 1.0) * (self.slower if self.call == 2 else 1.0)
        return "ok", "", fake_bench(t * (1 + self.rng.gauss(0, 0.01)), v, name=p.name)


def _suite(tmp_path, v):
    return pyperf.BenchmarkSuite.load(str(tmp_path / "results" / "raw" / "h" / f"{v}.json"))


def _invocations(bench) -> list:
    return [metadata.get(r.get_metadata(), "invocation") for r in bench.get_runs()]


def _resumed(tmp_path) -> TwoCalls:
    fake = TwoCalls()
    config = _config(tmp_path, profile="default", precision=PRECISION["default"])
    assert campaign.run(config, PLANNED, measure=fake) == 1
    fake.call = 2
    assert campaign.run(config, PLANNED, measure=fake) == 0
    return fake


def test_a_resumed_workload_is_measured_again_whole_on_every_variant_and_keeps_its_earlier_runs(tmp_path, capsys):
    fake = _resumed(tmp_path)
    second = {(name, v) for call, name, v, _ in fake.calls if call == 2}
    assert {(p.name, v) for p in PLANNED for v in NAMES} <= second  # every benchmark, every variant
    assert "resumed: measured again whole, its 5 earlier benchmark(s) keep their runs" in capsys.readouterr().out
    first_inv = set(_invocations(_suite(tmp_path, "3.13").get_benchmark(THR))[:1])
    for v in NAMES:
        suite = _suite(tmp_path, v)
        for name in (SEQ, THR, f"{SEQ}/confirm", f"{THR}/confirm"):
            invs = _invocations(suite.get_benchmark(name))
            if v == "3.13t" and name == SEQ:  # failed in the first call: nothing of it was stored
                assert len(set(invs)) == 1 and not set(invs) & first_inv
            else:  # the first call's runs first, as measured, then the second's
                assert len(set(invs)) == 2 and invs[0] in first_inv and invs == sorted(invs, key=invs.index)
    calls = len(fake.calls)
    assert campaign.run(_config(tmp_path, profile="default", precision=PRECISION["default"]), PLANNED,
                        measure=fake) == 0
    assert len(fake.calls) == calls  # complete now: nothing measured again


def _verdict(num: dict, den: dict) -> tuple[float, str]:
    value, low, high, _ = intervals.paired_ratio_interval(num, den)
    return value, intervals.ratio_verdict(low, high)


def _by_round_only(bench) -> dict:
    """What pairing by round number alone would see (the mistake): every call's round r merged."""
    merged: dict = {}
    for (_, r), m in round_means(bench).items():
        merged.setdefault(r, []).append(m)
    return {r: sum(m) / len(m) for r, m in merged.items()}


def test_a_true_slowdown_of_one_stays_one_after_a_resume_on_a_machine_that_moved(tmp_path):
    """The machine is 1.34x slower in the second call and 3.13t's sweep reference exists only there.

    Paired by (invocation, round), the slowdown of 3.13t is estimated on the second call's rounds,
    where both references ran side by side: 1.00, equivalent. Paired by round number alone, round r
    of the baseline would average both calls against 3.13t's second call only: 'greater'."""
    _resumed(tmp_path)
    base, ft = _suite(tmp_path, "3.13"), _suite(tmp_path, "3.13t")
    for name in (SEQ, f"{SEQ}/confirm"):
        value, verdict = _verdict(round_means(ft.get_benchmark(name)), round_means(base.get_benchmark(name)))
        assert value == pytest.approx(1.0, abs=0.02) and verdict == "equivalent", (name, value, verdict)
    value, verdict = _verdict(_by_round_only(ft.get_benchmark(SEQ)), _by_round_only(base.get_benchmark(SEQ)))
    assert value > 1.1 and verdict == "greater"  # the cross-invocation pair this layout never makes
    # every sweep run of an option has its own variant's reference in the same (invocation, round),
    # but where the reference failed (3.13t's first call: a failed benchmark stores no runs)
    second = _invocations(ft.get_benchmark(SEQ))[0]
    for v in NAMES:
        suite = _suite(tmp_path, v)
        option, reference = (set(round_means(suite.get_benchmark(n))) for n in (THR, SEQ))
        assert {k for k in option if v != "3.13t" or k[0] == second} <= reference


def test_a_set_measured_under_the_previous_round_rule_is_never_resumed(tmp_path, capsys):
    """A set of the reference-until-decided rule (rounds "workload") is refused in one line, exit 2."""
    import json

    config = _config(tmp_path, profile="default", precision=PRECISION["default"])
    assert campaign.run(config, PLANNED, measure=TwoCalls()) == 1
    for v in NAMES:
        path = tmp_path / "results" / "raw" / "h" / f"{v}.state.json"
        state = json.loads(path.read_text())
        state["settings"]["rounds"] = "workload"
        path.write_text(json.dumps(state))
    capsys.readouterr()
    fake = TwoCalls()
    assert campaign.run(config, PLANNED, measure=fake) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rounds: 'workload' then" in err[0] and fake.calls == []
