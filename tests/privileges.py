"""Running test code in a forked child that lost something: its privileges (uid/gid nobody),
or a system call (a seccomp filter makes it fail with an errno); the result comes back."""

from __future__ import annotations

import ctypes
import errno
import os
import pickle
import platform
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

NOBODY = 65534
PR_SET_DUMPABLE = 4
R = TypeVar("R")
SYSCALLS_X86_64 = {"msgrcv": 70}


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")


def run_as_nobody(fn: Callable[..., R], *args: Any) -> R:
    """fn(*args) in a forked child running as uid/gid nobody; its exception fails the test."""
    require_root("dropping privileges to nobody")
    return run_in_child(_become_nobody, fn, *args)


def run_without(syscall: str, fn: Callable[..., R], *args: Any) -> R:
    """fn(*args) in a forked child in which `syscall` fails with ENOSYS, as on a kernel
    built without it (a seccomp filter: the kernel itself refuses the call)."""
    if platform.machine() != "x86_64":
        pytest.skip(f"the seccomp filter here knows x86_64 system call numbers only, not "
                    f"{platform.machine()}'s")  # fmt: skip
    number = SYSCALLS_X86_64[syscall]
    return run_in_child(lambda: _refuse_syscall(number, errno.ENOSYS), fn, *args)


def run_in_child(prepare: Callable[[], object], fn: Callable[..., R], *args: Any) -> R:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        os.close(read_end)
        _child(write_end, prepare, fn, args)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child crashed"
    outcome, value = pickle.loads(payload)
    if outcome == "error":
        pytest.fail(f"in the child:\n{value}")
    return value  # type: ignore[no-any-return]


def _child(
    write_end: int, prepare: Callable[[], object], fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    try:
        prepare()
        result: tuple[str, Any] = ("ok", fn(*args))
    except BaseException:
        result = ("error", traceback.format_exc())
    try:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(pickle.dumps(result))
    finally:
        os._exit(0)


def become_nobody() -> None:
    """This process becomes uid/gid nobody, dumpable as a program nobody started."""
    _become_nobody()


def _become_nobody() -> None:
    """As a program started by nobody would be: changing uid without exec leaves a process
    undumpable, its /proc closed even to its own user; a program nobody starts is not."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1)


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]  # fmt: skip


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Instruction))]


def _refuse_syscall(number: int, error: int) -> None:
    load_nr, jump_if_equal, ret = 0x20, 0x15, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_RET|K
    fail, allow = 0x00050000 | error, 0x7FFF0000  # SECCOMP_RET_ERRNO | errno, SECCOMP_RET_ALLOW
    code = (_Instruction * 4)(
        _Instruction(load_nr, 0, 0, 0),  # seccomp_data.nr
        _Instruction(jump_if_equal, 0, 1, number),
        _Instruction(ret, 0, 0, fail),
        _Instruction(ret, 0, 0, allow),
    )
    program = _Program(4, code)
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if (
        libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0
        or libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(program), 0, 0) != 0
    ):
        raise OSError(ctypes.get_errno(), "seccomp")
