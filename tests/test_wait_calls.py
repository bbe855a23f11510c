"""The call a blocked process sleeps in is named, so that "who is blocked on what" can say
msgsnd from msgrcv and a write from a read."""

import os

import pytest

from shmtop.attach.waits import CALLS, parse_syscall
from shmtop.model import Kind

pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 call numbers")


def test_each_call_is_named_with_its_object_and_direction() -> None:
    assert CALLS is not None
    assert parse_syscall(b"69 0x3c 0x7ff 0x10 0x0 0x0 0x0 0x7ff 0x7ff\n") == (
        Kind.SYSV_MSG, 0x3C, "", "msgsnd")  # fmt: skip
    assert parse_syscall(b"70 0x3c 0x7ff 0x10 0x0 0x0 0x0 0x7ff 0x7ff\n") == (
        Kind.SYSV_MSG, 0x3C, "", "msgrcv")  # fmt: skip
    assert parse_syscall(b"1 0x1 0x7ff 0x10001 0x0 0x0 0x0 0x7ff 0x7ff\n") == (
        Kind.PIPE, 1, "w", "write")  # fmt: skip
    assert parse_syscall(b"0 0x0 0x7ff 0x10 0x0 0x0 0x0 0x7ff 0x7ff\n") == (
        Kind.PIPE, 0, "r", "read")  # fmt: skip
    assert parse_syscall(b"running\n") is None
