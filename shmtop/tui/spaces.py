"""What the dashboard says of namespaces other than shmtop's own (no Textual here)."""

from __future__ import annotations

from shmtop.model import Snapshot, UsageItem


def fullest_dev_shm(snapshot: Snapshot) -> tuple[str, UsageItem] | None:
    """The name and /dev/shm use of the fullest /dev/shm of the namespaces other than the
    host's (a container's filling is what a host's meters never show), None if none."""
    found = [
        (item.percent or 0.0, ns.title, item)
        for ns in snapshot.namespaces
        if not ns.own_shm and (item := ns.usage.get("dev-shm.bytes")) is not None
    ]
    if not found:
        return None
    _, title, item = max(found, key=lambda entry: entry[0])
    return title, item
