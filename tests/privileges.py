"""Running test code as an ordinary user: fork, drop to uid/gid nobody, send back the result."""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

NOBODY = 65534
R = TypeVar("R")


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")


def run_as_nobody(fn: Callable[..., R], *args: Any) -> R:
    """fn(*args) in a forked child running as uid/gid nobody; its exception fails the test."""
    require_root("dropping privileges to nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        os.close(read_end)
        _child(write_end, fn, args)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "child running as nobody crashed"
    outcome, value = pickle.loads(payload)
    if outcome == "error":
        pytest.fail(f"as nobody:\n{value}")
    return value  # type: ignore[no-any-return]


def _child(write_end: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        result: tuple[str, Any] = ("ok", fn(*args))
    except BaseException:
        result = ("error", traceback.format_exc())
    try:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(pickle.dumps(result))
    finally:
        os._exit(0)
