from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.ipcfactory import IpcFactory
from tests.privileges import require_root
from tests.sandbox import run_in_sandbox

MQUEUE_DIR = "/dev/mqueue"


@pytest.fixture
def ipc() -> Iterator[IpcFactory]:
    factory = IpcFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture(scope="session")
def mqueue_mounted() -> Iterator[str]:
    """/dev/mqueue with the mqueue filesystem on it; unmounted again if this run mounted it."""
    if _is_mqueue_mounted():
        yield MQUEUE_DIR
        return
    require_root("mounting the mqueue filesystem")
    created = not os.path.isdir(MQUEUE_DIR)
    os.makedirs(MQUEUE_DIR, exist_ok=True)
    subprocess.run(["mount", "-t", "mqueue", "none", MQUEUE_DIR], check=True)
    try:
        yield MQUEUE_DIR
    finally:
        subprocess.run(["umount", MQUEUE_DIR], check=True)
        if created:
            os.rmdir(MQUEUE_DIR)


def _is_mqueue_mounted() -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(
            line.split()[4] == MQUEUE_DIR and line.split(" - ")[1].startswith("mqueue ")
            for line in f
        )


@pytest.fixture
def shmtop_cmd() -> list[str]:
    """The installed command line, run with this interpreter."""
    return [sys.executable, "-m", "shmtop"]


@pytest.fixture
def sandbox(mqueue_mounted: str) -> Callable[..., Any]:
    """run_in_sandbox (tests/sandbox.py), with /dev/mqueue there to mount over."""
    return run_in_sandbox
