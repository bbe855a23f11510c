"""POSIX message queues: the entries of an mqueue filesystem mounted at /dev/mqueue.

Each queue file reads as "QSIZE:n NOTIFY:n SIGNO:n NOTIFY_PID:n" (QSIZE is bytes queued).
The same descriptor answers mq_getattr (curmsgs, maxmsg, msgsize), so attributes always come
from the very inode that was listed. Reading the file moves the queue's atime and ctime (the
kernel does so on every read); mtime, moved by send and receive, is left alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from shmtop.collect.devshm import EntryValues, entry_values
from shmtop.collect.entries import Entry, list_entries, read_regular
from shmtop.collect.reuse import Reuse
from shmtop.errors import Vanished
from shmtop.libc import MQUEUE_MAGIC, MqAttr, filesystem_type, mq_getattr
from shmtop.model import FileType, PosixMq
from shmtop.namespaces.paths import directory_fd

MOUNT_HINT = "mount -t mqueue none /dev/mqueue"
_QSIZE_LABELS = (b"QSIZE", b"NOTIFY", b"SIGNO", b"NOTIFY_PID")
_QSIZE_LINE = re.compile(rb"QSIZE:(\d+) +NOTIFY:(\d+) +SIGNO:(\d+) +NOTIFY_PID:(\d+) *\n?")


class QueueStatus(NamedTuple):
    """The line a queue file reads as; a field is None when absent or not a number."""

    qsize: int | None = None
    notify: int | None = None
    signo: int | None = None
    notify_pid: int | None = None


class NotMounted(Exception):
    """No mqueue filesystem is mounted where queues are expected."""


def scan_mqueue(root: str, make: Reuse[PosixMq] | None = None) -> list[PosixMq]:
    """Every queue under root. Raises NotMounted, or OSError if root cannot be read.

    `make` (kept between polls) hands back unchanged queues instead of building them anew.
    """
    build = make or Reuse(PosixMq)
    queues: list[PosixMq] = []
    with _mqueue_directory(root) as dir_fd:
        for entry in list_entries(dir_fd, root):
            queue = _queue(dir_fd, entry, build)
            if queue is not None:
                queues.append(queue)
    build.next_round()
    queues.sort(key=lambda queue: queue.name)
    return queues


_UNKNOWN_QUEUE = (None,) * 7  # qsize notify signo notify_pid curmsgs maxmsg msgsize


def _queue(dir_fd: int, entry: Entry, make: Reuse[PosixMq]) -> PosixMq | None:
    values = _without_ctime(entry_values(entry, b"/" + entry.name))
    if values[1] is not FileType.FILE:
        return make(*values, *_UNKNOWN_QUEUE)
    try:
        status, attr = read_regular(dir_fd, entry, _read_queue, noatime=False)
    except Vanished:
        return None
    except OSError:  # no read permission: listed, contents unknown
        return make(*values, *_UNKNOWN_QUEUE)
    curmsgs, maxmsg, msgsize = (None, None, None) if attr is None else attr
    return make(*values, *status, curmsgs, maxmsg, msgsize)


def _without_ctime(values: EntryValues) -> EntryValues:
    """A queue's ctime moves whenever anyone reads its status line, this collector included;
    keeping it would make every queue look changed at every poll."""
    name, kind, size, allocated, uid, gid, mode, mtime_ns, _, dev, inode, nlink = values
    return (name, kind, size, allocated, uid, gid, mode, mtime_ns, None, dev, inode, nlink)


def _read_queue(fd: int) -> tuple[QueueStatus, MqAttr | None]:
    return parse_qsize_line(os.read(fd, 256)), mq_getattr(fd)


def parse_qsize_line(text: bytes) -> QueueStatus:
    """Parse "QSIZE:n NOTIFY:n SIGNO:n NOTIFY_PID:n"; unknown or malformed items are ignored."""
    exact = _QSIZE_LINE.fullmatch(text)
    if exact:
        return QueueStatus(*map(int, exact.groups()))
    values: dict[bytes, int] = {}
    for item in text.split():
        label, _, number = item.partition(b":")
        if label in _QSIZE_LABELS and number.isdigit():
            values[label] = int(number)
    qsize, notify, signo, notify_pid = (values.get(label) for label in _QSIZE_LABELS)
    return QueueStatus(qsize, notify, signo, notify_pid)


@contextmanager
def _mqueue_directory(root: str) -> Iterator[int]:
    """A descriptor of root, which must be an mqueue filesystem (by fstatfs: what the
    descriptor is on, not what a mount table says of a path). Raises NotMounted."""
    try:
        dir_fd = directory_fd(root)
    except FileNotFoundError:
        raise NotMounted(_not_mounted(root)) from None
    try:
        if filesystem_type(dir_fd) != MQUEUE_MAGIC:
            raise NotMounted(_not_mounted(root))
        yield dir_fd
    finally:
        os.close(dir_fd)


def mqueue_device_at(root: str) -> int | None:
    """The device of the mqueue filesystem at root (reached as scan_mqueue reaches it), None
    if there is none."""
    try:
        with _mqueue_directory(root) as dir_fd:
            return os.fstat(dir_fd).st_dev
    except (NotMounted, OSError):
        return None


def _not_mounted(root: str) -> str:
    return f"{root} is not mounted; POSIX message queues are hidden ({MOUNT_HINT})"
