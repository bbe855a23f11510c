"""Removing exactly the object that was seen: identity checked immediately before, a backup
first when asked, every attempt recorded in the audit log.

The kernel offers no "remove if still the same": between the check and the removal there is
a window of a few microseconds. POSIX entries are checked and unlinked relative to one
descriptor of their directory; only regular files are ever unlinked.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import sysv_ipc

from shmtop.clean.audit import AuditLog
from shmtop.clean.backup import backup
from shmtop.clean.identity import changes, identity_fields, identity_of
from shmtop.collect import Collector
from shmtop.collect.devshm import SEM_PREFIX
from shmtop.collect.roots import Roots
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.model import IpcObject, Kind, PosixEntry, PosixMq, PosixSem, SysvShm
from shmtop.present import denied

Result = Literal["removed", "refused", "error"]
_SYSV_REMOVE: Mapping[Kind, Callable[[int], None]] = {
    Kind.SYSV_SHM: sysv_ipc.remove_shared_memory,
    Kind.SYSV_MSG: sysv_ipc.remove_message_queue,
    Kind.SYSV_SEM: sysv_ipc.remove_semaphore,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    ref: str
    result: Result
    detail: str


class Refused(Exception):
    """Removing would not be safe, or is not allowed: the sentence says why."""


class Remover:
    """Removes objects after checking each is still the one seen."""

    def __init__(
        self,
        roots: Roots | None = None,
        users: Mapping[int, str | None] | None = None,
        backup_dir: str | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.roots = roots or Roots()
        self.users = users or {}
        self.backup_dir = backup_dir
        self.audit = audit

    def remove(self, seen: IpcObject) -> Outcome:
        """Remove `seen` if it is still there and still the same; never raises."""
        try:
            detail = self._remove(seen)
            outcome = Outcome(seen.ref, "removed", detail)
        except Refused as exc:
            outcome = Outcome(seen.ref, "refused", str(exc))
        except OSError as exc:
            outcome = Outcome(seen.ref, "error", f"{seen.ref}: {exc.strerror or exc}")
        if self.audit is not None:
            try:
                self.audit.record(seen, identity_of(seen), outcome.result, outcome.detail)
            except OSError as exc:
                detail = f"{outcome.detail} (not in the audit log {self.audit.path}: {exc})"
                outcome = Outcome(outcome.ref, outcome.result, detail)
        return outcome

    def current(self, seen: IpcObject) -> IpcObject:
        """The object now at seen's id or name; Refused when there is none or another."""
        now = find_current(seen, self.roots)
        if now is None:
            raise Refused(f"{seen.ref} no longer exists")
        changed = changes(identity_fields(seen), identity_fields(now))
        if changed:
            raise Refused(f"{seen.ref} is not the object you saw (" + "; ".join(changed) + ")")
        return now

    def _remove(self, seen: IpcObject) -> str:
        if seen.kind.is_sysv and not self.roots.live_procfs:
            raise Refused(
                f"{seen.ref}: shmtop reads a copied /proc ({self.roots.procfs}), "
                "so removing would act on another object of this kernel"
            )
        now = self.current(seen)
        if isinstance(now, PosixEntry) and now.type.value != "file":
            raise Refused(f"{now.ref} is a {now.type.value}: shmtop removes only regular files")
        saved = self._backup(now)
        try:
            if isinstance(now, PosixEntry):
                self._unlink(now)
            else:
                _SYSV_REMOVE[now.kind](now.id)
        except (PermissionError, sysv_ipc.PermissionsError):
            raise Refused(_denied(now, self.users)) from None
        except (FileNotFoundError, sysv_ipc.ExistentialError):
            raise Refused(f"{now.ref} was removed meanwhile by someone else") from None
        return _removed_detail(now) + (f"; saved to {saved}" if saved else "")

    def _backup(self, obj: IpcObject) -> str | None:
        if self.backup_dir is None:
            return None
        try:
            return backup(obj, self.backup_dir, self.roots, self.users)
        except (NotPermitted, Vanished, Unsupported, OSError) as exc:
            raise Refused(f"{obj.ref} was not removed: its backup failed ({exc})") from None

    def _unlink(self, entry: PosixEntry) -> None:
        directory, name = _place(entry, self.roots)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            found = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if not stat.S_ISREG(found.st_mode) or (found.st_dev, found.st_ino) != (
                entry.dev,
                entry.inode,
            ):
                raise Refused(f"{entry.ref} was replaced a moment ago: not removed")
            os.unlink(name, dir_fd=fd)
        finally:
            os.close(fd)


def find_current(seen: IpcObject, roots: Roots) -> IpcObject | None:
    """What is at seen's id or name now (freshly read), if anything."""
    snapshot = Collector(roots, [seen.kind]).collect()
    if seen.kind in snapshot.unavailable:
        raise Refused(snapshot.unavailable[seen.kind])
    place = _where(seen)
    return next((obj for obj in snapshot.objects if _where(obj) == place), None)


def _where(obj: IpcObject) -> int | bytes:
    return obj.name if isinstance(obj, PosixEntry) else obj.id


def _place(entry: PosixEntry, roots: Roots) -> tuple[str, bytes]:
    if isinstance(entry, PosixMq):
        return roots.dev_mqueue, entry.name[1:]
    if isinstance(entry, PosixSem):
        return roots.dev_shm, SEM_PREFIX + entry.name[1:]
    return roots.dev_shm, entry.name[1:]


def _removed_detail(obj: IpcObject) -> str:
    if isinstance(obj, SysvShm) and obj.nattch:
        return (
            f"{obj.ref} marked for removal: it disappears when its last "
            f"{obj.nattch} attachments detach"
        )
    if isinstance(obj, PosixEntry) and obj.nlink > 1:
        return f"{obj.ref} removed; its memory stays under its {obj.nlink - 1} other names"
    return f"{obj.ref} removed"


def _denied(obj: IpcObject, users: Mapping[int, str | None]) -> str:
    return denied(obj, users, "removing")
