"""What a sleeping process is blocked on, from /proc/PID/syscall.

A process blocked in semop, msgrcv or mq_timedreceive uses that object although no count
shows it (a System V queue keeps no count of its waiting receivers at all). /proc/PID/syscall
names the system call a task is in and its arguments: the first is the set or queue id, or
the queue's descriptor. System call numbers are per architecture; where they are not known
here, no process's waits can be read, and the scan says so.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from shmtop.model import Kind

_SEM, _MSG, _MQ = Kind.SYSV_SEM, Kind.SYSV_MSG, Kind.POSIX_MQ

# semop, semtimedop, msgsnd, msgrcv, mq_timedsend, mq_timedreceive
_CALLS: dict[str, dict[int, Kind]] = {
    "x86_64": {65: _SEM, 220: _SEM, 69: _MSG, 70: _MSG, 242: _MQ, 243: _MQ},
    "aarch64": {193: _SEM, 192: _SEM, 189: _MSG, 188: _MSG, 182: _MQ, 183: _MQ},
}
CALLS: dict[int, Kind] | None = _CALLS.get(os.uname().machine)


class Wait(NamedTuple):
    """Blocked in a call on a System V set or queue (`handle` is its id) or a POSIX queue
    (`handle` is the descriptor)."""

    kind: Kind
    handle: int


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
    return Wait(kind, handle)
