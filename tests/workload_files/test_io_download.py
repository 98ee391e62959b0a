"""io_download against a real embedded server: its pages arrive intact, every fault fails the run."""

import hashlib

import pytest
import requests

from harness.measure.server import Server, body_for
from harness.measure.strategies import run
from harness.measure.workload import CheckFailed, Context
from workloads.io_download import WORKLOAD, expected

FAST = (0.001, 0.003)


@pytest.fixture(scope="module")
def server():
    with Server(latency=FAST) as s:
        yield s


def download(strategy, url, workers=4, size="tiny"):
    ctx = Context(server_url=url, workers=workers)
    tasks = WORKLOAD.make_tasks(WORKLOAD.sizes[size], ctx)
    shared = WORKLOAD.setup(strategy, ctx)
    return tasks, run(strategy, WORKLOAD, tasks, workers, shared, ctx), shared


def test_tasks_alternate_the_two_sites():
    tasks = WORKLOAD.make_tasks({"k": 160}, Context(server_url="http://h:1"))
    assert len(tasks) == 160 and tasks[:3] == ["http://h:1/page/a?i=0", "http://h:1/page/b?i=1",
                                                "http://h:1/page/a?i=2"]
    assert sum(t.startswith("http://h:1/page/b?") for t in tasks) == 80
    assert len(set(tasks)) == 160  # every page its own index: its own delay, the same in every run
    assert WORKLOAD.sizes["default"]["k"] == 160 and WORKLOAD.needs_server


def test_a_download_gets_every_page_intact(server):
    """What a result is: (status, bytes, sha256, faults seen). Every strategy: test_workloads.py."""
    tasks, results, shared = download("sequential", server.url)
    assert len(results) == WORKLOAD.sizes["tiny"]["k"]
    WORKLOAD.check(tasks, results, shared)
    assert results[0] == (200, 20_000, hashlib.sha256(body_for("a")).hexdigest(), 0)


def test_check_counts_the_wrong_pages():
    tasks = ["http://h/page/a", "http://h/page/b", "http://h/page/a"]
    good = [expected(t) for t in tasks]
    WORKLOAD.check(tasks, good, None)
    for bad in [(500, 16, "x", 1), (200, 19_999, good[0][2], 0), good[0][:3] + (2,)]:
        with pytest.raises(CheckFailed, match="2 of 3 pages wrong"):
            WORKLOAD.check(tasks, [bad, good[1], bad], None)
    with pytest.raises(CheckFailed, match="2 results for 3"):
        WORKLOAD.check(tasks, good[:2], None)


@pytest.fixture(scope="module")
def failing():
    with Server(latency=FAST, fail_rate=1.0) as s:
        yield s


@pytest.fixture(scope="module")
def dropping():
    with Server(latency=FAST, drop_rate=1.0) as s:
        yield s


@pytest.mark.parametrize("strategy", ["sequential", "asyncio"])
def test_500s_fail_the_check(failing, strategy):
    tasks, results, shared = download(strategy, failing.url)
    with pytest.raises(CheckFailed, match="8 of 8 pages wrong"):
        WORKLOAD.check(tasks, results, shared)


@pytest.mark.parametrize("strategy", ["threads", "processes", "asyncio"])
def test_dropped_connections_fail_the_run(dropping, strategy):
    with pytest.raises(Exception) as caught:
        download(strategy, dropping.url)
    assert not isinstance(caught.value, AssertionError)


def test_a_dropped_request_retried_by_aiohttp_still_fails_the_check():
    """aiohttp retries an idempotent GET once when the server drops it: the fault must show.

    With one connection the fault draws are in task order: seed 4 drops one of the 8 requests
    once (the retry succeeds), seed 1 drops one twice in a row (the run raises).
    """
    with Server(latency=FAST, drop_rate=0.3, seed=4) as s:
        tasks, results, shared = download("asyncio", s.url, workers=1)
        assert requests.get(s.url + "/stats", timeout=5).json()["faults"] == 1
    assert all(status == 200 for status, *_ in results)  # the retry hid the drop from the status
    with pytest.raises(CheckFailed, match="pages wrong"):
        WORKLOAD.check(tasks, results, shared)
    with Server(latency=FAST, drop_rate=0.3, seed=1) as s, pytest.raises(Exception) as caught:
        download("asyncio", s.url, workers=1)
    assert not isinstance(caught.value, AssertionError)
