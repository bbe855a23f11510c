"""Benchmark: the hex view over a 4 GiB sparse POSIX object and a 1 GiB System V segment.

    sudo .venv/bin/python bench/bench_inspect.py [--pages 200] [--jumps 50]

Creates both objects (a few marked pages written, the rest never touched; the segment is
mapped by a helper process, as a live segment is), then runs the real `shmtop` in a
pseudo-terminal, opens each object's detail view and measures, from the key press to the
bytes written to the terminal: `x` to the first page, PgDn to the next page, and `g` to a
random offset (a cold read each); shmtop's resident memory growth; and the tmpfs usage, file
blocks, segment rss, nattch, lpid and atime before and after. The peer, in the same run:
`hexdump -C -s N -n 4096` of the same bytes (for the segment, through the helper's
/proc/PID/map_files entry).
Everything is removed after, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import pty
import random
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sysv_ipc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import machine

from shmtop.collect import collect_snapshot
from shmtop.inspect import open_reader
from shmtop.inspect.pages import PageCache
from shmtop.model import IpcObject, Kind, SysvShm

GiB = 1 << 30
PAGE = 4096
PR_SET_PDEATHSIG = 1
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
MARKS = {0: b"first page", GiB // 2: b"half way", GiB - 16: b"last bytes"}
_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmget.argtypes = (ctypes.c_int, ctypes.c_size_t, ctypes.c_int)


@dataclass
class Target:
    """One object to view: its reference, a path hexdump can read, and its state probe."""

    ref: str
    path: str
    state: Callable[[], dict[str, int]]


# The objects -------------------------------------------------------------------------------


@contextmanager
def sparse_posix_object(size: int) -> Iterator[Target]:
    name = f"/shmtop-bench-inspect-{os.getpid()}"
    path = "/dev/shm" + name
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, size)
        for offset, mark in {**MARKS, size - 16: b"the very end"}.items():
            os.pwrite(fd, mark, offset)
        os.close(fd)

        def state() -> dict[str, int]:
            return {"file blocks (512 B)": os.stat(path).st_blocks, "tmpfs used": tmpfs_used()}

        yield Target(f"posix-shm:{name}", path, state)
    finally:
        os.unlink(path)


@contextmanager
def mapped_segment(size: int) -> Iterator[Target]:
    """A segment never touched but at MARKS, mapped by a helper until the end."""
    shmid = _libc.shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)  # sysv_ipc would fill it
    if shmid < 0:
        raise OSError(ctypes.get_errno(), "shmget")
    release_r, release_w = os.pipe()
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        _hold_segment(shmid, release_r, release_w, ready_w)
    os.close(release_r)
    os.close(ready_w)
    try:
        os.read(ready_r, 1)
        os.close(ready_r)
        time.sleep(1.1)  # so a later attach would show in atime, which counts seconds
        map_file = _map_file(helper, shmid)

        def state() -> dict[str, int]:
            segment = next(o for o in collected(Kind.SYSV_SHM) if o.id == shmid)
            assert isinstance(segment, SysvShm)
            return {"segment rss": segment.rss or 0, "nattch": segment.nattch,
                    "lpid": segment.lpid, "atime": segment.atime or 0}  # fmt: skip

        yield Target(f"sysv-shm:{shmid}", map_file, state)
    finally:
        os.close(release_w)
        os.waitpid(helper, 0)
        _libc.shmctl(shmid, IPC_RMID, None)


def _hold_segment(shmid: int, release_r: int, release_w: int, ready_w: int) -> None:
    try:
        os.close(release_w)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        segment = sysv_ipc.attach(shmid)
        for offset, mark in MARKS.items():
            segment.write(mark, offset)
        os.write(ready_w, b"x")
        os.read(release_r, 1)
    finally:
        os._exit(0)


def _map_file(pid: int, shmid: int) -> str:
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            if fields[4] == str(shmid) and "SYSV" in line:
                return f"/proc/{pid}/map_files/{fields[0]}"
    raise RuntimeError("the helper does not map the segment")


def collected(kind: Kind) -> list[IpcObject]:
    return list(collect_snapshot(kinds={kind}).objects)


def tmpfs_used() -> int:
    fs = os.statvfs("/dev/shm")
    return (fs.f_blocks - fs.f_bfree) * fs.f_frsize


def rss() -> int:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


# Measuring: the real dashboard in a pseudo-terminal -----------------------------------------


class Terminal:
    """`shmtop` running in a pseudo-terminal: keys in, screen bytes out."""

    def __init__(self, columns: int = 120, rows: int = 50) -> None:
        argv = [sys.executable, "-m", "shmtop", "--interval", "60"]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.execv(argv[0], argv)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.output = b""

    def wait_for(self, wanted: bytes, timeout: float = 20.0) -> float:
        """Read until `wanted` has been written; the time it took."""
        start = time.perf_counter()
        while wanted not in self.output:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{wanted!r} never appeared")
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                self.output += os.read(self.fd, 1 << 20)
        return time.perf_counter() - start

    def type(self, keys: bytes, then: bytes) -> float:
        """Type keys, then the time until `then` is on the screen."""
        self.output = b""
        os.write(self.fd, keys)
        return self.wait_for(then)

    def settle(self, quiet: float = 0.3) -> bytes:
        """Everything written until the terminal has been quiet for `quiet` seconds."""
        while select.select([self.fd], [], [], quiet)[0]:
            self.output += os.read(self.fd, 1 << 20)
        return self.output

    def close(self) -> None:
        os.write(self.fd, b"q")
        try:
            self.wait_for(b"\x1b[?1049l", timeout=10)
        except (TimeoutError, OSError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def line_start(offset: int) -> bytes:
    return f"{offset - offset % 16:08x}  ".encode()


@dataclass
class Figures:
    first_page: list[float]
    reopen: list[float]
    pgdn: list[float]
    jumps: list[float]
    rss_growth: int
    pages_seen: int


def detail_view(target: Target) -> Terminal:
    """A new shmtop showing the target's detail view."""
    shown = Terminal()
    shown.wait_for(b" shown")
    shown.type(b"/", b"Clear filter")
    shown.type(target.ref.split(":", 1)[1].encode(), b"1 of ")
    shown.type(b"\r", b"Detail")  # the table has the keys again
    shown.type(b"\r", b"x or Enter")
    shown.settle()
    return shown


def first_opens(target: Target, count: int) -> list[float]:
    """x to the first page in `count` new shmtop processes (the first open of a session)."""
    times = []
    for _ in range(count):
        shown = detail_view(target)
        try:
            times.append(shown.type(b"x", HEAD_HEX))
        finally:
            shown.close()
    return times


def view_it(target: Target, pages: int, jumps: int) -> Figures:
    shown = detail_view(target)
    try:
        before = process_rss(shown.pid)
        first_page = [shown.type(b"x", HEAD_HEX)]  # "first pa", as the hex view shows it
        page = visible_lines(shown.settle())
        opened = process_rss(shown.pid)
        top, pgdn = 0, []
        for _ in range(pages):
            top += page * 16
            pgdn.append(shown.type(b"\x1b[6~", line_start(top + (page - 1) * 16)))
        rng, jump_times = random.Random(1), []
        size = object_size(target)
        for _ in range(jumps):
            offset = rng.randrange(size) & ~15
            shown.type(b"g", b"go to offset")
            jump_times.append(shown.type(f"{offset:#x}\r".encode(), f"at {offset:#x}".encode()))
        shown.settle()
        growth = process_rss(shown.pid) - before
        reopen = []
        for _ in range(REOPENS):  # back to the detail view, then x again: a new reader each time
            shown.type(b"\x1b", b"x or Enter")
            shown.settle()
            reopen.append(shown.type(b"x", HEAD_HEX))
            shown.settle()
        print(f"  rss: before x {before >> 20} MiB, first page {opened >> 20} MiB, "
              f"end {(before + growth) >> 20} MiB", file=sys.stderr)  # fmt: skip
    finally:
        shown.close()
    return Figures(first_page, reopen, pgdn, jump_times, growth, pages + jumps + 1)


FIRST_OPENS = 5
REOPENS = 5
HEAD_HEX = b"66 69 72 73 74 20 70 61"


def visible_lines(screen: bytes) -> int:
    """How many hex lines the first page drew (offsets 0, 0x10, ...)."""
    count = 0
    while line_start(count * 16) in screen:
        count += 1
    return count


def object_size(target: Target) -> int:
    kind = Kind.SYSV_SHM if target.ref.startswith("sysv") else Kind.POSIX_SHM
    obj = next(o for o in collected(kind) if o.ref == target.ref)
    return obj.size


def process_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        line = next(line for line in f if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def read_path(target: Target, lines: int = 48) -> float:
    """Opening the object and reading the first page's bytes, without any UI: best of 5."""
    kind = Kind.SYSV_SHM if target.ref.startswith("sysv") else Kind.POSIX_SHM
    obj = next(o for o in collected(kind) if o.ref == target.ref)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        reader = open_reader(obj, None)
        pages = PageCache(reader.read)
        for line in range(lines):
            pages.get(line * 16, 16)
        reader.close()
        times.append(time.perf_counter() - start)
    return min(times)


def peer_page(path: str, offset: int, repeat: int = 5) -> float:
    """hexdump -C of one 4 KiB page at offset: the best of repeat runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(["hexdump", "-C", "-s", str(offset), "-n", str(PAGE), path],
                       stdout=subprocess.DEVNULL, check=True)  # fmt: skip
        times.append(time.perf_counter() - start)
    return min(times)


def spread(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:5.1f} ms, worst {max(times) * 1000:5.1f} ms"


def report(name: str, target: Target, pages: int, jumps: int) -> None:
    before = target.state()
    figures = view_it(target, pages, jumps)
    figures.first_page += first_opens(target, FIRST_OPENS - 1)
    after = target.state()
    peer, reading = peer_page(target.path, GiB // 2), read_path(target)
    ms = 1000
    print(f"\n{name} ({target.ref})")
    first = statistics.median(figures.first_page)
    print(
        f"  x to first page on the terminal  median {first * ms:5.1f} ms, worst "
        f"{max(figures.first_page) * ms:5.1f} ms in {FIRST_OPENS} new shmtops (target < 100 ms)"
    )
    print(f"  x again (Escape, x)              {spread(figures.reopen)} over {REOPENS}")
    print(f"  of which opening and reading     {reading * ms:6.2f} ms  (the rest is drawing)")
    print(f"  hexdump -C of one 4 KiB page     {peer * ms:6.1f} ms  "
          f"(first page / hexdump {first / peer:.1f})")  # fmt: skip
    print(f"  PgDn to next page drawn          {spread(figures.pgdn)} over {pages}")
    print(f"  go to a random offset (cold)     {spread(figures.jumps)} over {jumps}")
    print(f"  shmtop resident memory growth    {figures.rss_growth / (1 << 20):6.1f} MiB "
          f"after {figures.pages_seen} pages (target < 16 MiB)")  # fmt: skip
    for key in before:
        verdict = "unchanged" if before[key] == after[key] else "CHANGED"
        print(f"  {key:22}  {before[key]} -> {after[key]}  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--jumps", type=int, default=50)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root (to read the segment through its mapper)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(machine())
    with sparse_posix_object(4 * GiB) as target:
        report("4 GiB sparse POSIX object", target, args.pages, args.jumps)
    with mapped_segment(GiB) as target:
        report("1 GiB System V segment, mapped by a helper", target, args.pages, args.jumps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
