"""Know the noise before measuring: a calibration of this machine's process-to-process spread.

A shared VM of one label can be quiet one day and 15% noisy the next while its load readings stay
near zero: the noise falls on caches and branch predictors shared with neighbours, which no load
figure shows. So a campaign first measures it (at most CALIBRATION_SECONDS): a few short worker
processes per variant, interleaved (A B C, C B A, ...), each timing a fixed pure-Python kernel
(the shape of the CPU workloads) VALUES times with the speed canaries (harness.measure.canary)
before and after each value. From them:

* the *machine noise*: the spread (coefficient of variation) of the kernel's process means, per
  variant, pooled over the variants (root mean square): the process is the unit of replication, so
  this is what every interval of the campaign will see;
* the canary's tracking: the correlation of the kernel's and the canary's log process means
  (and of the values within a process), the figure that says whether adjusting for it can help;
* steal time and foreign load during the calibration (``/proc/stat``), the 1-minute load average,
  and pyperf-style system checks: CPU frequency scaling (governor, turbo), ASLR, isolated CPUs.

It prints what the noise means for this campaign (:func:`advice`: the rounds a reference needs to
decide a ratio at the margin, what the reference's cap gives instead) and records everything in
each variant's state file (``calibrations``, one entry per invocation; REPORT.md shows them).

``python -m harness.measure.calibration --worker`` is the worker (run by :func:`calibrate` on each
variant's python, with its environment); ``python -m harness.measure.calibration PYTHON...``
calibrates those interpreters and prints the result. Stdlib only.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

CALIBRATION_SECONDS = 20.0  # the whole calibration, at most (no process starts that would not fit)
PROCESSES = 10  # worker processes per variant (at least MIN_PROCESSES when the time runs short)
MIN_PROCESSES = 3
VALUES = 5  # kernel values per worker process
KERNEL_N = 800_000  # sum(i * i for i in range(n)): ~30-60 ms on the 2-core VMs
WORKER_TIMEOUT = 30.0  # seconds: a worker that takes longer is given up (the calibration goes on)
BUSY_CORES = 0.10  # foreign load plus steal during the calibration that is worth a warning (the flag's threshold)
LOADED = 1.0  # 1-minute load average worth a warning: a core's worth (it lags, so less can be the last minute's)
SYSFS_CPU = "/sys/devices/system/cpu"
PROC = "/proc"


# --- the worker (runs on the interpreter under test) --------------------------------------------------


def kernel(n: int = KERNEL_N) -> float:
    """Seconds of the fixed kernel: the allocating pure-Python loop of the CPU workloads."""
    t0 = time.perf_counter()
    sum(i * i for i in range(n))
    return time.perf_counter() - t0


def worker(values: int = VALUES) -> dict:
    """One calibration process: the kernel's values and the canaries' times before and after each."""
    from harness.measure import canary

    kernel(KERNEL_N // 10)  # warm the code paths
    out: dict = {"kernel": [], "canary": [], "canary_c": []}
    for _ in range(values):
        before = (canary.python_canary(), canary.c_canary())
        out["kernel"].append(kernel())
        after = (canary.python_canary(), canary.c_canary())
        out["canary"].append([before[0], after[0]])
        out["canary_c"].append([before[1], after[1]])
    return out


# --- system checks (pyperf-style) ------------------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def system_checks() -> dict:
    """What can make this machine's speed vary, each with its finding (pyperf's ``system show`` spirit)."""
    aslr = _read(f"{PROC}/sys/kernel/randomize_va_space")
    governors = sorted({g for c in range(os.cpu_count() or 1)
                        if (g := _read(f"{SYSFS_CPU}/cpu{c}/cpufreq/scaling_governor"))})
    no_turbo = _read(f"{SYSFS_CPU}/intel_pstate/no_turbo")
    boost = _read(f"{SYSFS_CPU}/cpufreq/boost")
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        load = None
    checks = {
        "aslr": {"0": "off", "1": "partial", "2": "full randomization"}.get(aslr or "", "unknown"),
        "frequency_scaling": (f"governor {', '.join(governors)}" if governors
                              else "no cpufreq driver (a VM runs at its host's clock)"),
        "turbo": ("off" if no_turbo == "1" or boost == "0" else "on" if no_turbo == "0" or boost == "1"
                  else "unknown"),
        "isolated_cpus": _read(f"{SYSFS_CPU}/isolated") or "none",
        "load_avg_1min": load,
    }
    warnings = []
    if governors and governors != ["performance"]:
        warnings.append(f"CPU frequency scaling is on ({checks['frequency_scaling']}): the clock follows "
                        "the load; 'performance' keeps it fixed (pyperf system tune)")
    if checks["turbo"] == "on":
        warnings.append("turbo boost is on: the clock depends on temperature and the other cores")
    if load is not None and load >= LOADED:
        warnings.append(f"1-minute load average {load:.2f} before the campaign: something else runs")
    checks["warnings"] = warnings
    return checks


def _cpu_now() -> tuple | None:
    """(machine busy, steal, CPU of this process and its waited-for children), seconds; None without /proc."""
    from harness.measure import accounting

    try:
        busy, steal = accounting.machine_cpu()
    except (OSError, ValueError, IndexError):
        return None
    return busy, steal, accounting.own_cpu()


# --- the orchestrator's side ------------------------------------------------------------------------------


def _run_worker(python: str, env: dict | None, values: int) -> tuple[dict | None, str]:
    """One worker process of ``python``: its times, or None and why."""
    cmd = [python, "-m", "harness.measure.calibration", "--worker", "--values", str(values)]
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, f"a calibration process took over {WORKER_TIMEOUT:g} s"
    except OSError as e:
        return None, str(e)
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).strip().splitlines()
        return None, lines[-1][:300] if lines else f"exit status {r.returncode}"
    try:
        return json.loads(r.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, "unreadable calibration output"


def measure(pythons: dict[str, str], envs: dict[str, dict] | None = None, processes: int = PROCESSES,
            values: int = VALUES, seconds: float = CALIBRATION_SECONDS, clock=time.monotonic) -> dict:
    """Run the calibration's workers, interleaved by variant; their samples and the machine's CPU meanwhile.

    ``pythons``: variant -> interpreter. A round (one process per variant) is not started when the
    rounds so far say it would end after ``seconds``, once MIN_PROCESSES rounds are done.
    """
    names = list(pythons)
    samples: dict[str, list] = {v: [] for v in names}
    errors: dict[str, str] = {}
    start, cpu0 = clock(), _cpu_now()
    for r in range(processes):
        spent = clock() - start
        if r >= MIN_PROCESSES and spent + spent / r > seconds:
            break
        for v in (names if r % 2 == 0 else names[::-1]):
            if v in errors:
                continue
            got, why = _run_worker(pythons[v], (envs or {}).get(v), values)
            if got is None:
                errors[v] = why
            else:
                samples[v].append(got)
    wall, cpu1 = clock() - start, _cpu_now()
    machine = {}
    if cpu0 and cpu1 and wall > 0:
        busy, steal, own = (b - a for a, b in zip(cpu0, cpu1, strict=True))
        cores = os.cpu_count() or 1
        machine = {"steal_cores": min(max(steal, 0.0) / wall, cores),
                   "foreign_cores": min(max(busy - own, 0.0) / wall, cores)}
    return {"samples": samples, "errors": errors, "seconds": wall, **machine}


def _log_mean(xs) -> float:
    return statistics.fmean(math.log(x) for x in xs)


def _cv(xs) -> float:
    return statistics.stdev(xs) / statistics.fmean(xs) if len(xs) > 1 else math.nan


def _correlation(x, y) -> float:
    try:
        return statistics.correlation(x, y)
    except (statistics.StatisticsError, ValueError, ZeroDivisionError):
        return math.nan


def variant_summary(samples: list[dict]) -> dict:
    """One variant's figures from its worker processes' samples.

    process_cv: spread of the kernel's process means; value_cv: of the values within a process
    (pooled); canary_r / canary_c_r: correlation of the kernel's log process means with each
    canary's; *_value_r: the same between a value and the mean of its two canaries, within processes.
    """
    kernels = [s["kernel"] for s in samples]
    out = {"processes": len(samples), "values": sum(len(k) for k in kernels),
           "kernel_seconds": statistics.fmean(statistics.fmean(k) for k in kernels) if kernels else math.nan,
           "process_cv": _cv([statistics.fmean(k) for k in kernels]),
           "value_cv": math.sqrt(statistics.fmean(_cv(k) ** 2 for k in kernels)) if kernels else math.nan}
    for name in ("canary", "canary_c"):
        per_value = [[_log_mean(pair) for pair in s[name]] for s in samples]  # log of each value's canaries
        out[f"{name}_seconds"] = (statistics.fmean(math.exp(c) for cs in per_value for c in cs)
                                  if per_value else math.nan)
        out[f"{name}_r"] = _correlation([_log_mean(k) for k in kernels], [statistics.fmean(c) for c in per_value])
        dk, dc = [], []
        for k, cs in zip(kernels, per_value, strict=True):
            lk = [math.log(x) for x in k]
            mk, mc = statistics.fmean(lk), statistics.fmean(cs)
            dk += [x - mk for x in lk]
            dc += [c - mc for c in cs]
        out[f"{name}_value_r"] = _correlation(dk, dc)
    return out


def _rms(xs) -> float:
    xs = [x for x in xs if not math.isnan(x)]
    return math.sqrt(statistics.fmean(x * x for x in xs)) if xs else math.nan


def summarise(measured: dict, checks: dict | None = None) -> dict:
    """The calibration's record: per-variant figures, the pooled noise, steal, foreign load, checks."""
    per = {v: variant_summary(s) for v, s in measured["samples"].items() if len(s) >= 2}
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": round(measured.get("seconds", 0.0), 1),
        "kernel": f"sum(i * i for i in range({KERNEL_N:_})), {VALUES} values per process",
        "noise": _rms(p["process_cv"] for p in per.values()),
        "canary_r": _rms_r(p["canary_r"] for p in per.values()),
        "canary_c_r": _rms_r(p["canary_c_r"] for p in per.values()),
        "variants": per, "errors": measured.get("errors", {}),
        **{k: measured[k] for k in ("steal_cores", "foreign_cores") if k in measured},
        "checks": checks if checks is not None else system_checks(),
    }


def _rms_r(rs) -> float:
    """A typical correlation over variants: the mean of the r values that exist (NaN if none)."""
    rs = [r for r in rs if not math.isnan(r)]
    return statistics.fmean(rs) if rs else math.nan


def rounds_needed(noise: float, margin: float, cap: int = 1000) -> int:
    """Rounds for a paired ratio's 95% CI to be +-margin/2 wide at this process noise.

    Both sides of a paired ratio carry the process noise, so its per-round log spread is ~sqrt(2) x
    noise; half the margin is what decides a ratio lying half a margin from the margin's edge.
    """
    from harness.intervals import t_quantile

    if not noise > 0:
        return 2
    for n in range(2, cap + 1):
        if t_quantile(n - 1) * math.sqrt(2) * noise / math.sqrt(n) <= margin / 2:
            return n
    return cap


def half_width_at(noise: float, rounds: int) -> float:
    """The paired ratio's 95% CI half-width (relative) after ``rounds`` rounds at this process noise."""
    from harness.intervals import t_quantile

    return t_quantile(rounds - 1) * math.sqrt(2) * noise / math.sqrt(rounds) if rounds > 1 else math.inf


def advice(record: dict, margin: float, cap: int, budget: float, references: int) -> list[str]:
    """What the noise means for this campaign, in a few lines (printed, and kept in the record).

    ``cap``/``budget``: the reference's rounds and seconds at most (the profile's); ``references``:
    the campaign's sequential references (one per workload).
    """
    noise = record["noise"]
    if math.isnan(noise):
        return ["machine noise: not measured (" + ("; ".join(f"{v}: {e}" for v, e in record["errors"].items())
                or "too few calibration processes") + ")"]
    per = ", ".join(f"{v} {p['process_cv']:.1%}" for v, p in record["variants"].items())
    n = rounds_needed(noise, margin)
    refs = f"{references} reference{'s' if references != 1 else ''}"
    lines = [f"machine noise {noise:.1%} (process to process: {per}; "
             f"{min(p['processes'] for p in record['variants'].values())}+ processes each, a rough figure)"]
    if n <= cap:
        lines.append(f"  at the +-{margin:.0%} margin a reference needs ~{n} rounds to decide a ratio half a margin "
                     f"from the margin's edge (cap {cap}): expect at most {references * budget / 60:.0f} min "
                     f"for the {refs}")
    else:
        lines.append(f"  at the +-{margin:.0%} margin a reference needs ~{n} rounds, more than its cap of {cap}: "
                     f"the references will stop on their cap or budget ({budget:.0f} s each, about "
                     f"{references * budget / 60:.0f} min for the {refs}) with intervals near "
                     f"+-{half_width_at(noise, cap):.1%}: expect more inconclusive verdicts")
    lines.append(f"  speed canary vs the kernel, process means: r = {_fmt_r(record['canary_r'])} (Python loop), "
                 f"{_fmt_r(record['canary_c_r'])} (sha256)")
    steal = record.get("steal_cores")
    if steal is not None:
        lines.append(f"  steal {steal:.2f} cores, foreign load {record.get('foreign_cores', math.nan):.2f} cores "
                     f"during the calibration; {record['checks'].get('frequency_scaling')}, "
                     f"ASLR {record['checks'].get('aslr')}")
    lines += [f"  warning: {w}" for w in record["checks"].get("warnings", ())]
    busy = (record.get("foreign_cores") or 0.0) + (steal or 0.0)
    if busy > BUSY_CORES:
        lines.append(f"  warning: {busy:.2f} cores of other load or steal during the calibration: part of this "
                     "noise is theirs, and runs they disturb will be flagged and measured again")
    return lines


def _fmt_r(r: float) -> str:
    return "n/a" if math.isnan(r) else f"{r:.2f}"


def calibrate(pythons: dict[str, str], envs: dict[str, dict] | None, margin: float, cap: int, budget: float,
              references: int, **kw) -> dict:
    """Measure and summarise; the record carries its advice lines (``advice``)."""
    record = summarise(measure(pythons, envs, **kw))
    record["advice"] = advice(record, margin, cap, budget, references)
    return record


def json_safe(record):
    """The record with NaN as None: state files are strict JSON."""
    if isinstance(record, float):
        return None if math.isnan(record) or math.isinf(record) else record
    if isinstance(record, dict):
        return {k: json_safe(v) for k, v in record.items()}
    if isinstance(record, (list, tuple)):
        return [json_safe(v) for v in record]
    return record


def at_start(config, planned, envs: dict, stores: dict, log=print) -> dict | None:
    """The campaign's hook: calibrate once before measuring, print the advice, record it in every
    variant's state file. Nothing when the profile is a fixed sample (quick) or nothing is left to measure."""
    from harness.intervals import MARGIN

    prec = config.precision
    if not prec.target or all(s.done(p.name) for s in stores.values() for p in planned):
        return None
    cap = max(prec.max_processes, prec.reference_max_processes)
    budget = max(prec.budget, prec.reference_budget)
    references = len({p.workload.name for p in planned})
    log(f"ftbench: calibrating this machine's noise (at most {CALIBRATION_SECONDS:.0f} s)")
    record = calibrate({v: config.python_of(v) for v in config.variants}, envs, MARGIN, cap, budget, references)
    for line in record["advice"]:
        log(f"ftbench: {line}")
    safe = json_safe(record)
    for store in stores.values():
        store.state.setdefault("calibrations", []).append(safe)
        store.save()
    return record


def main(argv: list[str] | None = None) -> int:
    """``--worker``: one calibration process (JSON on stdout); else calibrate PYTHON... and print the record."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m harness.measure.calibration", description=__doc__.split("\n")[0])
    parser.add_argument("pythons", nargs="*", help="interpreters to calibrate (default: this one)")
    parser.add_argument("--worker", action="store_true", help="run one calibration process")
    parser.add_argument("--values", type=int, default=VALUES)
    parser.add_argument("--processes", type=int, default=PROCESSES)
    args = parser.parse_args(argv)
    if args.values < 2 or args.processes < 2:
        parser.error("--values and --processes must be at least 2")
    if args.worker:
        print(json.dumps(worker(args.values)))
        return 0
    from harness.intervals import MARGIN

    pythons = {p: p for p in (args.pythons or [sys.executable])}
    record = calibrate(pythons, None, MARGIN, 30, 240.0, 1, processes=args.processes, values=args.values)
    for line in record.pop("advice"):
        print(line)
    print(json.dumps(json_safe(record), indent=1))
    print(f"({platform.node()}, {time.strftime('%Y-%m-%d %H:%M')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
