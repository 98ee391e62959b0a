"""harness.analysis.claims and the report's verdicts: the lecture's claims judged three-valued."""

import pytest

pytest.importorskip("pandas")

from handmade import write_hand  # noqa: E402
from synth import model_results  # noqa: E402

from harness import analysis  # noqa: E402


@pytest.fixture
def hand(tmp_path):
    """Raw results whose ratios are computed by hand (handmade.write_hand)."""
    return write_hand(tmp_path)


def test_claims_three_valued(hand):
    claims = analysis.analyse(hand).claims
    verdict = claims.set_index(["variant", "claim_id"])["verdict"]
    # 1.0 / 1.1 with a noisy two-process sequential side (df = 1): not enough to confirm
    assert verdict[("3.13", "cpu-threads")] == "inconclusive"
    assert verdict[("3.13t", "cpu-threads")] == "refuted"  # 3x faster on 3.13t
    assert verdict[("3.13t", "ft-threads-parallel")] == "inconclusive"  # baseline seq: df = 1
    assert verdict[("3.13t", "ft-single-thread")] == "inconclusive"  # 2 processes, df = 1
    assert verdict[("3.13t-gil", "ft-single-thread")] == "inconclusive"
    assert verdict[("3.13", "cpu-processes")] == "inconclusive"  # 2x, but df = 1
    assert verdict[("3.13t-gil", "cpu-processes")] == "not measured"
    assert set(claims["verdict"]) <= {"confirmed", "refuted", "inconclusive", "not measured"}
    matrix = analysis.claims_matrix(claims)
    row = matrix[matrix["claim"].str.startswith("CPU: threads")].iloc[0]
    assert row["3.13t"].startswith("refuted") and row["3.13"].startswith("inconclusive")


def test_io_claims_from_the_model(tmp_path):
    model_results(tmp_path / "raw")
    claims = analysis.analyse(tmp_path / "raw").claims
    io = claims[claims["workload"] == "io_download"].set_index(["variant", "claim_id"])["verdict"]
    for variant in ("3.13", "3.13t", "3.13t-gil"):
        for cid in ("io-threads", "io-asyncio", "io-processes-less", "io-asyncio-best"):
            assert io[(variant, cid)] == "confirmed", (variant, cid)


def test_verdict_text(hand):
    text = analysis.verdict(analysis.summary_table(analysis.load_raw(hand)), "cpu_sum_squares")
    assert "**inconclusive**" in text and "threads x4" in text
    assert "from 4 threads on" in text
