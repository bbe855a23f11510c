"""Every process that uses an IPC object, and every way it does: maps it, holds it open,
waits in a call on it, or is the pid the kernel recorded for it (a queue's last sender or
receiver, a segment's creator or last user, a set member's last operation, a queue's notify
pid) and still runs. For the dashboard's Processes view; no UI here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from shmtop.attach.liveness import pid_lives
from shmtop.attach.members import member_pids
from shmtop.attach.procinfo import ProcessInfo, process_info
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.model import Attacher, AttachMap, IpcObject, PidLife, SysvSem
from shmtop.model.kinds import spec_of
from shmtop.model.use import latest_time, pid_state


@dataclass(frozen=True, slots=True)
class ObjectUse:
    """How one process uses one object."""

    ref: str
    maps: int = 0
    fds: int = 0
    waiting: bool = False
    roles: tuple[str, ...] = ()  # what the kernel recorded it as: "last sender", ...
    call: str = ""  # the call it sleeps in on the object ("msgrcv", "write"), if waiting


@dataclass(frozen=True, slots=True)
class ProcessUses:
    pid: int
    comm: str
    uid: int | None
    args: tuple[bytes, ...] | None  # its command line; None: unreadable
    uses: tuple[ObjectUse, ...]
    mapped_bytes: int


Recorded = dict[int, dict[str, list[str]]]  # pid -> ref -> roles


def processes_using(
    objects: Iterable[IpcObject],
    attach: AttachMap,
    procfs: str = "/proc",
    info: Callable[[int, str], ProcessInfo | None] = process_info,
) -> dict[int, ProcessUses]:
    """Each process that uses an object, by pid. Reads each one's command line, the members
    of semaphore sets (their last pids) and whether recorded pids still run."""
    recorded = _recorded(list(objects), attach, procfs)
    seen: dict[int, dict[str, Attacher]] = defaultdict(dict)
    for ref, users in attach.attachers.items():
        for user in users:
            seen[user.pid][ref] = user
    found = {}
    for pid in sorted({*attach.processes, *recorded, *seen}):
        about = info(pid, procfs)
        if about is None and pid not in attach.processes:
            continue  # gone since
        found[pid] = _process(pid, attach, seen.get(pid, {}), recorded.get(pid, {}), about)
    return found


def _process(
    pid: int,
    attach: AttachMap,
    seen: Mapping[str, Attacher],
    roles: Mapping[str, list[str]],
    about: ProcessInfo | None,
) -> ProcessUses:
    known = attach.processes.get(pid)
    uses = tuple(
        ObjectUse(ref, *_seen_use(seen.get(ref)), tuple(roles.get(ref, ())), _call(seen.get(ref)))
        for ref in sorted({*seen, *roles})
    )
    comm = known.comm if known else (about.comm if about and about.comm else "?")
    uid = known.uid if known else (about.uid if about else None)
    return ProcessUses(pid, comm, uid, about.args if about else None, uses,
                       known.mapped_bytes if known else 0)  # fmt: skip


def _seen_use(seen: Attacher | None) -> tuple[int, int, bool]:
    return (0, 0, False) if seen is None else (seen.maps, seen.fds, seen.waiting)


def _call(seen: Attacher | None) -> str:
    return seen.call if seen is not None and seen.waiting else ""


def _recorded(objects: list[IpcObject], attach: AttachMap, procfs: str) -> Recorded:
    """Pids the kernel recorded for objects, that still run as that process."""
    found: Recorded = defaultdict(lambda: defaultdict(list))
    lives: dict[int, PidLife | None] = dict(attach.pids)
    for obj, role, pid, since in _recorded_pids(objects):
        if pid not in lives:
            lives.update(pid_lives([pid], procfs, attach.hidden is not None))
        if pid_state(pid, since, lives) == "alive":
            found[pid][obj.ref].append(role)
    return found


def _recorded_pids(objects: list[IpcObject]) -> Iterable[tuple[IpcObject, str, int, int | None]]:
    for obj in objects:
        for r in spec_of(obj).recorded_pids(obj):
            if r.pid > 0:
                yield obj, r.role, r.pid, r.since
        if isinstance(obj, SysvSem):
            yield from _members(obj)


def _members(semset: SysvSem) -> Iterable[tuple[IpcObject, str, int, int | None]]:
    try:
        pids = member_pids(semset)
    except (NotPermitted, Vanished, Unsupported, OSError):
        return
    since = latest_time(semset.otime, semset.ctime)
    for num, pid in enumerate(pids):
        if pid > 0:
            yield semset, f"member {num}'s last user", pid, since
