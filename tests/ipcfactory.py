"""Creating real IPC objects for tests, each with a unique name, each removed afterwards.

Every create_* call registers its own removal; `IpcFactory.cleanup()` runs them all, even for
objects a test already removed, and ignores "already gone". Names carry the run's prefix so a
leftover is traceable to the run that made it.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import posix_ipc
import sysv_ipc

RUN_PREFIX = f"shmtop-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
_counter = itertools.count()
_libc = ctypes.CDLL(None, use_errno=True)
IPC_RMID = 0
SETVAL = 16


def unique_key() -> int:
    """A System V key no object on this host uses (tests must not assume an empty host)."""
    with open("/proc/sysvipc/shm") as shm, open("/proc/sysvipc/msg") as msg:
        used = {int(line.split()[0]) & 0xFFFFFFFF for f in (shm, msg) for line in list(f)[1:]}
    key = 0x5EED0000 + (os.getpid() * 7919 + next(_counter)) % 0xFFFF
    while key in used:
        key += 1
    return key


def unique(tag: str) -> str:
    """A name no other test or run uses: shmtop-test-PID-RAND-tag-N."""
    return f"{RUN_PREFIX}-{tag}-{next(_counter)}"


class IpcFactory:
    def __init__(self) -> None:
        self._undo: list[Callable[[], Any]] = []

    def defer(self, undo: Callable[[], Any]) -> None:
        self._undo.append(undo)

    def cleanup(self) -> None:
        while self._undo:
            undo = self._undo.pop()
            with contextlib.suppress(OSError, sysv_ipc.Error, posix_ipc.Error):
                undo()

    # System V -----------------------------------------------------------------------------

    def sysv_shm(
        self, size: int = 4096, mode: int = 0o600, key: int | None = None, attach: bool = False
    ) -> sysv_ipc.SharedMemory:
        """A segment (a random key unless key is given; sysv_ipc.IPC_PRIVATE for none)."""
        shm = sysv_ipc.SharedMemory(key, sysv_ipc.IPC_CREX, mode, size)
        self.defer(lambda: sysv_ipc.remove_shared_memory(shm.id))
        if attach:
            self.defer(shm.detach)
        else:
            shm.detach()
        return shm

    def sysv_msg(self, mode: int = 0o600, key: int | None = None) -> sysv_ipc.MessageQueue:
        queue = sysv_ipc.MessageQueue(key, sysv_ipc.IPC_CREX, mode)
        self.defer(lambda: sysv_ipc.remove_message_queue(queue.id))
        return queue

    def sysv_sem(self, nsems: int = 1, mode: int = 0o600, key: int = 0) -> int:
        """A semaphore set of nsems members (sysv_ipc makes only one-member sets): its id."""
        semid = _libc.semget(key, nsems, 0o1000 | 0o2000 | mode)  # IPC_CREAT | IPC_EXCL
        if semid < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.defer(lambda: _libc.semctl(semid, 0, IPC_RMID))
        return semid

    # POSIX --------------------------------------------------------------------------------

    def posix_shm(self, size: int = 4096, mode: int = 0o600, tag: str = "shm") -> str:
        name = "/" + unique(tag)
        shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=mode, size=size)
        shm.close_fd()
        self.defer(lambda: posix_ipc.unlink_shared_memory(name))
        return name

    def posix_shm_holding(
        self, data: bytes = b"", size: int | None = None, marks: Mapping[int, bytes] | None = None
    ) -> tuple[str, str]:
        """A POSIX object holding data, then sparse up to size, with marks written at their
        offsets: (name, its /dev/shm path)."""
        name = self.posix_shm(size=0)
        path = "/dev/shm" + name
        with open(path, "r+b") as f:
            f.write(data)
            if size is not None:
                f.truncate(size)
            for offset, mark in (marks or {}).items():
                f.seek(offset)
                f.write(mark)
        return name, path

    def posix_sem(self, value: int = 0, mode: int = 0o600, tag: str = "sem") -> str:
        name = "/" + unique(tag)
        sem = posix_ipc.Semaphore(name, posix_ipc.O_CREX, mode=mode, initial_value=value)
        sem.close()
        self.defer(lambda: posix_ipc.unlink_semaphore(name))
        return name

    def posix_mq(
        self, maxmsg: int = 4, msgsize: int = 64, mode: int = 0o600, tag: str = "mq"
    ) -> posix_ipc.MessageQueue:
        name = "/" + unique(tag)
        queue = posix_ipc.MessageQueue(
            name, posix_ipc.O_CREX, mode=mode, max_messages=maxmsg, max_message_size=msgsize
        )
        self.defer(lambda: posix_ipc.unlink_message_queue(name))
        self.defer(queue.close)
        return queue

    # Hostile /dev/shm entries --------------------------------------------------------------

    def dev_shm_path(self, raw_name: bytes) -> bytes:
        """Register /dev/shm/raw_name for removal (whatever it becomes) and return the path."""
        path = b"/dev/shm/" + raw_name
        self.defer(lambda: _remove_any(path))
        return path

    def file(self, raw_name: bytes, data: bytes = b"", mode: int = 0o600) -> bytes:
        path = self.dev_shm_path(raw_name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.write(fd, data)
        os.close(fd)
        return path

    def symlink(self, raw_name: bytes, target: bytes) -> bytes:
        path = self.dev_shm_path(raw_name)
        os.symlink(target, path)
        return path

    def fifo(self, raw_name: bytes) -> bytes:
        path = self.dev_shm_path(raw_name)
        os.mkfifo(path)
        return path

    def directory(self, raw_name: bytes) -> bytes:
        path = self.dev_shm_path(raw_name)
        os.mkdir(path)
        return path

    def socket(self, raw_name: bytes) -> bytes:
        path = self.dev_shm_path(raw_name)
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path)
        self.defer(sock.close)
        return path


def _remove_any(path: bytes) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        os.rmdir(path)
    else:
        os.unlink(path)
