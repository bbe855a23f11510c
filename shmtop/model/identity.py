"""An object's identity: the values that tell it apart from a later object of the same id or
name, compared immediately before removal.

System V ids and POSIX names are reused: a segment removed and another created may get the
same id (root can even force the id), and a name unlinked and created again is another file.
Three sorts of value are kept:

- fixed: what cannot change while the object lives without moving its ctime (key, creator,
  owner, mode, size, qbytes, number of members; for POSIX objects device, inode, ctime). They
  must be equal.
- clocks (`~name`): times that only move forward while the object lives (attach, detach,
  send, receive, last operation, modification). Going back means another object; moving on
  means it was used since it was seen.
- activity (`+name`): what else use changes (nattch, last pids, queued messages).

Removing an object someone named (`rm`, Delete) needs the fixed values equal and the clocks
not earlier. Removing by policy (`clean`, C) needs all three unchanged: an object used since
it was judged leaked is not removed.

What remains: two System V queues or sets at the same id, with the same key, creator, owner,
mode and ctime second, that were never used (every clock 0), cannot be told apart: the
kernel keeps nothing else about them. Such objects are empty and unused alike.

`encode_identity` gives scripts an opaque string (`shmtop list --json`); `rm --identity`
takes it back. It carries the reference, so it cannot pass for another object. Each kind's
function is named in the table of kinds (shmtop.model.kinds).
"""

from __future__ import annotations

import base64

from shmtop.model.objects import PosixEntry, PosixMq, SysvMsg, SysvSem, SysvShm

PREFIX = "i2."
CLOCK = "~"
ACTIVITY = "+"
Fields = dict[str, int | None]


def segment_identity(obj: SysvShm) -> Fields:
    return {**_sysv_fixed(obj), "cpid": obj.cpid, "size": obj.size,
            "~atime": obj.atime, "~dtime": obj.dtime,
            "+nattch": obj.nattch, "+lpid": obj.lpid}  # fmt: skip


def queue_identity(obj: SysvMsg) -> Fields:
    return {**_sysv_fixed(obj), "qbytes": obj.qbytes,
            "~stime": obj.stime, "~rtime": obj.rtime,
            "+qnum": obj.qnum, "+lspid": obj.lspid, "+lrpid": obj.lrpid}  # fmt: skip


def set_identity(obj: SysvSem) -> Fields:
    return {**_sysv_fixed(obj), "nsems": obj.nsems, "~otime": obj.otime}


def queue_file_identity(obj: PosixMq) -> Fields:
    """A queue's ctime moves whenever its status is read: not compared."""
    return {"dev": obj.dev, "inode": obj.inode, "~mtime_ns": obj.mtime_ns}


def posix_identity(obj: PosixEntry) -> Fields:
    return {"dev": obj.dev, "inode": obj.inode, "ctime_ns": obj.ctime_ns,
            "~mtime_ns": obj.mtime_ns}  # fmt: skip


def _sysv_fixed(obj: SysvShm | SysvMsg | SysvSem) -> Fields:
    return {"key": obj.key, "cuid": obj.cuid, "cgid": obj.cgid, "uid": obj.uid,
            "gid": obj.gid, "mode": obj.mode, "ctime": obj.ctime}  # fmt: skip


def encode_identity(ref: str, fields: Fields) -> str:
    """The opaque string scripts pass back to `rm --identity`."""
    text = ref + "|" + ",".join(f"{k}={v}" for k, v in fields.items())
    return PREFIX + base64.urlsafe_b64encode(text.encode("utf-8", "surrogateescape")).decode()


def decode_identity(identity: str) -> tuple[str, Fields]:
    """(reference, fields) of an identity string; ValueError if it is not one."""
    if identity.startswith("i1."):
        raise ValueError("that identity is from an older shmtop: list the object again")
    try:
        if not identity.startswith(PREFIX):
            raise ValueError
        text = base64.urlsafe_b64decode(identity[len(PREFIX) :]).decode("utf-8", "surrogateescape")
        ref, _, pairs = text.rpartition("|")
        fields: Fields = {}
        for pair in pairs.split(","):
            name, _, value = pair.partition("=")
            fields[name] = None if value == "None" else int(value)
    except ValueError:
        raise ValueError(f"{identity!r} is not an identity from `shmtop list --json`") from None
    return ref, fields


def changes(seen: Fields, now: Fields, strict: bool = False) -> list[str]:
    """What differs, for people: ["ctime 1795300000 -> 1795300100", ...]. `strict`: any use
    since counts (removal by policy); otherwise only what shows another object."""
    names = dict.fromkeys([*seen, *now])
    return [
        f"{name.lstrip(CLOCK + ACTIVITY)} {seen.get(name)} -> {now.get(name)}"
        for name in names
        if _differs(name, seen.get(name), now.get(name), strict)
    ]


def _differs(name: str, seen: int | None, now: int | None, strict: bool) -> bool:
    if strict or not name.startswith((CLOCK, ACTIVITY)):
        return seen != now
    if name.startswith(ACTIVITY):
        return False
    return (now or 0) < (seen or 0)  # a clock went back: another object
