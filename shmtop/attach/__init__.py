"""Who uses each object: a scan of /proc, matched on (device, inode). No UI imports."""

from shmtop.attach.finders import Found, ProcessFinder, ProcessView
from shmtop.attach.scan import scan_attachers, used_by

__all__ = ["Found", "ProcessFinder", "ProcessView", "scan_attachers", "used_by"]
