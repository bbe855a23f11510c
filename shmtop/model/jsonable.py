"""One object as plain JSON values: the base keys every kind has, then its kind's own fields
under the kernel's names (schema 1, docs/CONTRACT.md). Used by the JSON documents and by
backups, which save every field beside an object's bytes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shmtop.model.found import (
    Endpoint,
    Fifo,
    Memfd,
    PipeLike,
    SharedAnon,
    SharedFile,
    SharedMemory,
    seal_names,
)
from shmtop.model.objects import (
    IpcObject,
    Kind,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SysvMsg,
    SysvSem,
    SysvShm,
)

if TYPE_CHECKING:  # two more dataclasses to build at start-up: only show needs them
    from shmtop.model.contents import Member, Message

Json = dict[str, Any]


def object_json(obj: IpcObject, users: Mapping[int, str | None]) -> Json:
    """One object: the base keys every kind has, then its kind's own fields."""
    return KIND_JSON[obj.kind](obj, users)


# One dict literal per kind, base keys first: objects number in the tens of thousands.


def _sysv_shm(s: SysvShm, users: Mapping[int, str | None]) -> Json:
    return {
        "kind": "sysv-shm", "ref": s.ref, "id": s.id, "name": None, "name_hex": None,
        "key": s.key, "uid": s.uid, "owner": json_text(users.get(s.uid)), "gid": s.gid,
        "mode": _MODES[s.mode], "size": s.size,
        "dest": s.dest, "locked": s.locked, "nattch": s.nattch, "cpid": s.cpid, "lpid": s.lpid,
        "cuid": s.cuid, "cgid": s.cgid, "atime": s.atime, "dtime": s.dtime, "ctime": s.ctime,
        "rss": s.rss, "swap": s.swap,
    }  # fmt: skip


def _sysv_msg(q: SysvMsg, users: Mapping[int, str | None]) -> Json:
    return {
        "kind": "sysv-msg", "ref": q.ref, "id": q.id, "name": None, "name_hex": None,
        "key": q.key, "uid": q.uid, "owner": json_text(users.get(q.uid)), "gid": q.gid,
        "mode": _MODES[q.mode], "size": None,
        "cbytes": q.cbytes, "qnum": q.qnum, "qbytes": q.qbytes, "lspid": q.lspid,
        "lrpid": q.lrpid, "cuid": q.cuid, "cgid": q.cgid, "stime": q.stime, "rtime": q.rtime,
        "ctime": q.ctime,
    }  # fmt: skip


def _sysv_sem(s: SysvSem, users: Mapping[int, str | None]) -> Json:
    return {
        "kind": "sysv-sem", "ref": s.ref, "id": s.id, "name": None, "name_hex": None,
        "key": s.key, "uid": s.uid, "owner": json_text(users.get(s.uid)), "gid": s.gid,
        "mode": _MODES[s.mode], "size": None,
        "nsems": s.nsems, "cuid": s.cuid, "cgid": s.cgid, "otime": s.otime, "ctime": s.ctime,
    }  # fmt: skip


def _posix_entry(e: PosixEntry, users: Mapping[int, str | None]) -> Json:
    return {
        "kind": e.kind.value, "ref": e.ref, "id": None,
        "name": e.name.decode("utf-8", "replace"), "name_hex": e.name.hex(), "key": None,
        "uid": e.uid, "owner": json_text(users.get(e.uid)), "gid": e.gid,
        "mode": _MODES[e.mode], "size": e.size,
        "type": e.type.value, "allocated": e.allocated, "mtime": e.mtime_ns / 1e9,
        "ctime": None if e.ctime_ns is None else e.ctime_ns / 1e9,
        "dev": e.dev, "inode": e.inode, "nlink": e.nlink,
    }  # fmt: skip


def _posix_shm(e: PosixShm, users: Mapping[int, str | None]) -> Json:
    found = _posix_entry(e, users)
    found["deleted"] = e.deleted
    return found


def _posix_sem(s: PosixSem, users: Mapping[int, str | None]) -> Json:
    found = _posix_entry(s, users)
    found["value"] = s.value
    found["waiters"] = s.waiters
    return found


def _posix_mq(q: PosixMq, users: Mapping[int, str | None]) -> Json:
    found = _posix_entry(q, users)
    found["size"] = None  # st_size of a queue file is the length of its QSIZE line
    found["allocated"] = None
    found.update(
        qsize=q.qsize, curmsgs=q.curmsgs, maxmsg=q.maxmsg, msgsize=q.msgsize,
        notify=q.notify, signo=q.signo, notify_pid=q.notify_pid,
    )  # fmt: skip
    return found


def _found_base(o: PipeLike | SharedMemory, users: Mapping[int, str | None]) -> Json:
    name = o.name if isinstance(o, SharedMemory) else None
    return {
        "kind": o.kind.value, "ref": o.ref, "id": None,
        "name": None if name is None else name.decode("utf-8", "replace"),
        "name_hex": None if name is None else name.hex(), "key": None,
        "uid": o.uid, "owner": None if o.uid is None else json_text(users.get(o.uid)),
        "gid": o.gid, "mode": None if o.mode is None else _MODES[o.mode],
        "size": KIND_SIZE[o.kind](o), "dev": o.dev, "inode": o.inode,
    }  # fmt: skip


def _pipe(p: PipeLike, users: Mapping[int, str | None]) -> Json:
    found = _found_base(p, users)
    found.update(
        endpoints=[endpoint_json(e) for e in p.endpoints], buffered=p.buffered,
        capacity=p.capacity, state=p.state, readers=p.readers, writers=p.writers,
        fill_problem=p.note,
    )  # fmt: skip
    return found


def _fifo(f: Fifo, users: Mapping[int, str | None]) -> Json:
    found = _pipe(f, users)
    found.update(path=f.path.decode("utf-8", "replace"), path_hex=f.path.hex())
    return found


def endpoint_json(e: Endpoint) -> Json:
    return {"pid": e.pid, "comm": json_text(e.comm), "uid": e.uid, "fd": e.fd, "mode": e.mode,
            "blocked": e.blocked}  # fmt: skip


def _shared(m: SharedMemory, users: Mapping[int, str | None]) -> Json:
    found = _found_base(m, users)
    found.update(
        allocated=m.allocated, mtime=None if m.mtime_ns is None else m.mtime_ns / 1e9,
        mapped=[{"pid": b.pid, "mappings": b.mappings, "bytes": b.bytes} for b in m.mapped],
    )  # fmt: skip
    return found


def _memfd(m: Memfd, users: Mapping[int, str | None]) -> Json:
    found = _shared(m, users)
    found.update(seals=m.seals, seal_names=None if m.seals is None else list(seal_names(m.seals)))
    return found


def _shared_file(m: SharedFile, users: Mapping[int, str | None]) -> Json:
    found = _shared(m, users)
    found["deleted"] = m.deleted
    found["writable"] = m.writable
    return found


def _shared_anon(m: SharedAnon, users: Mapping[int, str | None]) -> Json:
    found = _shared(m, users)
    if not m.name:  # /dev/zero (deleted): unnamed
        found["name"] = found["name_hex"] = None
    return found


KIND_SIZE: Mapping[Kind, Callable[[Any], int | None]] = {
    Kind.PIPE: lambda p: p.buffered, Kind.FIFO: lambda p: p.buffered,
    Kind.MEMFD: lambda m: m.size, Kind.SHARED_FILE: lambda m: m.size,
    Kind.SHARED_ANON: lambda m: m.size,
}  # fmt: skip


class _OctalModes(dict[int, str]):
    """ "0600" for 0o600, each text made once."""

    def __missing__(self, mode: int) -> str:
        self[mode] = text = f"{mode:04o}"
        return text


_MODES = _OctalModes()


def member_json(m: Member) -> Json:
    return {"num": m.num, "value": m.value, "ncnt": m.ncnt, "zcnt": m.zcnt, "pid": m.pid}


def message_json(m: Message) -> Json:
    return {"index": m.index, "mtype": m.mtype, "size": m.size, "head_hex": m.head.hex()}


def json_text(value: str | None) -> str | None:
    """Text safe for strict JSON: bytes that were not UTF-8 (surrogate escapes) become U+FFFD."""
    if value is None or value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


KIND_JSON: Mapping[Kind, Callable[[Any, Mapping[int, str | None]], Json]] = {
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
