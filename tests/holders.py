"""Real processes that use IPC objects for a test, kept alive until the test releases them."""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shmtop.libc import sem_members, sem_op, sem_set_value


class Holder:
    """A forked child that runs `use()` (keeping what it returns alive) and then waits."""

    def __init__(self, use: Callable[[], Any]) -> None:
        ready_r, ready_w = os.pipe()
        release_r, release_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            os.close(release_w)
            _child(use, ready_w, release_r)
        os.close(ready_w)
        os.close(release_r)
        self.pid = pid
        self._release = release_w
        with os.fdopen(ready_r, "rb") as ready:
            # Five bytes say "ready"; anything else is a traceback, read to its end. (Not
            # everything to end of file: a grandchild may keep this pipe open.)
            answer = ready.read(5)
            if answer != b"ready":
                answer += ready.read()
        if answer != b"ready":
            self.release()
            raise AssertionError(f"holder failed: {answer.decode(errors='replace')}")

    def release(self) -> None:
        # A byte, not end of file: children forked later hold copies of this pipe's end.
        if self._release >= 0:
            with contextlib.suppress(BrokenPipeError):  # the child already ended
                os.write(self._release, b"x")
            os.close(self._release)
            self._release = -1
            os.waitpid(self.pid, 0)


def _child(use: Callable[[], Any], ready_w: int, release_r: int) -> None:
    try:
        kept = use()
        os.write(ready_w, b"ready")
        os.close(ready_w)
        os.read(release_r, 1)
        del kept
    except BaseException:
        os.write(ready_w, traceback.format_exc().encode())
    finally:
        os._exit(0)


@contextmanager
def holders() -> Iterator[Callable[[Callable[[], Any]], Holder]]:
    made: list[Holder] = []

    def hold(use: Callable[[], Any]) -> Holder:
        holder = Holder(use)
        made.append(holder)
        return holder

    try:
        yield hold
    finally:
        for holder in made:
            holder.release()


@contextmanager
def waiting_for_zero(semid: int, num: int, value: int = 1) -> Iterator[int]:
    """Member `num` set to `value`, and a forked process blocked until it reaches zero
    (zcnt 1) for the duration: the waiter's pid. Afterwards the member is brought to zero,
    which releases the waiter."""
    sem_set_value(semid, num, value)
    waiter = os.fork()
    if waiter == 0:  # never returns into pytest
        os._exit(0 if sem_op(semid, num, 0) else 1)
    try:
        deadline = time.monotonic() + 5
        while sem_members(semid, num + 1, num + 1)[num][2] != 1:
            assert time.monotonic() < deadline, "the waiter never started waiting"
            time.sleep(0.01)
        yield waiter
    finally:
        sem_set_value(semid, num, 0)
        os.waitpid(waiter, 0)
