"""A Richards-style operating-system kernel in pure Python: objects, attribute access, method calls.

Martin Richards' benchmark (pyperformance's ``richards`` is the inspiration; this kernel is
ftbench's own) simulates a priority scheduler: an idle task releases two devices, a worker fills
packets with letters, two handlers copy them letter by letter to the devices. Nearly every
operation is an attribute read or write or a method call on a small object, the object-oriented
code issue 14 measured 3.13t 1.9x (richards) to 3.2x (deltablue) slower on. Each task is one
kernel run whose idle task uses its own seed, so the 20 tasks are independent. The check
verifies that no packet was lost or duplicated and recomputes the first task exactly.
"""

import functools

from harness import CheckFailed, Context, Workload, paired

COUNT = 20  # kernel runs per run
IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(6)
PACKETS = 2 + 3 + 3  # two work packets for the worker, three device packets per handler
DATA_SIZE = 4


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, int]]:
    return [(seed, params["cycles"]) for seed in range(params["count"])]


class Packet:
    def __init__(self, owner: int, kind: str):
        self.link, self.owner, self.kind = None, owner, kind
        self.count, self.letter, self.data = 0, 0, [0] * DATA_SIZE

    def append_to(self, queue):
        """``queue`` (a chain of packets, or None) with this packet at its end."""
        self.link = None
        if queue is None:
            return self
        last = queue
        while last.link is not None:
            last = last.link
        last.link = self
        return queue


class Kernel:
    def __init__(self):
        self.tasks, self.first = {}, None
        self.sent = self.holds = self.written = self.checksum = 0

    def add(self, task):
        """Insert ``task`` into the run list, highest priority first."""
        self.tasks[task.ident] = task
        before, after = None, self.first
        while after is not None and after.priority > task.priority:
            before, after = after, after.next
        task.next = after
        if before is None:
            self.first = task
        else:
            before.next = task

    def schedule(self) -> None:
        task = self.first
        while task is not None:
            if task.held or (task.waiting and task.queue is None):
                task = task.next
                continue
            packet = None
            if task.waiting:  # only a task that waited for a packet is handed one
                packet, task.waiting = task.queue, False
                task.queue = packet.link
            task = task.run(packet)

    def send(self, packet, to: int, sender):
        """Queue ``packet`` for task ``to``; a runnable receiver of higher priority runs next."""
        self.sent += 1
        receiver, packet.owner = self.tasks[to], sender.ident
        receiver.queue = packet.append_to(receiver.queue)
        return receiver if receiver.priority > sender.priority and not receiver.held else sender

    def hold(self, task):
        self.holds += 1
        task.held = True
        return task.next

    def release(self, ident: int, current):
        task = self.tasks[ident]
        task.held = False
        return task if task.priority > current.priority else current

    def write(self, device: int, letter: int) -> None:
        self.written += 1
        self.checksum = (self.checksum * 31 + letter * (device + 1)) % 1_000_000_007


class Task:
    def __init__(self, kernel, ident, priority, queue=None, waiting=False):
        self.kernel, self.ident, self.priority = kernel, ident, priority
        self.queue, self.waiting, self.held = queue, waiting, False
        kernel.add(self)

    def wait(self):
        self.waiting = True
        return self


class Idle(Task):
    def __init__(self, kernel, seed, cycles):
        super().__init__(kernel, IDLE, 0)
        self.state, self.cycles = seed * 2654435761 % 2**32 | 1, cycles

    def run(self, packet):
        self.cycles -= 1
        if self.cycles == 0:
            return self.kernel.hold(self)
        self.state = (self.state * 1103515245 + 12345) % 2**31
        return self.kernel.release(DEVICE_A if self.state & 1024 else DEVICE_B, self)


class Worker(Task):
    target, letter = HANDLER_A, 0

    def run(self, packet):
        if packet is None:
            return self.wait()
        self.target = HANDLER_B if self.target == HANDLER_A else HANDLER_A
        packet.count = 0
        for i in range(DATA_SIZE):
            self.letter = self.letter % 26 + 1
            packet.data[i] = self.letter
        return self.kernel.send(packet, self.target, self)


class Handler(Task):
    work = devices = None

    def run(self, packet):
        if packet is not None:
            if packet.kind == "work":
                self.work = packet.append_to(self.work)
            else:
                self.devices = packet.append_to(self.devices)
        work = self.work
        if work is not None:
            if work.count == DATA_SIZE:  # copied out: back to the worker
                self.work = work.link
                return self.kernel.send(work, WORKER, self)
            if self.devices is not None:
                device, self.devices = self.devices, self.devices.link
                device.letter, work.count = work.data[work.count], work.count + 1
                return self.kernel.send(device, DEVICE_A if self.ident == HANDLER_A else DEVICE_B, self)
        return self.wait()


class Device(Task):
    pending = None

    def run(self, packet):
        if packet is None:  # released by the idle task: return the packet it holds, if any
            if self.pending is None:
                return self.wait()
            done, self.pending = self.pending, None
            return self.kernel.send(done, done.owner, self)
        self.pending = packet
        self.kernel.write(self.ident, packet.letter)
        return self.kernel.hold(self)


def chain(count: int, owner: int, kind: str):
    queue = None
    for _ in range(count):
        queue = Packet(owner, kind).append_to(queue)
    return queue


def packets_alive(kernel) -> int:
    """Every packet still referenced by a queue or a task: the kernel must never lose one."""
    alive = 0
    for task in kernel.tasks.values():
        for head in (task.queue, getattr(task, "work", None), getattr(task, "devices", None)):
            while head is not None:
                alive, head = alive + 1, head.link
        alive += getattr(task, "pending", None) is not None
    return alive


def run_kernel(task: tuple[int, int]) -> tuple[int, int, int, int, int]:
    """One kernel run; returns (packets sent, holds, letters written, checksum, packets alive)."""
    seed, cycles = task
    kernel = Kernel()
    Idle(kernel, seed, cycles)
    Worker(kernel, WORKER, 1000, chain(2, IDLE, "work"), waiting=True)
    Handler(kernel, HANDLER_A, 2000, chain(3, DEVICE_A, "device"), waiting=True)
    Handler(kernel, HANDLER_B, 3000, chain(3, DEVICE_B, "device"), waiting=True)
    Device(kernel, DEVICE_A, 4000, waiting=True)
    Device(kernel, DEVICE_B, 5000, waiting=True)
    kernel.schedule()
    return kernel.sent, kernel.holds, kernel.written, kernel.checksum, packets_alive(kernel)


@functools.lru_cache(maxsize=8)
def expected(task: tuple[int, int]) -> tuple:
    """The same kernel run once, sequentially, in the checking process (cached)."""
    return run_kernel(task)


def check(tasks: list, results: list, shared) -> None:
    for task, got in paired(tasks, results):
        sent, holds, written, _, alive = got
        if alive != PACKETS:
            raise CheckFailed(f"run_kernel{task}: {alive} packets alive at the end, expected {PACKETS}")
        if not 0 < written < holds < sent:  # each letter written costs a device hold and two sends
            raise CheckFailed(f"run_kernel{task}: implausible counts {got}")
    first = tuple(tasks[0])
    if tuple(results[0]) != expected(first):
        raise CheckFailed(f"run_kernel{first} = {tuple(results[0])}, expected {expected(first)}")


# The asyncio strategies are left out: for CPU work they add nothing the lecture's workloads do not
# already show, and the default campaign of every variant must fit in about 40 minutes on 2 cores.
WORKLOAD = Workload(
    name="richards",
    kind="cpu",
    description="Richards-style kernel: 20 seeded runs of a priority scheduler (objects, method calls)",
    sizes={
        "tiny": {"cycles": 100, "count": 4},
        "quick": {"cycles": 1_400, "count": COUNT},
        "default": {"cycles": 7_000, "count": COUNT},
        "rigorous": {"cycles": 20_000, "count": COUNT},
    },
    make_tasks=make_tasks,
    task=run_kernel,
    check=check,
    strategies=("sequential", "threads", "processes", "interpreters"),
    pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
            "default": {"processes": 2, "values": 2, "warmups": 1},
            "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
)
