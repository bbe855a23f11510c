"""Hostile text in the kinds found in processes reaches the dashboard as data: a FIFO whose
path holds terminal escapes, a newline and bytes that are not UTF-8, written into (until it
is full) by a process that named itself with an escape sequence, and a memfd named so too.
The Pipes, Mem and Waiting views show each escaped, on one line."""

from __future__ import annotations

import ctypes
import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shmtop.tui.app import ShmtopApp
from shmtop.tui.waiting import WaitingScreen
from tests.holders import holders
from tests.privileges import require_root
from tests.test_pipes import F_GETPIPE_SZ, in_write, wait_until
from tests.tui.screen import screen_text, until
from tests.tui.test_pipes_views import cells, dashboard, only, rows, view

HOSTILE_DIR = b"\x1b[2J\x1b]0;owned\x07 dir\n\xff"
HOSTILE_COMM = b"\x1b[31mred\x07"  # a process may name itself anything (PR_SET_NAME)
HOSTILE_MEMFD = b"mem\x1b[5m\nfd"
CONTROL = {chr(c) for c in range(32)} | {"\x7f"}
PR_SET_NAME = 15


def named(name: bytes) -> None:
    ctypes.CDLL(None).prctl(PR_SET_NAME, name)


class Found:
    def __init__(self, fifo: str, path: bytes, writer: int, memfd: str) -> None:
        self.fifo, self.path, self.writer, self.memfd = fifo, path, writer, memfd


@pytest.fixture
def hostile() -> Iterator[Found]:
    require_root("reading other processes' descriptors and blocked calls")
    with holders() as hold, tempfile.TemporaryDirectory() as directory:
        top = os.path.join(os.fsencode(directory), HOSTILE_DIR)
        os.mkdir(top)
        path = os.path.join(top, b"fifo\x1b[0m")
        os.mkfifo(path, 0o600)
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        capacity = fcntl.fcntl(reader, F_GETPIPE_SZ)
        writer = hold(lambda: _fill_then_sleep_writing(path, capacity, reader))
        memfd = os.memfd_create(HOSTILE_MEMFD, os.MFD_CLOEXEC)
        try:
            os.ftruncate(memfd, 4096)
            hold(lambda: only(memfd, reader))
            st = os.stat(path)
            ref = f"fifo:{os.major(st.st_dev)}.{os.minor(st.st_dev)}:{st.st_ino}"
            wait_until(lambda: _writer_asleep(writer.pid), "the writer asleep in a write")
            yield Found(ref, path, _writer_asleep(writer.pid), f"memfd:{os.fstat(memfd).st_ino}")
        finally:
            os.close(memfd)
            _drain(reader)  # the sleeping writer finishes its write
            os.close(reader)


def _fill_then_sleep_writing(path: bytes, capacity: int, reader: int) -> Any:
    """In a holder: named hostilely, it fills the FIFO from a thread of its own that then
    sleeps in a write; the holder itself waits as holders do."""
    os.close(reader)
    named(HOSTILE_COMM)
    fd = os.open(path, os.O_WRONLY)
    os.write(fd, b"f" * capacity)
    threading.Thread(target=os.write, args=(fd, b"!"), daemon=True).start()
    return fd


def _writer_asleep(pid: int) -> int:
    """The pid if some thread of `pid` sleeps in a write, else 0."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        if in_write(int(tid)):
            return pid
    return 0


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 1 << 16):
            pass
    except BlockingIOError:
        pass


def _clean(text: str) -> bool:
    return not set(text) & CONTROL


async def test_hostile_paths_names_and_commands_are_shown_escaped(hostile: Found) -> None:
    app: ShmtopApp = dashboard()
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: hostile.fifo in app.model.objects, timeout=30)
        await until(pilot, lambda: app.model.context.attach is not None, timeout=30)
        await view(pilot, app, "8", "pipes")
        fifo = cells(app, hostile.fifo)
        assert fifo["state"] == "full" and fifo["blocked"] == "writer"
        assert all(_clean(cell) for cell in fifo.values())
        assert "\\x1b" in fifo["path"] and "\\xff" in fifo["path"]  # escaped, not dropped

        await view(pilot, app, "9", "mapped")
        memfd = cells(app, hostile.memfd)
        assert all(_clean(cell) for cell in memfd.values()), memfd
        assert "\\x1b" in memfd["name"] and "\\n" in memfd["name"]

        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WaitingScreen))
        key = f"{hostile.writer} {hostile.fifo}"
        await until(pilot, lambda: key in rows(app), timeout=10)
        row = rows(app)[key]
        assert all(_clean(cell) for cell in row), row
        assert "\\x1b" in row[1] and row[2] == "write"
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown
