"""Saying what a cleanup could not judge: which processes could not be inspected, whether
/proc hides others, and how an operator who knows better vouches for them."""

from __future__ import annotations

from shmtop.model import AttachMap
from shmtop.names import escape_text

NAMED_AT_MOST = 10


def vouch_lines(attach: AttachMap | None, vouched: frozenset[int]) -> list[str]:
    """What left objects in doubt, and what would settle it."""
    if attach is None:
        return ["no scan of /proc was made: who uses what is unknown"]
    lines = []
    if attach.hidden is not None:
        lines.append(f"{attach.hidden}; root, or a member of its gid= group, sees them all")
    pids = sorted(attach.uninspected - vouched)
    if pids:
        named = ", ".join(_named(pid, attach) for pid in pids[:NAMED_AT_MOST])
        more = f" and {len(pids) - NAMED_AT_MOST} more" if len(pids) > NAMED_AT_MOST else ""
        flags = " ".join(f"--ignore-unreadable {pid}" for pid in pids[:NAMED_AT_MOST])
        lines.append(
            f"processes that could not be inspected: {named}{more}; if you know they use no "
            f"IPC object, `{flags}` vouches for them"
        )
    return lines


def _named(pid: int, attach: AttachMap) -> str:
    comm = attach.comms.get(pid)
    return f"{pid} ({escape_text(comm)})" if comm is not None else str(pid)
