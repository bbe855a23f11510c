"""What a person should know before removing an object (the confirmation shows these)."""

from __future__ import annotations

from shmtop.clean.stale import Verdict, who_uses
from shmtop.model import IpcObject, PosixEntry, Snapshot, SysvMsg, SysvSem, SysvShm


def warnings(obj: IpcObject, snapshot: Snapshot, verdict: Verdict | None) -> list[str]:
    found = who_uses(obj, snapshot.attach) if snapshot.attach is not None else []
    if isinstance(obj, SysvShm) and obj.nattch:
        found.append(
            f"attached {obj.nattch} times: it is only marked for removal and vanishes "
            "after the last detach"
        )
    if isinstance(obj, PosixEntry) and obj.nlink > 1:
        found.append(f"hard-linked: its memory stays under its {obj.nlink - 1} other names")
    if isinstance(obj, SysvMsg | SysvSem) and verdict is not None and not verdict.stale:
        found.append("probably in use: " + "; ".join(verdict.reasons))
    return found
