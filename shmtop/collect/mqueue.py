"""POSIX message queues: the entries of an mqueue filesystem mounted at /dev/mqueue.

Each queue file reads as "QSIZE:n NOTIFY:n SIGNO:n NOTIFY_PID:n" (QSIZE is bytes queued).
The same descriptor answers mq_getattr (curmsgs, maxmsg, msgsize), so attributes always come
from the very inode that was listed. Reading the file moves the queue's atime and ctime (the
kernel does so on every read); mtime, moved by send and receive, is left alone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from shmtop.collect.devshm import entry_fields
from shmtop.collect.entries import Entry, Vanished, list_entries, open_directory, open_regular
from shmtop.libc import mq_getattr
from shmtop.model import FileType, PosixMq

MOUNT_HINT = "mount -t mqueue none /dev/mqueue"
_OCTAL_ESCAPE = re.compile(rb"\\([0-7]{3})")
_QSIZE_LABELS = (b"QSIZE", b"NOTIFY", b"SIGNO", b"NOTIFY_PID")


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """The line a queue file reads as; a field is None when absent or not a number."""

    qsize: int | None = None
    notify: int | None = None
    signo: int | None = None
    notify_pid: int | None = None


class NotMounted(Exception):
    """No mqueue filesystem is mounted where queues are expected."""


def scan_mqueue(root: str, mountinfo: str) -> list[PosixMq]:
    """Every queue under root. Raises NotMounted, or OSError if root cannot be read."""
    if not is_mqueue_mount(root, mountinfo):
        raise NotMounted(f"{root} is not mounted; POSIX message queues are hidden ({MOUNT_HINT})")
    queues: list[PosixMq] = []
    with open_directory(root) as dir_fd:
        for entry in list_entries(dir_fd):
            queue = _queue(dir_fd, entry)
            if queue is not None:
                queues.append(queue)
    queues.sort(key=lambda queue: queue.name)
    return queues


def _queue(dir_fd: int, entry: Entry) -> PosixMq | None:
    fields = entry_fields(entry, b"/" + entry.raw)
    if fields["type"] is not FileType.FILE:
        return PosixMq(**fields)
    try:
        with open_regular(dir_fd, entry, noatime=False) as fd:
            status = parse_qsize_line(os.read(fd, 256))
            attr = mq_getattr(fd)
    except Vanished:
        return None
    except OSError:  # no read permission: listed, contents unknown
        return PosixMq(**fields)
    return PosixMq(
        **fields,
        qsize=status.qsize,
        notify=status.notify,
        signo=status.signo,
        notify_pid=status.notify_pid,
        curmsgs=None if attr is None else attr.curmsgs,
        maxmsg=None if attr is None else attr.maxmsg,
        msgsize=None if attr is None else attr.msgsize,
    )


def parse_qsize_line(text: bytes) -> QueueStatus:
    """Parse "QSIZE:n NOTIFY:n SIGNO:n NOTIFY_PID:n"; unknown or malformed items are ignored."""
    values: dict[bytes, int] = {}
    for item in text.split():
        label, _, number = item.partition(b":")
        if label in _QSIZE_LABELS and number.isdigit():
            values[label] = int(number)
    qsize, notify, signo, notify_pid = (values.get(label) for label in _QSIZE_LABELS)
    return QueueStatus(qsize, notify, signo, notify_pid)


def is_mqueue_mount(path: str, mountinfo: str) -> bool:
    """Whether the topmost mount at path (after resolving it) is an mqueue filesystem."""
    target = os.path.realpath(path)
    try:
        with open(mountinfo, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return os.path.isdir(path)  # no mount table to ask: trust a readable directory
    fstype = None
    for line in lines:
        point, kind = _mount_point_and_type(line)
        if point == target:
            fstype = kind
    return fstype == "mqueue"


def _mount_point_and_type(line: bytes) -> tuple[str | None, str | None]:
    """Mount point (field 5, octal escapes undone) and fstype (first field after ' - ')."""
    before, sep, after = line.partition(b" - ")
    fields = before.split()
    if not sep or len(fields) < 5 or not after:
        return None, None
    point = os.fsdecode(_OCTAL_ESCAPE.sub(lambda m: bytes([int(m[1], 8) & 0xFF]), fields[4]))
    return point, after.split()[0].decode("ascii", "replace")
