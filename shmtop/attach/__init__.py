"""Who uses each object: a scan of /proc, matched on (device, inode). No UI imports."""

from shmtop.attach.liveness import is_alive, pid_state
from shmtop.attach.model import Attacher, AttachMap, PidLife, ProcessUse
from shmtop.attach.scan import scan_attachers, used_by

__all__ = [
    "AttachMap",
    "Attacher",
    "PidLife",
    "ProcessUse",
    "is_alive",
    "pid_state",
    "scan_attachers",
    "used_by",
]
