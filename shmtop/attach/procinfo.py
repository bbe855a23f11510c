"""A process's command line, name and owner, read when something shows who it is (the
dashboard's Processes view), not during the scan: only processes that use IPC are asked."""

from __future__ import annotations

import os
from typing import NamedTuple

MAX_COMMAND_LINE = 4096  # bytes read of /proc/PID/cmdline: enough to tell programs apart


class ProcessInfo(NamedTuple):
    """What /proc says a process is; `args` is empty for a kernel thread or a zombie, None
    when it cannot be read."""

    comm: str | None
    uid: int | None
    args: tuple[bytes, ...] | None


def process_info(pid: int, procfs: str = "/proc") -> ProcessInfo | None:
    """None when there is no such process (any more)."""
    base = f"{procfs}/{pid}"
    try:
        uid: int | None = os.stat(base).st_uid
    except FileNotFoundError:
        return None
    except OSError:
        uid = None
    return ProcessInfo(_comm(base), uid, _args(base))


def _comm(base: str) -> str | None:
    try:
        with open(f"{base}/comm", "rb") as f:
            return f.read().rstrip(b"\n").decode("utf-8", "surrogateescape")
    except OSError:
        return None


def _args(base: str) -> tuple[bytes, ...] | None:
    try:
        with open(f"{base}/cmdline", "rb") as f:
            raw = f.read(MAX_COMMAND_LINE)
    except OSError:
        return None
    return tuple(raw.rstrip(b"\0").split(b"\0")) if raw else ()
