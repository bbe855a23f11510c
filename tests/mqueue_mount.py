"""/dev/mqueue for a test session, without touching what other sessions see.

The mqueue filesystem is mounted in a mount namespace of this session's own (the pytest
process unshares its mount namespace, made private), so no other process ever sees the mount
and it goes away with the session. Only the empty directory /dev/mqueue is shared with the
host: it is made when missing, and removed by the last session out, under a shared lock, so
that a session still running keeps it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
from collections.abc import Iterator

MQUEUE_DIR = "/dev/mqueue"
LOCK = "/run/shmtop-tests-mqueue.lock"
MADE = "/run/shmtop-tests-mqueue.made"  # the directory was made by a test session
CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 0x4000, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def is_mounted() -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(
            line.split()[4] == MQUEUE_DIR and line.split(" - ")[1].startswith("mqueue ")
            for line in f
        )


@contextlib.contextmanager
def private_mqueue() -> Iterator[str]:
    """/dev/mqueue with an mqueue filesystem on it, seen by this process and its children."""
    lock = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        if not os.path.isdir(MQUEUE_DIR):
            os.makedirs(MQUEUE_DIR, exist_ok=True)
            open(MADE, "w").close()
        _private_mount_namespace()
        _check(_libc.mount(b"mqueue", MQUEUE_DIR.encode(), b"mqueue", 0, None), "mount")
        yield MQUEUE_DIR
    finally:
        _leave(lock)


def _private_mount_namespace() -> None:
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _check(_libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "mount")


def _leave(lock: int) -> None:
    """The last session out removes the directory a session made."""
    with contextlib.suppress(OSError):
        _libc.umount2(MQUEUE_DIR.encode(), 0)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return  # another session runs: it will
    try:
        if os.path.exists(MADE):
            with contextlib.suppress(OSError):
                os.rmdir(MQUEUE_DIR)
            os.unlink(MADE)
        os.unlink(LOCK)
    finally:
        os.close(lock)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")
