"""Pipes and FIFOs found by the walk over /proc: their ends, how full they are, who sleeps on
them; and that looking takes no byte and adds no end. Peers: lsfd and lsof +E for the ends, a
descriptor of the test's own for the fill."""

from __future__ import annotations

import array
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shmtop.attach import pipes as pipes_module
from shmtop.collect import Collector
from shmtop.errors import NotPermitted
from shmtop.model import Fifo, Kind, Pipe, PipeLike
from tests.holders import holders
from tests.privileges import become_nobody, require_root, run_as_nobody

F_GETPIPE_SZ = 1032


def waiting_bytes(fd: int) -> int:
    found = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, found)
    return found[0]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def in_write(pid: int) -> bool:
    with open(f"/proc/{pid}/syscall") as f:
        return f.read().split()[0] == "1" if os.uname().machine == "x86_64" else True


def found(kind: Kind, ref: str) -> PipeLike:
    snapshot = Collector(kinds=[kind]).collect(attachers=True)
    by_ref = {obj.ref: obj for obj in snapshot.of(kind)}
    assert ref in by_ref, f"{ref} not found"
    obj = by_ref[ref]
    assert isinstance(obj, PipeLike)
    return obj


def ends(obj: PipeLike) -> set[tuple[int, int, str]]:
    return {(e.pid, e.fd, e.mode) for e in obj.endpoints}


def lsfd_ends(inode: int) -> set[tuple[int, int, str]]:
    """(pid, fd, "r" / "w" / "rw") of every descriptor on the inode, as lsfd sees them."""
    out = subprocess.run(
        ["lsfd", "-J", "-Q", f"INODE == {inode}", "-o", "PID,ASSOC,MODE"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = json.loads(out)["lsfd"] if out.strip() else []
    mode = {"r--": "r", "-w-": "w", "rw-": "rw"}
    return {(r["pid"], int(r["assoc"]), mode[r["mode"]]) for r in rows if r["assoc"].isdigit()}


def lsof_ends(inode: int) -> set[tuple[int, int, str]]:
    """The same, from `lsof +E -F` (its own field format: p, then f/a/i per descriptor)."""
    out = subprocess.run(["lsof", "-n", "-P", "+E", "-F", "pfai"], capture_output=True,
                         text=True, check=False).stdout  # fmt: skip
    found, pid, fd, access = set(), 0, -1, ""
    for line in out.splitlines():
        tag, value = line[:1], line[1:]
        if tag == "p":
            pid = int(value)
        elif tag == "f":
            fd, access = (int(value) if value.isdigit() else -1), ""
        elif tag == "a":
            access = {"r": "r", "w": "w", "u": "rw"}.get(value, value)
        elif tag == "i" and value == str(inode) and fd >= 0:
            found.add((pid, fd, access))
    return found


def run_text(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def hold() -> Iterator[Any]:
    with holders() as hold:
        yield hold


class BlockedWriter:
    """A child that fills a pipe and sleeps writing one byte more."""

    def __init__(
        self, w: int, r: int, capacity: int, prepare: Callable[[], object] = lambda: None
    ) -> None:
        self.pid = os.fork()
        if self.pid == 0:  # never returns into pytest
            try:
                prepare()
                os.close(r)
                os.write(w, b"x" * capacity)
                os.write(w, b"y")
            finally:
                os._exit(0)

    def wait(self) -> None:
        os.waitpid(self.pid, 0)


def test_a_writer_asleep_on_a_full_pipe_every_end_and_every_byte_stays(hold: Any) -> None:
    require_root("reading other processes' descriptors and blocked calls")
    r, w = os.pipe()
    capacity = fcntl.fcntl(r, F_GETPIPE_SZ)
    writer = BlockedWriter(w, r, capacity)
    os.close(w)
    reader = hold(lambda: r)  # a second process holding the read end, awake
    try:
        wait_until(lambda: waiting_bytes(r) == capacity and in_write(writer.pid), "writer asleep")
        ref = f"pipe:{os.fstat(r).st_ino}"
        pipe = found(Kind.PIPE, ref)
        assert isinstance(pipe, Pipe)
        assert (pipe.buffered, pipe.capacity, pipe.state) == (capacity, capacity, "full")
        assert waiting_bytes(r) == capacity  # the oracle: a second descriptor's FIONREAD
        me = os.getpid()
        assert {(e.pid, e.mode, e.blocked) for e in pipe.endpoints} == {
            (writer.pid, "w", True), (reader.pid, "r", False), (me, "r", False),
        }  # fmt: skip
        assert ends(pipe) == lsfd_ends(pipe.inode) == lsof_ends(pipe.inode)
        reader.release()
        drained = b""
        while chunk := os.read(r, 1 << 16):
            drained += chunk
        assert drained == b"x" * capacity + b"y"  # nothing was taken by looking
    finally:
        os.close(r)
        reader.release()
        writer.wait()


class LoneWriter:
    """A child holding a pipe's only write end, nobody holding its read end; on a byte it
    writes once (SIGPIPE ignored) and reports the errno (0: written)."""

    def __init__(self) -> None:
        r, self.w = os.pipe()
        self.inode = os.fstat(r).st_ino
        go_r, self._go = os.pipe()
        self._result, result_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # never returns into pytest
            try:
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)
                os.close(r)
                os.read(go_r, 1)
                try:
                    os.write(self.w, b"z")
                    os.write(result_w, b"0")
                except OSError as exc:
                    os.write(result_w, str(exc.errno).encode())
            finally:
                os._exit(0)
        for fd in (r, self.w, go_r, result_w):
            os.close(fd)

    def write_now(self) -> int:
        os.write(self._go, b"x")
        answer = int(os.read(self._result, 16))
        os.waitpid(self.pid, 0)
        os.close(self._go)
        os.close(self._result)
        return answer


def test_looking_at_a_pipe_nobody_reads_adds_no_reader() -> None:
    """Its next write must still fail with EPIPE: shmtop duplicated the writer's own end
    instead of opening the pipe as a reader."""
    require_root("duplicating another process's descriptor")
    writer = LoneWriter()
    pipe = found(Kind.PIPE, f"pipe:{writer.inode}")
    assert (pipe.state, pipe.buffered, pipe.readers) == ("no reader", 0, 0)
    assert writer.write_now() == errno.EPIPE


def test_without_the_right_to_duplicate_a_readerless_pipe_is_not_reopened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where pidfd_getfd is refused, reopening would add the reader the pipe lacks: its
    fill stays unknown, with why, and the writer still meets EPIPE."""
    require_root("reading other processes' descriptors")

    monkeypatch.setattr(pipes_module, "duplicate", _refused)
    writer = LoneWriter()
    pipe = found(Kind.PIPE, f"pipe:{writer.inode}")
    assert pipe.buffered is None and pipe.note is not None and "reader" in pipe.note
    assert writer.write_now() == errno.EPIPE


def test_without_the_right_to_duplicate_a_pipe_with_both_ends_is_reopened_read_only(
    monkeypatch: pytest.MonkeyPatch, hold: Any
) -> None:
    require_root("reading other processes' descriptors")
    monkeypatch.setattr(pipes_module, "duplicate", _refused)
    r, w = os.pipe()
    os.write(w, b"12345")
    inode = os.fstat(r).st_ino
    hold(lambda: (r, w))  # a process holding both ends, nothing else
    os.close(r)
    os.close(w)
    pipe = found(Kind.PIPE, f"pipe:{inode}")
    assert (pipe.buffered, pipe.state, pipe.note) == (5, "partly full", None)


def test_a_reader_no_process_holds_is_still_a_reader() -> None:
    """The read end is in flight in a socket (SCM_RIGHTS, not yet received): no process holds
    it, yet the pipe has a reader, and a write succeeds. The kernel's word decides, not the
    ends seen: not "no reader"."""
    require_root("duplicating another process's descriptor")
    writer = LoneWriter()
    carrier, other = socket.socketpair(socket.AF_UNIX)
    try:
        reader = os.open(f"/proc/{writer.pid}/fd/{writer.w}", os.O_RDONLY | os.O_NONBLOCK)
        socket.send_fds(carrier, [b"r"], [reader])  # the only reader, now in flight
        os.close(reader)
        pipe = found(Kind.PIPE, f"pipe:{writer.inode}")
        assert (pipe.readers, pipe.has_reader, pipe.state) == (0, True, "empty")
        assert writer.write_now() == 0  # written: there was a reader
    finally:
        carrier.close()
        other.close()


def test_nobody_sees_its_own_pipes_and_no_state_from_ends_it_cannot_see(hold: Any) -> None:
    """As nobody: a full pipe between two of its own processes, with its writer asleep, is
    seen whole; a pipe whose writer is its own but whose reader is root's is not called
    "no reader" (the kernel says there is one); a pipe only root holds is not seen at all."""
    require_root("dropping to nobody")
    full_r, full_w = os.pipe()
    capacity = fcntl.fcntl(full_r, F_GETPIPE_SZ)
    writer = BlockedWriter(full_w, full_r, capacity, prepare=become_nobody)
    half_r, half_w = os.pipe()
    roots_r, roots_w = os.pipe()
    os.write(roots_w, b"root's")
    made = (full_r, full_w, half_r, half_w, roots_r, roots_w)

    def keeping(*kept: int) -> tuple[int, ...]:
        for fd in set(made) - set(kept):
            os.close(fd)
        return kept

    try:
        reader = hold(lambda: (keeping(full_r), become_nobody()))
        half_writer = hold(lambda: (keeping(half_w), become_nobody(), os.write(half_w, b"abc")))
        root = hold(lambda: keeping(half_r, roots_r, roots_w))
        keeping()
        wait_until(lambda: in_write(writer.pid), "writer asleep")
        refs = [
            f"pipe:{os.stat(f'/proc/{p}/fd/{fd}').st_ino}"
            for p, fd in ((reader.pid, full_r), (half_writer.pid, half_w), (root.pid, roots_r))
        ]

        def as_nobody() -> dict[str, tuple[object, ...]]:
            snapshot = Collector(kinds=[Kind.PIPE]).collect(attachers=True)
            by_ref = {obj.ref: obj for obj in snapshot.of(Kind.PIPE)}
            return {ref: (p.buffered, p.state, {(e.pid, e.mode, e.blocked) for e in p.endpoints})
                    for ref in refs if isinstance(p := by_ref.get(ref), Pipe)}  # fmt: skip

        seen = run_as_nobody(as_nobody)
        assert seen[refs[0]] == (capacity, "full", {(writer.pid, "w", True),
                                                    (reader.pid, "r", False)})  # fmt: skip
        assert seen[refs[1]] == (3, "partly full", {(half_writer.pid, "w", False)})
        assert refs[2] not in seen
    finally:
        for holder in (reader, half_writer, root):
            holder.release()
        writer.wait()


def _refused(pid: int, fd: int) -> int:
    raise NotPermitted("no ptrace right here")


class FifoReader:
    """Seed 004's reader: opens the FIFO by path (blocking until a writer comes) and, when
    told, reads everything and hands it back."""

    def __init__(self, path: str) -> None:
        go_r, self._go = os.pipe()
        self._result, result_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # never returns into pytest
            try:
                fd = os.open(path, os.O_RDONLY)
                os.read(go_r, 1)
                data = b""
                while chunk := os.read(fd, 4096):
                    data += chunk
                os.write(result_w, data)
            finally:
                os._exit(0)
        os.close(go_r)
        os.close(result_w)

    def read_all(self) -> bytes:
        os.write(self._go, b"x")
        os.close(self._go)
        data = os.read(self._result, 1 << 16)
        os.close(self._result)
        os.waitpid(self.pid, 0)
        return data


@pytest.fixture
def fifo_path() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="shmtop-test-fifo-")
    path = os.path.join(directory, "pair")
    os.mkfifo(path, 0o600)
    try:
        yield path
    finally:
        shutil.rmtree(directory)


def test_seed_004s_fifo_pair_opened_by_path(hold: Any, fifo_path: str) -> None:
    require_root("reading other processes' descriptors")
    reader = FifoReader(fifo_path)

    def write_hello() -> int:
        fd = os.open(fifo_path, os.O_WRONLY)
        os.write(fd, b"hello fifo")
        return fd

    writer = hold(write_hello)
    st = os.stat(fifo_path)
    ref = f"fifo:{os.major(st.st_dev)}.{os.minor(st.st_dev)}:{st.st_ino}"
    try:
        fifo = found(Kind.FIFO, ref)
        assert isinstance(fifo, Fifo)
        assert fifo.path == fifo_path.encode()
        assert (fifo.buffered, fifo.state) == (10, "partly full")
        assert {(e.pid, e.mode) for e in fifo.endpoints} == {(reader.pid, "r"), (writer.pid, "w")}
        assert ends(fifo) == lsfd_ends(st.st_ino) == lsof_ends(st.st_ino)
    finally:
        writer.release()
    assert reader.read_all() == b"hello fifo"  # every byte still there


def test_list_shows_only_stuck_pipes_unless_asked(shmtop_cmd: list[str], hold: Any) -> None:
    """A host has hundreds of idle pipes: `list` shows one with bytes waiting, not an empty
    one; `--kind pipe` shows both; `show` gives its ends as JSON."""
    require_root("reading other processes' descriptors")
    stuck_r, stuck_w = os.pipe()
    os.write(stuck_w, b"waiting")
    idle_r, idle_w = os.pipe()
    holder = hold(lambda: (stuck_r, stuck_w, idle_r, idle_w))
    stuck, idle = (f"pipe:{os.fstat(fd).st_ino}" for fd in (stuck_r, idle_r))
    for fd in (stuck_r, stuck_w, idle_r, idle_w):
        os.close(fd)
    listed = run_text([*shmtop_cmd, "list"])
    assert stuck in listed.split() and idle not in listed.split()
    every = run_text([*shmtop_cmd, "list", "--kind", "pipe"])
    assert stuck in every.split() and idle in every.split()
    show = [*shmtop_cmd, "show", stuck, "--json"]
    shown = json.loads(run_text(show))
    assert shown["buffered"] == 7 and shown["state"] == "partly full"
    assert {(e["pid"], e["mode"]) for e in shown["endpoints"]} == {
        (holder.pid, "r"),
        (holder.pid, "w"),
    }
    assert shown["verdict"] == "in use" and "nothing to remove" in " ".join(shown["stale_reasons"])
    rm = [*shmtop_cmd, "rm", "--yes", stuck]
    refused = subprocess.run(rm, capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "nothing to remove" in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
