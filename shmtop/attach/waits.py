"""What a sleeping process is blocked on, from /proc/PID/syscall.

A process blocked in semop, msgrcv or mq_timedreceive uses that object although no count
shows it (a System V queue keeps no count of its waiting receivers at all); one asleep in a
read or write on a pipe's end is the stalled reader or writer of that pipe.
/proc/PID/syscall names the system call a task is in and its arguments: the first is the set
or queue id, or the descriptor. System call numbers are per architecture; where they are not known
here, no process's waits can be read, and the scan says so.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from shmtop.model import Kind

_SEM, _MSG, _MQ = Kind.SYSV_SEM, Kind.SYSV_MSG, Kind.POSIX_MQ
_IO = Kind.PIPE  # a read or write on a descriptor: a pipe's or a FIFO's, if it is one

# semop, semtimedop, msgsnd, msgrcv, mq_timedsend, mq_timedreceive; read, write, readv, writev
_CALLS: dict[str, dict[int, Kind]] = {
    "x86_64": {65: _SEM, 220: _SEM, 69: _MSG, 70: _MSG, 242: _MQ, 243: _MQ,
               0: _IO, 1: _IO, 19: _IO, 20: _IO},
    "aarch64": {193: _SEM, 192: _SEM, 189: _MSG, 188: _MSG, 182: _MQ, 183: _MQ,
                63: _IO, 64: _IO, 65: _IO, 66: _IO},
}  # fmt: skip
_NAMES: dict[str, dict[int, str]] = {
    "x86_64": {65: "semop", 220: "semtimedop", 69: "msgsnd", 70: "msgrcv", 242: "mq_timedsend",
               243: "mq_timedreceive", 0: "read", 1: "write", 19: "readv", 20: "writev"},
    "aarch64": {193: "semop", 192: "semtimedop", 189: "msgsnd", 188: "msgrcv",
                182: "mq_timedsend", 183: "mq_timedreceive", 63: "read", 64: "write",
                65: "readv", 66: "writev"},
}  # fmt: skip
_WRITES: dict[str, frozenset[int]] = {"x86_64": frozenset({1, 20}), "aarch64": frozenset({64, 66})}
CALLS: dict[int, Kind] | None = _CALLS.get(os.uname().machine)
WRITES: frozenset[int] = _WRITES.get(os.uname().machine, frozenset())
NAMES: dict[int, str] = _NAMES.get(os.uname().machine, {})


class Wait(NamedTuple):
    """Blocked in a call on a System V set or queue (`handle` is its id) or a POSIX queue
    (`handle` is the descriptor); or (kind PIPE) in a read or write on descriptor `handle`,
    `direction` "r" or "w". `call` names the system call ("msgrcv", "write")."""

    kind: Kind
    handle: int
    direction: str = ""
    call: str = ""


def parse_syscall(text: bytes) -> Wait | None:
    """The wait a /proc/PID/syscall line shows: "70 0x3c46001e 0x... ..." is msgrcv on queue
    0x3c46001e; "running", "-1 ..." (not in a call) and other calls are none."""
    fields = text.split(None, 2)
    if CALLS is None or len(fields) < 2 or not fields[0].isdigit():
        return None
    kind = CALLS.get(int(fields[0]))
    if kind is None:
        return None
    try:
        handle = int(fields[1], 16)
    except ValueError:
        return None
    number = int(fields[0])
    if kind is _IO:
        return Wait(kind, handle, "w" if number in WRITES else "r", NAMES.get(number, ""))
    return Wait(kind, handle, call=NAMES.get(number, ""))
