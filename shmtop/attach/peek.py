"""Looking at another process's pipe or memfd through its own descriptor, disturbing nothing.

A pipe counts its readers and writers, and those counts are behaviour: with no reader a write
raises SIGPIPE, with no writer a read returns end of file, and a FIFO's open waits for the
other side. Opening /proc/PID/fd/N opens the pipe anew: for the moment it is open, shmtop is
one more reader (a writer that should get SIGPIPE writes instead, a FIFO opener waiting for a
reader goes on, and its later writes then fail), and closing it wakes both sides.

So shmtop first asks for a duplicate of the holder's own descriptor (pidfd_getfd, Linux 5.6,
needs the right to ptrace the holder): the same open file, no new reader or writer, nothing
woken, and FIONREAD and F_GETPIPE_SZ answer on it without taking a byte. Only where that is
refused does it reopen the end, and then only a pipe that already has a reader (read-only and
non-blocking: never as a writer, never waiting), where one more reader changes nothing anyone
can see. Otherwise the fill stays unknown, and says why.
"""

from __future__ import annotations

import array
import ctypes
import errno
import fcntl
import os
import select
import termios

from shmtop.errors import NotPermitted, Vanished

F_GETPIPE_SZ = 1032
F_GET_SEALS = 1034
_PIDFD_GETFD = 438  # the same number on x86_64 and aarch64 (the generic table)
_libc = ctypes.CDLL(None, use_errno=True)
_REOPEN = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


def duplicate(pid: int, fd: int) -> int:
    """A descriptor of the same open file as `pid`'s descriptor `fd`. NotPermitted when the
    kernel refuses (no ptrace right, or no pidfd_getfd); Vanished when it is gone."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        raise Vanished(f"process {pid}") from None
    except OSError as exc:
        raise NotPermitted(f"process {pid}: {exc.strerror}") from None
    try:
        dup = _libc.syscall(_PIDFD_GETFD, pidfd, fd, 0)
        if dup < 0:
            err = ctypes.get_errno()
            if err in (errno.EBADF, errno.ESRCH):
                raise Vanished(f"descriptor {fd} of process {pid}")
            raise NotPermitted(f"descriptor {fd} of process {pid}: {os.strerror(err)}")
        return int(dup)
    finally:
        os.close(pidfd)


def reopen(fd_dir: int, fd: int) -> int:
    """A new read-only, non-blocking open of what descriptor `fd` (in an fd directory of
    /proc) points at. For a pipe this adds a reader while it is open: see the module."""
    try:
        return os.open(str(fd), _REOPEN, dir_fd=fd_dir)
    except PermissionError:
        raise NotPermitted(f"descriptor {fd}") from None
    except OSError as exc:
        raise Vanished(f"descriptor {fd}: {exc.strerror}") from None


def pipe_fill(fd: int) -> tuple[int, int]:
    """(bytes waiting, capacity in bytes) of the pipe `fd` is an end of; nothing is read."""
    waiting = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, waiting)
    return waiting[0], fcntl.fcntl(fd, F_GETPIPE_SZ)


def other_side(fd: int, anonymous: bool) -> tuple[bool | None, bool | None]:
    """(has a reader, has a writer) of the pipe `fd` is an end of, as the kernel says it on a
    poll that waits for nothing: a write end polls POLLERR when no reader is left anywhere, a
    read end POLLHUP when no writer is (also ends shmtop cannot see: another user's process,
    a descriptor in flight in a socket). None: not said. A FIFO's reader that has never had a
    writer polls no POLLHUP, so there only POLLHUP is an answer."""
    access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    if access == os.O_RDWR:
        return True, True
    poller = select.poll()
    poller.register(fd, select.POLLIN if access == os.O_RDONLY else select.POLLOUT)
    events = next((ev for _, ev in poller.poll(0)), 0)
    if access == os.O_WRONLY:
        return not events & select.POLLERR, True
    hung_up = bool(events & select.POLLHUP)
    return True, (False if hung_up else (True if anonymous else None))


def seals(fd: int) -> int | None:
    """A memfd's F_SEAL_* bits; None where the file takes no seals."""
    try:
        return fcntl.fcntl(fd, F_GET_SEALS)
    except OSError:
        return None
