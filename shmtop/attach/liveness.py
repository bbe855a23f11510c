"""Is the process a System V object remembers (creator, last user) still that process?

A pid proves little: pids are reused. A process that started after the moment the object
recorded its pid cannot be the one it recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shmtop.attach.model import PidLife

SLACK = 1.0  # object times have whole seconds; process start times have clock ticks


def pid_lives(pids: Iterable[int]) -> dict[int, PidLife]:
    """What each pid is now; pid 0 (none recorded) is left out."""
    wanted = {pid for pid in pids if pid > 0}
    if not wanted:
        return {}
    import psutil  # noqa: PLC0415 (40 ms to import: only commands that need it pay)

    return {pid: _life(psutil, pid) for pid in wanted}


def _life(psutil: Any, pid: int) -> PidLife:
    try:
        process = psutil.Process(pid)
        started = process.create_time()
        if process.status() == psutil.STATUS_ZOMBIE:
            return PidLife(alive=False, started=started)
    except psutil.NoSuchProcess:
        return PidLife(alive=False)
    except psutil.AccessDenied:
        return PidLife(alive=True)
    return PidLife(alive=True, started=started)


def pid_state(pid: int, since: float | None, lives: Mapping[int, PidLife]) -> str | None:
    """ "alive", "exited", "reused" (a later process has the pid), or None if unknowable.

    `since` is when the object recorded the pid (at the latest).
    """
    life = lives.get(pid) if pid > 0 else None
    if life is None:
        return None
    if not life.alive:
        return "exited"
    if since is not None and life.started is not None and life.started > since + SLACK:
        return "reused"
    return "alive"


def is_alive(state: str | None) -> bool | None:
    return None if state is None else state == "alive"
