"""Running kernel calls inside another IPC namespace.

/proc/sysvipc, the IPC sysctls, msgctl, semctl, shmat and IPC_RMID all answer for the IPC
namespace of the calling *thread*. An object of another namespace is read, judged and removed
by a thread of shmtop's that joined that namespace with setns(2) (Python 3.11 has no
os.setns: ctypes), one thread per namespace, kept while shmtop runs, each holding a
descriptor of its namespace so that it cannot be recycled under it. A process forked by such
a thread is born in that namespace.

Namespaces are named by their label (the inode, as references have it); the label "" is
shmtop's own, where calls run directly.
"""

from __future__ import annotations

import ctypes
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

R = TypeVar("R")
CLONE_NEWIPC = 0x08000000
CLONE_NEWUTS = 0x04000000
_libc = ctypes.CDLL(None, use_errno=True)


class NoSuchNamespace(Exception):
    """No process of this host is in that namespace any more (or none can be entered)."""


def run_in(label: str, fn: Callable[..., R], *args: Any) -> R:
    """fn(*args) in the IPC namespace `label` ("": here, directly)."""
    if not label:
        return fn(*args)
    return _worker(label).call(fn, *args)


def enter_fd(fd: int, kind: int) -> None:
    """setns(2) the calling thread into the namespace fd refers to; OSError if refused."""
    if _libc.setns(fd, kind) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns: {os.strerror(error)}")


def hostname_of(procfs: str, pid: int) -> str | None:
    """The hostname of a process's UTS namespace (read by a thread that joins it)."""
    found: list[str | None] = [None]

    def read() -> None:
        try:
            fd = os.open(f"{procfs}/{pid}/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        try:
            enter_fd(fd, CLONE_NEWUTS)
            found[0] = os.uname().nodename
        except OSError:
            return
        finally:
            os.close(fd)

    thread = threading.Thread(target=read, name="shmtop-uts", daemon=True)
    thread.start()
    thread.join()
    return found[0]


class _Outcome(Generic[R]):
    """What a call in another thread returned or raised, once it is done."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: R | None = None
        self._error: BaseException | None = None

    def set(self, value: R | None = None, error: BaseException | None = None) -> None:
        self._value, self._error = value, error
        self._done.set()

    def get(self) -> R:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class _Worker:
    """A thread inside one IPC namespace, running what it is handed, in order."""

    def __init__(self, label: str, ns_fd: int) -> None:
        self.label = label
        self.ns_fd = ns_fd
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], _Outcome[Any]]]
        self._jobs = queue.SimpleQueue()
        ready: _Outcome[None] = _Outcome()
        self._thread = threading.Thread(
            target=self._run, args=(ns_fd, ready), name=f"shmtop-ipc-{label}", daemon=True
        )
        self._thread.start()
        ready.get()  # raises if the namespace could not be joined

    def call(self, fn: Callable[..., R], *args: Any) -> R:
        done: _Outcome[R] = _Outcome()
        self._jobs.put((fn, args, done))
        return done.get()

    def stop(self) -> None:
        """End the thread and let go of the namespace (it may then end too)."""
        self.call(_Stop.raise_it)
        self._thread.join()
        os.close(self.ns_fd)

    def _run(self, ns_fd: int, ready: _Outcome[None]) -> None:
        try:
            enter_fd(ns_fd, CLONE_NEWIPC)
        except OSError as exc:
            ready.set(error=NoSuchNamespace(f"IPC namespace {self.label}: {exc.strerror}"))
            return
        ready.set()
        while True:
            fn, args, done = self._jobs.get()
            if fn is _Stop.raise_it:
                done.set()
                return
            try:
                done.set(fn(*args))
            except BaseException as exc:
                done.set(error=exc)


class _Stop:
    @staticmethod
    def raise_it() -> None:
        """A job meaning: stop."""


_workers: dict[str, _Worker] = {}
_lock = threading.Lock()


_releases: list[Callable[[], None]] = []


def on_release(release: Callable[[], None]) -> None:
    """Have release_all call `release` first (what else holds on to namespaces)."""
    _releases.append(release)


def release_all() -> None:
    """Let go of every namespace entered (a long-lived process, or a test, that is done with
    them; a command's end does it by itself)."""
    for release in _releases:
        release()
    with _lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.stop()


_members: dict[str, tuple[int, ...]] = {}


def known_members(label: str, pids: tuple[int, ...]) -> None:
    """Processes seen in namespace `label`: where its descriptor is looked for first."""
    _members[label] = pids


def release_except(keep: set[str]) -> None:
    """Let go of the namespaces entered that are not in `keep` (a poller's namespaces that
    ended: a thread of shmtop's in one would keep it, and the objects it held, alive)."""
    with _lock:
        gone = [worker for label, worker in _workers.items() if label not in keep]
        for worker in gone:
            del _workers[worker.label]
    for worker in gone:
        worker.stop()


def _worker(label: str) -> _Worker:
    with _lock:
        worker = _workers.get(label)
        if worker is None:
            worker = _workers[label] = _Worker(label, _namespace_fd(label))
        return worker


def _namespace_fd(label: str, procfs: str = "/proc") -> int:
    """A descriptor of the IPC namespace whose inode is `label`, from a process in it (one
    known to be, else any found): kept open for shmtop's lifetime, it pins the namespace
    while shmtop works in it. The inode is checked on the descriptor itself."""
    for name in (*map(str, _members.get(label, ())[:3]), *os.listdir(procfs)):
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"{procfs}/{name}/ns/ipc", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        if str(os.fstat(fd).st_ino) == label:
            return fd
        os.close(fd)
    raise NoSuchNamespace(f"no process is in IPC namespace {label} any more")
