"""The audit log: one JSON line per removal attempt, appended, never rewritten.

$XDG_STATE_HOME/shmtop/removals.jsonl (by default ~/.local/state/shmtop/removals.jsonl):
{"time", "uid", "user", "ref", "identity", "result", "detail"}.

Root writes it, in a place an environment variable names, so nothing on the way is followed
(`shmtop.safepath`; missing directories are made 0700), and the file is opened with
O_NOFOLLOW | O_NONBLOCK (a FIFO there cannot block the removal) and kept only if fstat says
it is a regular file of the caller's with one name. It is opened once, on the first record
or by `open()`, and held until the log is dropped.
"""

from __future__ import annotations

import json
import os
import pwd
import stat
import time
import weakref

from shmtop.model import IpcObject
from shmtop.safepath import UnsafePath, describe_type, private_directory, user_name

_FLAGS = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
    | os.O_CLOEXEC
)  # fmt: skip


class AuditUnavailable(Exception):
    """The log cannot be written safely: the sentence says why (removals go on without it)."""


def default_path() -> str:
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return os.path.join(state, "shmtop", "removals.jsonl")


class AuditLog:
    def __init__(self, path: str | None = None) -> None:
        self.path = path or default_path()
        self._fd: int | None = None

    def open(self) -> None:
        """Open the log for this run if it is not open yet; AuditUnavailable says why not."""
        self._opened()

    def record(self, obj: IpcObject, identity: str, result: str, detail: str) -> None:
        """Append one line; raises AuditUnavailable or OSError if it cannot be written."""
        fd = self._opened()
        uid = os.getuid()
        line = {
            "time": time.time(),
            "uid": uid,
            "user": _user(uid),
            "ref": obj.ref,
            "identity": identity,
            "result": result,
            "detail": detail,
        }
        os.write(fd, (json.dumps(line, ensure_ascii=True) + "\n").encode())

    def _opened(self) -> int:
        if self._fd is None:
            self._fd = _open_in_place(self.path)
            weakref.finalize(self, os.close, self._fd)
        return self._fd


def _open_in_place(path: str) -> int:
    directory, name = os.path.split(path)
    try:
        with private_directory(directory, create=True) as dir_fd:
            return _open_log(dir_fd, name, path)
    except UnsafePath as exc:
        raise AuditUnavailable(str(exc)) from None
    except OSError as exc:
        raise AuditUnavailable(f"{path}: {exc.strerror or exc}") from None


def _open_log(dir_fd: int, name: str, shown: str) -> int:
    """The log file, if it is one we may append to: a regular file of ours, one name."""
    try:
        fd = os.open(name, _FLAGS, 0o600, dir_fd=dir_fd)
    except OSError:  # ELOOP: a symlink; ENXIO: a FIFO nobody reads...
        what = _what_is(dir_fd, name)
        if what is not None:
            raise AuditUnavailable(f"{shown} is {what}, not a file") from None
        raise
    try:
        _check_log(os.fstat(fd), shown)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_log(st: os.stat_result, shown: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise AuditUnavailable(f"{shown} is {describe_type(st.st_mode)}, not a file")
    if st.st_uid != os.geteuid():
        raise AuditUnavailable(f"{shown} belongs to {user_name(st.st_uid)}, not to you")
    if st.st_nlink != 1:
        raise AuditUnavailable(f"{shown} has {st.st_nlink} names (hard links)")


def _what_is(dir_fd: int, name: str) -> str | None:
    """What lstat says name is, when it is something other than a regular file."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None
    return None if stat.S_ISREG(st.st_mode) else describe_type(st.st_mode)


def _user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None
