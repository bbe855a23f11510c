"""Whether /proc may hide processes from us: then "nobody uses it" and "that pid exited" cannot
be known.

A /proc mounted with `hidepid=invisible` (2) or `hidepid=ptraceable` (4) does not list other
users' processes to an ordinary user at all; with `hidepid=noaccess` (1) they are listed but
unreadable, which the scan counts one by one. Members of the mount's `gid=` group and root see
everything. What counts is the /proc actually read: of the mounts at that place, the last one
in mountinfo (a later mount covers the earlier ones).
"""

from __future__ import annotations

import os

_HIDING = {b"2", b"invisible", b"4", b"ptraceable"}


def hidden_processes(procfs: str = "/proc") -> str | None:
    """Why other users' processes may be missing from procfs for us; None if none are."""
    if os.geteuid() == 0:
        return None
    try:
        with open(f"{procfs}/self/mountinfo", "rb") as f:
            mounts = f.read()
    except OSError:
        return f"{procfs}/self/mountinfo cannot be read: processes may be hidden"
    options = _proc_options(mounts, os.path.realpath(procfs).encode())
    if options is None:
        return None  # not a proc mount (a copied tree): it hides nothing it holds
    hidepid = options.get(b"hidepid", b"0")
    if hidepid not in _HIDING or _exempt(options.get(b"gid")):
        return None
    return (
        f"{procfs} is mounted with hidepid={hidepid.decode(errors='replace')}: other users' "
        "processes are hidden from you"
    )


def _proc_options(mounts: bytes, mount_point: bytes) -> dict[bytes, bytes] | None:
    """The super options of the last proc mount at mount_point (mountinfo, man 5 proc)."""
    found = None
    for line in mounts.splitlines():
        head, sep, tail = line.partition(b" - ")
        fields, after = head.split(), tail.split()
        if sep and len(fields) > 4 and fields[4] == mount_point and after[:1] == [b"proc"]:
            found = after[2] if len(after) > 2 else b""
    if found is None:
        return None
    pairs = (option.partition(b"=") for option in found.split(b","))
    return {name: value for name, _, value in pairs}


def _exempt(gid: bytes | None) -> bool:
    if gid is None or not gid.isdigit():
        return False
    return int(gid) == os.getegid() or int(gid) in os.getgroups()
