"""The lecture's I/O-bound task: download 160 pages, two sites x 80, alternating.

The lecture fetched two real sites with one ``requests.Session`` per worker (per thread through
``threading.local``, per process through the Pool ``initializer``) and with one
``aiohttp.ClientSession`` under asyncio: threads and asyncio win big because the work is waiting.
Here the sites are the embedded server (``harness.measure.server``, 20-50 ms per response, the
same delay for page i in every run: ``?i=``), and every page is checked against ``body_for`` by
length and sha256: a 500 or a dropped connection fails the run.
"""

import contextlib
import hashlib
import threading

from harness import CheckFailed, Context, Workload, io_sweep, paired
from harness.measure.server import FAULTS_HEADER, body_for

SITES = ("a", "b")  # the lecture's two URLs
TIMEOUT = 30.0  # seconds per request: a hung server fails the run instead of stalling it
_local = threading.local()  # one requests.Session per thread (the main thread of each process)


def make_tasks(params: dict, ctx: Context) -> list[str]:
    return [f"{ctx.server_url}/page/{SITES[i % len(SITES)]}?i={i}" for i in range(params["k"])]


def setup(strategy: str, ctx: Context) -> None:
    """Import the strategy's client library before the run, as the lecture does at module top.

    Forked Pool workers then inherit it instead of each paying for the import inside the timing.
    Only the one needed: an extension module that re-enables the GIL on 3.13t must not sneak in.
    """
    if strategy == "asyncio":
        import aiohttp  # noqa: F401
    else:
        import requests  # noqa: F401


def initializer(shared) -> None:
    """A fresh Session per worker: never one inherited through fork with its parent's sockets."""
    import requests

    _local.session = requests.Session()


def download(url: str) -> tuple[int, int, str, int]:
    """(status, body length, body sha256, faults the server had injected so far)."""
    session = getattr(_local, "session", None)
    if session is None:
        initializer(None)
        session = _local.session
    with session.get(url, timeout=TIMEOUT) as response:
        body = response.content
        faults = int(response.headers.get(FAULTS_HEADER, 0))
        return response.status_code, len(body), hashlib.sha256(body).hexdigest(), faults


@contextlib.asynccontextmanager
async def async_session(ctx: Context):
    """One aiohttp.ClientSession for the whole run; its pool holds ``workers`` connections."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=ctx.workers)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


async def adownload(url: str, session) -> tuple[int, int, str, int]:
    async with session.get(url) as response:
        body = await response.read()
        faults = int(response.headers.get(FAULTS_HEADER, 0))
        return response.status, len(body), hashlib.sha256(body).hexdigest(), faults


def expected(url: str) -> tuple[int, int, str, int]:
    body = body_for(url.rsplit("/", 1)[-1].split("?", 1)[0])
    return 200, len(body), hashlib.sha256(body).hexdigest(), 0


def check(tasks: list[str], results: list, shared) -> None:
    """Every page intact, and no fault injected (aiohttp retries a dropped GET once, silently)."""
    wrong = [(url, got) for url, got in paired(tasks, results)
             if tuple(got) != expected(url)]
    if wrong:
        url, got = wrong[0]
        raise CheckFailed(f"{len(wrong)} of {len(tasks)} pages wrong, e.g. {url}: "
                          f"(status, length, sha256, faults) = {tuple(got)}, "
                          f"expected {expected(url)}")


WORKLOAD = Workload(
    name="io_download",
    kind="io",
    description="download 160 pages, two sites x 80, from a server 20-50 ms away "
                "(the lecture's I/O task)",
    sizes={"tiny": {"k": 8}, "quick": {"k": 40}, "default": {"k": 160}, "rigorous": {"k": 160}},
    make_tasks=make_tasks,
    task=download,
    check=check,
    sweep=io_sweep,
    atask=adownload,
    async_session=async_session,
    initializer=initializer,
    setup=setup,
    needs_server=True,
    # Measured on 3.13: 64 interpreters x 160 pages 17 s (threads 0.2 s), all of it starting 64
    # interpreters that each import requests; and requests' charset_normalizer cannot load in one.
    not_applicable={"interpreters": "one interpreter per concurrent download (up to 64, each importing "
                                    "requests) measures interpreter startup, not waiting"},
    # One round of the 13 (strategy, workers) benchmarks takes about 16 s at K=160, most of it the
    # sequential run (160 x 35 ms = 5.6 s); the default profile runs 6 rounds, about 90 s. A round
    # of the sequential reference (3 variants x 2 values) takes about 36 s: the profile's 120 s
    # for deciding the slowdown would stop it at the 3-round minimum, so it gets 300 s (8 rounds).
    pyperf={"quick": {"processes": 1, "values": 2, "warmups": 0},
            "default": {"processes": 3, "values": 2, "warmups": 0, "reference_budget": 300.0},
            "rigorous": {"processes": 6, "values": 3, "warmups": 1}},
)
