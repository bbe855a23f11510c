"""How long an object of another namespace lasts without anyone removing it: what an operator
weighs before removing a container's leak by hand rather than restarting the container.

System V objects and POSIX queues die with their IPC namespace, when its last process ends.
POSIX shared memory and semaphores live in a /dev/shm tmpfs: one mounted only in the
container's mount namespace goes with it; one the host also has mounted is kept by that mount
(Docker's tmpfs of a shareable IPC container until it stops, a pod's emptyDir across
container restarts, any other bind mount until it is unmounted).
"""

from __future__ import annotations

import re

from shmtop.model import Kind
from shmtop.model.namespace import Namespace
from shmtop.names import escape_text

IN_DEV_SHM = frozenset({Kind.POSIX_SHM, Kind.POSIX_SEM})
_DOCKER_SHM = re.compile(r"/containers/[0-9a-f]{64}/mounts/shm$")


def lifetime(kind: Kind, ns: Namespace) -> str:
    """How long an object of `kind` in `ns` (not shmtop's own) lasts if left alone."""
    title = escape_text(ns.title)
    if kind not in IN_DEV_SHM:
        return f"in {title}'s IPC namespace: it goes when that namespace's last process ends"
    if not ns.shm_on_host:
        return f"in {title}'s /dev/shm, mounted only inside it: it goes with its last process"
    point = ns.shm_on_host[0]
    where = escape_text(point)
    if _DOCKER_SHM.search(point):
        return f"in {title}'s /dev/shm, Docker's tmpfs at {where}: it goes when the container stops"
    if "/volumes/kubernetes.io~empty-dir/" in point:
        return (
            f"in {title}'s /dev/shm, a pod's emptyDir at {where}: it outlives container "
            "restarts, and goes with the pod"
        )
    return f"in {title}'s /dev/shm, also mounted on the host at {where}: it outlives the container"


def place_of(kind: Kind, label: str, namespaces: tuple[Namespace, ...]) -> Namespace | None:
    """The namespace an object's reference label names."""
    in_shm = kind in IN_DEV_SHM
    for ns in namespaces:
        if label == (ns.shm_label if in_shm else ns.ipc_label):
            return ns
    return None
