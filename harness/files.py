"""Writing files so that nothing measured is ever half-written, and one writer at a time.

The one atomic-write helper and the one file-lock helper of the whole package (stdlib only): a
write goes to a temporary file in the same directory, is flushed to disk, then renamed over the
old one, so a kill at any moment leaves the previous or the new complete file. JSON is written
strict (``allow_nan=False``): a NaN or infinity is a bug to report, not a token to hide.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path


class Busy(Exception):
    """Another process holds the lock; ``holder`` is the pid it wrote, if any."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"{path} is held by pid {holder}")
        self.path, self.holder = path, holder


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a synced temporary file renamed over it: never half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data) -> None:
    """Strict JSON (a NaN raises ValueError before anything is written), atomically."""
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n")


@contextlib.contextmanager
def locked(path: Path):
    """Wait for, then hold, an exclusive lock on ``path`` (e.g. two builds of one target)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


LOCKS = ".locks"  # under a results directory: the writers' lock files (hidden: no results set, never committed)


def results_lock(results: Path, name: str):
    """:func:`try_lock` on ``results/.locks/<name>.lock``: beside the results it protects.

    Beside, not under the temporary directory: two writers with different ``TMPDIR`` (or on two
    machines sharing the results over a network file system) must meet on the same file.
    """
    return try_lock(Path(results) / LOCKS / f"{name}.lock")


def try_lock(path: Path):
    """Take an exclusive lock on ``path`` without waiting, or raise :class:`Busy`.

    Returns the open file: the lock lasts until it is closed or the process ends. The holder's pid
    is written into it, so the next one can say who holds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise Busy(path, holder) from None
    f.truncate(0)
    f.write(str(os.getpid()))
    f.flush()
    return f
