"""Populating a host with many IPC objects for a benchmark, and removing every one of them.

Everything created is recorded as it is created, so `remove_all()` in a finally block (which
also runs on Ctrl-C and SIGTERM, see bench_collect.py) leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import posix_ipc
import sysv_ipc

QUEUES_MAX = "/proc/sys/fs/mqueue/queues_max"
MQUEUE_DIR = "/dev/mqueue"


@dataclass(frozen=True)
class Mix:
    sysv_shm: int
    sysv_msg: int
    sysv_sem: int
    posix_shm: int
    posix_sem: int
    posix_mq: int

    @property
    def total(self) -> int:
        return sum(vars(self).values())


MIXES = {
    "empty": Mix(0, 0, 0, 0, 0, 0),  # start-up: the host must hold no other object either
    "small": Mix(100, 100, 100, 100, 100, 100),
    "large": Mix(4000, 10000, 10000, 5000, 5000, 5000),
}


@dataclass
class Population:
    prefix: str = field(default_factory=lambda: f"shmtop-bench-{os.getpid()}")
    handles: list[object] = field(default_factory=list)  # queues and semaphores, to poke
    total: int = 0
    _undo: list[Callable[[], object]] = field(default_factory=list)

    def create(self, mix: Mix) -> None:
        self.total = mix.total
        self._create_sysv(mix)
        self._create_posix(mix)

    def _create_sysv(self, mix: Mix) -> None:
        for _ in range(mix.sysv_shm):
            shm = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, 4096)
            self._undo.append(_remove_shm(shm))
            shm.detach()
        for i in range(mix.sysv_msg):
            queue = sysv_ipc.MessageQueue(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600)
            self._undo.append(queue.remove)
            self.handles.append(queue)
            if i % 10 == 0:
                queue.send(b"benchmark message")
        for _ in range(mix.sysv_sem):
            sem = sysv_ipc.Semaphore(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600)
            self._undo.append(sem.remove)

    def _create_posix(self, mix: Mix) -> None:
        for i in range(mix.posix_shm):
            name = f"/{self.prefix}-shm-{i}"
            posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096).close_fd()
            self._undo.append(lambda name=name: posix_ipc.unlink_shared_memory(name))
        for i in range(mix.posix_sem):
            name = f"/{self.prefix}-sem-{i}"
            sem = posix_ipc.Semaphore(name, posix_ipc.O_CREX, initial_value=1)
            self._undo.append(lambda name=name: posix_ipc.unlink_semaphore(name))
            self._undo.append(sem.close)
            self.handles.append(sem)
        for i in range(mix.posix_mq):
            name = f"/{self.prefix}-mq-{i}"
            posix_ipc.MessageQueue(
                name, posix_ipc.O_CREX, max_messages=1, max_message_size=1
            ).close()
            self._undo.append(lambda name=name: posix_ipc.unlink_message_queue(name))

    def remove_all(self) -> int:
        """Remove everything created; returns how many removals failed (should be 0)."""
        failures = 0
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except (OSError, sysv_ipc.Error, posix_ipc.Error):
                failures += 1
        return failures


def _remove_shm(shm: sysv_ipc.SharedMemory) -> Callable[[], object]:
    return lambda: sysv_ipc.remove_shared_memory(shm.id)


@contextlib.contextmanager
def mqueue_ready(needed: int) -> Iterator[None]:
    """/dev/mqueue mounted and queues_max raised for `needed` more queues; restored after."""
    mounted_here = not _mqueue_mounted()
    if mounted_here:
        os.makedirs(MQUEUE_DIR, exist_ok=True)
        subprocess.run(["mount", "-t", "mqueue", "none", MQUEUE_DIR], check=True)
    with open(QUEUES_MAX) as f:
        original = f.read().strip()
    existing = len(os.listdir(MQUEUE_DIR))
    if int(original) < existing + needed:
        _write(QUEUES_MAX, str(existing + needed + 16))
    try:
        yield
    finally:
        _write(QUEUES_MAX, original)
        if mounted_here:
            subprocess.run(["umount", MQUEUE_DIR], check=True)


def _mqueue_mounted() -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == MQUEUE_DIR and " - mqueue " in line for line in f)


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _stop_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so `finally` removes what was created, as for Ctrl-C


@contextlib.contextmanager
def populated(scale: str) -> Iterator[tuple[Mix, Population]]:
    """The mix of `scale` created (as root) for the body, and removed after it, always."""
    if os.geteuid() != 0:
        raise SystemExit("bench: needs root (mounts /dev/mqueue, raises queues_max)")
    signal.signal(signal.SIGTERM, _stop_as_interrupt)
    mix = MIXES[scale]
    population = Population()
    with mqueue_ready(mix.posix_mq):
        try:
            started = time.perf_counter()
            population.create(mix)
            elapsed = time.perf_counter() - started
            print(f"created {mix.total} objects in {elapsed:.1f}s", file=sys.stderr)
            yield mix, population
        finally:
            failures = population.remove_all()
            print(f"removed everything created ({failures} removals failed)", file=sys.stderr)
