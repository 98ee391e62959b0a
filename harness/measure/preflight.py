"""Before a workload is measured on a variant: its requirements installed, its file loaded once there.

For every planned workload on every variant, before anything is measured (:func:`prepare`):

1. requirements: what the workload's file declares in ``requires=`` is installed for the variant's
   interpreter into a cached overlay (:mod:`harness.provision.requirements`). One that cannot be
   installed there (no wheel for the free-threaded build, say) leaves the workload unmeasured on
   that variant, said in one line naming the package and the cause; the other variants and
   workloads go on.
2. the load check: the variant's python imports the file with its overlay, as each measuring
   process will. An import that fails there is said in one line. On a free-threaded variant, an
   import that turns the GIL back on (an extension module that does not declare free-threading
   support: the interpreter warns, naming it, and ``sys._is_gil_enabled()`` becomes true) leaves
   the workload unmeasured there as ``gil re-enabled by <module>``, unless ``--allow-gil``: with
   the GIL on, its times would not be those of the free-threaded build.

The check runs one process per variant and overlay for all their files, and a fresh one after a
file turned the GIL on (the interpreter warns once, and the GIL stays on). Run as
``python -m harness.measure.preflight [--requirements-path DIR] FILE NAME [FILE NAME ...]`` it is
that process: one line per file on stdout, ``ftbench-preflight <json>``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from dataclasses import dataclass

from harness import variants
from harness.provision import requirements

PREFIX = "ftbench-preflight "
CHECK_TIMEOUT = 300.0  # seconds for one load-check process (imports only: far above any real one)


@dataclass(frozen=True)
class Ready:
    """What a workload runs with on a variant, or why it does not run there."""

    overlay: str = ""  # the directory of its installed requirements ('' : none)
    versions: tuple[tuple[str, str], ...] = ()  # (distribution, version) of the overlay
    refused: str = ""  # why it is not measured on this variant, one line ('' : it is)

    def describe(self) -> str:
        """``pkg==1.2,dep==3.4``: the installed requirements, as recorded with each run."""
        return ",".join(f"{n}=={v}" for n, v in self.versions)


NOTHING = Ready()


def gil_reenabled(modules: list[str]) -> str:
    """``gil re-enabled by <module>``: what a workload whose imports turn the GIL back on is recorded as."""
    return f"gil re-enabled by {','.join(modules) or 'an unnamed module'} when the workload loads"


def gil_refusal(modules: list[str]) -> str:
    """The recorded reason of a workload not measured on a free-threaded variant for its imports."""
    return f"{gil_reenabled(modules)} (--allow-gil to measure it with the GIL)"


def prepare(config, names: list[str], envs: dict[str, dict], log=print) -> dict[tuple[str, str], Ready]:
    """(variant, workload) -> :class:`Ready` for every variant of ``config`` and workload of ``names``.

    ``envs``: each variant's environment (its processes' own). ``log`` gets one line per install
    and per workload that will not be measured on a variant.
    """
    out: dict[tuple[str, str], Ready] = {}
    installed: dict[tuple[str, tuple[str, ...]], Ready] = {}  # variants sharing a python share overlays
    for v in config.variants:
        python = config.python_of(v)
        for name in names:
            requires = config.requirements_of(name)
            if not requires:
                continue
            key = (python, requires)
            if key not in installed:
                try:
                    o = requirements.ensure(python, requires, config.allow_source_builds, log=log)
                    installed[key] = Ready(o.path, o.versions)
                except requirements.RequirementError as e:
                    installed[key] = Ready(refused=str(e))
                    if e.log:
                        log(f"ftbench: pip's output for {', '.join(requires)} on {v}: {e.log}")
            out[(v, name)] = installed[key]
        checked = [n for n in names if config.file_of(n) and not out.get((v, n), NOTHING).refused]
        for overlay in dict.fromkeys(out.get((v, n), NOTHING).overlay for n in checked):
            group = [n for n in checked if out.get((v, n), NOTHING).overlay == overlay]
            for name, result in load_check(python, envs[v], overlay, [(config.file_of(n), n) for n in group]).items():
                reason = verdict(result, variants.get(v).role == "free-threaded", config.allow_gil)
                if reason:
                    out[(v, name)] = Ready(refused=reason)
                elif result.get("gil_reenabled_by"):
                    log(f"ftbench: {name} on {v}: {gil_reenabled(result['gil_reenabled_by'])}; "
                        "measured with the GIL (--allow-gil)")
        for name in names:
            if (reason := out.get((v, name), NOTHING).refused):
                log(f"ftbench: {name} on {v}: not measured: {reason}")
    return out


def verdict(result: dict, free_threaded: bool, allow_gil: bool) -> str:
    """Why a workload is not measured on a variant after its load check ('' : it is)."""
    if result.get("error"):
        return result["error"]
    if free_threaded and result.get("gil_reenabled_by") and not allow_gil:
        return gil_refusal(result["gil_reenabled_by"])
    return ""


def load_check(python: str, env: dict, overlay: str, entries: list[tuple[str, str]],
               timeout: float = CHECK_TIMEOUT) -> dict[str, dict]:
    """workload -> ``{"error": str, "gil_reenabled_by": [modules]}``: each file imported by ``python``.

    A process that ends early (after a file turned the GIL on, or died importing one) is followed by
    a fresh one for the files it did not reach.
    """
    results: dict[str, dict] = {}
    todo = list(entries)
    while todo:
        cmd = [python, "-m", "harness.measure.preflight", *(["--requirements-path", overlay] if overlay else []),
               *[x for entry in todo for x in entry]]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
            lines, code, tail = r.stdout.splitlines(), r.returncode, (r.stderr.strip().splitlines() or [""])[-1]
        except subprocess.TimeoutExpired:
            lines, code, tail = [], -1, f"no answer within {timeout:g} s"
        answered = [json.loads(ln[len(PREFIX):]) for ln in lines if ln.startswith(PREFIX)]
        for a in answered:
            results[a["name"]] = a
        todo = todo[len(answered):]
        if todo and (not answered or not answered[-1].get("gil_reenabled_by")):
            source, name = todo.pop(0)  # the process died on this file (or could not start)
            results[name] = {"name": name, "gil_reenabled_by": [],
                             "error": f"{source}: the interpreter failed loading it (exit status {code}"
                                      + (f": {tail[:200]})" if tail else ")")}
    return results


def check(entries: list[tuple[str, str]], overlay: str | None = None, emit=print) -> None:
    """In the variant's python: import each file as the measuring process does; ``emit`` one line each.

    Stops after a file turned the GIL on: the next ones need an interpreter whose GIL is off.
    """
    from harness.measure import probe
    from harness.measure.workload import LoadError, load

    for source, name in entries:
        before = probe.gil_enabled()
        error = ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                load(source, name, overlay=overlay)
            except LoadError as e:
                error = str(e)
            except Exception as e:  # noqa: BLE001 - a load() that raises anything else is the file's too
                error = f"{source}: {type(e).__name__}: {' '.join(str(e).split())}"
        modules = list(dict.fromkeys(m[1] for w in caught if (m := probe.GIL_MESSAGE.search(str(w.message)))))
        flipped = probe.gil_enabled() and not before
        emit(PREFIX + json.dumps({"name": name, "error": error,
                                  "gil_reenabled_by": (modules or ["an unnamed module"]) if flipped else []}))
        if flipped:
            return


def main(argv: list[str]) -> int:
    """``[--requirements-path DIR] FILE NAME ...``: the load check of :func:`check`."""
    overlay = None
    if argv[:1] == ["--requirements-path"]:
        overlay, argv = argv[1], argv[2:]
    check(list(zip(argv[::2], argv[1::2], strict=True)), overlay, emit=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
