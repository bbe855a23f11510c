"""Where objects live: IPC namespaces (System V objects, POSIX queues) and the /dev/shm
tmpfs instances (POSIX shared memory and semaphores) the processes of a host see.

A container usually has both of its own; a service with a private /dev may have only a
/dev/shm. shmtop's own namespace is "host", and its objects' references stay unqualified.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shmtop.model.limits import Limits, UsageItem
from shmtop.model.objects import Kind


def ipc_label(inode: int) -> str:
    """How references name an IPC namespace: its inode (`sysv-shm@4026532190:0`)."""
    return str(inode)


def shm_label(dev: int) -> str:
    """How references name a /dev/shm: its device as MAJOR.MINOR (`posix-shm@0.53:/x`)."""
    return f"{os.major(dev)}.{os.minor(dev)}"


@dataclass(frozen=True, slots=True)
class Container:
    """What the host can tell of the container a namespace belongs to."""

    runtime: str  # docker, podman, containerd, kubernetes, cri-o, lxc, nspawn
    id: str | None = None
    name: str | None = None
    pod: str | None = None  # Kubernetes: the pod's uid

    @property
    def title(self) -> str:
        return self.name or (self.id[:12] if self.id else self.runtime)


@dataclass(frozen=True, slots=True)
class Namespace:
    """One place objects live in: an IPC namespace and the /dev/shm its processes see,
    with those processes (the first one stands for the rest: /proc/PID/root and ns/ipc)."""

    ipc: int  # inode of /proc/PID/ns/ipc
    dev_shm: int | None  # st_dev of its /dev/shm; None when it has none or it is unreadable
    pids: tuple[int, ...]
    own_ipc: bool
    own_shm: bool
    container: Container | None = None
    hostname: str | None = None
    comm: str | None = None  # the first process's command name
    # Where the host has its /dev/shm mounted too (empty: only in its own mount namespace)
    shm_on_host: tuple[str, ...] = ()
    # Once collected: its limits and usage (its own System V limits, its /dev/shm), and the
    # kinds that could not be read in it, with why.
    limits: Limits | None = None
    usage: Mapping[str, UsageItem] = field(default_factory=dict)
    unavailable: Mapping[Kind, str] = field(default_factory=dict)

    @property
    def own(self) -> bool:
        return self.own_ipc and self.own_shm

    @property
    def ipc_label(self) -> str:
        return "" if self.own_ipc else ipc_label(self.ipc)

    @property
    def shm_label(self) -> str:
        return "" if self.own_shm or self.dev_shm is None else shm_label(self.dev_shm)

    @property
    def title(self) -> str:
        """ "host", a container's name, or its hostname and first process."""
        if self.own:
            return "host"
        if self.container is not None:
            return self.container.title
        first = f"{self.comm or '?'} {self.pids[0]}" if self.pids else "?"
        return f"{self.hostname} ({first})" if self.hostname else first
