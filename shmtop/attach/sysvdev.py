"""Which device the kernel gives System V segments in /proc/PID/maps.

Segments are files on an internal mount whose device number differs between systems. It is
learned once, from a mapping known for certain: a one-page private segment shmtop creates,
attaches, finds in its own maps, detaches and removes (the only object shmtop ever creates,
for a few microseconds). Matching on the "/SYSV<key>" name instead would be wrong: every
IPC_PRIVATE segment is /SYSV00000000, and the key reads 0 after IPC_RMID.
"""

from __future__ import annotations

import os

_learned: list[int | None] = []


def sysv_device(procfs: str = "/proc") -> int | None:
    """The st_dev of System V segment mappings, or None if it cannot be learned."""
    if not _learned:
        _learned.append(_calibrate(procfs))
    return _learned[0]


def _calibrate(procfs: str) -> int | None:
    import sysv_ipc  # noqa: PLC0415 (only where segments are looked for: start-up)

    try:
        segment = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, 1)
    except (sysv_ipc.Error, OSError, ValueError):
        return None
    try:
        return _device_of_inode(f"{procfs}/self/maps", segment.id)
    except OSError:
        return None  # a copied /proc without our maps: segments cannot be matched
    finally:
        segment.detach()
        segment.remove()


def _device_of_inode(maps_path: str, inode: int) -> int | None:
    with open(maps_path, "rb") as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) >= 6 and fields[4] == str(inode).encode() and b"/SYSV" in fields[5]:
                major, minor = fields[3].split(b":")
                return os.makedev(int(major, 16), int(minor, 16))
    return None
