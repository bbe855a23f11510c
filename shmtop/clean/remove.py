"""Removing exactly the object that was seen: identity checked immediately before, a backup
first when asked, every attempt recorded in the audit log.

The kernel offers no "remove if still the same": between the check and the removal there is
a window of a few microseconds. POSIX entries are checked and unlinked relative to one
descriptor of their directory, which must be on a tmpfs (an mqueue filesystem for queues);
only regular files are ever unlinked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

import sysv_ipc

from shmtop.clean.audit import AuditLog, AuditUnavailable
from shmtop.clean.backup import BackupRefused, backup
from shmtop.clean.permission import denied
from shmtop.collect import Collector
from shmtop.collect.entries import file_type
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.libc import MQUEUE_MAGIC, TMPFS_MAGIC, filesystem_name, filesystem_type
from shmtop.model import FileType, IpcObject, Kind, PosixEntry, SysvShm
from shmtop.model.identity import changes
from shmtop.model.kinds import Address, identity_fields, identity_of, spec_of
from shmtop.model.roots import Roots
from shmtop.namespaces.enter import NoSuchNamespace, run_in
from shmtop.namespaces.paths import open_directory
from shmtop.safepath import UnsafePath

Result = Literal["removed", "refused", "error"]
E = TypeVar("E", bound=PosixEntry)
IPC_FILESYSTEM: Mapping[Kind, tuple[int, str]] = {
    Kind.POSIX_SHM: (TMPFS_MAGIC, "a tmpfs"),
    Kind.POSIX_SEM: (TMPFS_MAGIC, "a tmpfs"),
    Kind.POSIX_MQ: (MQUEUE_MAGIC, "an mqueue filesystem"),
}
SYSV_REMOVE: Mapping[Kind, Callable[[int], None]] = {
    Kind.SYSV_SHM: sysv_ipc.remove_shared_memory,
    Kind.SYSV_MSG: sysv_ipc.remove_message_queue,
    Kind.SYSV_SEM: sysv_ipc.remove_semaphore,
}


NOT_REMOVABLE = (
    "nothing names it but its holders' descriptors and mappings, and the kernel frees it when "
    "the last of them goes: there is nothing to remove"
)


def can_be_removed(obj: IpcObject) -> bool:
    """Whether there is anything to remove: not for pipes, memfd objects, mappings and
    deleted /dev/shm files, which the kernel frees with their last holder."""
    return spec_of(obj).removable and not getattr(obj, "deleted", False)


@dataclass(frozen=True, slots=True)
class Outcome:
    ref: str
    result: Result
    detail: str


class Refused(Exception):
    """Removing would not be safe, or is not allowed: the sentence says why."""


class Remover:
    """Removes objects after checking each is still the one seen.

    `by_policy`: the objects were chosen because they looked leaked (clean, C), so one used
    since it was judged is refused too; otherwise (rm, Delete) only another object is.
    """

    def __init__(
        self,
        roots: Roots | None = None,
        users: Mapping[int, str | None] | None = None,
        backup_dir: str | None = None,
        audit: AuditLog | None = None,
        *,
        by_policy: bool = False,
        places: Mapping[str, Roots] | None = None,
        refused: Mapping[str, str] | None = None,
    ) -> None:
        self.roots = roots or Roots()
        self.places = places or {}  # where the objects of other namespaces live, by label
        self.refused = refused or {}  # labels whose objects are not removed here, and why
        self.users = users or {}
        self.backup_dir = backup_dir
        self.audit = audit
        self.by_policy = by_policy
        self._collectors: dict[tuple[Kind, str], Collector] = {}  # a batch re-reads what changed

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
            except AuditUnavailable as exc:
                detail = f"{outcome.detail} (not in the audit log: {exc})"
                outcome = Outcome(outcome.ref, outcome.result, detail)
            except OSError as exc:
                why = exc.strerror or exc
                detail = f"{outcome.detail} (not in the audit log {self.audit.path}: {why})"
                outcome = Outcome(outcome.ref, outcome.result, detail)
        return outcome

    def current(self, seen: IpcObject) -> IpcObject:
        """The object now at seen's id or name; Refused when there is none or another."""
        if isinstance(seen, PosixEntry):
            directory, name = self._roots_for(seen).place(seen)
            with open_directory(directory) as fd:
                _require_ipc_filesystem(fd, directory, seen)
                now: IpcObject | None = _as_found(seen, _lstat(fd, name))
        else:
            now = self._sysv_now(seen)
        if now is None:
            raise Refused(f"{seen.ref} no longer exists")
        seen_fields, now_fields = identity_fields(seen), identity_fields(now)
        changed = changes(seen_fields, now_fields)
        if changed:
            raise Refused(f"{seen.ref} is not the object you saw (" + "; ".join(changed) + ")")
        used = changes(seen_fields, now_fields, strict=True) if self.by_policy else []
        if used:
            since = "; ".join(used)
            raise Refused(f"{seen.ref} was used since it was judged leaked ({since})")
        return now

    def _remove(self, seen: IpcObject) -> str:
        if not can_be_removed(seen):
            raise Refused(f"{seen.ref}: {NOT_REMOVABLE}")
        if spec_of(seen).address is Address.ID and not self.roots.live_procfs:
            raise Refused(
                f"{seen.ref}: shmtop reads a copied /proc ({self.roots.procfs}), "
                "so removing would act on another object of this kernel"
            )
        now = self.current(seen)
        if isinstance(now, PosixEntry) and now.type is not FileType.FILE:
            raise Refused(f"{now.ref} is a {now.type.value}: shmtop removes only regular files")
        saved = self._backup(now)
        try:
            if isinstance(now, PosixEntry):
                self._unlink(now)
            else:
                run_in(now.ns, SYSV_REMOVE[now.kind], now.id)  # in the object's namespace
        except (PermissionError, sysv_ipc.PermissionsError):
            raise Refused(denied(now, self.users, "removing")) from None
        except (FileNotFoundError, sysv_ipc.ExistentialError):
            raise Refused(f"{now.ref} was removed meanwhile by someone else") from None
        return _removed_detail(now) + (f"; saved to {saved}" if saved else "")

    def _backup(self, obj: IpcObject) -> str | None:
        if self.backup_dir is None:
            return None
        try:
            return backup(obj, self.backup_dir, self._roots_for(obj), self.users)
        except (UnsafePath, BackupRefused, NotPermitted, Vanished, Unsupported) as exc:
            raise Refused(f"{obj.ref} was not removed: its backup failed ({exc})") from None
        except OSError as exc:
            raise Refused(
                f"{obj.ref} was not removed: its backup in {self.backup_dir} failed "
                f"({exc.strerror or exc})"
            ) from None

    def _roots_for(self, obj: IpcObject | PosixEntry) -> Roots:
        """Where an object of its namespace lives: shmtop's own roots, or a container's."""
        if not obj.ns:
            return self.roots
        if obj.ns in self.refused:
            raise Refused(f"{obj.ref}: {self.refused[obj.ns]}")
        if obj.ns not in self.places:
            raise Refused(f"{obj.ref}: namespace {obj.ns} is not one shmtop has read")
        return self.places[obj.ns]

    def _sysv_now(self, seen: IpcObject) -> IpcObject | None:
        """The object now at seen's id, read in seen's IPC namespace."""
        key = (seen.kind, seen.ns)
        if key not in self._collectors:
            self._collectors[key] = Collector(self._roots_for(seen), [seen.kind])
        try:
            snapshot = run_in(seen.ns, self._collectors[key].collect)
        except NoSuchNamespace as exc:
            raise Refused(f"{seen.ref}: {exc}") from None
        if seen.kind in snapshot.unavailable:
            raise Refused(snapshot.unavailable[seen.kind])
        return next((obj for obj in snapshot.objects if obj.ref == seen.ref), None)

    def _unlink(self, entry: PosixEntry) -> None:
        """Unlink the name if it still is this regular file: checked again after the backup,
        on the same directory descriptor as the unlink."""
        directory, name = self._roots_for(entry).place(entry)
        with open_directory(directory) as fd:
            _require_ipc_filesystem(fd, directory, entry)
            found = _as_found(entry, _lstat(fd, name))
            same = found is not None and (found.dev, found.inode) == (entry.dev, entry.inode)
            if not same or found is None or found.type is not FileType.FILE:
                raise Refused(f"{entry.ref} was replaced a moment ago: not removed")
            os.unlink(name, dir_fd=fd)


def _require_ipc_filesystem(dir_fd: int, directory: str, entry: PosixEntry) -> None:
    """Refused unless the directory is on the filesystem such objects live on: a tmpfs for
    POSIX shared memory and semaphores, an mqueue filesystem for queues. `--dev-shm` can name
    any directory, and an ordinary file there is nobody's IPC object."""
    expected, place = IPC_FILESYSTEM[entry.kind]
    found = filesystem_type(dir_fd)
    if found != expected:
        raise Refused(
            f"{entry.ref} not removed: {directory} is on {filesystem_name(found)}, not on "
            f"{place}, so this is no IPC object"
        )


def _lstat(dir_fd: int, name: bytes) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _as_found(seen: E, found: os.stat_result | None) -> E | None:
    """seen, with what lstat says of its name now (a queue's ctime is never compared)."""
    if found is None:
        return None
    ctime_ns = None if seen.ctime_ns is None else found.st_ctime_ns
    return replace(
        seen,
        type=file_type(found.st_mode),
        dev=found.st_dev,
        inode=found.st_ino,
        ctime_ns=ctime_ns,
        nlink=found.st_nlink,
        size=found.st_size,
    )


def _removed_detail(obj: IpcObject) -> str:
    if isinstance(obj, SysvShm) and obj.nattch:
        return (
            f"{obj.ref} marked for removal: it disappears when its last "
            f"{obj.nattch} attachments detach"
        )
    if isinstance(obj, PosixEntry) and obj.nlink > 1:
        return f"{obj.ref} removed; its memory stays under its {obj.nlink - 1} other names"
    return f"{obj.ref} removed"
