"""References: the stable text that names one object, `KIND:ID` or `KIND:/NAME`."""

from __future__ import annotations

from dataclasses import dataclass

from shmtop.model.kinds import KINDS, Address
from shmtop.model.objects import Kind
from shmtop.names import unescape_name


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed reference: System V kinds carry an id, POSIX kinds the raw name with its '/'."""

    kind: Kind
    id: int | None = None
    name: bytes | None = None


def parse_ref(text: str) -> Ref:
    """Parse `sysv-shm:32769` or `posix-shm:/ring0`; raises ValueError saying what is wrong."""
    kind_text, sep, rest = text.partition(":")
    if not sep:
        raise ValueError(f"{text!r} is not a reference (expected KIND:ID or KIND:/NAME)")
    try:
        kind = Kind(kind_text)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown kind {kind_text!r} (one of: {known})") from None
    if KINDS[kind].address is Address.ID:
        return Ref(kind, id=_parse_id(rest))
    return Ref(kind, name=_parse_name(rest))


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
