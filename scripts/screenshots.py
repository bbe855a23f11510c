"""Render the real dashboard over `shmtop demo` into screenshots/ (SVG, and PNG if possible).

    sudo .venv/bin/python scripts/screenshots.py

Needs root, for namespaces of its own: the script first leaves the host's IPC namespace and
mount namespace (unshare), mounts a fresh tmpfs on /dev/shm and an mqueue filesystem on a
temporary directory there, so the pictures show the demo's objects and nothing else on the
host, and nothing it mounts is seen outside (the host's /dev/mqueue is never touched). It
starts the demo workload, lets it run, drives the app headless at the sizes terminals have
and saves each view. PNGs need rsvg-convert (Debian: librsvg2-bin). Everything the demo
made goes with the namespaces; the demo removes it anyway.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from shmtop.demo import DemoWorkload
from shmtop.model.roots import Roots
from shmtop.tui.app import ShmtopApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"
WIDE, SMALL = (170, 44), (80, 24)
VIEWS = (  # file name, size, keys pressed before the shot, seconds to wait after them
    ("dashboard", WIDE, (), 0.3),
    ("dashboard-80x24", SMALL, (), 0.3),
    ("dashboard-light", WIDE, ("ctrl+p", *"theme", "enter", *"textual-light", "enter"), 0.5),
    ("sysv-shm-view", WIDE, ("2",), 0.3),
    ("detail-leaked-segment", WIDE, ("2", "end", "enter"), 1.0),
    ("filter", WIDE, ("slash", *"leak", "enter"), 0.3),
    ("hex-view", WIDE, ("5", "end", "enter", "x"), 1.0),
    ("processes", WIDE, ("p",), 1.5),
    ("pipes", WIDE, ("8",), 1.0),
    ("waiting", WIDE, ("w",), 1.5),
    ("clean", WIDE, ("C",), 3.0),
    ("help", WIDE, ("question_mark",), 0.3),
)
CLONE_NEWNS, CLONE_NEWIPC, MS_REC, MS_PRIVATE = 0x00020000, 0x08000000, 0x4000, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


@contextmanager
def namespaces_of_our_own() -> Iterator[Roots]:
    """A new IPC namespace, and a private mount namespace with a fresh /dev/shm and an
    mqueue filesystem on a temporary directory: where the dashboard reads queues."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    _check(_libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "mount /")
    _check(_libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", 0, b"size=64m,mode=1777"), "mount shm")
    queues = tempfile.mkdtemp(prefix="shmtop-shots-mqueue-")
    try:
        _check(_libc.mount(b"mqueue", queues.encode(), b"mqueue", 0, None), "mount mqueue")
        try:
            yield Roots(dev_mqueue=queues)
        finally:
            _libc.umount2(queues.encode(), 0)
    finally:
        os.rmdir(queues)


@contextmanager
def a_stuck_pipe() -> Iterator[None]:
    """The classic stall for the Pipes and Waiting views: a "producer" asleep writing into a
    full pipe that its "consumer" never reads. Both end with the consumer."""
    r, w = os.pipe()
    stop_r, stop_w = os.pipe()
    consumer = _child(b"consumer", lambda: os.read(stop_r, 1), close=(w, stop_w))
    producer = _child(b"producer", lambda: (os.write(w, b"x" * (1 << 16)), os.write(w, b"!")),
                      close=(r, stop_r, stop_w))  # fmt: skip
    for fd in (r, w, stop_r):
        os.close(fd)
    try:
        yield
    finally:
        os.close(stop_w)  # the consumer ends, and with it the pipe's only reader: EPIPE
        os.waitpid(consumer, 0)
        os.waitpid(producer, 0)


def _child(name: bytes, work: Callable[[], object], close: tuple[int, ...]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            for fd in close:
                os.close(fd)
            _libc.prctl(15, name)  # PR_SET_NAME: its command in the views
            work()
        finally:
            os._exit(0)
    return pid


async def shoot(roots: Roots, name: str, size: tuple[int, int], keys: tuple[str, ...],
                wait: float) -> Path:  # fmt: skip
    app = ShmtopApp(interval=1.0, roots=roots)
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 20
        while app.model.context.verdicts is None and time.monotonic() < deadline:
            await pilot.pause(0.05)  # the leak verdicts follow the first screen
        await pilot.pause(1.5)  # a refresh or two, so changes show highlighted
        await pilot.press(*keys)
        await pilot.pause(wait)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


def to_png(svg: Path) -> Path | None:
    converter = shutil.which("rsvg-convert")
    if converter is None:
        return None
    png = svg.with_suffix(".png")
    subprocess.run([converter, "-w", "1600", str(svg), "-o", str(png)], check=True)
    return png


def main() -> int:
    if os.geteuid() != 0:
        print("screenshots.py needs root (for namespaces of its own): sudo", file=sys.stderr)
        return 2
    OUT.mkdir(exist_ok=True)
    with namespaces_of_our_own() as roots, DemoWorkload() as demo, a_stuck_pipe():
        print(f"demo running with {len(demo.made)} objects", file=sys.stderr)
        time.sleep(8)  # the backlog queue fills, the gate's waiter blocks
        for name, size, keys, wait in VIEWS:
            svg = asyncio.run(shoot(roots, name, size, keys, wait))
            png = to_png(svg)
            print(f"wrote {svg.name}" + (f" and {png.name}" if png else ""), file=sys.stderr)
    if shutil.which("rsvg-convert") is None:
        print("no rsvg-convert: SVG only (apt-get install librsvg2-bin for PNG)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
