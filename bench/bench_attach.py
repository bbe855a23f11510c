"""Benchmark: the attach scan beside `cat /proc/[0-9]*/maps` (the floor) and `lsof /dev/shm`.

    sudo .venv/bin/python bench/bench_attach.py [--processes 300 1000] [--repeat 5]

Forks N processes that each attach a System V segment and map a POSIX shared memory object
(100 of each, shared round-robin), then times, in the same run, the full attach scan of
shmtop, reading every maps file with cat, and lsof on /dev/shm. Everything is removed after.
"""

from __future__ import annotations

import argparse
import ctypes
import mmap
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import posix_ipc
import sysv_ipc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import machine

from shmtop.attach import scan_attachers
from shmtop.collect import Collector, collect_snapshot

OBJECTS = 100
PR_SET_PDEATHSIG = 1


class Attached:
    """N forked processes using the objects until released (or the benchmark dies)."""

    def __init__(self, count: int) -> None:
        self.prefix = f"shmtop-bench-attach-{os.getpid()}"
        self.segments = [
            sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, 4096)
            for _ in range(OBJECTS)
        ]
        for segment in self.segments:
            segment.detach()  # else every child would inherit all of them through fork
        self.names = [f"/{self.prefix}-{i}" for i in range(OBJECTS)]
        for name in self.names:
            posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096).close_fd()
        release_r, self._release = os.pipe()
        self.pids = [self._fork(i, release_r) for i in range(count)]
        os.close(release_r)

    def _fork(self, i: int, release_r: int) -> int:
        pid = os.fork()
        if pid:
            return pid
        try:
            os.close(self._release)  # so closing it in the parent is end of file for all
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            segment = sysv_ipc.attach(self.segments[i % OBJECTS].id)
            memory = posix_ipc.SharedMemory(self.names[i % OBJECTS])
            mapping = mmap.mmap(memory.fd, 4096)
            memory.close_fd()
            os.read(release_r, 1)
            del segment, mapping
        finally:
            os._exit(0)

    def remove(self) -> None:
        os.close(self._release)
        for pid in self.pids:
            os.waitpid(pid, 0)
        for segment in self.segments:
            segment.remove()
        for name in self.names:
            posix_ipc.unlink_shared_memory(name)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def measure(repeat: int) -> dict[str, list[float]]:
    snapshot = collect_snapshot()
    found = scan_attachers(snapshot)
    print(f"  scan found {sum(len(a) for a in found.attachers.values())} attachments in "
          f"{found.scanned} processes", file=sys.stderr)  # fmt: skip

    def run(cmd: list[str]) -> Callable[[], object]:
        return lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      check=False)  # fmt: skip

    return {
        "cat /proc/[0-9]*/maps (floor)": timed(
            run(["sh", "-c", "cat /proc/[0-9]*/maps >/dev/null 2>&1"]), repeat
        ),
        "lsof /dev/shm": timed(run(["lsof", "/dev/shm"]), repeat),
        "shmtop attach scan (in process)": timed(lambda: scan_attachers(snapshot), repeat),
        "collect(attachers=True), listed kinds": timed(
            lambda: Collector().collect(attachers=True), repeat
        ),
        **_every_kind(repeat),
    }


def _every_kind(repeat: int) -> dict[str, list[float]]:
    """The walk with the kinds found in processes too (pipes, FIFOs, memfd, shared mappings),
    where this shmtop has them (an older one: left out)."""
    try:
        from shmtop.model import ALL_KINDS, LISTED_KINDS
    except ImportError:
        return {}
    if len(ALL_KINDS) == len(LISTED_KINDS):
        return {}
    every = Collector(kinds=ALL_KINDS)
    return {
        "collect(attachers=True), every kind": timed(lambda: every.collect(True), repeat),
        **_dashboard_refresh(repeat),
    }


def _dashboard_refresh(repeat: int) -> dict[str, list[float]]:
    """What a root dashboard's refresh with a walk costs: every namespace, with the listed
    kinds only (as before the dashboard showed pipes), and with the kinds found in processes."""
    import inspect

    from shmtop.collect.everywhere import Collectors, collect_everywhere

    if "processes_too" not in inspect.signature(collect_everywhere).parameters:
        return {}
    kept = (Collectors(), Collectors())

    def refresh(found: bool) -> Callable[[], object]:
        return lambda: collect_everywhere(
            attachers=True, collectors=kept[found], processes_too=found
        )

    return {
        "dashboard refresh, listed kinds": timed(refresh(False), repeat),
        "dashboard refresh, every kind": timed(refresh(True), repeat),
    }


def report(count: int, results: dict[str, list[float]]) -> None:
    print(f"\n{count} attached processes ({len(os.listdir('/proc'))} /proc entries)")
    for name, times in results.items():
        print(f"  {name:34} best {min(times) * 1000:7.1f} ms  "
              f"median {statistics.median(times) * 1000:7.1f} ms")  # fmt: skip
    for label, pick in (("best", min), ("median", statistics.median)):
        by = {name: pick(times) for name, times in results.items()}
        scan = by["shmtop attach scan (in process)"]
        floor, lsof = by["cat /proc/[0-9]*/maps (floor)"], by["lsof /dev/shm"]
        print(f"  {label:6}: scan / floor {scan / floor:.2f} (target <= 1.3), "
              f"scan / lsof {scan / lsof:.2f} (target < 0.5)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root (to read every process's maps)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(machine())
    for count in args.processes:
        attached = Attached(count)
        try:
            report(count, measure(args.repeat))
        finally:
            attached.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
