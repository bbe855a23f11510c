"""Writing a range of an object's bytes to a new file, a bounded chunk at a time."""

from __future__ import annotations

import os

from shmtop.inspect.pages import Read

CHUNK = 1 << 20
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def save_range(read: Read, start: int, length: int, path: str) -> int:
    """Copy up to `length` bytes from `start` into a new file (never over an existing one);
    the number copied, fewer when the object ends first. Raises OSError (FileExistsError...)."""
    fd = os.open(path, _FLAGS, 0o600)
    copied = 0
    try:
        while copied < length:
            data = read(start + copied, min(CHUNK, length - copied))
            if not data:
                break
            _write_all(fd, data)
            copied += len(data)
    finally:
        os.close(fd)
    return copied


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
