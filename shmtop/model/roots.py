"""Where objects live: /proc, /dev/shm, /dev/mqueue (configurable, so tests can point at
crafted trees), and where in them each POSIX object's file is."""

from __future__ import annotations

import os
from dataclasses import dataclass

from shmtop.model.objects import PosixEntry, PosixMq, PosixSem

SEM_PREFIX = b"sem."  # glibc names the file of semaphore /NAME sem.NAME


@dataclass(frozen=True, slots=True)
class Roots:
    procfs: str = "/proc"
    dev_shm: str = "/dev/shm"
    dev_mqueue: str = "/dev/mqueue"
    # How references name the namespaces read here; "" for shmtop's own (references then
    # stay unqualified): the IPC namespace (System V objects, POSIX queues), and the /dev/shm
    # (POSIX shared memory and semaphores), which a mount namespace has, by device.
    ipc_ns: str = ""
    shm_ns: str = ""

    @property
    def own(self) -> bool:
        """Whether these are shmtop's own namespaces' places (not a container's)."""
        return not (self.ipc_ns or self.shm_ns)

    @property
    def live_procfs(self) -> bool:
        """Whether procfs is this kernel's /proc, so ids read there can be asked of the kernel."""
        return os.path.realpath(self.procfs) == "/proc"

    def place(self, entry: PosixEntry) -> tuple[str, bytes]:
        """The directory an entry lives in, and its file name there."""
        if isinstance(entry, PosixMq):
            return self.dev_mqueue, entry.name[1:]
        if isinstance(entry, PosixSem):
            return self.dev_shm, SEM_PREFIX + entry.name[1:]
        return self.dev_shm, entry.name[1:]

    def path(self, entry: PosixEntry) -> bytes:
        directory, name = self.place(entry)
        return os.fsencode(directory) + b"/" + name
