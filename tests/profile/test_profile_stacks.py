"""harness.profile.stacks: perf script text in, samples and folded stacks out."""

from __future__ import annotations

from collections import Counter

from harness.profile import stacks

TEXT = """\
  578/578    2263.359375992:    1001001
\tffffffff82265908 __schedule ([kernel.kallsyms])
\t          2a1314 _Py_yield (inlined)
\t          2a1314 _PyMutex_LockTimed (/opt/py/bin/python3.13t)
\t    7f7000df3fe5 py::work:/tmp/a b/lock2.py (/tmp/jitted-578-9.so)

  578/578    2263.360677507: PERF_RECORD_FORK(578:582):(578:578)
  578/582    2263.361000000:    1001001
\t          19309f [unknown] ([unknown])

  578/578    2263.5:    2002002
"""

FLAT = "  10/11    5.000001000:    1001001           19309f _PyType_AllocNoTrack (/opt/py/bin/python3.13t)\n"


def test_parse_reads_headers_frames_inlined_and_kernel_frames():
    a, b, c = stacks.parse(TEXT.splitlines())
    assert (a.pid, a.tid, a.time_ns, a.period) == (578, 578, 2263_359_375_992, 1001001)
    assert [f.symbol for f in a.frames] == ["__schedule", "_Py_yield", "_PyMutex_LockTimed",
                                            "py::work:/tmp/a b/lock2.py"]
    assert [f.kernel for f in a.frames] == [True, False, False, False]
    assert [f.inlined for f in a.frames] == [False, True, False, False]
    assert a.frames[3].python and not a.frames[2].python
    assert (b.tid, [f.symbol for f in b.frames]) == (582, ["[unknown]"])
    assert (c.time_ns, c.period, c.frames) == (2263_500_000_000, 2002002, ())  # short fraction = decimal


def test_a_header_with_trailing_blanks_as_perf_prints_it():
    [s] = stacks.parse(["  5/6    1.000000001:    1001001   ", "\t 1 f (/x.so)"])
    assert (s.pid, s.period, [f.symbol for f in s.frames]) == (5, 1001001, ["f"])


def test_parse_reads_a_recording_without_call_stacks():
    [s] = stacks.parse(FLAT.splitlines())
    assert [f.symbol for f in s.frames] == ["_PyType_AllocNoTrack"]
    assert s.time_ns == 5_000_001_000


def test_within_keeps_the_marked_window_only():
    samples = list(stacks.parse(TEXT.splitlines()))
    assert [s.tid for s in stacks.within(samples, 2263_360_000_000, 2263_400_000_000)] == [582]


def test_fold_is_root_first_with_kernel_tags_and_round_trips(tmp_path):
    samples = list(stacks.parse(TEXT.splitlines()))
    folded = stacks.fold(samples + samples[:1])
    assert folded["py::work:/tmp/a b/lock2.py;_PyMutex_LockTimed;_Py_yield;__schedule_[k]"] == 2 * 1001001
    assert folded["[no stack]"] == 2002002
    path = tmp_path / "x.folded"
    path.write_text(stacks.folded_text(folded))
    assert stacks.read_folded(path) == folded
    assert path.read_text().splitlines()[0].endswith(" 2002002")  # heaviest first


def test_a_semicolon_in_a_symbol_cannot_split_a_folded_frame():
    s = stacks.Sample(1, 1, 0, 5, (stacks.Frame("operator;odd", "/x.so"),))
    assert stacks.fold([s]) == Counter({"operator:odd": 5})


def test_stacks_rooted_at_the_workload_compare_across_thread_roots():
    seq = Counter({"_start;main;py::sequential:/h/strategies.py;py::run_task:/w/x.py;py::f:/w/x.py;Py_DECREF": 5,
                   "_start;main;py::wait:/lib/threading.py": 1})
    par = Counter({"clone3;start_thread;py::_worker:/lib/thread.py;py::run_task:/w/x.py;py::f:/w/x.py;Py_DECREF": 9})
    assert stacks.rooted_at(seq, "/w/x.py") == Counter({
        "py::run_task:/w/x.py;py::f:/w/x.py;Py_DECREF": 5,
        f"{stacks.OUTSIDE};_start;main;py::wait:/lib/threading.py": 1})
    assert stacks.rooted_at(par, "/w/x.py") == Counter({"py::run_task:/w/x.py;py::f:/w/x.py;Py_DECREF": 9})
    assert stacks.rooted_at(par, "") == Counter({f"{stacks.OUTSIDE};{next(iter(par))}": 9})
