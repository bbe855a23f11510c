"""Writing the exposition for node_exporter's textfile collector: a reader sees the old file
or the new one, never half of one.

The text goes to a new temporary file in the same directory (named with a leading dot and
no `.prom` ending, so the collector never reads it), is flushed to disk, and then renamed
over the target. Everything is done relative to a descriptor of the directory; the
temporary file is created exclusively and never through a symlink, and removed if anything
fails.
"""

from __future__ import annotations

import contextlib
import errno
import os

FILE_MODE = 0o644  # node_exporter runs as another user: it must be able to read the file


def write_atomically(path: str, data: bytes) -> None:
    """Replace path's content with data at once; OSError says what failed."""
    directory, name = os.path.split(path)
    if not name:
        raise IsADirectoryError(errno.EISDIR, "a file name is needed, not a directory", path)
    dir_fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _replace(dir_fd, name, data)
    finally:
        os.close(dir_fd)


def _replace(dir_fd: int, name: str, data: bytes) -> None:
    temporary = f".{name}.{os.urandom(4).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temporary, flags, FILE_MODE, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), FILE_MODE)  # whatever the umask
            os.fsync(out.fileno())
        os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise
