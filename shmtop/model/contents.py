"""What a System V set or queue holds: its members, its queued messages (copies)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Member:
    """One semaphore of a System V set: value, processes waiting, last operation's pid."""

    num: int
    value: int
    ncnt: int  # waiting for the value to increase
    zcnt: int  # waiting for the value to become zero
    pid: int


@dataclass(frozen=True, slots=True)
class Message:
    """One queued message, copied and left where it was."""

    index: int
    mtype: int
    size: int
    head: bytes
