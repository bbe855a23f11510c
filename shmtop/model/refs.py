"""References: the stable text that names one object, `KIND:ID` or `KIND:/NAME`, and
`KIND@NS:ID` / `KIND@NS:/NAME` for an object of a namespace other than shmtop's own (NS:
an IPC namespace's inode, or a /dev/shm's device as MAJOR.MINOR). Safe in a shell unquoted,
except for what a POSIX name itself holds (escaped as `\\xNN`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from shmtop.model.found import ON_ANY_DEVICE
from shmtop.model.kinds import KINDS, Address
from shmtop.model.objects import DELETED_MARK, Kind
from shmtop.names import unescape_name


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed reference: System V kinds carry an id, POSIX kinds the raw name with its '/'."""

    kind: Kind
    id: int | None = None
    name: bytes | None = None
    ns: str = ""
    dev: int | None = None  # kinds found in processes: `id` is the inode, on this device
    deleted: bool = False  # `posix-shm:/NAME/deleted:INODE`: a file unlinked, still held


def parse_ref(text: str) -> Ref:
    """Parse `sysv-shm:32769` or `posix-shm:/ring0`; raises ValueError saying what is wrong."""
    head, sep, rest = text.partition(":")
    if not sep:
        raise ValueError(f"{text!r} is not a reference (expected KIND:ID or KIND:/NAME)")
    kind_text, _, ns = head.partition("@")
    if "@" in head and not _is_namespace(ns):
        raise ValueError(f"{ns!r} is not a namespace (an inode, or MAJOR.MINOR of a /dev/shm)")
    try:
        kind = Kind(kind_text)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown kind {kind_text!r} (one of: {known})") from None
    if KINDS[kind].address is Address.ID:
        return Ref(kind, id=_parse_id(rest), ns=ns)
    if KINDS[kind].address is Address.INODE:
        return _parse_inode(kind, rest, ns)
    name, mark, inode = rest.partition(DELETED_MARK)
    if mark and kind is Kind.POSIX_SHM:
        return Ref(kind, id=_parse_id(inode), name=_parse_name(name), ns=ns, deleted=True)
    return Ref(kind, name=_parse_name(rest), ns=ns)


def _parse_inode(kind: Kind, text: str, ns: str) -> Ref:
    """`pipe:INODE`; `fifo:MAJOR.MINOR:INODE` for kinds on any filesystem."""
    if kind not in ON_ANY_DEVICE:
        return Ref(kind, id=_parse_id(text), ns=ns)
    device, _, inode = text.rpartition(":")
    major, dot, minor = device.partition(".")
    if not (dot and major.isdigit() and minor.isdigit() and major.isascii() and minor.isascii()):
        raise ValueError(f"{text!r} is not MAJOR.MINOR:INODE (a device and an inode)")
    return Ref(kind, id=_parse_id(inode), ns=ns, dev=os.makedev(int(major), int(minor)))


def _is_namespace(text: str) -> bool:
    parts = text.split(".")
    return 1 <= len(parts) <= 2 and all(p.isascii() and p.isdigit() for p in parts)


def _parse_id(text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"{text!r} is not a System V id (a non-negative integer)")
    return int(text)


def _parse_name(text: str) -> bytes:
    if not text.startswith("/") or len(text) < 2:
        raise ValueError(f"{text!r} is not a POSIX name (expected /NAME)")
    name = unescape_name(text[1:])
    if b"/" in name or b"\0" in name:
        raise ValueError("a POSIX name cannot contain '/' or NUL after the first '/'")
    return b"/" + name
