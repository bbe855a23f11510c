"""What a person should know before removing an object (the confirmation shows these)."""

from __future__ import annotations

from shmtop.clean.stale import who_uses
from shmtop.model import AttachMap, IpcObject, PosixEntry, Snapshot, SysvShm, Verdict


def warnings(obj: IpcObject, snapshot: Snapshot, verdict: Verdict | None) -> list[str]:
    found = _users(obj, snapshot.attach) if snapshot.attach is not None else []
    if isinstance(obj, SysvShm) and obj.nattch:
        found.append(
            f"attached {obj.nattch} times: it is only marked for removal and vanishes "
            "after the last detach"
        )
    if isinstance(obj, PosixEntry) and obj.nlink > 1:
        found.append(f"hard-linked: its memory stays under its {obj.nlink - 1} other names")
    if verdict is not None and not verdict.stale:
        found.extend(_doubts(verdict, found))
    return found


def _users(obj: IpcObject, attach: AttachMap) -> list[str]:
    """Who is seen using it, and who may be unseen."""
    found = who_uses(obj, attach)
    unknown = attach.unknown.get(obj.ref, 0)
    if attach.hidden is not None:
        found.append(f"processes may be hidden: {attach.hidden}")
    elif unknown:
        found.append(f"{unknown} processes could not be inspected and may use it")
    return found


def _doubts(verdict: Verdict, said: list[str]) -> list[str]:
    """The verdict's reasons not already said: what may be lost if it is removed anyway."""
    new = [reason for reason in verdict.reasons if reason not in said]
    if not new or verdict.unknown:
        return new
    return ["probably in use: " + "; ".join(new)]
