"""Finding every IPC namespace and every /dev/shm on the host, with the processes in each.

One pass over /proc: each process's IPC and mount namespace (readlink of /proc/PID/ns/*),
then, once per mount namespace, the /dev/shm it sees, reached from /proc/PID/root without
following any link a container may have planted there (an absolute symlink would resolve on
the host). Processes grouped by (IPC namespace, /dev/shm) are one Namespace; shmtop's own
comes first.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from shmtop.model.namespace import Namespace
from shmtop.namespaces.mounts import host_mount_points
from shmtop.namespaces.paths import open_below_root

if TYPE_CHECKING:
    from shmtop.namespaces.containers import Naming


def ns_inode(procfs: str, pid: int | str, kind: str) -> int | None:
    """The inode of /proc/PID/ns/KIND (`ipc:[4026531839]`), None if it cannot be read."""
    try:
        link = os.readlink(f"{procfs}/{pid}/ns/{kind}")
    except OSError:
        return None
    inode = link[link.find("[") + 1 : -1]
    return int(inode) if inode.isdigit() else None


def ipc_label_of(procfs: str, pid: int | str) -> str | None:
    """How references name a process's IPC namespace: "" for shmtop's own, else its inode;
    None if it cannot be read."""
    theirs = ns_inode(procfs, pid, "ipc")
    if theirs is None:
        return None
    return "" if theirs == ns_inode(procfs, "self", "ipc") else str(theirs)


def dev_shm_of(procfs: str, pid: int | str) -> int | None:
    """The device of the /dev/shm a process sees; None if it has none or it is unreadable."""
    try:
        fd = open_below_root(procfs, pid, "dev", "shm")
    except OSError:
        return None
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return st.st_dev if stat.S_ISDIR(st.st_mode) else None


def own_namespace(procfs: str = "/proc") -> Namespace:
    """shmtop's own namespace alone (no walk over /proc: what every snapshot says of itself)."""
    return Namespace(
        ipc=ns_inode(procfs, "self", "ipc") or 0,
        dev_shm=dev_shm_of(procfs, "self"),
        pids=(os.getpid(),),
        own_ipc=True,
        own_shm=True,
    )


def discover(procfs: str = "/proc") -> list[Namespace]:
    """Every (IPC namespace, /dev/shm) with its processes; shmtop's own first."""
    # Imported here: containers' names need json, the mqueue helper ctypes and threads, and
    # most commands read only their own namespace (own_namespace) and never come here.
    from shmtop.namespaces.containers import Naming  # noqa: PLC0415
    from shmtop.namespaces.mqueue_view import helper_pids  # noqa: PLC0415

    own_ipc, own_mnt = ns_inode(procfs, "self", "ipc"), ns_inode(procfs, "self", "mnt")
    own_shm = dev_shm_of(procfs, "self")
    groups: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    shm_by_mnt: dict[int | None, int | None] = {own_mnt: own_shm}
    ours = helper_pids()
    for pid, ipc, mnt in _processes(procfs):
        if pid in ours:
            continue
        if mnt not in shm_by_mnt:
            shm_by_mnt[mnt] = dev_shm_of(procfs, pid)
        groups[(ipc, shm_by_mnt[mnt])].append(pid)
    own_key = (own_ipc or 0, own_shm)
    groups.setdefault(own_key, [os.getpid()])
    naming = Naming(procfs)
    found = [_namespace(naming, key, pids, own_ipc, own_shm) for key, pids in groups.items()]
    if any(not ns.own_shm and ns.dev_shm is not None for ns in found):
        on_host = host_mount_points(procfs)
        found = [_with_mounts(ns, on_host) for ns in found]
    return sorted(found, key=_listing_order)


def _listing_order(ns: Namespace) -> tuple[bool, int, bool, int, int]:
    """shmtop's own first; then by IPC namespace, and of the places sharing one (a process
    that left it for a /dev/shm of its own), the one that lists its objects first: a
    container's, else the one with the most processes."""
    return (not ns.own, ns.ipc, ns.container is None, -len(ns.pids), ns.dev_shm or 0)


def _with_mounts(ns: Namespace, on_host: dict[int, tuple[str, ...]]) -> Namespace:
    if ns.own_shm or ns.dev_shm is None:
        return ns
    return replace(ns, shm_on_host=on_host.get(ns.dev_shm, ()))


def _processes(procfs: str) -> Iterator[tuple[int, int, int | None]]:
    """(pid, IPC namespace, mount namespace) of every process whose namespaces can be read."""
    for name in os.listdir(procfs):
        if name.isdigit():
            ipc = ns_inode(procfs, name, "ipc")
            if ipc is not None:
                yield int(name), ipc, ns_inode(procfs, name, "mnt")


def _namespace(
    naming: Naming, key: tuple[int, int | None], pids: list[int], own_ipc: int | None,
    own_shm: int | None,
) -> Namespace:  # fmt: skip
    ipc, dev_shm = key
    pids = sorted(pids)
    own, procfs = ipc == own_ipc and dev_shm == own_shm, naming.procfs
    return Namespace(
        ipc=ipc,
        dev_shm=dev_shm,
        pids=tuple(pids),
        own_ipc=ipc == own_ipc,
        own_shm=dev_shm == own_shm,
        container=None if own else naming.container_of(pids),
        hostname=None if own else _hostname(procfs, pids[0]),
        comm=_comm(procfs, pids[0]),
    )


def _hostname(procfs: str, pid: int) -> str | None:
    from shmtop.namespaces.enter import hostname_of  # noqa: PLC0415 (threads: only for -A)

    return hostname_of(procfs, pid)


def _comm(procfs: str, pid: int) -> str | None:
    try:
        with open(f"{procfs}/{pid}/comm", "rb") as f:
            return f.read().rstrip(b"\n").decode("utf-8", "surrogateescape")
    except OSError:
        return None
