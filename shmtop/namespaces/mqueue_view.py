"""A view of an IPC namespace's own POSIX queues, for when none of its processes shows them
(an `unshare --ipc` box, a service with PrivateIPC=yes) or the /dev/mqueue they show is
another namespace's (a box that kept the host's mount).

An mqueue filesystem shows the queues of the IPC namespace of the process that mounts it. One
helper, forked by shmtop when first needed, moves into a mount namespace of its own (nobody
else sees anything it mounts there), puts a tmpfs on its own /tmp, and for each namespace
asked of it joins that IPC namespace and mounts an mqueue filesystem on /tmp/INODE. Queues are
read, and removed, through /proc/HELPER/root/tmp/INODE, as a container's /dev/mqueue is. The
helper ends when shmtop lets go of it or ends (the pipe it reads closes; it is also sent
SIGKILL if the thread that forked it ends). Nothing of the namespaces observed changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading

from shmtop.namespaces.enter import on_release

CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_PDEATHSIG = 1
OWN = "own"  # what the helper calls shmtop's own IPC namespace
_libc = ctypes.CDLL(None, use_errno=True)


class _Helper:
    """The helper process, and the two pipe ends shmtop talks to it through."""

    def __init__(self, procfs: str) -> None:
        self.procfs = procfs
        own_ipc = os.open(f"{procfs}/self/ns/ipc", os.O_RDONLY | os.O_CLOEXEC)
        asks_read, self.asks = os.pipe()
        self.answers, answers_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover (the child)
            _serve(procfs, own_ipc, asks_read, answers_write)
        for fd in (own_ipc, asks_read, answers_write):
            os.close(fd)
        self.ready = self._answer() == "ready"

    def mount(self, label: str, pid: int) -> int | None:
        """The device of the mqueue filesystem it mounted for namespace `label` (entered
        through process `pid`), or None if it could not."""
        os.write(self.asks, f"{label} {pid}\n".encode())
        said = self._answer()
        return int(said) if said.isdigit() else None

    def path(self, label: str) -> str:
        return f"{self.procfs}/{self.pid}/root/tmp/{label}"

    def end(self) -> None:
        os.close(self.asks)
        os.close(self.answers)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def _answer(self) -> str:
        said = b""
        while not said.endswith(b"\n"):
            more = os.read(self.answers, 64)
            if not more:
                return ""
            said += more
        return said.decode().strip()


_lock = threading.Lock()
_helper: list[_Helper] = []
_devices: dict[str, int | None] = {}


def mqueue_view(label: str, pid: int, procfs: str = "/proc") -> str | None:
    """A path showing the POSIX queues of IPC namespace `label` (a process of it: `pid`), or
    None if none could be mounted (no privilege, or the namespace is gone)."""
    with _lock:
        helper = _running(procfs)
        if helper is None:
            return None
        if label not in _devices:
            _devices[label] = helper.mount(label, pid)
        return helper.path(label) if _devices[label] is not None else None


def current_view(label: str) -> str | None:
    """The path of the view of `label` already made, if any."""
    with _lock:
        if _helper and _devices.get(label) is not None:
            return _helper[0].path(label)
    return None


def own_mqueue_device(procfs: str = "/proc") -> int | None:
    """The device of shmtop's own IPC namespace's mqueue filesystem: a /dev/mqueue elsewhere
    with this device shows this namespace's queues, not its own."""
    with _lock:
        helper = _running(procfs)
        if helper is None:
            return None
        if OWN not in _devices:
            _devices[OWN] = helper.mount(OWN, os.getpid())
        return _devices[OWN]


def helper_pids() -> frozenset[int]:
    """shmtop's own helper: a process in others' namespaces that is not theirs."""
    with _lock:
        return frozenset(helper.pid for helper in _helper)


def release_views() -> None:
    """End the helper (its mount namespace, and its mounts, go with it)."""
    with _lock:
        helpers = list(_helper)
        _helper.clear()
        _devices.clear()
    for helper in helpers:
        helper.end()


def release_views_except(keep: set[str]) -> None:
    """End the helper if it holds a view of a namespace not in `keep` (its mount keeps that
    namespace alive); the next view needed forks a new one."""
    with _lock:
        stale = any(label not in keep and label != OWN for label in _devices)
    if stale:
        release_views()


on_release(release_views)


def _running(procfs: str) -> _Helper | None:
    if not _helper:
        helper = _Helper(procfs)
        if not helper.ready:
            helper.end()
            return None
        _helper.append(helper)
    return _helper[0]


def _serve(procfs: str, own_ipc: int, asks: int, answers: int) -> None:  # pragma: no cover
    """The helper: its own mount namespace and tmpfs, then one mount per request; never
    returns. Runs in the forked child, so it uses only system calls."""
    try:
        keep = sorted((own_ipc, asks, answers))
        for low, high in zip([2, *keep], [*keep, 1 << 16], strict=True):
            os.closerange(low + 1, high)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        private = (
            _libc.unshare(CLONE_NEWNS) == 0
            and _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0
            and _libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=64k,mode=700") == 0
        )
        os.write(answers, b"ready\n" if private else b"no\n")
        while private:
            line = _read_line(asks)
            if not line:
                break
            os.write(answers, _mount_one(procfs, own_ipc, *line.split()).encode() + b"\n")
    finally:
        os._exit(0)


def _mount_one(procfs: str, own_ipc: int, label: str, pid: str) -> str:  # pragma: no cover
    """Join namespace `label` (through process `pid`), mount its mqueue filesystem on
    /tmp/label, say its device; "no" if anything fails (the namespace was not the one asked)."""
    try:
        fd = own_ipc if label == OWN else os.open(f"{procfs}/{pid}/ns/ipc", os.O_RDONLY)
        if label != OWN and str(os.fstat(fd).st_ino) != label:
            return "no"
        os.mkdir(f"/tmp/{label}", 0o700)
        joined = _libc.setns(fd, CLONE_NEWIPC) == 0
        if fd != own_ipc:
            os.close(fd)
        if not joined:
            return "no"
        if _libc.mount(b"none", f"/tmp/{label}".encode(), b"mqueue", 0, None) != 0:
            return "no"
        return str(os.stat(f"/tmp/{label}").st_dev)
    except OSError:
        return "no"


def _read_line(fd: int) -> str:  # pragma: no cover (runs in the child)
    line = b""
    while not line.endswith(b"\n"):
        more = os.read(fd, 1)
        if not more:
            return ""
        line += more
    return line.decode()
