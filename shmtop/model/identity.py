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

import binascii
from collections.abc import Callable
from typing import Any, NamedTuple

PREFIX = "i2."
CLOCK = "~"
ACTIVITY = "+"
Fields = dict[str, int | None]


class Identity(NamedTuple):
    """What a kind compares: its values' names (prefixed `~` for clocks, `+` for activity),
    and how to read them from an object, in that order."""

    names: tuple[str, ...]
    values: Callable[[Any], tuple[int | None, ...]]

    def fields(self, obj: Any) -> Fields:
        return dict(zip(self.names, self.values(obj), strict=True))


_SYSV_FIXED = ("key", "cuid", "cgid", "uid", "gid", "mode", "ctime")

SEGMENT = Identity(
    (*_SYSV_FIXED, "cpid", "size", "~atime", "~dtime", "+nattch", "+lpid"),
    lambda s: (s.key, s.cuid, s.cgid, s.uid, s.gid, s.mode, s.ctime,
               s.cpid, s.size, s.atime, s.dtime, s.nattch, s.lpid),
)  # fmt: skip
QUEUE = Identity(
    (*_SYSV_FIXED, "qbytes", "~stime", "~rtime", "+qnum", "+lspid", "+lrpid"),
    lambda q: (q.key, q.cuid, q.cgid, q.uid, q.gid, q.mode, q.ctime,
               q.qbytes, q.stime, q.rtime, q.qnum, q.lspid, q.lrpid),
)  # fmt: skip
SET = Identity(
    (*_SYSV_FIXED, "nsems", "~otime"),
    lambda s: (s.key, s.cuid, s.cgid, s.uid, s.gid, s.mode, s.ctime, s.nsems, s.otime),
)
POSIX_FILE = Identity(
    ("dev", "inode", "ctime_ns", "~mtime_ns"),
    lambda e: (e.dev, e.inode, e.ctime_ns, e.mtime_ns),
)
POSIX_QUEUE = Identity(  # a queue's ctime moves whenever its status is read: not compared
    ("dev", "inode", "~mtime_ns"),
    lambda q: (q.dev, q.inode, q.mtime_ns),
)

FOUND = Identity(  # pipes, memfd, mappings: an inode is not reused while anything holds it
    ("dev", "inode"),
    lambda o: (o.dev, o.inode),
)


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode_identity(ref: str, values: tuple[int | None, ...]) -> str:
    """The opaque string scripts pass back to `rm --identity`: the reference and the values,
    in the order its kind's Identity names them."""
    text = ref + "|" + ",".join(map(str, values))
    data = text.encode("utf-8", "surrogateescape")
    # base64.urlsafe_b64encode's own steps, without importing base64 (start-up) for them
    return PREFIX + binascii.b2a_base64(data, newline=False).translate(_URLSAFE).decode()


def decode_identity(identity: str) -> tuple[str, list[int | None]]:
    """(reference, values) of an identity string; ValueError if it is not one."""
    import base64  # noqa: PLC0415 (only removal decodes: start-up of every other command)

    if identity.startswith("i1."):
        raise ValueError("that identity is from an older shmtop: list the object again")
    try:
        if not identity.startswith(PREFIX):
            raise ValueError
        text = base64.urlsafe_b64decode(identity[len(PREFIX) :]).decode("utf-8", "surrogateescape")
        ref, _, values = text.rpartition("|")
        parsed = [None if value == "None" else int(value) for value in values.split(",")]
    except ValueError:
        raise ValueError(f"{identity!r} is not an identity from `shmtop list --json`") from None
    return ref, parsed


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
