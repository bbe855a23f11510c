"""The real dashboard in real terminals: tmux end to end, and raw bytes from a pty.

Both start the installed `shmtop` command, as a user would, over real objects.
"""

from __future__ import annotations

import fcntl
import os
import pty
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ipcfactory import IpcFactory, unique

SHMTOP = str(Path(sys.executable).parent / "shmtop")


def wait_for(
    condition: Callable[[], bool], timeout: float = 60.0, seen: Callable[[], str] = str
) -> None:
    """Until the condition holds. Generous: as root the dashboard reads every namespace of
    the host, and another suite's or a benchmark's tens of thousands of objects there, on a
    loaded machine, slowed a refresh past 20 s; a failure says what the screen showed."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; the screen showed:\n{seen()}"
        time.sleep(0.1)


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    session = unique("tmux")
    socket = f"/tmp/{session}.sock"

    def run(*args: str) -> str:
        cmd = ["tmux", "-S", socket, *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    try:
        yield run
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, check=False)
        if os.path.exists(socket):
            os.unlink(socket)


def test_installed_shmtop_shows_a_new_object_filters_to_it_and_quits(
    tmux: Callable[..., str], ipc: IpcFactory
) -> None:
    command = f"{SHMTOP} --interval 0.5; echo shmtop-exited-$?; sleep 60"
    # Wide enough that the name is never cut with "…" (unique names grow with the suite).
    # Start the program only once the window has its size (a detached session is resized
    # just after creation, and a program started at once may draw at 80 columns).
    tmux("new-session", "-d", "-s", "e2e", "-x", "240", "-y", "45", "sleep 60")
    tmux("respawn-pane", "-k", "-t", "e2e", command)

    def pane() -> str:
        return tmux("capture-pane", "-t", "e2e", "-p")

    wait_for(lambda: " shown" in pane(), seen=pane)
    name = ipc.posix_shm(size=12345, tag="e2e")
    wait_for(lambda: name in pane(), seen=pane)
    tmux("send-keys", "-t", "e2e", "/")
    tmux("send-keys", "-t", "e2e", "-l", name[1:])
    tmux("send-keys", "-t", "e2e", "Enter")
    # As a user would: look until the filter is applied and the table has the keys again
    # (Textual hands each key to the widget focused when it is dispatched).
    applied = f"filter: {name[1:]}"
    wait_for(lambda: applied in pane() and "⏎ Detail" in pane(), seen=pane)
    assert " 1 of " in pane()
    rows = [line for line in pane().splitlines() if f" posix-shm:{name}" in line]
    assert len(rows) == 1 and name in rows[0] and "12K" in rows[0]
    tmux("send-keys", "-t", "e2e", "q")
    wait_for(lambda: "shmtop-exited-0" in pane(), seen=pane)


HOSTILE = {
    b"\x1b]0;title\x07": "\\x1b]0;title\\x07",
    b"\x1b]52;c;ZXZpbA==\x07": "\\x1b]52;c;ZXZpbA==\\x07",
    b"\x1b[2J": "\\x1b[2J",
    b"c1\x9bx": "c1\\x9bx",
    "u8c1\u009bx".encode(): "u8c1\\u009bx",
    b"[@click=app.quit]x": "[@click=app.quit]x",
    b"bad\xff\xfe": "bad\\xff\\xfe",
    b"db\nx": "db\\nx",
}


def spawn_in_pty(argv: list[str], columns: int, rows: int) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return pid, fd


def read_until(fd: int, wanted: list[bytes], timeout: float = 20.0) -> bytes:
    output = b""
    deadline = time.monotonic() + timeout
    while not all(w in output for w in wanted) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                output += os.read(fd, 65536)
            except OSError:
                break
    return output


def test_hostile_names_reach_the_terminal_escaped_never_raw(ipc: IpcFactory) -> None:
    # Short and fixed in length: a long tag would push the names past the NAME column's width
    # (they are then cut with "…"), and unique()'s counter grows with the number of tests run.
    tag = f"pty{secrets.token_hex(4)}".encode()
    for raw in HOSTILE:
        ipc.file(tag + raw, b"x")
    # The escaped names must appear; the narrowest filter keeps them all on screen.
    pid, fd = spawn_in_pty([SHMTOP, "--interval", "0.5"], 220, 60)
    try:
        output = read_until(fd, [b" shown"])  # the app has the terminal: type now
        os.write(fd, b"/")
        output += read_until(fd, [b"Clear filter"])
        os.write(fd, tag + b"\r")
        wanted = [shown.encode() for shown in HOSTILE.values()]
        output += read_until(fd, wanted)
        os.write(fd, b"q")
        output += read_until(fd, [b"\x1b[?1049l"], timeout=10)  # leaves the alternate screen
    finally:
        if _running(pid):
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    for raw, shown in HOSTILE.items():
        assert shown.encode() in output, f"{shown} was not shown"
        if shown.encode() != raw:  # names with controls or bad bytes never go out raw
            assert tag + raw not in output
    assert b"\x1b]0;title" not in output and b"\x1b]52;" not in output
    assert "\u009b".encode() not in output  # a C1 control, as UTF-8
    assert b"[@click=app.quit]x" in output  # literal, and it did not quit the app


def _running(pid: int) -> bool:
    done, _ = os.waitpid(pid, os.WNOHANG)
    return done == 0
