"""A private corner of the kernel for tests that act on everything they can see.

`run_in_sandbox(fn)` runs fn in a forked child with its own IPC namespace (its own System V
objects and POSIX queues) and its own mount namespace holding a fresh tmpfs on /dev/shm and a
fresh mqueue filesystem on /dev/mqueue. A test there may run `shmtop clean --yes` or press C
in the dashboard: it can only ever see, and so only ever remove, what it made itself, and two
test runs on one machine cannot disturb each other. Whatever it leaves dies with the
namespaces when the child exits.

With `pid_namespace`, the child is also pid 1 of a new pid namespace with its own /proc
(mounted with `proc_options`, e.g. "hidepid=invisible"): processes it forks are the only ones
it sees, and they end with it.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable
from typing import Any, TypeVar

from tests.privileges import require_root, run_in_child

R = TypeVar("R")
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
SANDBOX_SECONDS = 120  # a sandboxed test that hangs ends itself (its parent waits on it)
_libc = ctypes.CDLL(None, use_errno=True)


def run_in_sandbox(
    fn: Callable[..., R], *args: Any, pid_namespace: bool = False, proc_options: str = ""
) -> R:
    """fn(*args) inside private IPC and mount namespaces (and a pid namespace if asked)."""
    require_root("making IPC, mount and pid namespaces")
    assert os.path.isdir("/dev/mqueue"), "use the `sandbox` fixture: it makes the mount point"
    return run_in_child(lambda: _enter(pid_namespace, proc_options), fn, *args)


def _enter(pid_namespace: bool, proc_options: str) -> None:
    signal.alarm(SANDBOX_SECONDS)
    flags = CLONE_NEWIPC | CLONE_NEWNS | (CLONE_NEWPID if pid_namespace else 0)
    _check(_libc.unshare(flags), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    _mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if pid_namespace:
        _become_init()
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, proc_options)
    _forget_learned_state()


def _become_init() -> None:
    """Fork into the new pid namespace: the child is its pid 1 and goes on with the test;
    this process waits for it and exits with its status (never returning into pytest)."""
    child = os.fork()
    if child == 0:
        return
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status))


def _forget_learned_state() -> None:
    """What this process learned outside (cached in modules) no longer holds inside."""
    from shmtop.attach import sysvdev

    sysvdev._learned.clear()


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    result = _libc.mount(
        None if source is None else source.encode(),
        target.encode(),
        None if fstype is None else fstype.encode(),
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    _check(result, f"mount {target}")


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
