"""Is the process a System V object remembers (creator, last user) still that process?

A pid proves little: pids are reused. A process that started after the moment the object
recorded its pid cannot be the one it recorded. Start times come from /proc/PID/stat (clock
ticks since boot) and the boot time in /proc/stat. Where /proc hides other users' processes
(hidepid), a missing pid is unknown, not gone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from shmtop.attach.visibility import hidden_processes
from shmtop.model.use import PidLife

_TICKS = os.sysconf("SC_CLK_TCK")


def pid_lives(
    pids: Iterable[int], procfs: str = "/proc", hidden: bool | None = None
) -> dict[int, PidLife | None]:
    """What each pid is now (None: cannot be known); pid 0 (none recorded) is left out.
    `hidden`: whether /proc may hide processes from us (found out when not given)."""
    wanted = {pid for pid in pids if pid > 0}
    if not wanted:
        return {}
    boot = _boot_time(procfs)
    if hidden is None:
        hidden = hidden_processes(procfs) is not None
    return {pid: _life(procfs, pid, boot, hidden) for pid in wanted}


def _life(procfs: str, pid: int, boot: float | None, hidden: bool) -> PidLife | None:
    try:
        with open(f"{procfs}/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return None if hidden else PidLife(alive=False)
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()  # after "pid (comm) ", comm may hold spaces
    if len(fields) < 20 or not fields[19].isdigit():
        return None
    started = None if boot is None else boot + int(fields[19]) / _TICKS
    return PidLife(alive=fields[0] not in (b"Z", b"X"), started=started)


def _boot_time(procfs: str) -> float | None:
    try:
        with open(f"{procfs}/stat", "rb") as f:
            for line in f:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None
