"""The one vocabulary of what can go wrong when touching the kernel, shared by every layer:
an object (or process) vanished, the caller may not, or it cannot be done here."""

from __future__ import annotations

import errno
import os


class Vanished(Exception):
    """The object was removed, or its name now means something else, since it was listed."""


class NotPermitted(Exception):
    """The caller may not read or change this object; the message says whose it is."""


class Unsupported(Exception):
    """What was asked cannot be done for this object, or on this kernel; the message says why."""


GONE = frozenset({errno.ENOENT, errno.ESRCH, errno.EINVAL, errno.EIDRM})
DENIED = frozenset({errno.EACCES, errno.EPERM})


def from_errno(
    error: int | None, subject: str, denied: str = "is not readable by you"
) -> Exception:
    """The error for an errno met while reading `subject` (an object's reference, a pid):
    Vanished, NotPermitted, Unsupported (ENOSYS), or an OSError for anything else."""
    if error in GONE:
        return Vanished(f"{subject} no longer exists")
    if error in DENIED:
        return NotPermitted(f"{subject} {denied}")
    if error == errno.ENOSYS:
        return Unsupported(f"{subject}: this kernel does not provide what reading it needs")
    return OSError(error, f"{subject}: {os.strerror(error or errno.EIO)}")
