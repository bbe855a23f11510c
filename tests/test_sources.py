"""Collection in two phases: listed sources, then kinds found in processes by the one walk
over /proc that finds who uses what (a finder costs no second walk)."""

from __future__ import annotations

import mmap
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import posix_ipc
import pytest

from shmtop.attach import Found, ProcessView, procscan
from shmtop.collect import Collector, FoundInProcesses
from shmtop.model import IpcObject, Kind
from shmtop.model.roots import Roots
from tests.holders import holders
from tests.ipcfactory import IpcFactory
from tests.tui.fakes import pshm


class MappersOf:
    """A finder for the test: every process whose maps name one path becomes a (made-up)
    POSIX object named after its pid."""

    kinds = frozenset({Kind.POSIX_SHM})

    def __init__(self, path: str) -> None:
        self.path = path.encode()
        self.looked: list[int] = []
        self.mappers: list[int] = []
        self._lock = threading.Lock()

    def look(self, process: ProcessView) -> None:
        with self._lock:
            self.looked.append(process.pid)
            if self.path in process.maps:
                self.mappers.append(process.pid)

    def found(self) -> Found:
        made: Sequence[IpcObject] = [pshm(f"/found-in-{pid}".encode()) for pid in self.mappers]
        return Found({Kind.POSIX_SHM: made})


@pytest.fixture
def hold() -> Iterator[Any]:
    with holders() as hold:
        yield hold


def test_kinds_found_in_processes_join_the_snapshot_from_the_same_walk(
    ipc: IpcFactory, hold: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = ipc.posix_shm()
    mapper = hold(lambda: mmap.mmap(posix_ipc.SharedMemory(name).fd, 4096))
    finders: list[MappersOf] = []

    def make(roots: Roots) -> MappersOf:
        finders.append(MappersOf("/dev/shm" + name))
        return finders[-1]

    maps_reads: list[int] = []
    real_read = procscan._read

    def counting_read(dir_fd: int, file: str) -> bytes:
        data = real_read(dir_fd, file)  # raises for a process that cannot be read
        if file == "maps":
            maps_reads.append(dir_fd)
        return data

    monkeypatch.setattr(procscan, "_read", counting_read)
    source = FoundInProcesses(frozenset({Kind.POSIX_SHM}), make)
    snapshot = Collector(found_in_processes=[source]).collect(attachers=True)
    (finder,) = finders
    assert snapshot.attach is not None
    assert len(maps_reads) == snapshot.attach.scanned  # every readable process, read once
    assert sorted(finder.looked) == sorted(set(finder.looked))
    assert len(finder.looked) == snapshot.attach.scanned
    assert mapper.pid in finder.mappers
    found = f"posix-shm:/found-in-{mapper.pid}"
    assert found in {obj.ref for obj in snapshot.of(Kind.POSIX_SHM)}
    assert f"posix-shm:{name}" in {obj.ref for obj in snapshot.of(Kind.POSIX_SHM)}  # listed
    listed_only = Collector(kinds=[Kind.POSIX_SHM]).collect(attachers=True)
    assert snapshot.usage["posix-shm.objects"].used >= listed_only.usage["posix-shm.objects"].used


def processes_opened_on_an_empty_host() -> tuple[list[str], int, int]:
    """In a sandbox, which holds no object at all: what a full collection opens in /proc."""
    opened: list[str] = []
    real_open = procscan._open

    def counting_open(name: str, flags: int, dir_fd: int) -> int:
        opened.append(name)
        return real_open(name, flags, dir_fd)

    procscan._open = counting_open  # this child's own copy of the module
    # Listed kinds only, without the finder of /dev/shm files deleted while held (which must
    # read every process: such a file is named nowhere else)
    snapshot = Collector(found_in_processes=()).collect(attachers=True)
    assert snapshot.attach is not None
    return opened, len(snapshot.objects), snapshot.attach.scanned


def test_no_process_is_read_when_there_is_nothing_to_look_for(
    sandbox: Callable[..., tuple[list[str], int, int]],
) -> None:
    opened, objects, scanned = sandbox(processes_opened_on_an_empty_host)
    assert objects == 0
    assert (opened, scanned) == ([], 0)
