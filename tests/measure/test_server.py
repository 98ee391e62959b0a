"""The embedded server, for real: a child process on loopback, fetched by requests and aiohttp."""

import asyncio
import signal
import socket
import statistics
import subprocess
import sys
import time

import pytest
import requests

from harness.measure.server import (
    FAULTS_HEADER,
    SITES,
    Server,
    body_for,
    main,
    page_delay,
    parse_latency,
    raise_nofile_limit,
)

FAST = (0.001, 0.003)


@pytest.fixture(scope="module")
def server():
    with Server(latency=FAST) as s:
        yield s


def test_body_for_is_deterministic_with_the_sizes_of_the_two_sites():
    assert {name: len(body_for(name)) for name in SITES} == SITES
    assert body_for("a") != body_for("b")
    assert body_for("a").startswith(b"<html>") and body_for("a").endswith(b"</html>\n")
    with pytest.raises(KeyError):
        body_for("c")


def test_serves_health_pages_and_404(server):
    assert requests.get(server.url + "/health", timeout=5).text == "ok"
    for name in SITES:
        response = requests.get(f"{server.url}/page/{name}", timeout=5)
        assert response.status_code == 200 and response.content == body_for(name)
        assert response.headers[FAULTS_HEADER] == "0"
    assert requests.get(server.url + "/page/zzz", timeout=5).status_code == 404


def test_stop_ends_the_process_and_frees_the_port():
    s = Server(latency=FAST).start()
    port = int(s.url.rsplit(":", 1)[1])
    s.stop()
    assert s.returncode == 0, s.log()
    s.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=2)


def test_sigint_stops_cleanly():
    proc = subprocess.Popen([sys.executable, "-m", "harness.measure.server", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"READY ")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and b"Traceback" not in err, err


def test_server_exits_when_its_parent_is_killed():
    """A runner killed by a timeout must not leave its server behind (it has its own session)."""
    parent = subprocess.Popen(
        [sys.executable, "-c", "import time; from harness.measure.server import Server; "
         "s = Server(latency=(0.001, 0.003)).start(); print(s.url, flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE)
    url = parent.stdout.readline().decode().strip()
    assert requests.get(url + "/health", timeout=5).text == "ok"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/health", timeout=1)
        except requests.ConnectionError:
            return
        time.sleep(0.05)
    pytest.fail(f"server at {url} still answers after its parent died")


def test_start_fails_clearly_with_the_servers_stderr():
    with pytest.raises(RuntimeError, match="did not start(.|\n)*min <= max"):
        Server(latency=(0.05, 0.01)).start()


@pytest.mark.parametrize(("args", "message"), [
    (["--latency=0.05:0.02"], "argument --latency: latency '0.05:0.02': LO must be <= HI (min <= max); "
                              "did you mean 0.02:0.05?"),
    (["--latency=inf"], "argument --latency: latency 'inf': expected LO:HI seconds with 0 <= LO <= HI <= 60"),
    (["--latency=0:nan"], "argument --latency: latency '0:nan': expected LO:HI seconds"),
    (["--latency=-1"], "argument --latency: latency '-1': expected LO:HI seconds"),
    (["--latency=0:61"], "argument --latency: latency '0:61': expected LO:HI seconds"),
    (["--fail-rate=nan"], "argument --fail-rate: 'nan': expected a share between 0 and 1"),
    (["--drop-rate=2"], "argument --drop-rate: '2': expected a share between 0 and 1"),
    (["--fail-rate=0.6", "--drop-rate=0.6"], "need fail-rate + drop-rate <= 1"),
    (["--port=70000"], "argument --port: '70000': expected a port 0..65535"),
    (["--backlog=0"], "argument --backlog: '0': expected an integer >= 1"),
    (["--seed=x"], "argument --seed: 'x': expected an integer"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_server_arguments_exit_2_with_one_line(args, message, capsys):
    """Refused while parsing, before any socket: one line naming the argument, never argparse's usage."""
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == "", (out, err)
    (line,) = err.splitlines()
    assert line.startswith(f"python -m harness.measure.server: error: {message}"), line


def test_parse_latency_is_the_one_check():
    assert parse_latency("0.02:0.05") == (0.02, 0.05) and parse_latency("0") == (0.0, 0.0)
    assert parse_latency("60:60") == (60.0, 60.0)
    for bad in ("0.05:0.02", "inf", "0:inf", "nan", "0.01:nan", "-0.1", "0:60.5", "a:b", "1:2:3", ":", ""):
        with pytest.raises(ValueError, match=f"latency {bad!r}: "):
            parse_latency(bad)


def test_busy_port_falls_back_to_an_ephemeral_one():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with Server(latency=FAST, port=port) as s:
            assert not s.url.endswith(f":{port}")
            assert requests.get(s.url + "/health", timeout=5).text == "ok"
            assert f"port {port} unavailable" in s.log()


def test_latency_stays_in_bounds_without_a_nagle_stall():
    """Keep-alive requests at 20 ms: a Nagle + delayed-ACK stall would add ~40 ms to each."""
    with Server(latency=(0.02, 0.02)) as s, requests.Session() as session:
        session.get(s.url + "/page/a", timeout=5)  # opens the connection
        times = []
        for _ in range(10):
            start = time.perf_counter()
            assert len(session.get(s.url + "/page/a", timeout=5).content) == SITES["a"]
            times.append(time.perf_counter() - start)
    assert min(times) >= 0.02
    assert statistics.median(times) < 0.03, times


def test_latency_is_drawn_within_the_range():
    with Server(latency=(0.01, 0.04), seed=3) as s, requests.Session() as session:
        times = []
        for _ in range(12):
            start = time.perf_counter()
            session.get(s.url + "/page/b", timeout=5)
            times.append(time.perf_counter() - start)
    assert min(times) >= 0.01 and statistics.median(times) < 0.045
    assert max(times) - min(times) > 0.005  # drawn, not constant


def test_a_page_index_waits_the_same_in_every_run():
    """Common random numbers: page i waits page_delay(seed, latency, i) whatever arrived before it,
    so two runs (two processes, two interpreters) of the same 160 pages wait the same total."""
    lat = (0.02, 0.12)
    want = {i: page_delay(3, lat, str(i)) for i in (0, 1, 7)}
    assert want == {i: page_delay(3, lat, str(i)) for i in (0, 1, 7)}  # a pure function
    assert len(set(want.values())) == 3 and all(0.02 <= d <= 0.12 for d in want.values())
    assert page_delay(4, lat, "0") != want[0]  # the seed still chooses the draws
    with Server(latency=lat, seed=3) as s, requests.Session() as session:
        session.get(s.url + "/page/b", timeout=5)  # an unindexed request first: the stream moves on
        for order in ((7, 0, 1), (1, 7, 0)):
            for i in order:
                start = time.perf_counter()
                session.get(f"{s.url}/page/{'ab'[i % 2]}?i={i}", timeout=5)
                took = time.perf_counter() - start
                assert want[i] <= took < want[i] + 0.05, (i, took, want[i])


def test_holds_many_concurrent_connections():
    """1000 connections open at once (the server counts them), all answered, in bounded time."""
    import aiohttp

    n = 1000
    raise_nofile_limit()

    async def fetch_all(url):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            async def one(i):
                async with session.get(f"{url}/page/{'ab'[i % 2]}") as response:
                    return response.status, await response.read()
            return await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)

    with Server(latency=(0.5, 0.5)) as s:
        start = time.perf_counter()
        results = asyncio.run(fetch_all(s.url))
        elapsed = time.perf_counter() - start
        stats = requests.get(s.url + "/stats", timeout=5).json()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} errors, e.g. {errors[0]!r}"
    assert all(status == 200 and body == body_for("ab"[i % 2])
               for i, (status, body) in enumerate(results))
    assert stats["max_in_flight"] == n  # all held at once, not queued
    assert elapsed < 8, elapsed


def test_fail_rate_one_answers_every_page_with_500():
    with Server(latency=FAST, fail_rate=1.0) as s:
        statuses = {requests.get(s.url + "/page/a", timeout=5).status_code for _ in range(5)}
        assert statuses == {500}
        assert requests.get(s.url + "/health", timeout=5).text == "ok"
        assert requests.get(s.url + "/stats", timeout=5).json()["faults"] == 5


def test_drop_rate_one_drops_every_connection():
    import aiohttp

    async def aget(url):
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status

    with Server(latency=FAST, drop_rate=1.0) as s:
        with pytest.raises(requests.ConnectionError):
            requests.get(s.url + "/page/b", timeout=5)
        with pytest.raises(aiohttp.ClientError):
            asyncio.run(aget(s.url + "/page/b"))
        assert requests.get(s.url + "/health", timeout=5).text == "ok"
    assert s.returncode == 0 and "Traceback" not in s.log(), s.log()


def test_describe_records_the_settings():
    d = Server(latency=(0.02, 0.05), seed=7, fail_rate=0.1).describe()
    assert d["latency"] == "0.02:0.05" and d["seed"] == 7 and d["fail_rate"] == 0.1
    assert d["drop_rate"] == 0.0 and d["backlog"] >= 2048
