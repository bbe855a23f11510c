"""Does an object look leaked? A verdict, always with its reasons; any doubt means "in use".

A verdict is one of three: leaked; in use, on evidence (a process maps it, a recorded pid
still runs, it changed lately); or unknown, when "nobody uses it" or "that pid exited" could
not be established (a process whose /proc cannot be read, /proc hiding other users'
processes, a pid whose fate cannot be read). Unknown objects are never removed; `shmtop
clean` lists them with why, so that nothing is left in doubt silently.

- System V segments: nattch 0 (from /proc/sysvipc, read before the attach scan) and creator
  and last user both gone (exited, or the pid now names a later process); or marked for
  removal with no process found mapping it.
- POSIX shared memory, semaphores and queues: no process maps it or holds it open (processes
  that could not be inspected count as users), no live notify pid, and not modified for at
  least `min_age` seconds.
- System V queues and semaphore sets: never on counts alone: no process waits on it (a set's
  members count their waiters; a queue's waiters are found blocked in msgsnd / msgrcv),
  every pid the kernel recorded for it (last sender and receiver; each member's last
  operation) is gone, and it has been idle for at least `min_age` seconds. With no pid
  recorded at all, there is nothing to go on: unknown.
- Pipes, FIFOs, memfd objects, anonymous shared memory, and /dev/shm files deleted while held:
  never leaked. Nothing names them but their holders' descriptors and mappings, and the kernel
  frees them when the last of those goes, so there is nothing to remove; the verdict says who
  keeps them. A MAP_SHARED file is an ordinary file: its mappings end with their processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import assert_never

from shmtop.attach.liveness import pid_lives
from shmtop.attach.members import member_pids, member_waiting
from shmtop.clean.lifetime import IN_DEV_SHM, host_filesystem, lifetime, place_of
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.humanize import human_duration
from shmtop.model import (
    AttachMap,
    Fifo,
    FileType,
    IpcObject,
    Kind,
    Memfd,
    Pipe,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SharedAnon,
    SharedFile,
    Snapshot,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.model.kinds import spec_of
from shmtop.model.use import PidLife, latest_time, pid_state
from shmtop.model.verdict import DEFAULT_MIN_AGE, Doubt, Verdict
from shmtop.names import escape_text

GONE = {"exited": "exited", "reused": "exited (its pid now names a later process)"}


def verdicts(
    snapshot: Snapshot,
    min_age: float = DEFAULT_MIN_AGE,
    objects: Iterable[IpcObject] | None = None,
    ignore: frozenset[int] = frozenset(),
) -> dict[str, Verdict]:
    """A verdict for each object (all of the snapshot's by default), by reference.

    `ignore`: processes whose /proc cannot be read that the operator vouches use no object
    (a container's init, say); otherwise each of them may be using any POSIX object, and be
    waiting on any System V queue.
    """
    judge = _Judge(snapshot, min_age, ignore)
    chosen = snapshot.objects if objects is None else objects
    return {obj.ref: _placed(judge.verdict(obj), obj, snapshot) for obj in chosen}


def _placed(verdict: Verdict, obj: IpcObject, snapshot: Snapshot) -> Verdict:
    """A leak or a doubt in another namespace says how long the object lasts if left."""
    if not obj.ns or not (verdict.stale or verdict.unknown):
        return verdict
    ns = place_of(obj.kind, obj.ns, snapshot.namespaces)
    if ns is None:
        return verdict
    reasons = (*verdict.reasons, lifetime(obj.kind, ns))
    if obj.kind in IN_DEV_SHM and host_filesystem(ns) is not None:  # the host's file
        return Verdict(False, reasons, unknown=True, doubt=Doubt.HOST_FILESYSTEM)
    return replace(verdict, reasons=reasons)


class _Judge:
    def __init__(self, snapshot: Snapshot, min_age: float, ignore: frozenset[int]) -> None:
        self.attach = snapshot.attach
        self.ignored = ignore & snapshot.attach.uninspected if snapshot.attach else frozenset()
        self.now = snapshot.time
        self.min_age = min_age
        self._lives: dict[int, PidLife | None] = (
            dict(snapshot.attach.pids) if snapshot.attach else {}
        )

    def verdict(self, obj: IpcObject) -> Verdict:
        if self.attach is None:
            return _unknown("who uses it is unknown (no scan of /proc was made)", Doubt.NO_SCAN)
        try:
            return self._judge(obj, self.attach)
        except (OSError, NotPermitted, Vanished, Unsupported) as exc:
            return _unknown(f"it could not be analysed ({exc})", Doubt.UNREADABLE)

    def _judge(self, obj: IpcObject, attach: AttachMap) -> Verdict:
        match obj:
            case SysvShm():
                return self._segment(obj, attach)
            case SysvMsg():
                return self._queue(obj, attach)
            case SysvSem():
                return self._semaphore_set(obj, attach)
            case PosixShm() | PosixSem() | PosixMq():
                return self._posix(obj, attach)
            case Pipe() | Fifo() | Memfd() | SharedAnon() | SharedFile():
                return _kernel_frees(obj, attach, _FREED[obj.kind])
            case _:
                assert_never(obj)

    # System V segments --------------------------------------------------------------------

    def _segment(self, shm: SysvShm, attach: AttachMap) -> Verdict:
        seen = who_uses(shm, attach)
        if seen:
            return _in_use("; ".join(seen))
        if shm.dest:
            unseen = self._users(shm, attach)
            return unseen or Verdict(True, ("marked for removal", "no process found mapping it"))
        if shm.nattch:  # the kernel counts mappings that no readable process showed
            return _in_use(f"nattch {shm.nattch}: attached by processes that were not seen")
        reasons = ["nattch 0"]
        for recorded in spec_of(shm).recorded_pids(shm):  # creator, then last user
            gone = self._gone(recorded.role, recorded.pid, recorded.since)
            if isinstance(gone, Verdict):
                return gone
            reasons.append(gone)
        return Verdict(True, tuple(reasons))

    def _gone(self, role: str, pid: int, since: int | None) -> str | Verdict:
        """Why `pid` no longer uses the object, or a Verdict saying it may."""
        if pid <= 0:
            return f"no {role} recorded"
        state = pid_state(pid, since, self._lives_of([pid]))
        if state in GONE:
            return f"{role} {pid} {GONE[state]}"
        if state == "alive":
            return _in_use(f"{role} {pid} is still running")
        return _unknown(f"whether {role} {pid} still runs cannot be known", Doubt.PID_FATE)

    # System V queues and sets -------------------------------------------------------------

    def _queue(self, queue: SysvMsg, attach: AttachMap) -> Verdict:
        seen = who_uses(queue, attach)
        if seen:
            return _in_use("; ".join(seen))
        recorded = [(r.role, r.pid, r.since) for r in spec_of(queue).recorded_pids(queue)]
        by_pids = self._idle_with_pids(recorded, last_used(queue))
        return _evidence_first(by_pids, self._users(queue, attach, "may be waiting on it"))

    def _semaphore_set(self, semset: SysvSem, attach: AttachMap) -> Verdict:
        """Its waiters are its users; the kernel counts them (ncnt, zcnt) even for processes
        that could not be inspected. Read only when no last user still runs (one call per
        member for the pids, two more for the counts)."""
        seen = who_uses(semset, attach)
        if seen:
            return _in_use("; ".join(seen))
        since = last_used(semset)
        pids = member_pids(semset)
        recorded = [(f"member {num}'s last user", pid, since) for num, pid in enumerate(pids)]
        by_pids = self._idle_with_pids(recorded, since)
        if not (by_pids.stale or by_pids.unknown):
            return by_pids
        waiting = _waiting_members(member_waiting(semset))
        return _in_use(f"processes wait on it ({waiting})") if waiting else by_pids

    def _idle_with_pids(
        self, recorded: list[tuple[str, int, int | None]], last_used: int | None
    ) -> Verdict:
        known = [(role, pid, since) for role, pid, since in recorded if pid > 0]
        if not known:
            return _unknown(
                "no process is recorded as having used it: nothing shows it leaked", Doubt.NO_PID
            )
        reasons = []
        for role, pid, since in dict.fromkeys(known):
            gone = self._gone(role, pid, since)
            if isinstance(gone, Verdict):
                return gone
            reasons.append(gone)
        idle = self._idle(last_used)
        return idle if isinstance(idle, Verdict) else Verdict(True, (*reasons, idle))

    # POSIX ---------------------------------------------------------------------------------

    def _posix(self, entry: PosixShm | PosixSem | PosixMq, attach: AttachMap) -> Verdict:
        if isinstance(entry, PosixShm) and entry.deleted:
            return _kernel_frees(entry, attach, DELETED_FREED)
        if entry.type is not FileType.FILE:
            return _in_use(f"a {entry.type.value}, not a shared memory object: never removed")
        seen = who_uses(entry, attach)
        if seen:
            return _in_use("; ".join(seen))
        idle = self._idle(last_used(entry), "unchanged")
        doubts = [self._notify_pid(entry), idle, self._users(entry, attach)]
        for doubt in sorted((d for d in doubts if isinstance(d, Verdict)), key=_doubt_last):
            return doubt  # evidence of use first, then what could not be known
        assert isinstance(idle, str)
        reasons = ["no process maps it or holds it open", idle]
        if self.ignored:
            pids = ", ".join(map(str, sorted(self.ignored)))
            reasons.append(f"processes {pids} not inspected (--ignore-unreadable)")
        return Verdict(True, tuple(reasons))

    def _notify_pid(self, entry: PosixShm | PosixSem | PosixMq) -> Verdict | None:
        """A queue's notify pid: in use while it lives."""
        for recorded in spec_of(entry).recorded_pids(entry):
            if recorded.pid > 0:
                notify = self._gone(recorded.role, recorded.pid, recorded.since)
                if isinstance(notify, Verdict):
                    return notify
        return None

    # Shared -------------------------------------------------------------------------------

    def _lives_of(self, pids: Iterable[int]) -> Mapping[int, PidLife | None]:
        """What each pid is now: the scan's answer, else read once per pid for all objects."""
        missing = [pid for pid in pids if pid not in self._lives]
        if missing:
            hidden = self.attach is not None and self.attach.hidden is not None
            self._lives.update(pid_lives(missing, hidden=hidden))
        return self._lives

    def _users(
        self, obj: IpcObject | PosixEntry, attach: AttachMap, unseen: str = "may use it"
    ) -> Verdict | None:
        """In use when a process is seen using it; unknown when one may be unseen; None when
        nobody can be using it."""
        seen = who_uses(obj, attach)
        if seen:
            return _in_use("; ".join(seen))
        if attach.hidden is not None and not isinstance(obj, SysvShm | SysvSem):  # not counted
            return _unknown(
                f"whether any process uses it cannot be known: {attach.hidden}", Doubt.HIDDEN
            )
        unknown = max(0, (attach.unknown.get(obj.ref) or 0) - len(self.ignored))
        if unknown:
            return _unknown(
                f"{unknown} processes could not be inspected and {unseen}", Doubt.UNINSPECTED
            )
        return None

    def _idle(self, since: int | None, word: str = "idle") -> str | Verdict:
        if since is None:
            return _unknown("when it was last used is unknown", Doubt.LAST_USE)
        age = self.now - since
        if age < self.min_age:
            return _in_use(
                f"used {human_duration(max(age, 0))} ago, within --min-age "
                f"{human_duration(self.min_age)}"
            )
        return f"{word} for {human_duration(age)}"


def last_used(obj: IpcObject) -> int | None:
    """When the kernel last recorded a use or change of the object (epoch seconds; None:
    never): what "idle for" and "unchanged for" count from, and so how long a leaked object
    has been left. A segment's last attach or detach, a queue's last send or receive, a set's
    last operation, or their ctime if later; a POSIX object's modification or change."""
    match obj:
        case SysvShm():
            return latest_time(obj.atime, obj.dtime, obj.ctime)
        case SysvMsg():
            return latest_time(obj.stime, obj.rtime, obj.ctime)
        case SysvSem():
            return latest_time(obj.otime, obj.ctime)
        case PosixShm() | PosixSem() | PosixMq():
            return max(obj.mtime_ns, obj.ctime_ns or 0) // 1_000_000_000
        case Memfd() | SharedFile() | SharedAnon():
            return None if obj.mtime_ns is None else obj.mtime_ns // 1_000_000_000
        case Pipe() | Fifo():
            return None
        case _:
            assert_never(obj)


def who_uses(obj: IpcObject | PosixEntry, attach: AttachMap) -> list[str]:
    """The processes seen using it, in words (command names escaped)."""
    found = attach.attachers.get(obj.ref, ())
    if not found:
        return []
    named = ", ".join(_user_text(a.comm, a.pid, a.waiting) for a in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return [f"used by {named}{more}"]


def _user_text(comm: str, pid: int, waiting: bool) -> str:
    return f"{escape_text(comm) or '?'} ({pid}{', waiting' if waiting else ''})"


def _waiting_members(counts: list[tuple[int, int]]) -> str:
    """ "member 0: 1 waiting for it to grow" ... for members with waiters; "" for none."""
    parts = []
    for num, (ncnt, zcnt) in enumerate(counts):
        if ncnt:
            parts.append(f"member {num}: {ncnt} waiting for it to grow")
        if zcnt:
            parts.append(f"member {num}: {zcnt} waiting for zero")
    return "; ".join(parts)


PIPE_FREED = "not a leak: the kernel frees a pipe when its last end is closed; nothing to remove"
UNNAMED_FREED = (
    "not a leak: no directory names it, and the kernel frees it when the last process "
    "holding or mapping it lets go (or exits); nothing to remove"
)
DELETED_FREED = (
    "not a leak: deleted from /dev/shm, its memory stays only while a process holds or maps "
    "it, and the kernel frees it when the last one lets go (or exits); nothing to remove"
)
FILE_MAPPED = (
    "a regular file mapped MAP_SHARED: its mappings end with their processes, and the file "
    "is no IPC object shmtop removes"
)

_FREED = {
    Kind.PIPE: PIPE_FREED, Kind.FIFO: PIPE_FREED, Kind.MEMFD: UNNAMED_FREED,
    Kind.SHARED_ANON: UNNAMED_FREED, Kind.SHARED_FILE: FILE_MAPPED,
}  # fmt: skip


def _kernel_frees(obj: IpcObject, attach: AttachMap, why: str) -> Verdict:
    """Never leaked (see the module): who keeps it, and that it goes with them."""
    users = attach.attachers.get(obj.ref, ())
    if users and not any(a.maps for a in users) and not any(a.waiting for a in users):
        held = ", ".join(_user_text(a.comm, a.pid, False) for a in users[:3])
        return Verdict(False, (f"held only by descriptors of {held}: it dies with them", why))
    return Verdict(False, (*who_uses(obj, attach), why))


def _evidence_first(judged: Verdict, doubt: Verdict | None) -> Verdict:
    """A verdict of use on evidence stands over a doubt; a doubt stands over a leak."""
    if doubt is None or not (judged.stale or judged.unknown):
        return judged
    return doubt


def _doubt_last(verdict: Verdict) -> bool:
    return verdict.unknown


def _in_use(reason: str) -> Verdict:
    return Verdict(False, (reason,))


def _unknown(reason: str, doubt: Doubt) -> Verdict:
    return Verdict(False, (reason,), unknown=True, doubt=doubt)
