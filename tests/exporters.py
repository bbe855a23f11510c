"""Running `shmtop exporter` for tests on a free loopback port, and always stopping it.

As root it is a real subprocess (this interpreter, `-m shmtop`). As nobody it is a forked
child that drops to uid nobody and runs the command in process, as tests/privileges.py does:
nobody may not be able to execute an interpreter under /root. Either way the port is the
kernel's choice (`--listen 127.0.0.1:0`), read from the line the exporter prints.

Everything the command imports, even lazily, is imported here while still root: nobody may
not read the interpreter's own modules when they live under /root.
"""

from __future__ import annotations

import concurrent.futures  # noqa: F401 (the /proc scan imports it lazily; see the module)
import contextlib
import ctypes
import ipaddress  # noqa: F401 (--listen imports it lazily)
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import shmtop.cli.exporter_cmd  # noqa: F401 (imported while root: see the module)
from shmtop.cli import main
from tests.privileges import NOBODY, require_root

STARTED = re.compile(r"serving http://(\S+)/metrics")
START_SECONDS = 30.0


@dataclass(frozen=True)
class Exporter:
    pid: int
    address: str  # 127.0.0.1:PORT
    stderr_fd: int

    @property
    def url(self) -> str:
        return f"http://{self.address}/metrics"

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def scrape(self, timeout: float = 60.0) -> bytes:
        with urllib.request.urlopen(self.url, timeout=timeout) as answer:
            return bytes(answer.read())

    def threads(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            line = next(line for line in status if line.startswith("Threads:"))
        return int(line.split()[1])

    def alive(self) -> bool:
        """Running (not exited, not a zombie waiting to be reaped)."""
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0] != "Z"
        except FileNotFoundError:
            return False


@contextlib.contextmanager
def running_exporter(*options: str, as_nobody: bool = False) -> Iterator[Exporter]:
    argv = ["exporter", "--listen", "127.0.0.1:0", *options]
    read_end, write_end = os.pipe()
    if as_nobody:
        pid = _fork_as_nobody(argv, write_end)
        wait = _waiter(pid)
    else:
        process = subprocess.Popen([sys.executable, "-m", "shmtop", *argv], stderr=write_end)
        pid, wait = process.pid, process.wait
    os.close(write_end)
    try:
        yield Exporter(pid, _address(read_end), read_end)
    finally:
        _stop(pid, wait)
        os.close(read_end)


def _waiter(pid: int) -> Callable[[float], object]:
    def wait(timeout: float) -> object:
        deadline = time.monotonic() + timeout
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(pid), timeout)
            time.sleep(0.05)
        return None

    return wait


def _fork_as_nobody(argv: list[str], stderr: int) -> int:
    require_root("dropping privileges to nobody")
    pid = os.fork()
    if pid != 0:
        return pid
    status = 70
    try:  # the child: never returns into pytest
        os.dup2(stderr, 2)
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 (not pytest's)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        ctypes.CDLL(None).prctl(4, 1)  # PR_SET_DUMPABLE: as a program nobody starts would be
        status = main(argv)
    finally:
        os._exit(status)


def _address(stderr: int) -> str:
    """The address from the exporter's first line, or a failure with what it said."""
    said = b""
    deadline = time.monotonic() + START_SECONDS
    while b"\n" not in said and time.monotonic() < deadline:
        ready, _, _ = select.select([stderr], [], [], deadline - time.monotonic())
        chunk = os.read(stderr, 4096) if ready else b""
        if not chunk:
            break
        said += chunk
    found = STARTED.search(said.decode(errors="replace"))
    assert found is not None, f"the exporter did not start: {said!r}"
    return found.group(1)


def _stop(pid: int, wait: Callable[[float], object]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    try:
        wait(10)
    except subprocess.TimeoutExpired:
        os.kill(pid, signal.SIGKILL)
        wait(10)


def get(url: str, method: str = "GET", timeout: float = 30.0) -> tuple[int, bytes]:
    """(status, body) of one request, whatever the status."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, bytes(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()
