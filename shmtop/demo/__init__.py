"""`shmtop demo`: a small, realistic IPC workload so a new user sees a living dashboard.

Processes exchange messages over a System V queue, fill a POSIX shared memory ring buffer
guarded by POSIX semaphores, take and give members of a System V semaphore set, keep a
System V segment attached and pass jobs over a POSIX queue; a producer fills a small queue
nobody receives from, a process waits forever on a closed gate (a set member at 0); a child
creates a few objects and exits without removing them (leaks). Each process is named after
its part (its comm). `stop()` ends the processes and removes every object the
demo made, each only if it is still the object the demo made.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import posix_ipc
import sysv_ipc

from shmtop.collect import collect_snapshot
from shmtop.demo import workers
from shmtop.demo.processes import spawn, stop_all
from shmtop.libc import sem_create, sem_remove, sem_set_value
from shmtop.model import PosixEntry, SysvMsg, SysvSem, SysvShm

SEMSET_MEMBERS = 5
BACKLOG_BYTES = 2048  # fills in seconds, so the dashboard soon shows it nearly full
StartFailed = (OSError, ValueError, sysv_ipc.Error, posix_ipc.Error)


@dataclass
class Made:
    """One object the demo created: how to show it, remove it, and recognise it."""

    ref: str
    role: str
    remove: Callable[[], object]
    leaked: bool = False
    identity: tuple[object, ...] | None = None


@dataclass
class DemoWorkload:
    prefix: str = field(default_factory=lambda: f"shmtop-demo-{os.getpid()}")
    made: list[Made] = field(default_factory=list)
    workers: list[int] = field(default_factory=list)

    def __enter__(self) -> DemoWorkload:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._sysv_queue()
            self._ring_buffer()
            self._semaphore_set()
            self._attached_segment()
            self._posix_queue()
            self._backlog()
            self._gate()
            self._leaks()
            self._remember_identities()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> list[str]:
        """End the workers, remove what the demo made; returns what could not be removed."""
        stop_all(self.workers)
        self.workers.clear()
        problems = []
        current = _identities()
        for made in reversed(self.made):
            if made.identity is not None and current.get(made.ref) != made.identity:
                problems.append(f"{made.ref}: no longer the demo's object, left alone")
                continue
            try:
                made.remove()
            except (OSError, sysv_ipc.Error, posix_ipc.Error) as exc:
                problems.append(f"{made.ref}: {exc}")
        self.made.clear()
        return problems

    # The workload ---------------------------------------------------------------------------

    def _name(self, suffix: str) -> str:
        return f"/{self.prefix}-{suffix}"

    def _sysv_queue(self) -> None:
        queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o660)
        self.made.append(Made(f"sysv-msg:{queue.id}", "orders queue", queue.remove))
        self.workers.append(spawn(lambda: workers.queue_producer(queue), "orders-producer"))
        self.workers.append(spawn(lambda: workers.queue_consumer(queue), "orders-consumer"))

    def _ring_buffer(self) -> None:
        size = workers.RING_SLOTS * workers.RECORD.size
        memory = posix_ipc.SharedMemory(self._name("ring"), posix_ipc.O_CREX, 0o640, size)
        self.made.append(Made(f"posix-shm:{memory.name}", "ring buffer", memory.unlink))
        slots = self._posix_sem("ring.slots", workers.RING_SLOTS, "free slots of the ring")
        items = self._posix_sem("ring.items", 0, "filled slots of the ring")
        self.workers.append(
            spawn(lambda: workers.ring_producer(memory, slots, items), "ring-producer")
        )
        self.workers.append(
            spawn(lambda: workers.ring_consumer(memory, slots, items), "ring-consumer")
        )

    def _posix_sem(self, suffix: str, value: int, role: str) -> posix_ipc.Semaphore:
        sem = posix_ipc.Semaphore(self._name(suffix), posix_ipc.O_CREX, 0o640, value)
        self.made.append(Made(f"posix-sem:{sem.name}", role, sem.unlink))
        return sem

    def _semaphore_set(self) -> None:
        semid = sem_create(SEMSET_MEMBERS, 0o600)
        self.made.append(
            Made(f"sysv-sem:{semid}", "pool of 5 resources", lambda: sem_remove(semid))
        )
        for member in range(SEMSET_MEMBERS):
            sem_set_value(semid, member, 1 + member % 3)
        pool = lambda: workers.semaphore_set_worker(semid, SEMSET_MEMBERS)  # noqa: E731
        self.workers.append(spawn(pool, "pool-worker"))

    def _attached_segment(self) -> None:
        segment = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 1 << 20)
        segment.detach()
        self.made.append(Made(f"sysv-shm:{segment.id}", "attached segment", segment.remove))
        self.workers.append(spawn(lambda: workers.segment_writer(segment.id), "segment-writer"))

    def _posix_queue(self) -> None:
        depth = min(8, _mq_msg_max())  # within fs.mqueue.msg_max, which binds even root
        queue = posix_ipc.MessageQueue(self._name("jobs"), posix_ipc.O_CREX, 0o600, depth, 256)
        self.made.append(Made(f"posix-mq:{queue.name}", "jobs queue", queue.unlink))
        self.workers.append(spawn(lambda: workers.mq_producer(queue), "jobs-producer"))
        self.workers.append(spawn(lambda: workers.mq_consumer(queue), "jobs-consumer"))

    def _backlog(self) -> None:
        """A small queue a producer fills and nobody receives from: nearly full, then full."""
        queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o600)
        queue.max_size = BACKLOG_BYTES  # an owner may lower qbytes
        self.made.append(Made(f"sysv-msg:{queue.id}", "backlog (no consumer)", queue.remove))
        self.workers.append(spawn(lambda: workers.backlog_producer(queue), "backlog-writer"))

    def _gate(self) -> None:
        """A set whose one member stays 0, and a process waiting in semop for it to open."""
        semid = sem_create(1, 0o600)
        self.made.append(Made(f"sysv-sem:{semid}", "closed gate", lambda: sem_remove(semid)))
        self.workers.append(spawn(lambda: workers.gate_waiter(semid), "gate-waiter"))

    def _leaks(self) -> None:
        """A child makes objects and exits without removing them, as crashed programs do."""
        cache, lock = self._name("leak-cache"), self._name("leak-lock")
        read_end, write_end = os.pipe()
        child = spawn(lambda: _leak(write_end, cache, lock), "leaky-app")
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            ids = json.loads(pipe.read() or "{}")
        os.waitpid(child, 0)
        for kind, role in (("sysv-shm", "leaked segment"), ("sysv-msg", "leaked queue")):
            if kind in ids:
                remove = _remover(kind, ids[kind])
                self.made.append(Made(f"{kind}:{ids[kind]}", role, remove, leaked=True))
        self.made.append(Made(f"posix-shm:{cache}", "leaked cache", _unlink_shm(cache), True))
        self.made.append(Made(f"posix-sem:{lock}", "leaked lock", _unlink_sem(lock), True))

    def _remember_identities(self) -> None:
        identities = _identities()
        for made in self.made:
            made.identity = identities.get(made.ref)


def _mq_msg_max() -> int:
    try:
        with open("/proc/sys/fs/mqueue/msg_max") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 10


def _leak(pipe_fd: int, cache: str, lock: str) -> None:
    segment = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 256 << 10)
    segment.write(b"stale session data " * 100)
    segment.detach()
    queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o600)
    for n in range(3):
        queue.send(f"unprocessed event {n}".encode())
    memory = posix_ipc.SharedMemory(cache, posix_ipc.O_CREX, 0o600, 128 << 10)
    os.write(memory.fd, b"cached page " * 64)
    memory.close_fd()
    posix_ipc.Semaphore(lock, posix_ipc.O_CREX, 0o600, 0).close()  # a lock never released
    with os.fdopen(pipe_fd, "w") as pipe:
        json.dump({"sysv-shm": segment.id, "sysv-msg": queue.id}, pipe)


def _remover(kind: str, ident: int) -> Callable[[], object]:
    if kind == "sysv-shm":
        return lambda: sysv_ipc.remove_shared_memory(ident)
    return lambda: sysv_ipc.remove_message_queue(ident)


def _unlink_shm(name: str) -> Callable[[], object]:
    return lambda: posix_ipc.unlink_shared_memory(name)


def _unlink_sem(name: str) -> Callable[[], object]:
    return lambda: posix_ipc.unlink_semaphore(name)


def _identities() -> dict[str, tuple[object, ...]]:
    """What tells one object from a later one that took its id or name."""
    found: dict[str, tuple[object, ...]] = {}
    for obj in collect_snapshot().objects:
        if isinstance(obj, PosixEntry):
            found[obj.ref] = (obj.dev, obj.inode)
        elif isinstance(obj, SysvShm | SysvMsg | SysvSem):
            found[obj.ref] = (obj.key, obj.cuid, obj.ctime)
    return found
