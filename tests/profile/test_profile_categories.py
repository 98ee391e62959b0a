"""One test per category of harness.profile.categories, on stacks as ``perf script`` prints them.

The stacks are cut from real recordings of ftbench's 3.13t build (DWARF unwinding, inlined
functions as frames of their own), shortened above the innermost Python frame.
"""

from __future__ import annotations

import pytest

from harness.profile import categories, stacks
from harness.profile.categories import classify

BIN = "/opt/cpython/3.13.5t/bin/python3.13t"


def one(text: str) -> stacks.Sample:
    [sample] = stacks.parse(text.strip("\n").splitlines())
    return sample


def category(text: str) -> str:
    return classify(one(text).frames).category


EVAL = f"""
  100/101    10.000000000:    1001001
\t           81f5b _PyEval_EvalFrameDefault ({BIN})
\t    7f7000df3fe5 py::_lock:/repo/workloads/pitfalls.py (/tmp/jitted-100-7.so)
\t          2e42b9 py_trampoline_evaluator ({BIN})
"""

REFCOUNT = f"""
  100/101    10.000000000:    1001001
\t          157287 _Py_DecRefSharedIsDead (inlined)
\t          157287 _Py_DecRefSharedDebug (inlined)
\t          157287 _Py_DecRefShared ({BIN})
\t           82846 Py_DECREF (inlined)
\t           82846 _PyEval_EvalFrameDefault ({BIN})
\t    7f7000df3fe5 py::_global:/repo/workloads/pitfalls.py (/tmp/jitted-100-7.so)
"""

REFCOUNT_INLINE_IN_EVAL = f"""
  100/101    10.000000000:    1001001
\t           82846 _Py_atomic_add_ssize (inlined)
\t           82846 Py_INCREF (inlined)
\t           82846 _PyEval_EvalFrameDefault ({BIN})
\t    7f7000df3fe5 py::_classattr:/repo/workloads/pitfalls.py (/tmp/jitted-100-7.so)
"""

LOCK_SPIN = f"""
  100/101    10.000000000:    1001001
\t          2a11ab _Py_atomic_compare_exchange_uint8 (inlined)
\t          2a11ab _PyMutex_LockTimed ({BIN})
\t          34d227 lock_PyThread_acquire_lock ({BIN})
\t          152861 cfunction_call ({BIN})
\t           8284e _PyEval_EvalFrameDefault ({BIN})
\t    7f7000df3fe5 py::work:/tmp/lock2.py (/tmp/jitted-100-9.so)
"""

LOCK_YIELD_IN_KERNEL = f"""
  100/101    10.000000000:    1001001
\tffffffff813d5ab0 finish_task_switch.isra.0 ([kernel.kallsyms])
\tffffffff822656c4 __schedule ([kernel.kallsyms])
\tffffffff82266273 schedule ([kernel.kallsyms])
\tffffffff813d9b5a __x64_sys_sched_yield ([kernel.kallsyms])
\tffffffff8225a101 do_syscall_64 ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe ([kernel.kallsyms])
\t           ee017 __GI_sched_yield (inlined)
\t          2a1314 _Py_yield (inlined)
\t          2a1314 _PyMutex_LockTimed ({BIN})
\t          34d227 lock_PyThread_acquire_lock ({BIN})
"""

CRITICAL_SECTION = f"""
  100/101    10.000000000:    1001001
\t          2a0f11 _PyCriticalSection_BeginSlow ({BIN})
\t          146fd2 PyDict_SetItem ({BIN})
\t           8284e _PyEval_EvalFrameDefault ({BIN})
"""

ALLOC = f"""
  100/101    10.000000000:    1001001
\t          173b98 _mi_page_malloc (inlined)
\t          173b98 mi_heap_malloc_small_zero (inlined)
\t          173b98 _PyObject_MiMalloc ({BIN})
\t          1aad0d PyCMethod_New ({BIN})
\t           8284e _PyEval_EvalFrameDefault ({BIN})
"""

ALLOC_PAGE_FAULT = f"""
  100/101    10.000000000:    1001001
\tffffffff815ffabe clear_page_erms ([kernel.kallsyms])
\tffffffff815ffabe do_anonymous_page ([kernel.kallsyms])
\tffffffff8225fcc6 exc_page_fault ([kernel.kallsyms])
\tffffffff81000c82 asm_exc_page_fault ([kernel.kallsyms])
\t          15f2a6 mi_page_free_list_extend.constprop.0 ({BIN})
\t          173b98 _PyObject_MiMalloc ({BIN})
"""

DEALLOC_UNDER_DECREF = f"""
  100/101    10.000000000:    1001001
\t          187e32 maybe_freelist_push (inlined)
\t          187e32 tupledealloc ({BIN})
\t           eaca7 Py_DECREF (inlined)
\t           eaca7 _PyObject_MakeTpCall ({BIN})
"""

GC = f"""
  100/101    10.000000000:    1001001
\t          2b0011 update_refs (inlined)
\t          2b0011 deduce_unreachable_heap ({BIN})
\t          2b0990 gc_collect_main ({BIN})
\t          2b1000 _PyGC_Collect ({BIN})
\t          1a0000 _Py_HandlePending ({BIN})
"""

STOP_THE_WORLD = f"""
  100/101    10.000000000:    1001001
\tffffffff822656c4 __schedule ([kernel.kallsyms])
\tffffffff813f0000 futex_wait ([kernel.kallsyms])
\t          2a1314 _PySemaphore_Wait ({BIN})
\t          2a2000 _PyParkingLot_Park ({BIN})
\t          2b3000 tstate_wait_attach ({BIN})
\t          2b3100 _PyThreadState_Attach ({BIN})
"""

OBJECTS = f"""
  100/101    10.000000000:    1001001
\t           80d40 unicodekeys_lookup_unicode_threadsafe ({BIN})
\t           80e00 _Py_dict_lookup_threadsafe ({BIN})
\t          147000 PyDict_GetItemRef ({BIN})
\t           8284e _PyEval_EvalFrameDefault ({BIN})
"""

PICKLE = f"""
  100/101    10.000000000:    1001001
\t            9f00 save (/opt/lib-dynload/_pickle.cpython-313t-x86_64-linux-gnu.so)
\t            a100 dump (/opt/lib-dynload/_pickle.cpython-313t-x86_64-linux-gnu.so)
\t          152861 cfunction_vectorcall_O ({BIN})
"""

PIPE_WRITE = f"""
  100/101    10.000000000:    1001001
\tffffffff81700000 copy_page_from_iter ([kernel.kallsyms])
\tffffffff81700100 pipe_write ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe ([kernel.kallsyms])
\t          101010 __GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t          2f0000 _Py_write ({BIN})
\t          2f0100 os_write ({BIN})
"""

KERNEL = f"""
  100/101    10.000000000:    1001001
\tffffffff8225fffd exc_page_fault ([kernel.kallsyms])
\tffffffff81000c82 asm_exc_page_fault ([kernel.kallsyms])
\t           81f5b _PyEval_EvalFrameDefault ({BIN})
\t    7f7000df3fe5 py::run_task:/repo/workloads/pitfalls.py (/tmp/jitted-100-8.so)
"""

IDLE = """
    0/0      10.000000000:    1001001
\tffffffff8226e8fc pv_native_safe_halt ([kernel.kallsyms])
\tffffffff8226e81a default_idle ([kernel.kallsyms])
\tffffffff81638fc9 do_idle ([kernel.kallsyms])
"""

OTHER = """
  100/101    10.000000000:    1001001
\t           e29e __strchr_evex (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           1de38 some_extension_function (/opt/site-packages/ext.so)
"""


@pytest.mark.parametrize(("stack", "expected"), [
    (EVAL, "eval"), (REFCOUNT, "refcount"), (REFCOUNT_INLINE_IN_EVAL, "refcount"), (LOCK_SPIN, "locks"),
    (LOCK_YIELD_IN_KERNEL, "locks"), (CRITICAL_SECTION, "locks"), (ALLOC, "alloc"), (ALLOC_PAGE_FAULT, "alloc"),
    (DEALLOC_UNDER_DECREF, "alloc"), (GC, "gc"), (STOP_THE_WORLD, "gc"), (OBJECTS, "objects"), (PICKLE, "ipc"),
    (PIPE_WRITE, "ipc"), (KERNEL, "kernel"), (IDLE, "idle"), (OTHER, "other"),
], ids=["eval", "refcount", "refcount-inlined", "locks-spin", "locks-kernel-yield", "locks-critical-section",
        "alloc", "alloc-page-fault", "alloc-dealloc", "gc", "gc-stop-the-world", "objects", "ipc-pickle",
        "ipc-pipe", "kernel", "idle", "other"])
def test_each_category_on_a_real_stack(stack, expected):
    assert category(stack) == expected


def test_every_category_has_a_test_above():
    tested = {"eval", "refcount", "locks", "alloc", "gc", "objects", "ipc", "kernel", "idle", "other"}
    assert tested == set(categories.CATEGORIES)


def test_the_function_shown_and_the_python_function():
    """The real function an inlined helper sits in, when it is of the same category; else the helper."""
    a = classify(one(REFCOUNT).frames)
    assert (a.symbol, a.python) == ("_Py_DecRefShared", "py::_global:/repo/workloads/pitfalls.py")
    k = classify(one(LOCK_YIELD_IN_KERNEL).frames)
    assert (k.category, k.symbol, k.python) == ("locks", "_PyMutex_LockTimed", None)
    assert classify(one(REFCOUNT_INLINE_IN_EVAL).frames).symbol == "Py_INCREF"  # not _PyEval_EvalFrameDefault


def test_a_lock_taken_for_a_stop_the_world_pause_is_the_pause():
    assert category(STOP_THE_WORLD) == "gc"
    assert category(LOCK_YIELD_IN_KERNEL) == "locks"


def test_helpers_are_passed_by_not_counted():
    """An atomic or _Py_ThreadId leaf takes its caller's category, whatever that is."""
    for caller, expected in (("_PyMutex_LockTimed", "locks"), ("_Py_IsOwnedByCurrentThread", "refcount"),
                             ("mi_free", "alloc")):
        text = f"  1/1 1.000000001: 1001001\n\t 1 _Py_ThreadId (inlined)\n\t 1 {caller} ({BIN})\n"
        assert category(text) == expected


def test_a_python_frame_ends_the_walk():
    """C frames above a Python function run on behalf of another function: they decide nothing."""
    text = (f"  1/1 1.000000001: 1001001\n\t 1 __strchr_evex (/lib/libc.so.6)\n"
            f"\t 2 py::f:/x.py (/tmp/jitted-1-1.so)\n\t 3 _PyMutex_LockTimed ({BIN})\n")
    assert category(text) == "other"
    assert category("  1/1 1.000000001: 1001001\n\t 2 py::f:/x.py (/tmp/jitted-1-1.so)\n") == "eval"


def test_kernel_time_goes_to_a_caller_only_when_the_caller_explains_it():
    """A page fault under the allocator is the allocator's; under the evaluation loop it is the kernel's."""
    assert category(ALLOC_PAGE_FAULT) == "alloc"
    assert category(KERNEL) == "kernel"
    only_kernel = "  1/1 1.000000001: 1001001\n\tffffffff81 __schedule ([kernel.kallsyms])\n"
    assert classify(one(only_kernel).frames) == categories.Attribution("kernel", "__schedule", None)


def test_compiler_clones_are_named_by_their_function():
    text = f"  1/1 1.000000001: 1001001\n\t 1 PyMutex_LockFlags.part.0.constprop.0 ({BIN})\n"
    assert category(text) == "locks"


def test_an_empty_stack_is_other():
    assert classify(()).category == "other"


def test_a_kernel_symbol_never_matches_a_user_rule():
    """futex_wait in the kernel is not libc's futex_wait: it stays kernel unless a user caller claims it."""
    text = "  1/1 1.000000001: 1001001\n\tffffffff81 futex_wait ([kernel.kallsyms])\n"
    assert category(text) == "kernel"


def test_the_table_is_one_ordered_tuple_of_known_categories():
    assert all(r.category in (None, *categories.CATEGORIES) for r in categories.RULES)
    assert categories.EXPLAINS_KERNEL <= set(categories.CATEGORIES)
