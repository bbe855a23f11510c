"""Which entries get opened: inotify IN_OPEN events, to prove the collector leaves some alone."""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager

IN_OPEN = 0x20
IN_NONBLOCK = 0o4000
_EVENT = struct.Struct("iIII")
_libc = ctypes.CDLL(None, use_errno=True)


class OpenWatch:
    def __init__(self, fd: int, dirs: dict[int, bytes]) -> None:
        self._fd = fd
        self._dirs = dirs

    def opened(self) -> list[bytes]:
        """Paths opened since the watch began (a watched directory itself: its own path)."""
        paths: list[bytes] = []
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return paths
            paths.extend(self._parse(data))

    def _parse(self, data: bytes) -> Iterator[bytes]:
        offset = 0
        while offset < len(data):
            wd, _mask, _cookie, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
            base = self._dirs[wd]
            yield base + b"/" + name if name else base
            offset += _EVENT.size + length


@contextmanager
def watch_opens(*directories: bytes) -> Iterator[OpenWatch]:
    fd = _libc.inotify_init1(IN_NONBLOCK)
    assert fd >= 0, os.strerror(ctypes.get_errno())
    try:
        dirs = {}
        for directory in directories:
            wd = _libc.inotify_add_watch(fd, directory, IN_OPEN)
            assert wd >= 0, os.strerror(ctypes.get_errno())
            dirs[wd] = directory.rstrip(b"/")
        yield OpenWatch(fd, dirs)
    finally:
        os.close(fd)
