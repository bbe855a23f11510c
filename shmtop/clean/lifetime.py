"""How long an object of another namespace lasts without anyone removing it: what an operator
weighs before removing a container's leak by hand rather than restarting the container.

System V objects and POSIX queues die with their IPC namespace, when its last process ends.
POSIX shared memory and semaphores live in a /dev/shm tmpfs: one mounted only in the
container's mount namespace goes with it; one the host also has mounted is kept by that mount
(Docker's tmpfs of a shareable IPC container until it stops, a pod's emptyDir across
container restarts).

Any other tmpfs the host has mounted is a host filesystem bound into the namespace: anyone
with a user namespace can bind /run on a /dev/shm of their own. Its files are the host's, so
nothing there is judged leaked or removed through the namespace's reference (refusals()).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shmtop.model import Kind
from shmtop.model.namespace import Namespace
from shmtop.names import escape_text

IN_DEV_SHM = frozenset({Kind.POSIX_SHM, Kind.POSIX_SEM})
_DOCKER_SHM = re.compile(r"/containers/[0-9a-f]{64}/mounts/shm$")
_EMPTY_DIR = "/volumes/kubernetes.io~empty-dir/"


def lifetime(kind: Kind, ns: Namespace) -> str:
    """How long an object of `kind` in `ns` (not shmtop's own) lasts if left alone."""
    title = escape_text(ns.title)
    if kind not in IN_DEV_SHM:
        return f"in {title}'s IPC namespace: it goes when that namespace's last process ends"
    if not ns.shm_on_host:
        return f"in {title}'s /dev/shm, mounted only inside it: it goes with its last process"
    host = host_filesystem(ns)
    if host is not None:
        return (
            f"in {title}'s /dev/shm, which is the host's tmpfs at {escape_text(host)}, bound "
            "there: judged and removed only on the host, never through this namespace"
        )
    point = ns.shm_on_host[0]
    where = escape_text(point)
    if _DOCKER_SHM.search(point):
        return f"in {title}'s /dev/shm, Docker's tmpfs at {where}: it goes when the container stops"
    return (
        f"in {title}'s /dev/shm, a pod's emptyDir at {where}: it outlives container "
        "restarts, and goes with the pod"
    )


def host_filesystem(ns: Namespace) -> str | None:
    """Where the host has ns's /dev/shm mounted, when it is a host filesystem bound there:
    neither mounted only inside ns, nor Docker's tmpfs of a container, nor a pod's emptyDir."""
    if not ns.shm_on_host or any(_runtime_s(point) for point in ns.shm_on_host):
        return None
    return ns.shm_on_host[0]


def refusals(namespaces: Iterable[Namespace]) -> dict[str, str]:
    """Why objects of these /dev/shm labels may not be removed through their reference."""
    return {
        ns.shm_label: lifetime(Kind.POSIX_SHM, ns)
        for ns in namespaces
        if ns.shm_label and host_filesystem(ns) is not None
    }


def _runtime_s(point: str) -> bool:
    return bool(_DOCKER_SHM.search(point)) or _EMPTY_DIR in point


def place_of(kind: Kind, label: str, namespaces: tuple[Namespace, ...]) -> Namespace | None:
    """The namespace an object's reference label names."""
    in_shm = kind in IN_DEV_SHM
    for ns in namespaces:
        if label == (ns.shm_label if in_shm else ns.ipc_label):
            return ns
    return None
