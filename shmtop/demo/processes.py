"""Worker processes for the demo: forked, tied to the parent's life, stopped by SIGTERM."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
_libc = ctypes.CDLL(None, use_errno=True)


class Stop(Exception):
    """Raised inside a worker when it is asked to stop."""


def _stop(signum: int, frame: object) -> None:
    raise Stop


def spawn(work: Callable[[], object], name: str = "") -> int:
    """Run work() in a child process named `name` (its comm, as ps and shmtop's Processes
    view show it: a forked child has its parent's command line); returns the child's pid."""
    pid = os.fork()
    if pid:
        return pid
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
        signal.signal(signal.SIGTERM, _stop)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # and they never outlive it
        if name:
            _libc.prctl(PR_SET_NAME, name.encode()[:15])
        work()
    except Stop:
        pass
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def stop_all(pids: list[int], timeout: float = 5.0) -> None:
    """SIGTERM every worker, wait for them, SIGKILL any that linger."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
