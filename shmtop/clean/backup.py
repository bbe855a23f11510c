"""Saving an object before removing it: its bytes (segments, POSIX objects and semaphore
files), or its members / messages, and every field as JSON, in a new directory.

Root writes here on behalf of whoever named the directory, so the directory is reached with
`shmtop.safepath` (no symlink, nothing another user owns or may write to) and everything is
created relative to its descriptor: the object's own directory with mkdir(0700), then its
files with O_EXCL | O_NOFOLLOW. Holes stay holes (`sparsecopy`), and a backup that would not
fit in the free space is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from shmtop.clean.sparsecopy import copy_sparse, data_bytes
from shmtop.humanize import human_bytes
from shmtop.inspect import ContentReader, has_bytes, open_reader, peek_messages, set_members
from shmtop.model import IpcObject, SysvMsg, SysvSem, SysvShm
from shmtop.model.jsonable import member_json, message_json, object_json
from shmtop.model.roots import Roots
from shmtop.safepath import DIRECTORY_FLAGS, PRIVATE_MODE, private_directory

BYTES_FILE = "bytes"
FIELDS_FILE = "object.json"
NAME_MAX = 255
_REF_ROOM = 200  # of NAME_MAX, for the encoded reference; the rest for _TIME and _N
_DIGEST_LENGTH = 16
_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_SLACK = 64 << 10  # for the directory and the JSON beside the data


class BackupRefused(Exception):
    """The backup cannot be made safely or would not fit: the sentence says why."""


def backup(obj: IpcObject, directory: str, roots: Roots, users: Mapping[int, str | None]) -> str:
    """Save obj under directory (created 0700 if missing); the new directory's path.

    Raises UnsafePath, BackupRefused, OSError, or the inspect errors (Vanished...)."""
    document: dict[str, Any] = {"saved_at": time.time(), **object_json(obj, users)}
    with private_directory(directory, create=True) as parent, _bytes_of(obj, roots) as reader:
        size = reader.size if reader else 0
        if isinstance(obj, SysvSem):
            document["semaphores"] = [member_json(m) for m in set_members(obj)]
        elif isinstance(obj, SysvMsg):
            document["messages"] = [message_json(m) for m in peek_messages(obj)]
        needed = (_bytes_to_write(obj, reader, size) if reader else 0) + _json_size(document)
        _check_room(parent, needed, directory, obj)
        name = _make_directory(parent, backup_name(obj.ref, document["saved_at"]))
        try:
            _fill(parent, name, reader, size, document)
        except BaseException:
            _discard(parent, name)
            raise
    return os.path.join(directory, name)


@contextmanager
def _bytes_of(obj: IpcObject, roots: Roots) -> Iterator[ContentReader | None]:
    reader = open_reader(obj, None, roots) if has_bytes(obj) else None
    try:
        yield reader
    finally:
        if reader is not None:
            reader.close()


def _fill(
    parent: int, name: str, reader: ContentReader | None, size: int, document: dict[str, Any]
) -> None:
    target = os.open(name, DIRECTORY_FLAGS, dir_fd=parent)
    try:
        if reader is not None:
            fd = os.open(BYTES_FILE, _FILE_FLAGS, 0o600, dir_fd=target)
            try:
                copied = copy_sparse(reader, fd, size)
            finally:
                os.close(fd)
            document["bytes_saved"] = copied.size
            document["bytes_written"] = copied.written
        fd = os.open(FIELDS_FILE, _FILE_FLAGS, 0o600, dir_fd=target)
        with os.fdopen(fd, "w") as f:
            json.dump(document, f, indent=1)
    finally:
        os.close(target)


def backup_name(ref: str, now: float) -> str:
    """`<encoded ref>_<epoch seconds>`: different references never share a name."""
    return f"{encode_ref(ref)}_{int(now)}"


def encode_ref(ref: str) -> str:
    """Letters, digits, '.' and '-' as they are, every other byte as %XX (so '%' too): one
    reference, one name. A long one becomes a prefix and a digest of the whole reference."""
    raw = ref.encode("utf-8", "surrogateescape")
    encoded = "".join(chr(byte) if byte in _KEPT else f"%{byte:02X}" for byte in raw)
    if len(encoded) <= _REF_ROOM:
        return encoded
    prefix = encoded[: _REF_ROOM - _DIGEST_LENGTH - 1]
    cut = prefix.find("%", len(prefix) - 2)  # an escape cut in two
    if cut >= 0:
        prefix = prefix[:cut]
    return f"{prefix}_{hashlib.sha256(raw).hexdigest()[:_DIGEST_LENGTH]}"


def _make_directory(parent: int, base: str) -> str:
    """mkdir base (0700), or base_2, base_3... if it exists (the same object twice in one
    second); its name."""
    for attempt in range(1, 1000):
        name = base if attempt == 1 else f"{base}_{attempt}"
        try:
            os.mkdir(name, PRIVATE_MODE, dir_fd=parent)
        except FileExistsError:
            continue
        return name
    raise BackupRefused(f"{base} and 998 other names like it already exist")


def _bytes_to_write(obj: IpcObject, reader: ContentReader, size: int) -> int:
    """The data the copy will write: where the reader says data is, or for a segment what it
    holds in memory and swap (pages never written read as zeros and are skipped)."""
    if isinstance(obj, SysvShm) and obj.rss is not None:
        return min(size, obj.rss + (obj.swap or 0))
    return data_bytes(reader, size)


def _json_size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, indent=1)) + _SLACK


def _check_room(parent: int, needed: int, directory: str, obj: IpcObject) -> None:
    st = os.fstatvfs(parent)
    block = st.f_frsize or 4096
    needed = -(-needed // block) * block
    free = st.f_bavail * block
    if needed > free:
        raise BackupRefused(
            f"{directory} has {human_bytes(free)} free and the backup of {obj.ref} needs "
            f"{human_bytes(needed)}"
        )


def _discard(parent: int, name: str) -> None:
    """Remove a backup that failed half-way, so no partial copy passes for a whole one."""
    with contextlib.suppress(OSError):
        target = os.open(name, DIRECTORY_FLAGS, dir_fd=parent)
        try:
            for file in (BYTES_FILE, FIELDS_FILE):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(file, dir_fd=target)
        finally:
            os.close(target)
        os.rmdir(name, dir_fd=parent)
