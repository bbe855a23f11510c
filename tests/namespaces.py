"""Running test code in a forked child with its own mount namespace (and its own IPC namespace
when asked), so the filesystems it mounts, and the objects it makes there, vanish with it."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tests.privileges import require_root, run_in_child

R = TypeVar("R")
CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
MS_PRIVATE, MS_REC = 1 << 18, 0x4000
_libc = ctypes.CDLL(None, use_errno=True)


def run_with_mounts(
    mounts: Mapping[str, tuple[str, str]], fn: Callable[..., R], *args: Any, new_ipc: bool = False
) -> R:
    """fn(*args) in a child where each path in `mounts` has a fresh filesystem of that type
    mounted with those options (`{"/dev/shm": ("tmpfs", "size=1m")}`); with new_ipc, in an
    empty IPC namespace too (mount mqueue after it: the queues of that namespace). Nothing
    outlives the child."""
    require_root("mount and IPC namespaces")
    return run_in_child(lambda: _private_mounts(mounts, new_ipc), fn, *args)


def _private_mounts(mounts: Mapping[str, tuple[str, str]], new_ipc: bool) -> None:
    _check(_libc.unshare(CLONE_NEWNS | (CLONE_NEWIPC if new_ipc else 0)))
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None))  # nothing leaks out
    for path, (fstype, options) in mounts.items():
        source, kind = fstype.encode(), fstype.encode()
        _check(_libc.mount(source, os.fsencode(path), kind, 0, options.encode()))


def _check(result: int) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
