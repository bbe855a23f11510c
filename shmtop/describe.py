"""Every field of one object in words: escaped value text and, where it matters, what it means.

Used by the dashboard's detail view; plain data, no UI library.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import NamedTuple

from shmtop.humanize import human_bytes, local_time
from shmtop.model import (
    Attacher,
    AttachMap,
    Fifo,
    FileType,
    IpcObject,
    Kind,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SharedAnon,
    SharedFile,
    SharedMemory,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.model.found import Memfd, PipeLike, seal_names
from shmtop.model.kinds import spec_of
from shmtop.model.use import pid_state
from shmtop.names import escape_name, escape_text

Users = Mapping[int, "str | None"]


class Field(NamedTuple):
    name: str
    value: str
    meaning: str = ""


def describe(obj: IpcObject, users: Users) -> list[Field]:
    fields = [
        Field("kind", obj.kind.value, spec_of(obj).title),
        Field("ref", obj.ref, "names this object in shmtop commands"),
    ]
    fields += DESCRIBERS[obj.kind](obj, users)
    return fields


def when(epoch: float | None, never: str = "never") -> str:
    if epoch is None:
        return never
    return f"{local_time(epoch)} ({int(epoch)})"


def amount(n: int | None) -> str:
    return "unknown" if n is None else f"{n} bytes ({human_bytes(n)})"


def user(uid: int, users: Users) -> str:
    name = users.get(uid)
    return str(uid) if name is None else f"{escape_text(name)} ({uid})"


def mode_text(mode: int) -> str:
    bits = "".join(char if mode & (1 << (8 - i)) else "-" for i, char in enumerate("rwxrwxrwx"))
    return f"{mode:04o} ({bits})"


def _sysv_common(obj: SysvShm | SysvMsg | SysvSem, users: Users) -> list[Field]:
    key_meaning = (
        "IPC_PRIVATE or marked for removal: no key, only the id names it"
        if obj.key == 0
        else "what programs pass to shmget/msgget/semget to find it"
    )
    return [
        Field("id", str(obj.id), "ids are reused after removal: one id may later name another"),
        Field("key", f"0x{obj.key:08x} ({obj.key})", key_meaning),
        Field("owner", user(obj.uid, users), "may change permissions and remove it"),
        Field("group", str(obj.gid)),
        Field("creator", user(obj.cuid, users)),
        Field("creator group", str(obj.cgid)),
        Field("mode", mode_text(obj.mode)),
    ]


def _sysv_shm(s: SysvShm, users: Users) -> list[Field]:
    status = [
        Field(
            "dest",
            "yes" if s.dest else "no",
            "marked for removal: it disappears when the last process detaches" if s.dest else "",
        ),
        Field(
            "locked",
            "yes" if s.locked else "no",
            "locked in memory (SHM_LOCK): never swapped out" if s.locked else "",
        ),
    ]
    return [
        *_sysv_common(s, users),
        Field("size", amount(s.size)),
        Field("nattch", str(s.nattch), "mappings, not processes: one process may count twice"),
        *status,
        Field("cpid", str(s.cpid), "created it (that pid may since belong to another process)"),
        Field("lpid", str(s.lpid), "last attached or detached"),
        Field("attached", when(s.atime)),
        Field("detached", when(s.dtime)),
        Field("changed", when(s.ctime)),
        Field("rss", amount(s.rss), "in memory now; pages never touched take none"),
        Field("swap", amount(s.swap), "swapped out"),
    ]


def _sysv_msg(q: SysvMsg, users: Users) -> list[Field]:
    return [
        *_sysv_common(q, users),
        Field("qnum", str(q.qnum), "messages waiting to be received"),
        Field("cbytes", amount(q.cbytes), "bytes waiting to be received"),
        Field("qbytes", amount(q.qbytes), "most bytes it may hold: senders block beyond it"),
        Field("lspid", str(q.lspid), "last sender (0: none yet)"),
        Field("lrpid", str(q.lrpid), "last receiver (0: none yet)"),
        Field("sent", when(q.stime)),
        Field("received", when(q.rtime)),
        Field("changed", when(q.ctime)),
    ]


def _sysv_sem(s: SysvSem, users: Users) -> list[Field]:
    return [
        *_sysv_common(s, users),
        Field("nsems", str(s.nsems), "semaphores in the set"),
        Field("last operation", when(s.otime), "no attach count exists for semaphores"),
        Field("changed", when(s.ctime)),
    ]


def _posix_common(e: PosixEntry, users: Users, path: str) -> list[Field]:
    not_ipc = "" if e.type is FileType.FILE else "not an IPC object; shmtop never opens it"
    links = "the memory stays until every name is removed" if e.nlink > 1 else ""
    return [
        Field("name", escape_name(e.name)),
        Field("path", path),
        Field("type", e.type.value, not_ipc),
        Field("owner", user(e.uid, users), "may remove it"),
        Field("group", str(e.gid)),
        Field("mode", mode_text(e.mode & 0o777)),
        Field("links", str(e.nlink), links),
        Field("device, inode", f"{e.dev}, {e.inode}", "its identity: a new object gets another"),
        Field("modified", when(e.mtime_ns / 1e9)),
        Field("changed", when(None if e.ctime_ns is None else e.ctime_ns / 1e9, "not known")),
    ]


def _posix_shm(e: PosixShm, users: Users) -> list[Field]:
    sparse = "sparse: less is in memory than its size" if e.allocated < e.size else ""
    deleted = [Field("deleted", "yes", "unlinked: no name left; freed when its last holder "
                     "closes or unmaps it")] if e.deleted else []  # fmt: skip
    return [
        *_posix_common(e, users, "/dev/shm" + escape_name(e.name)),
        *deleted,
        Field("size", amount(e.size)),
        Field("allocated", amount(e.allocated), sparse),
    ]


def _posix_sem(s: PosixSem, users: Users) -> list[Field]:
    unknown = "unreadable, or not a glibc semaphore" if s.value is None else ""
    path = "/dev/shm/sem." + escape_name(s.name[1:])
    return [
        *_posix_common(s, users, path),
        Field("value", "unknown" if s.value is None else str(s.value), unknown
              or "how many sem_wait calls pass without blocking"),
        Field("waiters", "unknown" if s.waiters is None else str(s.waiters),
              "processes blocked in sem_wait"),
    ]  # fmt: skip


def _posix_mq(q: PosixMq, users: Users) -> list[Field]:
    unknown = "unknown (no read permission)"
    return [
        *_posix_common(q, users, "/dev/mqueue" + escape_name(q.name)),
        Field("curmsgs", unknown if q.curmsgs is None else str(q.curmsgs), "messages queued"),
        Field("maxmsg", unknown if q.maxmsg is None else str(q.maxmsg), "most messages"),
        Field("msgsize", unknown if q.msgsize is None else str(q.msgsize), "largest message"),
        Field("qsize", amount(q.qsize), "bytes queued"),
        Field("notify pid", str(q.notify_pid), "registered with mq_notify (0: none)"),
        Field("last send or receive", when(q.mtime_ns / 1e9)),
    ]


_STATES_OF_PIPES = {
    "no reader": "nobody reads it: the next write raises SIGPIPE (or fails with EPIPE)",
    "no writer": "nobody writes it: a reader gets what is left, then end of file",
    "full": "a write blocks (or fails with EAGAIN) until a reader takes bytes",
    "empty": "a read blocks (or fails with EAGAIN) until a writer adds bytes",
    "partly full": "",
    None: "how full it is could not be read",
}


def _pipe_state(p: PipeLike) -> Field:
    meaning = p.sides_unknown or _STATES_OF_PIPES.get(p.state, "")
    return Field("state", p.state or "unknown", meaning)


def _pipe(p: PipeLike, users: Users) -> list[Field]:
    fields = [
        Field("inode", str(p.inode), "its identity while any end is open"),
        Field("owner", user(p.uid, users)),
        Field("buffered", amount(p.buffered), p.note or "bytes waiting (FIONREAD), none taken"),
        Field("capacity", amount(p.capacity), "F_GETPIPE_SZ: a writer blocks beyond it"),
        _pipe_state(p),
    ]
    for end in p.endpoints:
        role = {"r": "reads", "w": "writes", "rw": "reads and writes"}.get(end.mode, "?")
        asleep = f", asleep in a {'write' if 'w' in end.mode else 'read'}" if end.blocked else ""
        fields.append(Field(f"end {end.pid} fd {end.fd}", f"{escape_text(end.comm)} {role}",
                            f"mode {end.mode}{asleep}"))  # fmt: skip
    return fields


def _fifo(f: Fifo, users: Users) -> list[Field]:
    return [
        Field("path", escape_name(f.path), "as its first holder sees it; shmtop never opens it"),
        Field("device", f"{os.major(f.dev)}:{os.minor(f.dev)}"),
        *_pipe(f, users),
    ]


def _shared(m: SharedMemory, users: Users) -> list[Field]:
    mapped = [Field(f"pid {b.pid} maps", amount(b.bytes), f"{b.mappings} mappings")
              for b in m.mapped]  # fmt: skip
    return [
        Field("device, inode", f"{m.dev}, {m.inode}", "its identity while anything holds it"),
        Field("owner", "unknown" if m.uid is None else user(m.uid, users)),
        Field("size", amount(m.size)),
        Field("allocated", amount(m.allocated), "in memory now"),
        Field("modified", when(None if m.mtime_ns is None else m.mtime_ns / 1e9, "unknown")),
        *mapped,
    ]


def _memfd(m: Memfd, users: Users) -> list[Field]:
    sealed = "unknown" if m.seals is None else (" ".join(seal_names(m.seals)) or "none")
    return [
        Field("name", escape_name(m.name), "memfd_create's name: not unique, names nothing"),
        *_shared(m, users),
        Field("seals", sealed, "F_GET_SEALS: what may no longer be done to it"),
    ]


def _shared_file(m: SharedFile, users: Users) -> list[Field]:
    gone = "unlinked since it was mapped" if m.deleted else ""
    return [Field("path", escape_name(m.name), gone), *_shared(m, users)]


def _shared_anon(m: SharedAnon, users: Users) -> list[Field]:
    name = escape_name(m.name) if m.name else "none (/dev/zero (deleted) in maps)"
    return [Field("name", name, "set with PR_SET_VMA_ANON_NAME"), *_shared(m, users)]


DESCRIBERS: Mapping[Kind, Callable[..., list[Field]]] = {
    Kind.SYSV_SHM: _sysv_shm,
    Kind.SYSV_MSG: _sysv_msg,
    Kind.SYSV_SEM: _sysv_sem,
    Kind.POSIX_SHM: _posix_shm,
    Kind.POSIX_SEM: _posix_sem,
    Kind.POSIX_MQ: _posix_mq,
    Kind.PIPE: _pipe,
    Kind.FIFO: _fifo,
    Kind.MEMFD: _memfd,
    Kind.SHARED_FILE: _shared_file,
    Kind.SHARED_ANON: _shared_anon,
}


def describe_use(obj: IpcObject, attach: AttachMap | None, users: Users) -> list[Field]:
    """Who uses the object, and whether the pids it recorded are still those processes."""
    if attach is None:
        return [Field("attachers", "not scanned yet")]
    fields = [*_recorded_pids(obj, attach), *_attachers(obj, attach, users)]
    return fields or [Field("attachers", "none", "no process has it mapped or open")]


def _attachers(obj: IpcObject, attach: AttachMap, users: Users) -> list[Field]:
    fields = [
        Field(f"pid {a.pid}", f"{escape_text(a.comm)} ({_owner(a.uid, users)})", _uses(a))
        for a in attach.attachers.get(obj.ref, ())
    ]
    if isinstance(obj, SysvMsg | SysvSem) and not fields:
        return [Field("waiting", "none", "no process is blocked on it (it cannot be attached)")]
    unknown = attach.unknown.get(obj.ref, 0)
    if unknown:
        fields.append(Field("unknown", str(unknown), "processes whose /proc could not be read"))
    if not fields:
        fields.append(Field("attachers", "none", "no process has it mapped or open"))
    return fields


def _uses(attacher: Attacher) -> str:
    parts = []
    if attacher.maps:
        parts.append(f"{attacher.maps} mapping" + ("s" if attacher.maps > 1 else ""))
    if attacher.fds:
        parts.append(f"{attacher.fds} descriptor" + ("s" if attacher.fds > 1 else ""))
    if attacher.waiting:
        parts.append("blocked in a call on it")
    return ", ".join(parts)


def _owner(uid: int | None, users: Users) -> str:
    return "?" if uid is None else user(uid, users)


_STATES = {
    "alive": "still running",
    "exited": "gone",
    "reused": "gone: a later process has that pid",
    None: "cannot be known",
}


def _recorded_pids(obj: IpcObject, attach: AttachMap) -> list[Field]:
    return [
        Field(r.role, str(r.pid), _STATES[pid_state(r.pid, r.since, attach.pids)])
        for r in spec_of(obj).recorded_pids(obj)
        if r.pid > 0
    ]
