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


def test_the_claims_quote_the_ratios_table_not_a_second_estimate(tmp_path):
    """The claims judge the rows of ratios.csv: the single-thread claim quotes the headline slowdown
    (from the confirmation rounds, paired), the I/O claims the speedup and vs_strategy rows, the
    free-threading claim the speedup_ratio row."""
    from synth import campaign_results

    from harness.analysis.values import fmt_ratio

    res = analysis.analyse(campaign_results(tmp_path / "raw", drift=0.3, seed=3))
    r, claims = res.ratios, res.claims.set_index(["workload", "variant", "claim_id"])

    def row(**where):
        sel = r
        for k, v in where.items():
            sel = sel[sel[k] == v]
        assert len(sel) == 1
        return sel.iloc[0]

    def text(x):
        return fmt_ratio(x["value"], x["ci_low"], x["ci_high"])

    slow = row(workload="cpu_sum_squares", variant="3.13t", metric="slowdown")
    assert slow["estimator"] == "paired" and slow["n_processes"] == 6
    measured = claims.loc[("cpu_sum_squares", "3.13t", "ft-single-thread"), "measured"]
    assert measured == f"sequential time / baseline's: {text(slow)}"
    vs = row(workload="io_download", variant="3.13", metric="vs_strategy", strategy="asyncio", workers=64,
             baseline="3.13 threads x64")
    assert text(vs) in claims.loc[("io_download", "3.13", "io-asyncio-best"), "measured"]
    sp = row(workload="io_download", variant="3.13t", metric="speedup", strategy="threads", workers=64)
    assert text(sp) in claims.loc[("io_download", "3.13t", "io-threads"), "measured"]
    ratio = row(workload="cpu_sum_squares", variant="3.13t", metric="speedup_ratio", strategy="threads", workers=2)
    assert text(ratio) in claims.loc[("cpu_sum_squares", "3.13t", "ft-threads-parallel"), "measured"]
