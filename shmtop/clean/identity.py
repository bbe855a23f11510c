"""An object's identity: the values that tell it apart from a later object of the same id or
name, compared immediately before removal.

System V ids and POSIX names are reused: a segment removed and another created may get the
same id, and a name unlinked and created again is another file. What is compared:

- System V segments: key, creator uid and pid, ctime, size.
- System V queues: key, creator uid, ctime (no creator pid is recorded for queues).
- System V semaphore sets: key, creator uid, ctime, number of members. A set's ctime also
  moves when a value is set with SETVAL/SETALL: such a set is in use, and refused.
- POSIX shared memory and semaphores: device, inode, ctime.
- POSIX queues: device and inode (reading a queue's status line moves its ctime).

`identity_of` gives scripts an opaque string (`shmtop list --json`); `rm --identity` takes it
back. It carries the reference, so it cannot pass for another object.
"""

from __future__ import annotations

import base64

from shmtop.model import IpcObject, PosixEntry, PosixMq, SysvMsg, SysvSem, SysvShm

PREFIX = "i1."
Fields = dict[str, int | None]


def identity_fields(obj: IpcObject) -> Fields:
    match obj:
        case SysvShm():
            return {
                "key": obj.key,
                "cuid": obj.cuid,
                "cpid": obj.cpid,
                "ctime": obj.ctime,
                "size": obj.size,
            }
        case SysvMsg():
            return {"key": obj.key, "cuid": obj.cuid, "ctime": obj.ctime}
        case SysvSem():
            return {"key": obj.key, "cuid": obj.cuid, "ctime": obj.ctime, "nsems": obj.nsems}
        case PosixMq():
            return {"dev": obj.dev, "inode": obj.inode}
        case PosixEntry():
            return {"dev": obj.dev, "inode": obj.inode, "ctime_ns": obj.ctime_ns}
    raise TypeError(f"not an IPC object: {obj!r}")


def identity_of(obj: IpcObject) -> str:
    text = obj.ref + "|" + ",".join(f"{k}={v}" for k, v in identity_fields(obj).items())
    return PREFIX + base64.urlsafe_b64encode(text.encode("utf-8", "surrogateescape")).decode()


def decode_identity(identity: str) -> tuple[str, Fields]:
    """(reference, fields) of an identity string; ValueError if it is not one."""
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


def changes(seen: Fields, now: Fields) -> list[str]:
    """What differs, for people: ["ctime 1795300000 -> 1795300100", ...]."""
    names = dict.fromkeys([*seen, *now])
    return [f"{n} {seen.get(n)} -> {now.get(n)}" for n in names if seen.get(n) != now.get(n)]
