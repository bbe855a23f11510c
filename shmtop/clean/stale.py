"""Does an object look leaked? A verdict, always with its reasons; any doubt means "in use".

- System V segments: nattch 0 (from /proc/sysvipc, read before the attach scan) and creator
  and last user both gone (exited, or the pid now names a later process); or marked for
  removal with no process found mapping it.
- POSIX shared memory, semaphores and queues: no process maps it or holds it open (processes
  that could not be inspected count as users), no live notify pid, and not modified for at
  least `min_age` seconds.
- System V queues and semaphore sets: never on counts alone: every pid the kernel recorded
  for them (last sender and receiver; each member's last operation) is gone, and the object
  has been idle for at least `min_age` seconds. With no pid recorded at all, there is nothing
  to go on: in use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shmtop.attach import PidLife, pid_state
from shmtop.attach.liveness import latest_time, pid_lives
from shmtop.attach.model import AttachMap
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.humanize import human_duration
from shmtop.inspect import set_members
from shmtop.model import (
    FileType,
    IpcObject,
    PosixEntry,
    PosixMq,
    Snapshot,
    SysvMsg,
    SysvSem,
    SysvShm,
)

DEFAULT_MIN_AGE = 600.0
GONE = {"exited": "exited", "reused": "exited (its pid now names a later process)"}


@dataclass(frozen=True, slots=True)
class Verdict:
    stale: bool
    reasons: tuple[str, ...]


def verdicts(
    snapshot: Snapshot,
    min_age: float = DEFAULT_MIN_AGE,
    objects: Iterable[IpcObject] | None = None,
    ignore: frozenset[int] = frozenset(),
) -> dict[str, Verdict]:
    """A verdict for each object (all of the snapshot's by default), by reference.

    `ignore`: processes whose /proc cannot be read that the operator vouches use no object
    (a container's init, say); otherwise each of them may be using any POSIX object.
    """
    judge = _Judge(snapshot, min_age, ignore)
    chosen = snapshot.objects if objects is None else objects
    return {obj.ref: judge.verdict(obj) for obj in chosen}


class _Judge:
    def __init__(self, snapshot: Snapshot, min_age: float, ignore: frozenset[int]) -> None:
        self.attach = snapshot.attach
        self.ignored = ignore & snapshot.attach.unreadable_pids if snapshot.attach else frozenset()
        self.now = snapshot.time
        self.min_age = min_age
        self.users = snapshot.users
        self._lives: dict[int, PidLife | None] = (
            dict(snapshot.attach.pids) if snapshot.attach else {}
        )

    def verdict(self, obj: IpcObject) -> Verdict:
        if self.attach is None:
            return _in_use("who uses it is unknown (no scan of /proc was made)")
        try:
            return self._judge(obj, self.attach)
        except (OSError, NotPermitted, Vanished, Unsupported) as exc:
            return _in_use(f"it could not be analysed ({exc})")

    def _judge(self, obj: IpcObject, attach: AttachMap) -> Verdict:
        match obj:
            case SysvShm():
                return self._segment(obj, attach)
            case SysvMsg():
                return self._queue(obj)
            case SysvSem():
                return self._semaphore_set(obj)
        return self._posix(obj, attach)

    # System V segments --------------------------------------------------------------------

    def _segment(self, shm: SysvShm, attach: AttachMap) -> Verdict:
        users = self._users(shm, attach)
        if shm.dest:
            if users:
                return _in_use(users)
            return Verdict(True, ("marked for removal", "no process found mapping it"))
        if shm.nattch:
            return _in_use(users or f"nattch {shm.nattch}: attached")
        lives = attach.pids
        creator = self._gone("creator", shm.cpid, shm.ctime, lives)
        last = self._gone(
            "last user", shm.lpid, latest_time(shm.atime, shm.dtime, shm.ctime), lives
        )
        if isinstance(creator, Verdict):
            return creator
        if isinstance(last, Verdict):
            return last
        return Verdict(True, ("nattch 0", creator, last))

    def _gone(
        self, role: str, pid: int, since: int | None, lives: Mapping[int, PidLife | None]
    ) -> str | Verdict:
        """Why `pid` no longer uses the object, or a Verdict saying it may."""
        if pid <= 0:
            return f"no {role} recorded"
        state = pid_state(pid, since, lives if pid in lives else self._lives_of([pid]))
        if state in GONE:
            return f"{role} {pid} {GONE[state]}"
        if state == "alive":
            return _in_use(f"{role} {pid} is still running")
        return _in_use(f"whether {role} {pid} still runs cannot be known")

    # System V queues and sets -------------------------------------------------------------

    def _queue(self, queue: SysvMsg) -> Verdict:
        recorded = [
            ("last sender", queue.lspid, queue.stime),
            ("last receiver", queue.lrpid, queue.rtime),
        ]
        return self._idle_with_pids(recorded, latest_time(queue.stime, queue.rtime, queue.ctime))

    def _semaphore_set(self, semset: SysvSem) -> Verdict:
        since = latest_time(semset.otime, semset.ctime)
        members = set_members(semset)
        recorded = [(f"member {m.num}'s last user", m.pid, since) for m in members]
        return self._idle_with_pids(recorded, since)

    def _idle_with_pids(
        self, recorded: list[tuple[str, int, int | None]], last_used: int | None
    ) -> Verdict:
        known = [(role, pid, since) for role, pid, since in recorded if pid > 0]
        if not known:
            return _in_use("no process is recorded as having used it: nothing shows it leaked")
        lives = self._lives_of({pid for _, pid, _ in known})
        reasons = []
        for role, pid, since in dict.fromkeys(known):
            gone = self._gone(role, pid, since, lives)
            if isinstance(gone, Verdict):
                return gone
            reasons.append(gone)
        idle = self._idle(last_used)
        return idle if isinstance(idle, Verdict) else Verdict(True, (*reasons, idle))

    # POSIX ---------------------------------------------------------------------------------

    def _posix(self, entry: PosixEntry, attach: AttachMap) -> Verdict:
        if entry.type is not FileType.FILE:
            return _in_use(f"a {entry.type.value}, not a shared memory object: never removed")
        users = self._users(entry, attach)
        if users:
            return _in_use(users)
        if isinstance(entry, PosixMq) and entry.notify_pid:
            notify = self._gone("notify pid", entry.notify_pid, None, {})
            if isinstance(notify, Verdict):
                return notify
        changed = max(entry.mtime_ns, entry.ctime_ns or 0) // 1_000_000_000
        idle = self._idle(changed, "unchanged")
        if isinstance(idle, Verdict):
            return idle
        reasons = ["no process maps it or holds it open", idle]
        if self.ignored:
            pids = ", ".join(map(str, sorted(self.ignored)))
            reasons.append(f"processes {pids} not inspected (--ignore-unreadable)")
        return Verdict(True, tuple(reasons))

    # Shared -------------------------------------------------------------------------------

    def _lives_of(self, pids: Iterable[int]) -> Mapping[int, PidLife | None]:
        """What each pid is now: the scan's answer, else read once per pid for all objects."""
        missing = [pid for pid in pids if pid not in self._lives]
        if missing:
            self._lives.update(pid_lives(missing))
        return self._lives

    def _users(self, obj: IpcObject | PosixEntry, attach: AttachMap) -> str:
        """Who uses it, in words ("" for nobody); unknown processes count as users."""
        ignored = len(self.ignored) if isinstance(obj, PosixEntry) else 0
        return ", ".join(who_uses(obj, attach, ignored))

    def _idle(self, since: int | None, word: str = "idle") -> str | Verdict:
        if since is None:
            return _in_use("when it was last used is unknown")
        age = self.now - since
        if age < self.min_age:
            return _in_use(
                f"used {human_duration(max(age, 0))} ago, within --min-age "
                f"{human_duration(self.min_age)}"
            )
        return f"{word} for {human_duration(age)}"


def who_uses(obj: IpcObject | PosixEntry, attach: AttachMap, ignored: int = 0) -> list[str]:
    """The processes using it, in words; processes that could not be inspected count (less
    `ignored` of them, vouched for by the operator)."""
    found = attach.attachers.get(obj.ref, ())
    parts = []
    if found:
        named = ", ".join(f"{a.comm or '?'} ({a.pid})" for a in found[:3])
        more = f" and {len(found) - 3} more" if len(found) > 3 else ""
        parts.append(f"used by {named}{more}")
    unknown = max(0, (attach.unknown.get(obj.ref) or 0) - ignored)
    if unknown:
        parts.append(f"{unknown} processes could not be inspected and may use it")
    return parts


def _in_use(reason: str) -> Verdict:
    return Verdict(False, (reason,))
