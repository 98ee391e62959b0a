"""What a variant's processes run with: their environment, and the one interpreter of the server.

A variant changes only the interpreter under test and its own variables
(``variants.get(v).apply_env``: the control gets PYTHON_GIL=1 from the registry, never from its
name). Everything else is the same for every variant: the pure-Python aiohttp stack (free-threaded
builds have no accelerated wheels, so the baseline must not use them either, unless
``--native-accelerators``), the foreign-load threshold, and the embedded I/O server, which runs on
one interpreter whatever the client (:func:`server_python`, recorded as ``server_python``).
"""

from __future__ import annotations

import os
import subprocess
import sys

from harness import variants
from harness.measure.accounting import SERVER_PID_ENV, THRESHOLD_ENV
from harness.measure.config import Campaign

# Pure-Python aiohttp stack on every variant: free-threaded builds have no accelerated wheels, so the
# baseline must not use them either.
PURE_PYTHON_ENV = ("AIOHTTP_NO_EXTENSIONS", "YARL_NO_EXTENSIONS", "MULTIDICT_NO_EXTENSIONS",
                   "PROPCACHE_NO_EXTENSIONS", "FROZENLIST_NO_EXTENSIONS")
# What pyperf passes on to its worker processes (it starts them with a filtered environment).
FORWARDED_ENV = PURE_PYTHON_ENV + ("FTBENCH_C_EXTENSIONS", "FTBENCH_WORKLOAD_PATH",
                                   "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
C_EXTENSIONS_ENV = "FTBENCH_C_EXTENSIONS"  # the orchestrator's answer of c_extensions(), for every run


def variant_env(config: Campaign, variant: str, base: dict | None = None) -> dict:
    """The environment of a variant's processes: the aiohttp stack choice, then the variant's own variables."""
    env = dict(os.environ if base is None else base)
    for key in PURE_PYTHON_ENV:
        env.pop(key, None)
        if config.accelerators == "pure":
            env[key] = "1"
    env[THRESHOLD_ENV] = repr(config.foreign_threshold)
    env.pop(SERVER_PID_ENV, None)  # set only while this campaign's server runs
    return variants.get(variant).apply_env(env)


def server_python(config: Campaign) -> str:
    """One interpreter for the embedded server whatever the variant: the baseline's, else the configured one."""
    for v in config.variants:
        if variants.get(v).role == "baseline":
            return config.python_of(v)
    return config.server_python or config.python_of(config.variants[0])


C_EXTENSIONS_CHECK = """
found = []
try:
    import multidict
    from aiohttp import http_parser
    from yarl import _quoting
    found.append("aiohttp=" + ("yes" if http_parser.HttpResponseParser.__module__.endswith("_http_parser") else "no"))
    found.append("yarl=" + ("yes" if _quoting._Quoter.__module__.endswith("_c") else "no"))
    found.append("multidict=" + ("yes" if multidict.MultiDict.__module__ == "multidict._multidict" else "no"))
except ImportError as e:
    found.append(f"unavailable({e.name})")
print(",".join(found))
"""


def c_extensions(env: dict, python: str = sys.executable) -> str:
    """Whether the aiohttp stack runs its C extensions under ``env``.

    Asked once per variant by the orchestrator and recorded on every run (``c_extensions``):
    importing aiohttp in every pyperf worker would cost seconds per process.
    """
    r = subprocess.run([python, "-c", C_EXTENSIONS_CHECK], env=env, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"
