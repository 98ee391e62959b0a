"""The embedded HTTP server that stands in for the lecture's two web sites.

The lecture downloads two real sites x 80. A benchmark cannot depend on the internet, so I/O
workloads fetch from this aiohttp server instead: run in its own process on 127.0.0.1 (so it never
competes with the benchmark for the benchmark's GIL), with a seeded latency per response
(``asyncio.sleep``: waiting, not working) and optional injected faults for reliability tests.

A request that names its page index (``?i=17``) waits ``page_delay(seed, latency, 17)``: the same
delay in every run, process and variant (common random numbers), so two interpreters compared on
160 pages wait for the same 160 delays and only their own work differs. Drawn in arrival order,
the delays alone would move a download's time from one run to the next by as much as the
interpreter overhead being measured. A request without an index draws in arrival order.

Run it alone with ``python -m harness.measure.server --port 0 --latency 0.02:0.05 --seed 0``: it prints
``READY <port>`` once listening and stops cleanly on SIGTERM or SIGINT. The runner uses
:class:`Server`. Only the standard library and aiohttp (imported inside functions, so importing
this module for :func:`body_for` stays cheap).

Endpoints: ``GET /page/{a|b}`` (the two sites), ``GET /health`` ("ok", no delay) and
``GET /stats`` (JSON counters: requests, faults, peak concurrency). Every page response carries
``X-Ftbench-Faults``, the number of faults injected so far, so a client that silently retried a
dropped request still learns that the server misbehaved.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

SITES = {"a": 20_000, "b": 1_500}  # body size in bytes: a big page and a small one
FAULTS_HEADER = "X-Ftbench-Faults"
BACKLOG = 4096  # listen queue: >= 2048 so a burst of 1000 connects is never refused
READY_TIMEOUT = 15.0  # seconds for the server process to import aiohttp and start listening


@functools.cache
def body_for(name: str) -> bytes:
    """The page of site ``name``: deterministic, so clients check it without asking the server."""
    size = SITES[name]  # KeyError for an unknown site
    head = f"<html><head><title>ftbench site {name}</title></head><body>\n".encode()
    lines, i = [head], 0
    while sum(map(len, lines)) < size:
        digest = hashlib.sha256(f"{name}:{i}".encode()).hexdigest()
        lines.append(f"<p>{name} {i:05d} {digest}</p>\n".encode())
        i += 1
    return b"".join(lines)[: size - len(b"</body></html>\n")] + b"</body></html>\n"


def raise_nofile_limit() -> int:
    """Raise the soft open-file limit to the hard one (1000 connections need 1000+ fds)."""
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to raise
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in (hard, 1 << 20, 65536):
        if target == resource.RLIM_INFINITY or target <= soft:
            continue
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            continue
    return soft


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``port``, or to an ephemeral port when that one is busy."""
    for candidate in (port, 0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
        try:
            sock.bind((host, candidate))
            return sock
        except OSError as exc:
            sock.close()
            if candidate == 0:
                raise
            print(f"harness.measure.server: port {port} unavailable ({exc}); using an ephemeral port",
                  file=sys.stderr, flush=True)
    raise AssertionError("unreachable")


def page_delay(seed: int, latency: tuple[float, float], index: str) -> float:
    """The delay of page ``index``: a pure function of the seed, so every run waits the same."""
    return random.Random(f"{seed}:latency:{index}").uniform(*latency)


def make_app(latency: tuple[float, float], seed: int, fail_rate: float, drop_rate: float):
    """The aiohttp application: two delayed pages, a health check and counters."""
    import asyncio

    from aiohttp import web

    delays = random.Random(f"{seed}:latency")
    faults = random.Random(f"{seed}:faults")
    stats = {"requests": 0, "faults": 0, "in_flight": 0, "max_in_flight": 0}

    async def page(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in SITES:
            raise web.HTTPNotFound()
        index = request.query.get("i")
        delay = delays.uniform(*latency) if index is None else page_delay(seed, latency, index)
        draw = faults.random()  # faults stay in arrival order: a reliability test wants them random
        stats["requests"] += 1
        stats["in_flight"] += 1
        stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
        try:
            await asyncio.sleep(delay)
        finally:
            stats["in_flight"] -= 1
        if draw < drop_rate + fail_rate:
            stats["faults"] += 1
        if draw < drop_rate:
            request.transport.abort()  # the connection dies without a response
            raise asyncio.CancelledError  # nothing left to answer; aiohttp ends the handler quietly
        headers = {FAULTS_HEADER: str(stats["faults"])}
        if draw < drop_rate + fail_rate:
            return web.Response(status=500, text="injected failure", headers=headers)
        return web.Response(body=body_for(name), content_type="text/html", headers=headers)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    app = web.Application()
    app.router.add_get("/page/{name}", page)
    app.router.add_get("/health", health)
    app.router.add_get("/stats", get_stats)
    return app


async def serve(sock: socket.socket, app, backlog: int = BACKLOG, watch_stdin: bool = False) -> None:
    """Serve ``app`` on ``sock`` until SIGTERM or SIGINT, then shut down cleanly.

    ``watch_stdin``: also stop at end of file on stdin, i.e. when the parent that holds the other
    end of the pipe dies without stopping us (killed by a timeout), so no server is left behind.
    """
    import asyncio
    import signal

    from aiohttp import web

    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await web.SockSite(runner, sock, backlog=backlog).start()
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if watch_stdin:
        fd = sys.stdin.fileno()

        def on_stdin() -> None:
            if not os.read(fd, 4096):  # end of file: the parent is gone
                stop.set()

        loop.add_reader(fd, on_stdin)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    await stop.wait()
    await runner.cleanup()


MAX_LATENCY = 60.0  # seconds: a page that waits longer is a hang, not a latency


def parse_latency(text: str) -> tuple[float, float]:
    """``"LO:HI"`` (or one number for both) as seconds, ``0 <= LO <= HI <= 60``, else ValueError.

    The one check of a latency range: the runner's CLI and this server's CLI both use it, so a range
    the runner accepts is never refused by the server half-way through a campaign.
    """
    low, sep, high = str(text).partition(":")
    expected = f"expected LO:HI seconds with 0 <= LO <= HI <= {MAX_LATENCY:g}, e.g. 0.02:0.05"
    try:
        bounds = (float(low), float(high if sep else low))
    except ValueError:
        raise ValueError(f"latency {text!r}: {expected}") from None
    if not all(math.isfinite(b) and 0 <= b <= MAX_LATENCY for b in bounds):
        raise ValueError(f"latency {text!r}: {expected}")
    if bounds[0] > bounds[1]:
        raise ValueError(f"latency {text!r}: LO must be <= HI (min <= max); did you mean {high}:{low}?")
    return bounds


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, not the usage block (and never a traceback)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def _typed(convert, ok, expected):
    """An argparse ``type=``: ``convert(text)`` when ``ok`` accepts it, else one line naming ``expected``."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r}: expected {expected}")
        return value
    return parse


def _latency(text: str) -> tuple[float, float]:
    try:
        return parse_latency(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv: list[str] | None = None) -> None:
    """``python -m harness.measure.server``: serve until SIGTERM, SIGINT or (optionally) stdin's end."""
    import asyncio

    parser = _Parser(prog="python -m harness.measure.server", description="The embedded HTTP server of ftbench.")
    rate = _typed(float, lambda v: math.isfinite(v) and 0 <= v <= 1, "a share between 0 and 1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_typed(int, lambda v: 0 <= v <= 65535, "a port 0..65535"), default=0,
                        help="0 or busy: an ephemeral port")
    parser.add_argument("--latency", type=_latency, default=(0.02, 0.05),
                        help=f"MIN:MAX seconds, 0 <= MIN <= MAX <= {MAX_LATENCY:g}")
    parser.add_argument("--seed", type=_typed(int, lambda v: True, "an integer"), default=0)
    parser.add_argument("--fail-rate", type=rate, default=0.0, help="share of pages answered 500")
    parser.add_argument("--drop-rate", type=rate, default=0.0, help="share of connections dropped")
    parser.add_argument("--backlog", type=_typed(int, lambda v: v >= 1, "an integer >= 1"), default=BACKLOG)
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes (the parent died)")
    args = parser.parse_args(argv)
    if args.fail_rate + args.drop_rate > 1:
        parser.error("need fail-rate + drop-rate <= 1")
    raise_nofile_limit()
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as e:
        print(f"{parser.prog}: error: cannot listen on {args.host}: {e}", file=sys.stderr)
        sys.exit(1)
    app = make_app(args.latency, args.seed, args.fail_rate, args.drop_rate)
    asyncio.run(serve(sock, app, args.backlog, args.exit_on_stdin_eof))


class Server:
    """The server in a child process: ``with Server() as s: fetch(s.url + "/page/a")``."""

    def __init__(self, latency: tuple[float, float] = (0.02, 0.05), seed: int = 0,
                 fail_rate: float = 0.0, drop_rate: float = 0.0, python: str = sys.executable,
                 port: int = 0):
        self.latency, self.seed, self.port = (float(latency[0]), float(latency[1])), seed, port
        self.fail_rate, self.drop_rate, self.python = fail_rate, drop_rate, python
        self.url: str | None = None
        self.returncode: int | None = None  # of the server process, once stopped
        self._proc: subprocess.Popen | None = None
        self._stderr = None

    def describe(self) -> dict:
        """The settings, for benchmark metadata."""
        return {"latency": f"{self.latency[0]}:{self.latency[1]}", "seed": self.seed,
                "fail_rate": self.fail_rate, "drop_rate": self.drop_rate, "backlog": BACKLOG,
                "python": self.python}

    def log(self) -> str:
        """What the server wrote on stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    @property
    def pid(self) -> int | None:
        """The server process's pid while it runs (the probe leaves its CPU out of the foreign load)."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> Server:
        """Start the server process and return once it answers /health (else raise, its stderr said)."""
        lo, hi = self.latency
        cmd = [self.python, "-m", "harness.measure.server", "--port", str(self.port), "--latency",
               f"{lo}:{hi}", "--seed", str(self.seed), "--fail-rate", str(self.fail_rate),
               "--drop-rate", str(self.drop_rate), "--exit-on-stdin-eof"]
        root = str(Path(__file__).resolve().parent.parent)  # so -m harness.measure.server imports
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p))
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
                                      stdin=subprocess.PIPE, start_new_session=True)
        try:
            port = self._wait_ready()
            self.url = f"http://127.0.0.1:{port}"
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _fail(self, why: str):
        raise RuntimeError(f"harness.measure.server did not start: {why}\n--- server stderr ---\n"
                           f"{self.log()}")

    def _wait_ready(self) -> int:
        lines: list[bytes] = []
        reader = threading.Thread(target=lambda: lines.append(self._proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(READY_TIMEOUT)
        if not lines:
            self._fail(f"no READY line within {READY_TIMEOUT} s")
        word, _, port = lines[0].decode(errors="replace").partition(" ")
        if word != "READY":
            self._proc.wait(5)
            self._fail(f"exited with code {self._proc.returncode}, stdout {lines[0]!r}")
        return int(port)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.read() == b"ok":
                        return
            except OSError as exc:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    self._fail(f"GET {self.url}/health failed: {exc}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Terminate, wait, kill if it lingers. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            proc.stdout.close()
            proc.stdin.close()
            self.returncode = proc.returncode

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    main()
