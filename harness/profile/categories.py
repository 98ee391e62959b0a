"""Where CPU goes: every sampled call stack falls into one of a few categories, by C symbol.

The table (:data:`RULES`) is the whole mapping, first match wins. A stack is read from its leaf
upward (inlined functions count as frames: DWARF unwinding names them) and takes the category
of the first frame a rule names: a sample in ``_Py_atomic_compare_exchange_uint8`` inlined into
``_PyMutex_LockTimed`` is a lock's, one in ``mi_free`` called from ``Py_DECREF`` is the
allocator's, and ``_PyEval_EvalFrameDefault`` only takes what nothing below it claimed.
Helpers every category uses (atomics, ``_Py_ThreadId``, ``Py_TYPE``...) are named with no
category so that the walk goes past them. A Python frame (``py::``) ends the walk: the C code
above it runs on behalf of another function.

Kernel frames take no category of their own: a sample in the kernel belongs to the first user
frame above it when that frame's category explains time in the kernel (a futex wait or a
``sched_yield`` under ``_PyMutex_LockTimed`` is the lock's, a page fault under mimalloc the
allocator's, a pipe write under ``_pickle`` IPC); otherwise it is "kernel and scheduler".
The kernel's idle loop is "idle" (seen only in a system-wide recording). A stack no rule names
is "other", shown as such rather than spread over the rest.

The symbols are CPython 3.13's (``Objects/``, ``Python/``, mimalloc), free-threaded build
included: the shared and merged reference counts (``_Py_DecRefShared``,
``_Py_MergeZeroLocalRefcount``, biased reference counting's ``_Py_brc_*``), ``PyMutex``, the
critical sections and the parking lot, QSBR and stop-the-world. ``tests/profile`` has a test per
category with stacks as perf prints them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.profile.stacks import Frame

# category -> label, in the order tables show them
LABELS = {
    "eval": "evaluation loop",
    "refcount": "reference counting",
    "locks": "locks and critical sections",
    "alloc": "memory allocation",
    "gc": "GC and stop-the-world",
    "objects": "object internals",
    "ipc": "pickling and IPC",
    "kernel": "kernel and scheduler",
    "idle": "idle",
    "other": "other",
}
CATEGORIES = tuple(LABELS)
# The categories whose C code enters the kernel on purpose: a kernel sample under them is theirs.
EXPLAINS_KERNEL = frozenset({"locks", "alloc", "gc", "ipc"})
# What a compiler appends to a function it cloned or split: a rule sees the function's own name.
CLONE_SUFFIX = re.compile(r"(\.(part|constprop|isra|cold|lto_priv|localalias)(\.\d+)?)+$")


@dataclass(frozen=True)
class Rule:
    """Frames whose symbol (or, with ``dso=True``, whose shared object's file name) matches ``pattern``."""

    category: str | None  # None: a helper the walk passes by
    pattern: str
    dso: bool = False
    kernel: bool = False  # matches kernel frames only (the idle loop)


def _rules(category: str | None, *patterns: str, dso: bool = False, kernel: bool = False) -> list[Rule]:
    return [Rule(category, p, dso, kernel) for p in patterns]


RULES: tuple[Rule, ...] = (
    # helpers of every category: passed by, so the caller decides
    *_rules(None, r"_Py_atomic_\w+", r"_Py_ThreadId", r"_Py_IsImmortal\w*", r"_?Py_(TYPE|SIZE|IS_TYPE)",
            r"_?PyType_HasFeature", r"_PyType_PreHeaderSize", r"_?PyObject_IS_GC", r"current_fast_get",
            r"_?PyThreadState_GET", r"PyThreadState_Get", r"_PyThreadState_GetCurrent", r"_PyInterpreterState_GET",
            r"_Py_EnsureTstateNotNULL", r"\[unknown\]"),
    # the kernel's idle loop (only a system-wide recording has it)
    *_rules("idle", r"do_idle", r"cpu_idle\w*", r"cpuidle_\w+", r"\w*default_idle\w*", r"arch_cpu_idle\w*",
            r"\w*safe_halt", r"poll_idle", r"intel_idle\w*", r"acpi_idle\w*", r"mwait_idle\w*",
            r"cpu_startup_entry", kernel=True),
    # stop-the-world pauses, before the locks and the evaluation loop that also match these names
    *_rules("gc", r"_PyEval_(Stop|Start)TheWorld\w*", r"(stop|start)_the_world", r"park_detached_threads",
            r"tstate_wait_attach", r"decrement_stoptheworld_countdown", r"_PyThreadState_Suspend"),
    *_rules("locks", r"_?PyMutex_\w+", r"_?PyCriticalSection2?_\w+", r"_PyParkingLot_\w+", r"_PySemaphore_\w+",
            r"_Py_yield", r"_Py(Raw|RW|Recursive)Mutex_\w+", r"_PyOnceFlag\w*", r"_PyOnce_\w+", r"_PySeqLock_\w+",
            r"_?PyEvent_\w+", r"(r?lock|_thread_lock|_thread_RLock)_\w+", r"acquire_timed",
            r"PyThread_(acquire|release)_lock\w*", r"(take|drop)_gil", r"_PyEval_(Take|Drop|Acquire|Release)\w*",
            r"PyEval_(Save|Restore|Acquire|Release)Thread", r"_PyThreadState_(Attach|Detach)",
            r"tstate_(try_attach|set_detached|activate|deactivate)", r"_?_?pthread_mutex_\w+",
            r"_?_?_?pthread_cond_\w+", r"__lll_(un)?lock\w*", r"__GI___lll_\w+", r"__futex\w*", r"futex_\w+",
            r"(__new_)?sem_\w+", r"do_futex_wait\w*", r"(__GI_|__)?sched_yield"),
    *_rules("refcount", r"_?Py_X?(INC|DEC)REF\w*", r"_?Py_(Inc|Dec)Ref\w*", r"_?Py_X?NewRef",
            r"_Py_MergeZeroLocalRefcount", r"_Py_ExplicitMergeRefcount", r"_Py_brc_\w+", r"merge_queued_objects",
            r"_Py_TryInc[Rr]ef\w*", r"_Py_TryXGetRef", r"_Py_IsOwnedByCurrentThread", r"_Py_REF_\w+",
            r"_Py_RefcntAdd", r"_PyObject_SetDeferredRefcount", r"_?Py_SET?_?REFCNT", r"_Py_SetRefcnt",
            r"_?PyStackRef_\w+", r"_Py_(INC|DEC)REF_TYPE", r"_PyType_(Inc|Dec)Ref"),
    *_rules("alloc", r"_?mi_\w+", r"_PyObject_Mi\w+", r"_?PyMem_\w+", r"_?PyObject_(Malloc|Calloc|Realloc|Free)\w*",
            r"_PyObject_MallocWithType", r"_PyObject_GC_New\w*", r"_PyObject_GC_Link", r"PyObject_GC_Del",
            r"gc_alloc\w*", r"record_(de)?allocation", r"_?PyObject_New\w*", r"_?PyObject_Init(Var)?",
            r"_PyType_AllocNoTrack", r"PyType_GenericAlloc", r"tuple_alloc", r"\w*dealloc\w*", r"_Py_Dealloc",
            r"\w*freelist\w*", r"_Py_(Object)?FreeList\w*", r"_PyFreeListState\w*", r"_?Py_qsbr_\w+",
            r"free_delayed\w*", r"free_work_item", r"process_queue\w*",
            r"(__libc_|__GI___libc_)?(malloc|free|calloc|realloc|cfree)",
            r"_int_(malloc|free|realloc)", r"malloc_consolidate", r"tcache_\w+"),
    *_rules("gc", r"_?PyGC_\w+", r"PyGC_\w+", r"_?gc_\w+",
            r"_?PyObject_GC_(Track|UnTrack|TRACK|UNTRACK|IsTracked|IS_TRACKED)",
            r"update_refs", r"deduce_unreachable\w*", r"move_unreachable", r"move_legacy_finalizers",
            r"handle_resurrected_objects", r"finalize_garbage", r"delete_garbage", r"mark_(reachable|heap)\w*",
            r"scan_heap\w*", r"visit_(decref|reachable|clear_unreachable)\w*", r"\w+_traverse"),
    *_rules("ipc", r"_pickle\.", r"_multiprocessing\.", r"_socket\.", r"select\.", r"_posixshmem\.",
            r"_interp(channels|queues|reters)\.", r"mmap\.", dso=True),
    *_rules("ipc", r"_Py_(read|write)\w*", r"os_(read|write|pipe|readv|writev)\w*", r"_PyPickle_\w+",
            r"_?PyCrossInterpreterData\w*", r"_PyXI_\w+", r"_PyXIData\w*"),
    *_rules("eval", r"_?PyEval_\w+", r"py_trampoline_evaluator", r"_PyPerfTrampoline\w*", r"_PyFrame_\w+",
            r"_PyEvalFrame\w*", r"_PyThreadState_(Push|Pop)Frame", r"push_chunk", r"clear_thread_frame",
            r"_?PyObject_Vectorcall\w*", r"_PyObject_MakeTpCall", r"_?PyObject_Call\w*", r"_?PyVectorcall\w*",
            r"_PyFunction_Vectorcall", r"cfunction_\w+", r"method_vectorcall\w*", r"vectorcall_\w+",
            r"_Py_CheckFunctionResult", r"_Py_CheckRecursiveCall", r"_Py_EnterRecursive\w*", r"_?PyArg_\w+",
            r"vgetargs\w*", r"convert(item|simple|tuple)", r"_PyStack_\w+", r"_Py_HandlePending",
            r"_Py_call_instrumentation\w*", r"_?PyCode_\w+", r"_Py_Specialize_\w+", r"_PyOpcode\w*"),
    *_rules("objects", r"_?PyDict\w*", r"dict\w*", r"_Py_dict_\w+", r"lookdict\w*", r"unicodekeys_\w+",
            r"insert(dict|_combined_dict|_split_dict|_to_emptydict|_split_key|tion_resize)\w*", r"new_keys_object",
            r"free_keys_object", r"new_dict\w*", r"compare_unicode_\w+", r"find_empty_slot", r"build_indices_\w+",
            r"_?PyList\w*", r"list\w*", r"app1", r"ins1", r"_?PyTuple\w*", r"tuple\w*",
            r"_?PyLong\w*", r"long_\w+", r"x_(add|sub|mul|divrem)", r"k_mul", r"_?PyFloat\w*", r"float_\w+",
            r"_?PyBool\w*", r"bool_\w+", r"_?PyUnicode\w*", r"unicode_\w+", r"_?PyBytes\w*", r"bytes_\w+",
            r"_?PySet\w*", r"set_\w+", r"range\w*", r"_?PyRange\w*", r"_?PyIter\w*", r"iter_\w+", r"PySeqIter\w*",
            r"_?PyType_\w+", r"type_\w+", r"slot_\w+", r"update_one_slot", r"find_name_in_mro", r"super_\w+",
            r"_?PyObject_(Generic|GetAttr|SetAttr|LookupAttr|LookupSpecial|GetMethod|TryGetInstanceAttribute|"
            r"StoreInstanceAttribute|GetInstanceAttribute|ManagedDict|MaterializeManagedDict|InitInlineValues|"
            r"GetDictPtr|HasAttr|DelAttr|GetOptionalAttr|RichCompare|Hash|IsTrue|GetItem|SetItem|Size|Length|"
            r"Repr|Str|Format|GetIter|SetAttribute)\w*", r"do_richcompare", r"object_\w+", r"descr_\w+",
            r"method_get", r"wrapperdescr_\w+", r"member_\w+", r"getset_\w+", r"PyMember_\w+", r"PyDescr_\w+",
            r"property_\w+", r"_?PyMethod\w*", r"PyCMethod_\w+", r"meth_\w+", r"func_\w+", r"_?PyFunction_\w+",
            r"_?PyNumber_\w+", r"binary_i?op1", r"ternary_op", r"_?PySequence_\w+", r"_?PyMapping_\w+",
            r"_?PyCell_\w+", r"cell_\w+", r"_?PyInstance\w*", r"_?PyStructSequence\w*", r"_?PySlice\w*",
            r"slice_\w+", r"enum_\w+", r"zip_\w+", r"map_\w+", r"filter_\w+", r"builtin_\w+"),
)
_COMPILED = tuple((re.compile(r.pattern) if r.dso else re.compile(rf"(?:{r.pattern})\Z"), r) for r in RULES)


@functools.lru_cache(maxsize=65536)
def symbol_category(frame: Frame) -> tuple[bool, str | None]:
    """``(named, category)`` for one frame: named is False when no rule matches (the walk goes on).

    Cached: a run's samples name a few thousand distinct frames, each of them thousands of times.
    """
    name = CLONE_SUFFIX.sub("", frame.symbol)
    dso_name = frame.dso.rsplit("/", 1)[-1]
    for regex, rule in _COMPILED:
        if rule.kernel != frame.kernel:  # a kernel frame is only ever idle; no user rule names one
            continue
        if (regex.match(dso_name) if rule.dso else regex.match(name)):
            return True, rule.category
    return False, None


@dataclass(frozen=True)
class Attribution:
    """A sample's category and the frame that decided it (the C function shown in the tables)."""

    category: str
    symbol: str  # the deciding frame's symbol, or the leaf's when no rule named one
    python: str | None  # the innermost Python function, "py::QUALNAME:FILE", if any


def classify(frames: Sequence[Frame]) -> Attribution:
    """The category of one stack (leaf first), by :data:`RULES` and the kernel rule of the module docstring."""
    python = next((f.symbol for f in frames if f.python), None)
    kernel_leaf = None
    for i, frame in enumerate(frames):
        if frame.python:
            break
        named, category = symbol_category(frame)
        if frame.kernel:
            if category == "idle":
                return Attribution("idle", frame.symbol, python)
            kernel_leaf = kernel_leaf or frame.symbol
            continue
        if not named or category is None:
            continue
        if kernel_leaf and category not in EXPLAINS_KERNEL:
            return Attribution("kernel", kernel_leaf, python)
        if category == "locks" and _under_gc(frames[i + 1:]):
            category = "gc"
        return Attribution(category, _shown(frames[i:], category), python)
    if frames and frames[0].python:  # the trampoline itself
        return Attribution("eval", frames[0].symbol, python)
    if kernel_leaf:
        return Attribution("kernel", kernel_leaf, python)
    return Attribution("other", frames[0].symbol if frames else "[no stack]", python)


def _under_gc(callers: Sequence[Frame]) -> bool:
    """Is this lock taken by the GC or a stop-the-world pause (a caller below the Python frame says so)?"""
    for frame in callers:
        if frame.python:
            return False
        if not frame.kernel and symbol_category(frame) == (True, "gc"):
            return True
    return False


def _shown(frames: Sequence[Frame], category: str) -> str:
    """The function a table names for a sample: the deciding frame, or the real (not inlined) function
    it was inlined into when that one is of the same category (``_Py_DecRefShared``, not its inlined helper)."""
    for frame in frames:
        if not frame.inlined:
            return frame.symbol if symbol_category(frame)[1] == category else frames[0].symbol
    return frames[0].symbol
