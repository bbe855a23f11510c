"""One pass over /proc: which processes use which objects of a snapshot."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import NamedTuple, cast

from shmtop.attach.finders import ProcessFinder
from shmtop.attach.liveness import pid_lives
from shmtop.attach.procscan import (
    Finding,
    Key,
    MapsMatcher,
    Targets,
    read_process,
)
from shmtop.attach.sysvdev import sysv_device
from shmtop.attach.visibility import hidden_processes
from shmtop.errors import NotPermitted, Vanished
from shmtop.model import (
    Attacher,
    AttachMap,
    Kind,
    PosixEntry,
    ProcessUse,
    Snapshot,
    SysvMsg,
    SysvShm,
)
from shmtop.model.kinds import KINDS, MappedAs

MAX_THREADS = 4


def scan_attachers(
    snapshot: Snapshot, procfs: str = "/proc", finders: Sequence[ProcessFinder] = ()
) -> AttachMap:
    """Attachers of every object in the snapshot, from each process's maps and descriptors,
    and the processes blocked on one; each readable process is also shown to `finders`.
    With nothing to look for, no process is read."""
    started = time.time()
    hidden = hidden_processes(procfs)
    targets = _targets(snapshot, procfs, finders)
    findings, unreadable_pids, scanned = _scan(procfs, targets) if targets.anything else _NONE
    unwatched = frozenset(f.pid for f in findings if f.waits_unknown)
    findings = [f for f in findings if f.maps or f.fds or f.waiting]
    processes, attachers = _processes(findings, targets, snapshot)
    unknown = Unknown(len(unreadable_pids), len(unwatched | set(unreadable_pids)), hidden)
    return AttachMap(
        time=started,
        attachers=attachers,
        unknown=_unknown(snapshot, attachers, unknown),
        processes=processes,
        pids=pid_lives(_recorded_pids(snapshot), procfs, hidden is not None),
        unreadable=len(unreadable_pids),
        unreadable_pids=frozenset(unreadable_pids),
        waits_unknown_pids=unwatched,
        hidden=hidden,
        comms=_comms(procfs, unreadable_pids),
        scanned=scanned,
    )


class Unknown(NamedTuple):
    """What a scan could not see: processes not read at all, processes whose waits were not
    read (or not read at all), and why more may be hidden (hidepid)."""

    unreadable: int
    unwatched: int
    hidden: str | None


_NONE: tuple[list[Finding], list[int], int] = ([], [], 0)


def _targets(snapshot: Snapshot, procfs: str, finders: Sequence[ProcessFinder]) -> Targets:
    """What to look for in processes, as each kind shows there (the table of kinds)."""
    attached: dict[str, dict[int, str]] = defaultdict(dict)
    files: dict[Key, tuple[str, ...]] = defaultdict(tuple)
    waitable: dict[Kind, dict[str, dict[int, str]]] = defaultdict(lambda: defaultdict(dict))
    queues = False
    for kind, objects in snapshot.by_kind.items():
        spec = KINDS[kind]
        if spec.mapped_as is MappedAs.SHMID:
            for s in cast("list[SysvShm]", objects):
                if s.nattch:
                    attached[s.ns][s.id] = s.ref
        elif spec.mapped_as is MappedAs.FILE:
            for e in cast("list[PosixEntry]", objects):
                files[(e.dev, e.inode)] += (e.ref,)
            queues = queues or (spec.waitable and bool(objects))
        elif spec.waitable:
            for o in cast("list[SysvMsg]", objects):
                waitable[kind][o.ns][o.id] = o.ref
    return Targets(
        sysv_dev=sysv_device(procfs) if attached else None,
        sysv=attached,
        files=dict(files),
        file_devs=frozenset(dev for dev, _ in files),
        waitable=waitable,
        queues=queues,
        finders=finders,
    )


def _scan(procfs: str, targets: Targets) -> tuple[list[Finding], list[int], int]:
    """Every process, read by one thread for every two processors (up to MAX_THREADS).

    The kernel's work (writing each maps file out) releases the GIL, so threads can share
    it; the Python part stays one at a time, and threads contend for it. On two shared cores
    (bench_attach, 1000 processes, threads alternated in one run) one thread was the
    quickest: median 166 ms against 205 ms with two and 182 ms with four for the scan, 268
    against 330 ms with the finders. More processors were not measured; half of them keeps
    one free for the kernel's part.
    """
    own_ipc = _ipc_namespace(f"{procfs}/self")
    matcher = targets.matcher()
    procfs_fd = os.open(procfs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        pids = [int(name) for name in os.listdir(procfs_fd) if name.isdigit()]
        workers = max(1, min((os.cpu_count() or 1) // 2, MAX_THREADS, len(pids) // 64))

        def part(share: list[int]) -> tuple[list[Finding], list[int], int]:
            return _scan_some(procfs_fd, share, targets, matcher, own_ipc)

        if workers == 1:
            parts = [part(pids)]
        else:
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 (start-up cost)

            with ThreadPoolExecutor(workers, thread_name_prefix="shmtop-scan") as pool:
                parts = list(pool.map(part, [pids[i::workers] for i in range(workers)]))
    finally:
        os.close(procfs_fd)
    findings = sorted((f for found, _, _ in parts for f in found), key=lambda f: f.pid)
    return findings, [pid for p in parts for pid in p[1]], sum(p[2] for p in parts)


def _scan_some(
    procfs_fd: int, pids: list[int], targets: Targets, matcher: MapsMatcher, own_ipc: str | None
) -> tuple[list[Finding], list[int], int]:
    findings: list[Finding] = []
    unreadable: list[int] = []
    scanned = 0
    for pid in pids:
        try:
            finding = read_process(procfs_fd, pid, targets, matcher, own_ipc)
        except NotPermitted:
            unreadable.append(pid)
            continue
        except Vanished:
            continue
        scanned += 1
        if finding is not None:
            findings.append(finding)
    return findings, unreadable, scanned


def _ipc_namespace(base: str) -> str | None:
    try:
        return os.readlink(f"{base}/ns/ipc")
    except OSError:
        return None


def _refs(key: Key, targets: Targets, ipc: str) -> tuple[str, ...]:
    if key[0] == targets.sysv_dev:
        ref = targets.sysv.get(ipc, {}).get(key[1])
        return () if ref is None else (ref,)
    return targets.files.get(key, ())


def _uses(finding: Finding, targets: Targets) -> dict[str, tuple[int, int]]:
    """Per reference: (mappings, descriptors) this process has on it; (0, 0) for what it only
    waits on."""
    uses: dict[str, tuple[int, int]] = dict.fromkeys(finding.waiting, (0, 0))
    for key in finding.maps.keys() | finding.fds.keys():
        for ref in _refs(key, targets, finding.ipc):
            maps, fds = uses.get(ref, (0, 0))
            uses[ref] = (maps + finding.maps.get(key, 0), fds + finding.fds.get(key, 0))
    return uses


def _unknown(
    snapshot: Snapshot, attachers: dict[str, tuple[Attacher, ...]], unknown: Unknown
) -> dict[str, int]:
    """Users that may exist unseen, per object (none for semaphore sets: the kernel counts
    their waiters). Where processes are hidden, a segment may have as many unseen users as
    it has unseen mappings."""
    found: dict[str, int] = {}
    for seg in snapshot.sysv_shm:
        seen = sum(a.maps for a in attachers.get(seg.ref, ()))
        missing = seg.nattch - seen  # mappings the kernel counts that no readable process has
        cap = missing if unknown.hidden else max(unknown.unreadable, 1)
        found[seg.ref] = min(missing, cap) if missing > 0 else 0
    for queue in snapshot.sysv_msg:
        found[queue.ref] = unknown.unwatched  # blocked receivers are counted nowhere
    for entry in (*snapshot.posix_shm, *snapshot.posix_sem, *snapshot.posix_mq):
        found[entry.ref] = unknown.unreadable  # a process waiting on a queue holds it open
    return found


def _comms(procfs: str, pids: list[int]) -> dict[int, str]:
    """Command names of processes that could not be inspected, where still readable."""
    comms = {}
    for pid in pids:
        try:
            with open(f"{procfs}/{pid}/comm", "rb") as f:
                comms[pid] = f.read().rstrip(b"\n").decode("utf-8", "surrogateescape")
        except OSError:
            continue
    return comms


def _processes(
    findings: list[Finding], targets: Targets, snapshot: Snapshot
) -> tuple[dict[int, ProcessUse], dict[str, tuple[Attacher, ...]]]:
    """Each process that uses something, and the users of each object (in pid order, as
    `findings` are), from one look at each finding's uses."""
    sizes = _mapped_sizes(snapshot)
    processes = {}
    found: dict[str, list[Attacher]] = defaultdict(list)
    for finding in findings:
        uses = _uses(finding, targets)
        mapped = {ref for key in finding.maps for ref in _refs(key, targets, finding.ipc)}
        pid, comm, uid = finding.pid, finding.comm, finding.uid
        processes[pid] = ProcessUse(
            pid, comm, uid, tuple(sorted(uses)), sum(sizes.get(r, 0) for r in mapped)
        )
        for ref, (maps, fds) in uses.items():
            call = finding.waiting.get(ref)
            found[ref].append(Attacher(pid, comm, uid, maps, fds, call is not None, call or ""))
    return processes, {ref: tuple(users) for ref, users in found.items()}


def _mapped_sizes(snapshot: Snapshot) -> dict[str, int]:
    """Bytes of each object a process may map."""
    sizes: dict[str, int] = {}
    for kind, objects in snapshot.by_kind.items():
        size = KINDS[kind].size
        if KINDS[kind].mapped_as is not MappedAs.NOT:
            sizes.update((obj.ref, size(obj) or 0) for obj in objects)
    return sizes


def used_by(snapshot: Snapshot, pid: int) -> set[str]:
    """References a process uses: maps or holds open, or (queues) last sent to or received
    from, which is all the kernel records of who uses a queue."""
    refs: set[str] = set()
    if snapshot.attach is not None and pid in snapshot.attach.processes:
        refs.update(snapshot.attach.processes[pid].refs)
    refs.update(q.ref for q in snapshot.sysv_msg if pid in (q.lspid, q.lrpid))
    return refs


def _recorded_pids(snapshot: Snapshot) -> Iterator[int]:
    for kind, objects in snapshot.by_kind.items():
        recorded_pids = KINDS[kind].recorded_pids
        for obj in objects:
            yield from (recorded.pid for recorded in recorded_pids(obj))
