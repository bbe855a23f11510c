"""Saying plainly who may do what to an object, when the caller may not."""

from __future__ import annotations

from collections.abc import Mapping

from shmtop.model import IpcObject
from shmtop.names import owner_text


def denied(obj: IpcObject, users: Mapping[int, str | None], doing: str) -> str:
    """ "posix-shm:/x belongs to postgres (uid 999), mode 0600: reading it needs postgres or
    root" """
    owner = owner_text(obj.uid, users)
    needed = "root" if obj.uid == 0 else f"{owner} or root"
    mode = "?" if obj.mode is None else f"{obj.mode & 0o777:04o}"
    return f"{obj.ref} belongs to {owner} (uid {obj.uid}), mode {mode}: {doing} it needs {needed}"
