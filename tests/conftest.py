from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.boxes import boxes  # noqa: F401 (a fixture: two unshare boxes, for any test)
from tests.ipcfactory import IpcFactory
from tests.mqueue_mount import MQUEUE_DIR, is_mounted, private_mqueue
from tests.privileges import require_root
from tests.sandbox import run_in_sandbox


@pytest.fixture(autouse=True)
def sigpipe_ignored() -> Iterator[None]:
    """A command run in process (cli.main) restores SIGPIPE's default, as a pipeline wants;
    afterwards pytest itself must not die when a peer closes a socket a test writes to."""
    yield
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


@pytest.fixture
def ipc() -> Iterator[IpcFactory]:
    factory = IpcFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture(scope="session")
def mqueue_mounted() -> Iterator[str]:
    """/dev/mqueue with the mqueue filesystem on it: the host's if it has one, else one
    mounted for this session alone (tests/mqueue_mount.py)."""
    if is_mounted():
        yield MQUEUE_DIR
        return
    require_root("mounting the mqueue filesystem")
    with private_mqueue() as mounted:
        yield mounted


@pytest.fixture
def shmtop_cmd() -> list[str]:
    """The installed command line, run with this interpreter."""
    return [sys.executable, "-m", "shmtop"]


@pytest.fixture
def sandbox(mqueue_mounted: str) -> Callable[..., Any]:
    """run_in_sandbox (tests/sandbox.py), with /dev/mqueue there to mount over."""
    return run_in_sandbox
