"""Opening a directory to write in, as root, without letting another user choose where.

A path is walked from / one component at a time, each opened relative to the descriptor of
the one before with O_NOFOLLOW and checked with fstat, so nothing another user controls is
followed or trusted:

- no component is a symlink;
- every component belongs to root or to the caller (the owner of a directory can rename or
  replace what it holds);
- a directory others may write to is allowed on the way only when it is sticky (/tmp): others
  then cannot rename or remove what they do not own, and what comes next is ours or root's;
- the directory itself is writable by nobody else.

Callers then create everything relative to the descriptor, so renaming or replacing a name
in the path afterwards changes nothing about where the bytes go. A relative path is taken
from the current directory, whose own path is checked the same way.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import stat
from collections.abc import Iterator
from contextlib import contextmanager

DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
PRIVATE_MODE = 0o700
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


class UnsafePath(Exception):
    """Writing there would let another user choose where the bytes go: the sentence says why."""


@contextmanager
def private_directory(path: str, *, create: bool = False) -> Iterator[int]:
    """A descriptor of the directory at path, safe to create files in (see the module)."""
    fd = open_private_directory(path, create=create)
    try:
        yield fd
    finally:
        os.close(fd)


def open_private_directory(path: str, *, create: bool = False) -> int:
    """Walk path from / and return a descriptor of its directory (the caller closes it).

    Missing directories are created with mode 0700 when `create`. Raises UnsafePath, or
    OSError (FileNotFoundError, PermissionError...) when a component cannot be opened.
    """
    names = _components(path)
    fd = os.open("/", DIRECTORY_FLAGS)
    shown = "/"
    try:
        _check(fd, shown, last=not names)
        for index, name in enumerate(names):
            shown = os.path.join(shown, name)
            child = _open_child(fd, name, shown, create)
            os.close(fd)
            fd = child
            _check(fd, shown, last=index == len(names) - 1)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _components(path: str) -> list[str]:
    """The names from / to path. No component may be a symlink, so `..` can be taken away
    from the text itself: a/b/.. is a."""
    absolute = os.path.normpath(os.path.join(os.getcwd(), path))
    return [name for name in absolute.split("/") if name]


def _open_child(parent: int, name: str, shown: str, create: bool) -> int:
    try:
        return os.open(name, DIRECTORY_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP):
            raise UnsafePath(f"{shown} is {_what_is(parent, name)}, not a directory") from None
        raise
    with contextlib.suppress(FileExistsError):  # made meanwhile: checked like any other
        os.mkdir(name, PRIVATE_MODE, dir_fd=parent)
    return _open_child(parent, name, shown, create=False)


def _check(fd: int, shown: str, *, last: bool) -> None:
    st = os.fstat(fd)
    if st.st_uid not in (0, os.geteuid()):
        raise UnsafePath(f"{shown} belongs to {user_name(st.st_uid)}, not to you or root")
    mode = stat.S_IMODE(st.st_mode)
    if not mode & _WRITABLE_BY_OTHERS:
        return
    if last:
        raise UnsafePath(f"{shown} is writable by others (mode {mode:04o})")
    if not mode & stat.S_ISVTX:
        raise UnsafePath(f"{shown} is writable by others and not sticky (mode {mode:04o})")


def _what_is(parent: int, name: str) -> str:
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except OSError:
        return "something else"
    return describe_type(st.st_mode)


def describe_type(mode: int) -> str:
    """'a symlink', 'a fifo', 'a regular file'... for the file type in mode."""
    kinds = {
        stat.S_IFLNK: "a symlink",
        stat.S_IFREG: "a regular file",
        stat.S_IFDIR: "a directory",
        stat.S_IFIFO: "a fifo",
        stat.S_IFSOCK: "a socket",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
    }
    return kinds.get(stat.S_IFMT(mode), "something else")


def user_name(uid: int) -> str:
    """'nobody (uid 65534)', or 'uid 4242' when no user has that uid."""
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"
