"""Where the host itself has a tmpfs mounted: what tells how long a container's /dev/shm
outlives the container's processes.

A /dev/shm mounted only inside a container's mount namespace goes with it; one the host also
has mounted is kept by that mount: Docker's tmpfs for a shareable IPC container
(DATA_ROOT/containers/<id>/mounts/shm, unmounted when the container stops), a Kubernetes
pod's memory-backed emptyDir (kept across container restarts, until the pod goes), or any
other bind mount (until someone unmounts it).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict

_READ_AT_MOST = 4 << 20
_ESCAPE = re.compile(rb"\\([0-7]{3})")


def host_mount_points(procfs: str = "/proc") -> dict[int, tuple[str, ...]]:
    """Mount points of shmtop's own mount namespace (the host's), by device."""
    try:
        with open(f"{procfs}/self/mountinfo", "rb") as f:
            text = f.read(_READ_AT_MOST)
    except OSError:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for line in text.splitlines():
        fields = line.split(b" ")
        if len(fields) < 5 or fields[2].count(b":") != 1:
            continue
        major, minor = fields[2].split(b":")
        if major.isdigit() and minor.isdigit():
            point = _ESCAPE.sub(lambda m: bytes([int(m[1], 8) & 0xFF]), fields[4])
            found[os.makedev(int(major), int(minor))].append(os.fsdecode(point))
    return {dev: tuple(points) for dev, points in found.items()}
