"""Benchmark: the attach scan beside `cat /proc/[0-9]*/maps` (the floor) and `lsof /dev/shm`.

    sudo .venv/bin/python bench/bench_attach.py [--processes 300 1000] [--repeat 5]
        [--before OTHER/.venv/bin/python]

Forks N processes that each attach a System V segment and map a POSIX shared memory object
(100 of each, shared round-robin) and hold a pipe's end, then times, in the same run, the full
attach scan of shmtop (alone, and with the finders of the kinds found in processes),
collections with their walk, reading every maps file with cat, and lsof on /dev/shm. Each
contender runs once per round, so a shared machine's drift weighs on all alike. With
`--before`, another installation's shmtop (its interpreter runs this script as a worker) is
timed over the same processes, round by round beside this one. Everything is removed after.
"""

from __future__ import annotations

import argparse
import ctypes
import json
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

import shmtop
from shmtop.attach import scan_attachers
from shmtop.collect import Collector, collect_snapshot
from shmtop.model import Snapshot

OBJECTS = 100
PR_SET_PDEATHSIG = 1


class Attached:
    """N forked processes using the objects until released (or the benchmark dies)."""

    def __init__(self, count: int) -> None:
        self.prefix = f"shmtop-bench-attach-{os.getpid()}"
        self.segments: list[sysv_ipc.SharedMemory] = []
        self.names: list[str] = []
        self.pids: list[int] = []
        release_r, self._release = os.pipe()
        try:  # what was made so far is removed if making the rest fails (a full host)
            for _ in range(OBJECTS):
                self.segments.append(
                    sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, 4096)
                )
                self.segments[-1].detach()  # else every child would inherit all through fork
            for i in range(OBJECTS):
                name = f"/{self.prefix}-{i}"
                posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096).close_fd()
                self.names.append(name)
            for i in range(count):
                self.pids.append(self._fork(i, release_r))
        except BaseException:
            self.remove()
            raise
        finally:
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


SCAN = "shmtop attach scan (in process)"
SCAN_FOUND = "attach scan with every finder"
FLOOR, LSOF = "cat /proc/[0-9]*/maps (floor)", "lsof /dev/shm"
LIST = "shmtop list --json (this interpreter's)"
TARGET_FLOOR, TARGET_LSOF = 1.2, 0.5  # issue 12: <= 1.2x the floor, < 0.5x lsof


def run(cmd: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  check=False)  # fmt: skip


def peers() -> dict[str, Callable[[], object]]:
    return {
        FLOOR: run(["sh", "-c", "cat /proc/[0-9]*/maps >/dev/null 2>&1"]),
        LSOF: run(["lsof", "/dev/shm"]),
        LIST: run([sys.executable, "-m", "shmtop", "list", "--json"]),  # a command, as lsof is
    }


def shmtop_cases() -> dict[str, Callable[[], object]]:
    """What this interpreter's shmtop is timed at, each case warmed once."""
    snapshot = collect_snapshot()
    found = scan_attachers(snapshot)
    attachments = sum(len(a) for a in found.attachers.values())
    print(f"  scan found {attachments} attachments in {found.scanned} processes "
          f"({Path(shmtop.__file__).parent})", file=sys.stderr)  # fmt: skip
    cases: dict[str, Callable[[], object]] = {
        SCAN: lambda: scan_attachers(snapshot),
        **_with_finders(snapshot),
        "collect(attachers=True), listed kinds": lambda: Collector().collect(attachers=True),
        **_every_kind(),
    }
    for fn in cases.values():
        fn()
    return cases


def _with_finders(snapshot: Snapshot) -> dict[str, Callable[[], object]]:
    """The walk with the finders of every kind found in processes, and what they found
    (issue 14: the walk with these kinds stays within the scan's targets)."""
    try:
        from shmtop.collect import PROCESS_SOURCES
        from shmtop.model.roots import Roots
    except ImportError:
        return {}

    def walk() -> object:
        finders = [source.make(Roots()) for source in PROCESS_SOURCES]
        scan_attachers(snapshot, "/proc", finders)
        return [finder.found() for finder in finders]

    return {SCAN_FOUND: walk}


def _every_kind() -> dict[str, Callable[[], object]]:
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
        "collect(attachers=True), every kind": lambda: every.collect(True),
        **_dashboard_refresh(),
    }


def _dashboard_refresh() -> dict[str, Callable[[], object]]:
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
        "dashboard refresh, listed kinds": refresh(False),
        "dashboard refresh, every kind": refresh(True),
    }


def once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class Before:
    """Another installation's shmtop in a worker process (this script under its interpreter),
    timing one case per request over the same processes."""

    def __init__(self, python: str) -> None:
        self.worker = subprocess.Popen(
            [python, __file__, "--worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, bufsize=1,
        )  # fmt: skip
        assert self.worker.stdout is not None
        self.names: list[str] = json.loads(self.worker.stdout.readline())

    def time(self, name: str) -> float:
        assert self.worker.stdin is not None and self.worker.stdout is not None
        self.worker.stdin.write(name + "\n")
        return float(self.worker.stdout.readline())

    def close(self) -> None:
        if self.worker.stdin is not None:
            self.worker.stdin.close()
        try:
            self.worker.wait(10)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()


def worker() -> int:
    """Serve `Before`: the case names, then one time per name read."""
    cases = shmtop_cases()
    print(json.dumps(list(cases)), flush=True)
    for line in sys.stdin:
        print(once(cases[line.strip()]), flush=True)
    return 0


def measure(repeat: int, before: Before | None) -> dict[str, list[float]]:
    """Every contender once per round, `repeat` rounds; this shmtop and the one before
    alternate which goes first."""
    mine = shmtop_cases()
    others = peers()
    for fn in others.values():
        fn()
    names = [*others, *mine]
    if before is not None:
        names += [f"before: {name}" for name in before.names]
    results: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        for name, fn in others.items():
            results[name].append(once(fn))
        for name, fn in mine.items():
            pair = [(name, lambda fn=fn: once(fn))]
            if before is not None and name in before.names:
                pair.append((f"before: {name}", lambda name=name: before.time(name)))
            for label, timing in pair if round_ % 2 == 0 else pair[::-1]:
                results[label].append(timing())
        print(f"  round {round_ + 1} of {repeat}", file=sys.stderr)
    return results


def report(count: int, results: dict[str, list[float]]) -> None:
    print(f"\n{count} attached processes ({len(os.listdir('/proc'))} /proc entries)")
    for name, times in results.items():
        print(f"  {name:46} best {min(times) * 1000:7.1f} ms  "
              f"median {statistics.median(times) * 1000:7.1f} ms")  # fmt: skip
    for label, pick in (("best", min), ("median", statistics.median)):
        by = {name: pick(times) for name, times in results.items()}
        floor, lsof = by[FLOOR], by[LSOF]
        for who in ("", "before: "):
            for case in (SCAN, SCAN_FOUND):
                took = by.get(who + case)
                if took is not None:
                    print(f"  {label:6}: {who}{case}: / floor {took / floor:.2f} "
                          f"(target <= {TARGET_FLOOR}), / lsof {took / lsof:.2f} "
                          f"(target < {TARGET_LSOF})")  # fmt: skip
        print(f"  {label:6}: {LIST} / lsof {by[LIST] / lsof:.2f} (target < {TARGET_LSOF})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--before",
        metavar="PYTHON",
        help="also time the shmtop of another installation (its interpreter) in the same run",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()
    if os.geteuid() != 0:
        print("bench: needs root (to read every process's maps)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(machine())
    for count in args.processes:
        attached = Attached(count)
        before = None
        try:
            before = Before(args.before) if args.before else None
            report(count, measure(args.repeat, before))
        finally:
            if before is not None:
                before.close()
            attached.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
